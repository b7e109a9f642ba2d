#!/usr/bin/env bash
# Replays the regression inputs and seed corpora of every fuzz target (or those in FUZZ_TARGETS)
# through one of its builds, built here by ./build.sh if out of date (a target that does not
# build fails the replay):
#   corpora/regressions/<target>/*, corpora/<target>/*, and for decode also corpora/regressions/*.
#
#   tests/fuzz_replay.sh          build/fuzz/standalone/<target>: gcc ASan+UBSan
#   tests/fuzz_replay.sh msan     build/fuzz/msan/<target>: clang-16 MemorySanitizer (libFuzzer
#                                 replaying the files it is given); targets build.sh leaves out of
#                                 the MSan build, saying why, are listed, not failed
# Any crash, sanitizer report, leak or broken invariant fails. A directory of
# corpora/regressions/ named after no target fails too (its inputs would never be replayed), but
# for diff/, the oracle mismatches that tests/oracle_diff_regressions.sh replays.
# With WAFER_PLANTED_BUG set (runtime/src/planted.h), the standalone replay goes through the
# planted build (build/fuzz/planted/<target>) instead, so a regression input filed for a planted
# bug fails `make check` for as long as the bug is switched on.
# Prints a line per target, then `fuzz replay: N passed, N failed` (`msan replay: ...`; N
# counting inputs); exit status 0 only if none failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

log=$(mktemp)
build_log=$(mktemp)
trap 'rm -f "$log" "$build_log"' EXIT
variant=${1:-standalone}
label="fuzz replay"
case $variant in
standalone)
  if [ -n "${WAFER_PLANTED_BUG:-}" ]; then
    variant=planted
    echo "$label: through the planted build, WAFER_PLANTED_BUG=$WAFER_PLANTED_BUG"
  fi
  ;;
msan) label="msan replay" ;;
*) echo "usage: tests/fuzz_replay.sh [standalone|msan]" >&2; exit 2 ;;
esac
if ! ./build.sh "$variant" >"$build_log" 2>&1; then
  cat "$build_log" >&2
  echo "$label: the $variant build failed" >&2
  echo "$label: 0 passed, 1 failed"
  exit 1
fi
fuzz_sanitizer_env
mapfile -t targets < <(fuzz_selected_targets)
mapfile -t all_targets < <(fuzz_target_names)

passed=0
failed=0
for dir in corpora/regressions/*/; do
  d=$(basename "$dir")
  [ "$d" = diff ] && continue
  # grep reads all of it: with -q it may stop first, and printf's SIGPIPE fails the pipeline.
  if ! printf '%s\n' "${all_targets[@]}" | grep -x "$d" >/dev/null; then
    echo "FAIL corpora/regressions/$d/: no fuzz target fuzz_targets/$d.c replays it" >&2
    failed=$((failed + 1))
  fi
done

for t in "${targets[@]}"; do
  bin=build/fuzz/$variant/$t
  left_out=$(sed -n "s/^build.sh: $t left out of the .* build: //p" "$build_log")
  if [ -n "$left_out" ] && [ ! -x "$bin" ]; then
    printf '  %-20s left out of the %s build: %s\n' "$t" "$variant" "$left_out"
    continue
  fi
  mapfile -t regressions < <(fuzz_regressions "$t")
  inputs=("${regressions[@]}")
  if [ -d "corpora/$t" ]; then
    for f in "corpora/$t"/*; do [ -f "$f" ] && inputs+=("$f"); done
  fi
  printf '  %-20s %d regression inputs, %d seeds' "$t" ${#regressions[@]} \
    $((${#inputs[@]} - ${#regressions[@]}))
  if [ ${#inputs[@]} -eq 0 ]; then
    echo
    continue
  fi
  if "$bin" "${inputs[@]}" >"$log" 2>&1; then
    passed=$((passed + ${#inputs[@]}))
    echo ": ok"
    continue
  fi
  echo ": FAILED"
  # Something failed: run each input alone to name every failing one.
  for f in "${inputs[@]}"; do
    if "$bin" "$f" >"$log" 2>&1; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL $t $f" >&2
      grep -E 'ERROR|SUMMARY|runtime error|broken invariant|^ +#[0-9]' "$log" | head -30 >&2 || true
    fi
  done
done
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
