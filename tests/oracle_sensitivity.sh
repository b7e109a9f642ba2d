#!/usr/bin/env bash
# The oracle's sensitivity proof (issue 3 item 5): a wafer built with a deliberately wrong
# instruction (WAFER_SENSITIVITY_BUG in runtime/src/numeric.h: i64.rem_s of INT64_MIN % -1 gives 1
# instead of 0) must be reported MISMATCH by `wafer diff` on a module that exercises it, while the
# correct build agrees on the same module and on a module that only comes near it. A diff that
# agreed with the broken build would be an oracle that cannot see a wrong result.
#
#   tests/oracle_sensitivity.sh [WAFER]     (WAFER defaults to build/wafer; the broken build is
#                                            build/sensitivity/wafer, made here with make)
#
# Prints one line per case and "N passed, N failed". Needs wat2wasm and spectest-interp (wabt).
set -uo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null ||
       { cd "$(dirname "$0")/.." && pwd; })
cd "$root" || exit 2
wafer=${1:-build/wafer}
broken=build/sensitivity/wafer
[ -x "$wafer" ] || { echo "$0: $wafer missing (run make)" >&2; exit 2; }
if ! make --no-print-directory -s "$broken" >/dev/null; then
  echo "$0: could not build $broken" >&2
  exit 2
fi
wafer=$root/$wafer
broken=$root/$broken
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The operands come from mutable globals, so no compiler could fold the remainder away; the other
# exports check the neighbours of the broken case, which both builds must get right.
cat >"$tmp/rem.wat" <<'EOF'
(module
  (global $min (mut i64) (i64.const 0x8000000000000000))
  (global $m1 (mut i64) (i64.const -1))
  (global $out (export "out") (mut i64) (i64.const 7))
  (func (export "min_rem_minus_one") (result i64)
    (global.set $out (i64.rem_s (global.get $min) (global.get $m1)))
    (global.get $out))
  (func (export "min_rem_two") (result i64) (i64.rem_s (global.get $min) (i64.const 2)))
  (func (export "seven_rem_minus_one") (result i64) (i64.rem_s (i64.const 7) (global.get $m1))))
EOF
cat >"$tmp/near.wat" <<'EOF'
(module
  (global $min (mut i64) (i64.const 0x8000000000000000))
  (global $m1 (mut i64) (i64.const -1))
  (func (export "min_div_minus_one") (result i64) (i64.div_s (global.get $min) (global.get $m1)))
  (func (export "min_rem_minus_three") (result i64) (i64.rem_s (global.get $min) (i64.const -3)))
  (func (export "minus_one_rem_min") (result i64) (i64.rem_s (global.get $m1) (global.get $min))))
EOF
for m in rem near; do
  wat2wasm "$tmp/$m.wat" -o "$tmp/$m.wasm" || { echo "$0: wat2wasm failed on $m.wat" >&2; exit 2; }
done

passed=0
failed=0
# check NAME BINARY MODULE EXPECTED-REGEX
check() {
  local out
  out=$(cd "$tmp" && "$2" diff "$3.wasm" 2>/dev/null)
  if [[ $out =~ ^$3\.wasm:\ $4 ]]; then
    echo "ok   $1: ${out#*: }"
    passed=$((passed + 1))
  else
    echo "FAIL $1: expected /$4/, got: $out"
    failed=$((failed + 1))
  fi
}

check correct-build-agrees "$wafer" rem 'agree$'
check broken-build-mismatches "$broken" rem \
  'MISMATCH: call min_rem_minus_one: wafer return i64:0x1, wabt return i64:0x0$'
check correct-build-agrees-near "$wafer" near 'agree$'
check broken-build-agrees-near "$broken" near 'agree$'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
