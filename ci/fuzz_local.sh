#!/usr/bin/env bash
# A short local fuzzing campaign over every target: what `make fuzz` runs after ./build.sh.
#
#   ci/fuzz_local.sh                                  every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=600 FUZZ_TARGETS="decode wast" ci/fuzz_local.sh
#   ENGINE=afl ci/fuzz_local.sh                       AFL++ (ci/fuzz_afl.sh) instead of libFuzzer
#
# libFuzzer (the default): runs build/fuzz/libfuzzer/<target> for FUZZ_SECONDS on
# findings/<target>/corpus/, a working copy seeded from corpora/<target>/ (the committed corpus
# is never written), with the target's dictionary and options (ci/fuzz_lib.sh). FUZZ_JOBS targets
# (default 2, one per core) run at once, each logging to findings/<target>/fuzz.log; every 10 s
# the last status line of each running target is shown. Crashes, leaks, timeouts and
# out-of-memory inputs go to findings/<target>/ (libFuzzer's -artifact_prefix).
# ENGINE=afl: runs ci/fuzz_afl.sh on each target in turn, FUZZ_SECONDS each, with AFL_JOBS
# (default FUZZ_JOBS) instances; its findings are under findings/<target>/afl/.
# Ends with a summary line per target (execs, execs/s, coverage, corpus growth, findings); exit
# status 1 if any target produced a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-2}
engine=${ENGINE:-libfuzzer}
mapfile -t targets < <(fuzz_selected_targets)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz_local.sh: no fuzz targets" >&2; exit 1; }

if [ "$engine" = afl ]; then
  status=0
  for t in "${targets[@]}"; do
    AFL_JOBS=${AFL_JOBS:-$jobs} ./ci/fuzz_afl.sh "$t" "$seconds" || status=1
  done
  exit "$status"
fi
[ "$engine" = libfuzzer ] || { echo "fuzz_local.sh: ENGINE is libfuzzer or afl" >&2; exit 2; }

for t in "${targets[@]}"; do
  [ -x "build/fuzz/libfuzzer/$t" ] ||
    { echo "fuzz_local.sh: build/fuzz/libfuzzer/$t missing (run ./build.sh first)" >&2; exit 1; }
done
fuzz_sanitizer_env

# artifacts DIR: the crash, leak, timeout and out-of-memory inputs libFuzzer left in DIR.
artifacts() {
  find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | sort
}

# campaign T: fuzzes T and writes its summary line to findings/T/summary.
campaign() {
  local t=$1 dir=findings/$1 before after rc flags findings
  mkdir -p "$dir/corpus"
  if [ -d "corpora/$t" ]; then
    find "corpora/$t" -maxdepth 1 -type f -exec cp -n {} "$dir/corpus/" \;
  fi
  before=$(find "$dir/corpus" -type f | wc -l)
  artifacts "$dir" >"$dir/artifacts.before"
  mapfile -t flags < <(fuzz_options_flags "$t")
  echo "$t: build/fuzz/libfuzzer/$t ${flags[*]} $dir/corpus ($before inputs)" >"$dir/fuzz.log"
  set +e
  "build/fuzz/libfuzzer/$t" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$dir/" "$dir/corpus" >>"$dir/fuzz.log" 2>&1
  rc=$?
  set -e
  local execs rate status_line cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz.log" | tail -n 1)
  status_line=$(grep -E '^#[0-9]+' "$dir/fuzz.log" | tail -n 1 || true)
  cov=$(echo "$status_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$status_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  # A run shorter than a second reports 0 execs/s in its final stats; its last status line has more.
  if [ "${rate:-0}" = 0 ]; then
    rate=$(echo "$status_line" | sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p')
  fi
  after=$(find "$dir/corpus" -type f | wc -l)
  mapfile -t findings < <(comm -13 "$dir/artifacts.before" <(artifacts "$dir"))
  rm -f "$dir/artifacts.before"
  local line="$t: ${execs:-?} execs, ${rate:-?} execs/s, coverage ${cov:-?} edges / ${ft:-?}"
  line+=" features, corpus $before -> $after inputs"
  if [ ${#findings[@]} -gt 0 ]; then
    line+="; FINDINGS: ${findings[*]} (log: $dir/fuzz.log)"
  elif [ "$rc" -ne 0 ]; then
    line+="; FINDING: libFuzzer exited with status $rc (log: $dir/fuzz.log)"
  else
    line+="; no findings"
  fi
  echo "$line" >"$dir/summary"
}

echo "== fuzzing ${#targets[@]} targets, ${seconds}s each, $jobs at a time (logs: findings/<target>/fuzz.log)"
pids=()
running=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; echo "== interrupted: corpora and findings so far are kept in findings/"; exit 130' INT TERM
progress() {
  local t
  for t in "${running[@]}"; do
    echo "  [$t] $(grep -E '^#[0-9]+' "findings/$t/fuzz.log" 2>/dev/null | tail -n 1 | cut -c 1-110)"
  done
}
next=0
while [ $next -lt ${#targets[@]} ] || [ ${#pids[@]} -gt 0 ]; do
  while [ $next -lt ${#targets[@]} ] && [ ${#pids[@]} -lt "$jobs" ]; do
    t=${targets[$next]}
    rm -f "findings/$t/summary"
    campaign "$t" &
    pids+=($!)
    running+=("$t")
    next=$((next + 1))
  done
  sleep 1
  ticks=$(( ${ticks:-0} + 1 ))
  [ $((ticks % 10)) -eq 0 ] && progress
  still=()
  still_t=()
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      still+=("${pids[$i]}")
      still_t+=("${running[$i]}")
    else
      wait "${pids[$i]}" || true
      cat "findings/${running[$i]}/summary" 2>/dev/null || echo "${running[$i]}: no summary"
    fi
  done
  pids=("${still[@]+"${still[@]}"}")
  running=("${still_t[@]+"${still_t[@]}"}")
done

echo "== summary"
status=0
for t in "${targets[@]}"; do
  line=$(cat "findings/$t/summary" 2>/dev/null || echo "$t: FINDING: the campaign did not finish")
  echo "$line"
  case $line in *FINDING*) status=1 ;; esac
done
exit "$status"
