#!/usr/bin/env bash
# A local fuzzing campaign over every fuzz target: what `make fuzz` runs after ./build.sh.
#
#   ci/fuzz_local.sh                          every target, FUZZ_SECONDS (20) each, then 30 s of
#                                             differential campaign (ci/diff_campaign.sh)
#   FUZZ_SECONDS=600 FUZZ_TARGETS="decode wast" FUZZ_JOBS=4 ci/fuzz_local.sh
#   ENGINE=afl ci/fuzz_local.sh               AFL++ instead of libFuzzer
#   WAFER_PLANTED_BUG=decode ci/fuzz_local.sh the planted build, with that bug switched on
#
# Settings (environment):
#   FUZZ_SECONDS  time budget per target (default 20)
#   FUZZ_TARGETS  the targets to fuzz (default: every one, ci/fuzz_lib.sh)
#   FUZZ_JOBS     processes at once (default: every core). libFuzzer fuzzes that many targets at
#                 once; AFL++ fuzzes one target at a time with that many instances, the main one
#                 (-M) with the CmpLog binary (-c build/fuzz/afl-cmplog/T), the others -S
#   ENGINE        libfuzzer (default: build/fuzz/libfuzzer/T, ASan+UBSan) or afl
#                 (build/fuzz/afl/T, AFL++ with ASan+UBSan)
#   WAFER_PLANTED_BUG
#                 fuzz build/fuzz/planted/T with that planted bug on (runtime/src/planted.h)
#   FUZZ_FINDINGS where working corpora and findings go (default findings)
#   FUZZ_MERGE    1 (default): merge what the campaign found into corpora/T/; 0: leave it in
#                 the working corpus only
#   DIFF_SECONDS  the differential campaign afterwards (default 30; 0 skips it)
#
# Each target T fuzzes FINDINGS/T/corpus/, a working copy seeded from corpora/T/, with T's
# dictionary and options; the log is FINDINGS/T/fuzz.log. libFuzzer stops at a crash: the input
# is filed (ci/fuzz_finding.sh: FINDINGS/T/<kind>--<stack signature>/ with the input, the
# sanitizer report, the module as .wasm and .wat where T has one, a one-line repro command;
# the same signature again is counted there, not filed twice) and libFuzzer starts again for
# the rest of the budget. When T's budget is spent, the new corpus entries are merged into
# corpora/T/ with libFuzzer's -merge=1 (only inputs that add coverage to what is there, so it
# stays small; for AFL++ the queues are merged the same way, an equivalent of afl-cmin that keeps
# the existing seeds).
# Live progress: per target the time bar, execs/s, coverage (edges, features), corpus size and
# findings, and a bar for the whole campaign; redrawn in place on a terminal, printed every
# FUZZ_PROGRESS_SECONDS (10) otherwise. A summary line per target at the end.
# Ctrl-C (SIGINT, or SIGTERM) stops the fuzzers, files the crashes they left, merges what was
# found into corpora/ and prints the summary: nothing written so far is lost. Exit status: 0 no
# findings, 1 findings (or a target that failed to run), 130 interrupted, 2 setup error.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh
# shellcheck source=ci/fuzz_progress.sh
. ci/fuzz_progress.sh

seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc)}
engine=${ENGINE:-libfuzzer}
planted=${WAFER_PLANTED_BUG:-}
findings=${FUZZ_FINDINGS:-findings}
merge=${FUZZ_MERGE:-1}
diff_seconds=${DIFF_SECONDS:-30}
mapfile -t targets < <(fuzz_selected_targets)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz_local.sh: no fuzz targets" >&2; exit 2; }
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz_local.sh: FUZZ_SECONDS must be > 0" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz_local.sh: FUZZ_JOBS must be > 0" >&2; exit 2; }

case $engine in
libfuzzer) build=libfuzzer; [ -n "$planted" ] && build=planted ;;
afl)
  build=afl
  [ -z "$planted" ] ||
    { echo "fuzz_local.sh: the planted build is libFuzzer's: unset ENGINE" >&2; exit 2; }
  command -v afl-fuzz >/dev/null || { echo "fuzz_local.sh: afl-fuzz missing (ci/deps.sh afl)" >&2; exit 2; }
  ;;
*) echo "fuzz_local.sh: ENGINE is libfuzzer or afl" >&2; exit 2 ;;
esac
for t in "${targets[@]}"; do
  for b in "$build" libfuzzer $([ "$engine" = afl ] && echo afl-cmplog); do
    [ -x "build/fuzz/$b/$t" ] ||
      { echo "fuzz_local.sh: build/fuzz/$b/$t missing (./build.sh $b)" >&2; exit 2; }
  done
done
fuzz_sanitizer_env
finding_flags=(--build "$build")
[ -n "$planted" ] && finding_flags+=(--planted "$planted")

# Per-target state. st: waiting, fuzzing, merging, done. pids: the process (AFL++: processes)
# of the current step, each the leader of its own process group (setsid), so that stopping it
# stops what it started and a Ctrl-C on the terminal reaches only this script, which decides.
declare -A st pids t_start t_stop t_end log_off execs corpus_before merge_base merged note
for t in "${targets[@]}"; do st[$t]=waiting; execs[$t]=0; note[$t]=''; merged[$t]=''; done
interrupted=0
trap 'interrupted=1' INT TERM
campaign_start=$(date +%s)
if [ "$engine" = afl ]; then
  waves=${#targets[@]}
else
  waves=$(( (${#targets[@]} + jobs - 1) / jobs ))
fi
campaign_total=$((waves * seconds))

# spawn CMD...: runs CMD in a session of its own, stdin from /dev/null; sets spawned to its pid.
spawn() {
  setsid "$@" </dev/null &
  spawned=$!
}

# alive T: whether any process of T's current step still runs.
alive() {
  local p
  for p in ${pids[$1]:-}; do kill -0 "$p" 2>/dev/null && return 0; done
  return 1
}

# stop T: ends T's current step, the processes it started included.
stop() {
  local p
  for p in ${pids[$1]:-}; do kill -TERM -- "-$p" 2>/dev/null; done
  for p in ${pids[$1]:-}; do wait "$p" 2>/dev/null; done
  pids[$1]=''
}

# signatures T: the finding directories of T, one per line.
signatures() {
  find "$findings/$1" -mindepth 2 -maxdepth 2 -name input -path "$findings/$1/[!.]*" \
    -printf '%h\n' 2>/dev/null | sort
}

# crash_count T: the inputs filed for T, duplicates included.
crash_count() {
  cat "$findings/$1"/*/seen 2>/dev/null | wc -l
}

# status_line T: libFuzzer's latest status line of T ("#N ... cov: C ft: F corp: ... exec/s: R").
status_line() {
  grep -aE '^#[0-9]+' "$findings/$1/fuzz.log" 2>/dev/null | tail -n 1
}

# field LINE NAME: the number after "NAME:" in a libFuzzer status line.
field() { echo "$1" | sed -n "s|.* $2: \\([0-9]*\\).*|\\1|p"; }

# afl_stat T KEY: KEY of every AFL++ instance's fuzzer_stats of T, summed (rounded).
afl_stat() {
  sed -n "s/^$2 *: *//p" "$findings/$1"/afl/*/fuzzer_stats 2>/dev/null |
    awk '{ s += $1 } END { printf "%.0f", s }'
}

# afl_max T KEY: the largest KEY over T's AFL++ instances.
afl_max() {
  sed -n "s/^$2 *: *//p" "$findings/$1"/afl/*/fuzzer_stats 2>/dev/null |
    awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }'
}

# stats T: "execs/s R, cov C, ft F" for the progress block and the summary.
stats() {
  local t=$1 line n=0 until spent cov ft
  # execs/s over T's whole time so far: the fuzzers' own first figures say 0, or "inf".
  if [ "${st[$t]}" = fuzzing ]; then
    if [ "$engine" = afl ]; then
      n=$(afl_stat "$t" execs_done)
    else
      n=$(tail -c +$(( ${log_off[$t]:-0} + 1 )) "$findings/$t/fuzz.log" 2>/dev/null |
        grep -aE '^#[0-9]+' | tail -n 1 | sed -nE 's/^#([0-9]+).*/\1/p')
      n=$(( execs[$t] + ${n:-0} ))
    fi
    until=$(date +%s)
  else
    n=${execs[$t]}
    until=${t_stop[$t]}
  fi
  spent=$(( until - t_start[$t] ))
  [ "$spent" -ge 1 ] || spent=1
  if [ "$engine" = afl ]; then
    echo "$(( ${n:-0} / spent )) exec/s, $(afl_max "$t" edges_found) edges"
    return
  fi
  line=$(status_line "$t")
  cov=$(field "$line" cov) ft=$(field "$line" ft)
  echo "$(( ${n:-0} / spent )) exec/s, cov ${cov:--}, ft ${ft:--}"
}

# corpus_size T: the inputs of T's working corpus (AFL++: of its largest queue).
corpus_size() {
  if [ "$engine" = afl ] && [ "${st[$1]}" != waiting ]; then
    afl_max "$1" corpus_count
  else
    find "$findings/$1/corpus" -type f 2>/dev/null | wc -l
  fi
}

# start_run T: one libFuzzer run of T for what is left of its budget.
start_run() {
  local t=$1 dir=$findings/$1 left flags
  left=$(( t_end[$t] - $(date +%s) ))
  [ "$left" -ge 1 ] || left=1
  mapfile -t flags < <(fuzz_options_flags "$t")
  log_off[$t]=$(stat -c %s "$dir/fuzz.log")
  echo "== run: build/fuzz/$build/$t ${flags[*]} -max_total_time=$left $dir/corpus" >>"$dir/fuzz.log"
  spawn env ${planted:+WAFER_PLANTED_BUG="$planted"} "build/fuzz/$build/$t" "${flags[@]}" \
    -max_total_time="$left" -print_final_stats=1 -artifact_prefix="$dir/.artifacts/" \
    "$dir/corpus" >>"$dir/fuzz.log" 2>&1
  pids[$t]=$spawned
}

# start_afl T: AFL++ on T for its budget, FUZZ_JOBS instances.
start_afl() {
  local t=$1 dir=$findings/$1 seeds=$findings/$1/.afl_seeds timeout_s i role name
  rm -rf "$seeds"
  mkdir -p "$seeds" "$dir/afl"
  # AFL++ skips inputs over 1 MiB and needs at least one.
  find "$dir/corpus" -maxdepth 1 -type f -size -1024k -exec cp {} "$seeds/" \;
  [ -n "$(ls -A "$seeds")" ] || printf '\0' >"$seeds/empty"
  timeout_s=$(fuzz_option "$t" timeout)
  pids[$t]=''
  for ((i = 0; i < jobs; i++)); do
    if [ "$i" -eq 0 ]; then role=(-M main -c "build/fuzz/afl-cmplog/$t"); name=main
    else role=(-S "s$i"); name=s$i; fi
    # AFL++ sets the sanitizer options it needs (abort_on_error, symbolize=0).
    spawn env -u ASAN_OPTIONS -u UBSAN_OPTIONS -u MSAN_OPTIONS AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 \
      AFL_AUTORESUME=1 AFL_QUIET=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
      afl-fuzz "${role[@]}" -i "$seeds" -o "$dir/afl" -x "$(fuzz_dict "$t")" \
      -t $(( ${timeout_s:-10} * 1000 )) -m none -V "$seconds" -- "build/fuzz/afl/$t" \
      >"$dir/afl/$name.log" 2>&1
    pids[$t]+=" $spawned"
  done
}

# start_target T: T's working corpus, then its fuzzing.
start_target() {
  local t=$1 dir=$findings/$1
  mkdir -p "$dir/corpus" "$dir/.artifacts"
  [ -d "corpora/$t" ] && find "corpora/$t" -maxdepth 1 -type f -exec cp -n {} "$dir/corpus/" \;
  corpus_before[$t]=$(corpus_size "$t")
  echo "== $(date -u '+%F %T') campaign of $t, ${seconds}s, $engine ($build build)" >>"$dir/fuzz.log"
  t_start[$t]=$(date +%s)
  t_end[$t]=$(( t_start[$t] + seconds ))
  st[$t]=fuzzing
  if [ "$engine" = afl ]; then start_afl "$t"; else start_run "$t"; fi
}

# file_artifacts T: files every crash T's fuzzers left (ci/fuzz_finding.sh).
file_artifacts() {
  local t=$1 dir=$findings/$1 f segment=$findings/$1/.segment out log_flag=()
  rm -rf "$dir"/.filing.*
  if [ "$engine" = afl ]; then
    mapfile -t files < <(find "$dir/afl" -path '*/crashes/id:*' -o -path '*/hangs/id:*' 2>/dev/null | sort)
  else
    mapfile -t files < <(find "$dir/.artifacts" -maxdepth 1 -type f \( -name 'crash-*' \
      -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
    tail -c +$(( ${log_off[$t]:-0} + 1 )) "$dir/fuzz.log" >"$segment"
    log_flag=(--log "$segment")
  fi
  for f in "${files[@]+"${files[@]}"}"; do
    if out=$(./ci/fuzz_finding.sh "${finding_flags[@]}" "${log_flag[@]+"${log_flag[@]}"}" "$t" "$f" "$findings" 2>&1); then
      progress_event "  [$t] $out"
    else
      progress_event "  [$t] could not file $f: $out"
      note[$t]="a finding could not be filed"
    fi
  done
  rm -f "$segment"
}

# start_merge T: merges T's working corpus (and AFL++ queues) into corpora/T/, or finishes T.
start_merge() {
  local t=$1 dir=$findings/$1 flags queues=()
  t_stop[$t]=$(date +%s)
  if [ "$merge" != 1 ]; then finish "$t"; return; fi
  mkdir -p "corpora/$t"
  merge_base[$t]=$(find "corpora/$t" -maxdepth 1 -type f | wc -l)
  [ "$engine" = afl ] && mapfile -t queues < <(find "$dir/afl" -mindepth 2 -maxdepth 2 -name queue -type d)
  mapfile -t flags < <(fuzz_options_flags "$t")
  st[$t]=merging
  # Edges only (-use_counters=0): corpora/T/ gains the inputs that reach code it did not, not
  # every input that hit known code a new number of times (ten times fewer files).
  spawn "build/fuzz/libfuzzer/$t" "${flags[@]}" -merge=1 -use_counters=0 \
    -merge_control_file="$dir/.merge_control" \
    "corpora/$t" "$dir/corpus" "${queues[@]+"${queues[@]}"}" >"$dir/merge.log" 2>&1
  pids[$t]=$spawned
}

# merge_done T: records how many inputs the merge added, then finishes T.
merge_done() {
  local t=$1
  if grep -q 'MERGE-OUTER: .* new files' "$findings/$t/merge.log"; then
    merged[$t]=$(( $(find "corpora/$t" -maxdepth 1 -type f | wc -l) - merge_base[$t] ))
  else
    merged[$t]="merge failed (see $findings/$t/merge.log)"
  fi
  rm -f "$findings/$t/.merge_control"
  finish "$t"
}

# finish T: T is done; its summary line goes to FINDINGS/T/summary.
finish() {
  local t=$1 line n c
  st[$t]='done'
  n=$(signatures "$t" | wc -l)
  c=$(crash_count "$t")
  line="$t: ${execs[$t]} execs, $(stats "$t"), corpus ${corpus_before[$t]} -> $(corpus_size "$t")"
  case ${merged[$t]} in
  '') ;;
  [0-9]*) line+=" (+${merged[$t]} merged into corpora/$t/)" ;;
  *) line+=" (${merged[$t]})" ;;
  esac
  if [ "$n" -gt 0 ]; then
    line+="; FINDINGS: $n signature(s) from $c input(s) in $findings/$t/"
  else
    line+="; no findings"
  fi
  [ -n "${note[$t]}" ] && line+="; ${note[$t]}"
  echo "$line" >"$findings/$t/summary"
  progress_event "$line"
}

# set_aside_crashing_seeds T: a run that crashed while loading the corpus crashed on one of its
# inputs; each artifact's twin in the working corpus goes to FINDINGS/T/crashing_seeds/, so the
# next run gets past it. Sets seeds_out to how many were moved.
set_aside_crashing_seeds() {
  local t=$1 dir=$findings/$1 a sha f
  while read -r a; do
    sha=$(sha1sum "$a" | cut -c 1-40)
    f=$dir/corpus/$sha
    if [ ! -f "$f" ]; then
      f=$(cd "$dir/corpus" && sha1sum -- * 2>/dev/null | awk -v s="$sha" '$1 == s { print $2; exit }')
      [ -n "$f" ] && f=$dir/corpus/$f
    fi
    [ -n "$f" ] && [ -f "$f" ] || continue
    mkdir -p "$dir/crashing_seeds"
    mv "$f" "$dir/crashing_seeds/"
    seeds_out=$((seeds_out + 1))
    progress_event "  [$t] a corpus input crashes: $(basename "$f") set aside in $dir/crashing_seeds/"
  done < <(find "$dir/.artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \))
}

# run_ended T: T's fuzzers stopped: file what they found; run again, merge, or finish.
run_ended() {
  local t=$1 rc=0 p segment_text n
  for p in ${pids[$t]}; do wait "$p" || rc=$?; done
  pids[$t]=''
  if [ "$engine" = afl ]; then
    execs[$t]=$(afl_stat "$t" execs_done)
    if [ "${execs[$t]}" = 0 ] && [ "$interrupted" = 0 ]; then
      note[$t]="FAILED: afl-fuzz did not run: $(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$findings/$t"/afl/main.log |
        grep -m 1 -E 'PROGRAM ABORT|ERROR' | cut -c 1-100) ($findings/$t/afl/main.log)"
    fi
    file_artifacts "$t"
    start_merge "$t"
    return
  fi
  segment_text=$(tail -c +$(( ${log_off[$t]} + 1 )) "$findings/$t/fuzz.log")
  n=$(echo "$segment_text" | grep -aE '^#[0-9]+' | tail -n 1 | sed -E 's/^#([0-9]+).*/\1/')
  execs[$t]=$(( execs[$t] + ${n:-0} ))
  seeds_out=0
  if [ "$rc" -ne 0 ] && ! echo "$segment_text" | grep -aq 'INITED'; then
    set_aside_crashing_seeds "$t"
  fi
  file_artifacts "$t"
  if [ "$rc" -ne 0 ] && [ "$interrupted" = 0 ] && [ "$(date +%s)" -lt "${t_end[$t]}" ]; then
    if echo "$segment_text" | grep -aq 'INITED' || [ "$seeds_out" -gt 0 ]; then
      start_run "$t"
      return
    fi
    note[$t]="FAILED: libFuzzer failed before fuzzing (exit status $rc, see $findings/$t/fuzz.log)"
  fi
  start_merge "$t"
}

# block: the progress block's lines.
block() {
  local now t line elapsed done_n=0 run_n=0 wait_n=0 total_sig=0 n
  now=$(date +%s)
  for t in "${targets[@]}"; do
    n=$(signatures "$t" | wc -l)
    total_sig=$((total_sig + n))
    case ${st[$t]} in
    waiting) wait_n=$((wait_n + 1)); continue ;;
    done) done_n=$((done_n + 1)); continue ;;
    esac
    run_n=$((run_n + 1))
    elapsed=$(( now - t_start[$t] ))
    if [ "${st[$t]}" = merging ]; then
      line="merging into corpora/$t/"
    else
      line="$(printf '%3d/%ds' "$elapsed" "$seconds") $(stats "$t"), corpus $(corpus_size "$t")"
    fi
    printf '  %-18s %s %s, findings %d (%d inputs)\n' "$t" "$(progress_bar "$elapsed" "$seconds" 12)" \
      "$line" "$n" "$(crash_count "$t")"
  done
  elapsed=$(( now - campaign_start ))
  printf '== %s %3d%% %d/%ds: %d running, %d done, %d waiting; findings: %d signature(s)\n' \
    "$(progress_bar "$elapsed" "$campaign_total" 20)" $(( elapsed * 100 / campaign_total > 100 ? 100 :
    elapsed * 100 / campaign_total )) "$elapsed" "$campaign_total" "$run_n" "$done_n" "$wait_n" "$total_sig"
}

if [ "$engine" = afl ]; then
  echo "== fuzzing ${#targets[@]} targets with AFL++, ${seconds}s each, one at a time with $jobs" \
    "instance(s) (CmpLog on the main one); logs: $findings/<target>/afl/"
else
  echo "== fuzzing ${#targets[@]} targets with libFuzzer ($build build${planted:+, WAFER_PLANTED_BUG=$planted}), ${seconds}s each," \
    "$jobs at a time; logs: $findings/<target>/fuzz.log"
fi
slots=$jobs
[ "$engine" = afl ] && slots=1
while [ "$interrupted" = 0 ]; do
  active=0
  for t in "${targets[@]}"; do
    case ${st[$t]} in
    fuzzing)
      if ! alive "$t"; then run_ended "$t"
      elif [ "$engine" = afl ]; then
        # AFL++ files crashes while it runs, so the count shows them as they come.
        file_artifacts "$t"
      fi
      ;;
    merging) alive "$t" || { wait "${pids[$t]}"; pids[$t]=''; merge_done "$t"; } ;;
    esac
    case ${st[$t]} in fuzzing | merging) active=$((active + 1)) ;; esac
  done
  for t in "${targets[@]}"; do
    [ "$active" -lt "$slots" ] || break
    [ "${st[$t]}" = waiting ] || continue
    start_target "$t"
    active=$((active + 1))
  done
  [ "$active" -eq 0 ] && break
  mapfile -t lines < <(block)
  progress_draw "${lines[@]}"
  sleep 1
done

if [ "$interrupted" = 1 ]; then
  trap 'echo "== interrupted again: stopping now"; exit 130' INT TERM
  progress_event "== interrupted: stopping the fuzzers; filing their crashes and merging their corpora"
  for t in "${targets[@]}"; do
    case ${st[$t]} in
    fuzzing)
      stop "$t"
      file_artifacts "$t"
      note[$t]="interrupted after $(( $(date +%s) - t_start[$t] ))s"
      start_merge "$t"
      [ "${st[$t]}" = merging ] && { wait "${pids[$t]}"; pids[$t]=''; merge_done "$t"; }
      ;;
    merging)
      stop "$t"
      start_merge "$t"
      wait "${pids[$t]}"; pids[$t]=''
      merge_done "$t"
      ;;
    waiting) note[$t]="not started (interrupted)" ;;
    esac
  done
else
  progress_clear
  mapfile -t lines < <(block)
  progress_draw --force "${lines[@]}"
fi

echo "== summary ($engine, ${seconds}s per target, $(( $(date +%s) - campaign_start ))s in all)"
status=0
for t in "${targets[@]}"; do
  if [ "${st[$t]}" = 'done' ]; then
    line=$(cat "$findings/$t/summary")
  else
    line="$t: ${note[$t]:-did not run}"
  fi
  echo "$line"
  case $line in *FINDINGS* | *FAILED*) status=1 ;; esac
  while read -r sig; do
    [ -n "$sig" ] || continue
    echo "    $sig/ ($(wc -l <"$sig/seen") inputs): $(head -n 1 "$sig/repro")"
  done < <(signatures "$t")
done
[ "$interrupted" = 1 ] && { echo "== interrupted: corpora and findings so far are kept"; exit 130; }
if [ "$diff_seconds" != 0 ]; then
  DIFF_SECONDS=$diff_seconds ./ci/diff_campaign.sh || status=1
fi
exit "$status"
