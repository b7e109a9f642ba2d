#!/usr/bin/env bash
# The known bugs of the reference engine (wabt 1.0.32's spectest-interp) that oracles/masks.c
# masks or that the wabt adapter avoids, each shown against the installed wabt directly, without
# wafer. A case passes while the bug is there; when wabt is fixed the case fails, saying which mask
# to drop.
#
#   tests/oracle_wabt_bugs.sh
#
# Prints one line per bug and "N passed, N failed". Needs wat2wasm and spectest-interp.
set -uo pipefail

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
passed=0
failed=0

# script NAME COMMANDS-JSON: a spec script around NAME.wasm (compiled from stdin).
script() {
  local name=$1 commands=$2
  wat2wasm --enable-all - -o "$name.wasm" || return 1
  printf '{"source_filename": "%s.wast", "commands": [\n{"type": "module", "line": 1, "filename": "%s.wasm"}%s]}\n' \
    "$name" "$name" "$commands" >"$name.json"
}

invoke() { # LINE FIELD ARGS-JSON
  printf ',\n{"type": "action", "line": %s, "action": {"type": "invoke", "field": "%s", "args": [%s]}, "expected": []}' "$1" "$2" "$3"
}

# expect NAME DESCRIPTION REGEX OUTPUT
expect() {
  if [[ $4 =~ $3 ]]; then
    echo "ok   $1: $2"
    passed=$((passed + 1))
  else
    echo "FAIL $1: $2 no longer shows (got: ${4:0:300}); drop its mask or avoidance"
    failed=$((failed + 1))
  fi
}

# 1. (ref.extern N) for N beyond the objects in the store, stored in a table, fails an assertion:
# wabt takes N for a store index. The adapter passes only null references (avoided).
script ref_extern "$(invoke 2 set '{"type": "externref", "value": "1000"}')" <<'EOF'
(module (table $t 1 externref)
  (func (export "set") (param externref) (table.set $t (i32.const 0) (local.get 0))))
EOF
out=$(spectest-interp ref_extern.json 2>&1)
expect ref_extern "(ref.extern 1000) into a table asserts" "Assertion .*HasValueType.* failed" "$out"

# 2. A memory64 of 2^48 pages is 2^64 bytes, computed in 64 bits: it wraps to 0, so growing to it
# "succeeds" and then every access is out of bounds (masks.c: memory64 wrap).
script wrap "$(invoke 2 grow '')$(invoke 3 size '')$(invoke 4 load '')" <<'EOF'
(module (memory i64 0)
  (func (export "grow") (result i64) (memory.grow (i64.const 0x1000000000000)))
  (func (export "size") (result i64) (memory.size))
  (func (export "load") (result i32) (i32.load (i64.const 0))))
EOF
out=$(spectest-interp --enable-memory64 wrap.json 2>&1)
expect memory64_wrap "growing a memory64 to 2^48 pages succeeds with 0 bytes" \
  "grow\(\) => i64:0.*size\(\) => i64:281474976710656.*max value 0" "$out"

# The same wrap at instantiation: a data segment of a 2^48-page memory is "out of bounds" of 0
# bytes (wafer refuses the memory: inconclusive before the mask is needed).
script wrap_data "" <<'EOF'
(module (memory i64 0x1000000000000) (data (i64.const 0) "x"))
EOF
out=$(spectest-interp --enable-memory64 wrap_data.json 2>&1)
expect memory64_wrap_data "a 2^48-page memory's data segment is out of bounds of 0 bytes" \
  "data segment is out of bounds: \[0, 1\) >= max value 0" "$out"

# 3. An active data segment's offset is typed by memory 0's index type, not by its own memory's
# (masks.c: data segment offset type). wasm-validate accepts the module; spectest-interp does not.
script offset_type "" <<'EOF'
(module (memory $a 1) (memory $b i64 1) (data (memory $b) (i64.const 0) "x"))
EOF
validate_status=0
wasm-validate --enable-memory64 --enable-multi-memory offset_type.wasm 2>/dev/null || validate_status=$?
out=$(spectest-interp --enable-memory64 --enable-multi-memory offset_type.json 2>&1)
expect data_offset_type "a memory64 data segment behind an i32 memory 0 is refused" \
  "^0:.*expected \[i32\] but got \[i64\]" "$validate_status:$out"

# 4. Not a bug but what the oracle relies on: memory wabt cannot allocate under the adapter's
# address-space limit throws std::bad_alloc and aborts (a crash: inconclusive), it never makes a
# grow fail quietly.
script alloc "$(invoke 2 grow '')" <<'EOF'
(module (memory 1) (func (export "grow") (result i32) (memory.grow (i32.const 40000))))
EOF
out=$( (ulimit -v 1572864; spectest-interp alloc.json) 2>&1)
expect bad_alloc "a grow past the address-space limit aborts" "std::bad_alloc" "$out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
