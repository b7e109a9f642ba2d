#!/usr/bin/env bash
# A short local fuzzing campaign: what `make fuzz` runs after ./build.sh.
#
#   FUZZ_SECONDS=60 FUZZ_TARGETS="decode" ci/fuzz_local.sh
#
# For each target (default: every one built in build/fuzz/libfuzzer/), runs
# build/fuzz/libfuzzer/<target> for FUZZ_SECONDS (default 60) on findings/<target>/corpus/, a working
# copy seeded from corpora/<target>/ (the committed corpus is never written), with the flags of
# fuzz_targets/<target>.options (dict, max_len, timeout, rss_limit_mb). Crashes, leaks, timeouts and
# out-of-memory inputs go to findings/<target>/ (libFuzzer's -artifact_prefix). Prints libFuzzer's
# progress, then a summary per target. Exit status 1 if any target produced a finding.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for bin in build/fuzz/libfuzzer/*; do [ -x "$bin" ] && targets+=("$(basename "$bin")"); done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz_local.sh: no targets in build/fuzz/libfuzzer/ (run ./build.sh first)" >&2
  exit 1
fi

symbolizer=$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# options_flags TARGET: fuzz_targets/TARGET.options' [libfuzzer] keys as -key=value flags, with the
# dictionary's path made relative to the repository.
options_flags() {
  local file=fuzz_targets/$1.options section='' key value
  [ -f "$file" ] || return 0
  while IFS='=' read -r key value; do
    key=$(echo "$key" | tr -d '[:space:]')
    value=$(echo "$value" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    case $key in
    '' | '#'* | ';'*) ;;
    '['*) section=$key ;;
    *)
      [ "$section" = '[libfuzzer]' ] || continue
      [ "$key" = dict ] && value=fuzz_targets/$value
      echo "-$key=$value"
      ;;
    esac
  done <"$file"
}

# artifacts DIR: the crash, leak, timeout and out-of-memory inputs libFuzzer left in DIR.
artifacts() {
  find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | sort
}

status=0
summaries=()
for t in "${targets[@]}"; do
  bin=build/fuzz/libfuzzer/$t
  if [ ! -x "$bin" ]; then
    echo "fuzz_local.sh: $bin missing (run ./build.sh first)" >&2
    exit 1
  fi
  dir=findings/$t
  mkdir -p "$dir/corpus"
  if [ -d "corpora/$t" ]; then
    for f in "corpora/$t"/*; do
      [ -f "$f" ] && [ ! -e "$dir/corpus/$(basename "$f")" ] && cp "$f" "$dir/corpus/"
    done
  fi
  before=$(find "$dir/corpus" -type f | wc -l)
  artifacts_before=$(artifacts "$dir")
  mapfile -t flags < <(options_flags "$t")
  echo "== fuzzing $t for ${seconds}s: $bin ${flags[*]} $dir/corpus ($before inputs)"
  set +e
  "$bin" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$dir/" "$dir/corpus" 2>&1 | tee "$dir/fuzz.log"
  rc=${PIPESTATUS[0]}
  set -e

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz.log" | tail -1)
  status_line=$(grep -E '^#[0-9]+' "$dir/fuzz.log" | tail -1 || true)
  cov=$(echo "$status_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$status_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  # A run shorter than a second reports 0 execs/s in its final stats; its last status line has more.
  if [ "${rate:-0}" = 0 ]; then
    rate=$(echo "$status_line" | sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p')
  fi
  after=$(find "$dir/corpus" -type f | wc -l)
  mapfile -t findings < <(comm -13 <(echo "$artifacts_before") <(artifacts "$dir"))
  line="$t: ${execs:-?} execs, ${rate:-?} execs/s, coverage ${cov:-?} edges / ${ft:-?} features,"
  line+=" corpus $before -> $after inputs in $dir/corpus"
  if [ ${#findings[@]} -gt 0 ] || [ "$rc" -ne 0 ]; then
    status=1
    if [ ${#findings[@]} -gt 0 ]; then
      line+="; FINDINGS: ${findings[*]} (log: $dir/fuzz.log)"
    else
      line+="; libFuzzer exited with status $rc (log: $dir/fuzz.log)"
    fi
  else
    line+="; no crashes"
  fi
  summaries+=("$line")
done

echo "== summary"
printf '%s\n' "${summaries[@]}"
exit "$status"
