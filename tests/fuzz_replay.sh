#!/usr/bin/env bash
# Replays the regression inputs and seed corpora of every fuzz target (or those in FUZZ_TARGETS)
# through its gcc ASan+UBSan build (build/fuzz/standalone/<target>, built here by
# `./build.sh standalone` if out of date; a target that does not build fails the replay):
#   corpora/regressions/<target>/*, corpora/<target>/*, and for decode also corpora/regressions/*.
# Any crash, sanitizer report, leak or broken invariant fails. A directory of
# corpora/regressions/ named after no target fails too (its inputs would never be replayed), but
# for diff/, the oracle mismatches that tests/oracle_diff_regressions.sh replays.
# With WAFER_PLANTED_BUG set (runtime/src/planted.h), the inputs go through the planted build
# (build/fuzz/planted/<target>) instead, so a regression input filed for a planted bug fails
# `make check` for as long as the bug is switched on.
# Prints a line per target, then `fuzz replay: N passed, N failed` (N counting inputs); exit
# status 0 only if none failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
variant=standalone
if [ -n "${WAFER_PLANTED_BUG:-}" ]; then
  variant=planted
  echo "fuzz replay: through the planted build, WAFER_PLANTED_BUG=$WAFER_PLANTED_BUG"
fi
if ! ./build.sh "$variant" >"$log" 2>&1; then
  cat "$log" >&2
  echo "fuzz replay: the $variant build failed" >&2
  echo "fuzz replay: 0 passed, 1 failed"
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
  if ! printf '%s\n' "${all_targets[@]}" | grep -qx "$d"; then
    echo "FAIL corpora/regressions/$d/: no fuzz target fuzz_targets/$d.c replays it" >&2
    failed=$((failed + 1))
  fi
done

for t in "${targets[@]}"; do
  bin=build/fuzz/$variant/$t
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
echo "fuzz replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
