#!/usr/bin/env bash
# Replays corpora/regressions/diff/*.wasm (modules on which a diff campaign once found a mismatch,
# since fixed in wafer) through `wafer diff` against wabt, with the ASan+UBSan build by default:
# each must agree now (an inconclusive verdict also fails: the module no longer shows anything).
# A module that records a known reference bug instead has a file NAME.expect beside it holding the
# verdict regex it must keep matching (for example 'inconclusive: wabt bug: ').
#
#   tests/oracle_diff_regressions.sh [WAFER]   (WAFER defaults to build/asan/wafer)
#
# Prints one line per module and "N passed, N failed".
set -uo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null ||
       { cd "$(dirname "$0")/.." && pwd; })
cd "$root" || exit 2
wafer=${1:-build/asan/wafer}
[ -x "$wafer" ] || { echo "$0: $wafer missing (run make asan)" >&2; exit 2; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
for m in corpora/regressions/diff/*.wasm; do
  [ -f "$m" ] || continue
  expected='agree$'
  [ -f "${m%.wasm}.expect" ] && expected=$(head -n 1 "${m%.wasm}.expect")
  out=$("$wafer" diff "$m" 2>&1 | grep -F "$m: " | head -n 1)
  if [[ ${out#"$m: "} =~ ^$expected ]]; then
    echo "ok   ${m##*/}: ${out#"$m: "}"
    passed=$((passed + 1))
  else
    echo "FAIL ${m##*/}: expected /$expected/, got: ${out:-nothing}"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
