#!/usr/bin/env bash
# Replays the regression inputs and seed corpora through the fuzz targets' gcc ASan+UBSan build
# (build/fuzz/standalone/<target>, built here by `./build.sh standalone` if out of date):
#   corpora/regressions/<target>/*, corpora/<target>/*, and for decode also corpora/regressions/*.
# Any crash, sanitizer report or leak fails. Ends with `fuzz replay: N passed, N failed`;
# exit status 0 only if none failed.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! ./build.sh standalone >"$log" 2>&1; then
  cat "$log" >&2
  echo "fuzz replay: the standalone build failed" >&2
  echo "fuzz replay: 0 passed, 1 failed"
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
for bin in build/fuzz/standalone/*; do
  [ -x "$bin" ] || continue
  t=$(basename "$bin")
  inputs=()
  for dir in "corpora/regressions/$t" "corpora/$t"; do
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do [ -f "$f" ] && inputs+=("$f"); done
  done
  if [ "$t" = decode ]; then
    for f in corpora/regressions/*; do
      [ -f "$f" ] && [ "$(basename "$f")" != README.md ] && inputs+=("$f")
    done
  fi
  [ ${#inputs[@]} -eq 0 ] && continue
  if "$bin" "${inputs[@]}" >"$log" 2>&1; then
    passed=$((passed + ${#inputs[@]}))
    continue
  fi
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
