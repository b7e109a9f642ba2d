#!/usr/bin/env bash
# `wafer diff` against wabt on small modules written for one rule each: the verdict each must get
# (agree, a given inconclusive reason, or a given mismatch), so the whole path (the wafer adapter,
# the wabt adapter's generated shims and wrappers, spectest-interp's output, the comparison) is
# exercised end to end.
#
#   tests/oracle_diff_cases.sh [WAFER]        (WAFER defaults to build/wafer)
#
# Prints one line per case and "N passed, N failed". Needs wat2wasm and spectest-interp (wabt).
set -uo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null ||
       { cd "$(dirname "$0")/.." && pwd; })
wafer=${1:-$root/build/wafer}
[ -x "$wafer" ] || { echo "$0: $wafer missing (run make)" >&2; exit 2; }
wafer=$(cd "$(dirname "$wafer")" && pwd)/$(basename "$wafer")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0

# check NAME EXPECTED-REGEX [DIFF FLAGS...] < WAT
check() {
  local name=$1 expected=$2
  shift 2
  if ! wat2wasm --enable-all --no-check - -o "$tmp/$name.wasm" 2>"$tmp/$name.err"; then
    echo "FAIL $name: wat2wasm: $(head -3 "$tmp/$name.err")"
    failed=$((failed + 1))
    return
  fi
  local out
  out=$(cd "$tmp" && "$wafer" diff "$name.wasm" "$@" 2>/dev/null)
  if [[ $out =~ ^$name\.wasm:\ $expected ]]; then
    echo "ok   $name: ${out#*: }"
    passed=$((passed + 1))
  else
    echo "FAIL $name: expected /$expected/, got: $out"
    failed=$((failed + 1))
  fi
}

# Values travel as bits: floats %f would destroy (1e-30, 0.1, NaN payloads), every type, several
# results, exported globals and memories (size and hash), logs with float arguments.
check exact_values 'agree$' <<'EOF'
(module
  (import "env" "log" (func $log (param i32 f32 f64 i64)))
  (memory (export "mem") 1)
  (global (export "g") (mut f64) (f64.const 0.1))
  (data (i32.const 100) "hello")
  (func (export "tiny") (result f32) (f32.const 1e-30))
  (func (export "tenth") (result f64) (f64.const 0.1))
  (func (export "payload") (result f32) (f32.reinterpret_i32 (i32.const 0x7fa00001)))
  (func (export "negzero") (result i32 i64 f64) (i32.const -1) (i64.const -2) (f64.const -0.0))
  (func (export "logs") (call $log (i32.const 7) (f32.const 1e-30) (f64.const 0.1) (i64.const 99)))
  (func (export "write") (i64.store (i32.const 65528) (i64.const 0x0102030405060708)))
  (func (export "args") (param i32 f64 externref) (result f64) (local.get 1)))
EOF

# NaN results agree whatever their payloads (rule 2).
check nan_results 'agree$' <<'EOF'
(module
  (func (export "f32") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "f64") (result f64) (f64.sqrt (f64.const -1)))
  (func (export "prop") (result f64) (f64.add (f64.const -nan:0x4) (f64.const 1))))
EOF

# Traps in calls do not end the run; the next export runs on the same instance.
check traps 'agree$' <<'EOF'
(module
  (memory 1)
  (table 2 funcref)
  (global $n (mut i32) (i32.const 0))
  (func (export "div") (result i32) (global.set $n (i32.const 5)) (i32.div_s (i32.const 1) (i32.const 0)))
  (func (export "after") (result i32) (global.get $n))
  (func (export "oob") (result i32) (i32.load (i32.const 65535)))
  (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "convert") (result i32) (i32.trunc_f32_s (f32.const nan)))
  (func (export "null_entry") (call_indirect (i32.const 1)))
  (func (export "undefined") (call_indirect (i32.const 7)))
  (func (export "unreachable") unreachable))
EOF

# A start function that logs and then traps: logs first, then the instantiation trap.
check start_trap 'agree$' <<'EOF'
(module
  (import "m" "f" (func $f (param i64)))
  (func $start (call $f (i64.const -1)) unreachable)
  (start $start))
EOF

# Modules importing from "spectest" (every spec test module) get stand-ins like any other;
# every kind of import, two import modules, a repeated import.
check imports 'agree$' <<'EOF'
(module
  (import "spectest" "print_i32" (func $p (param i32)))
  (import "spectest" "global_i32" (global $g i32))
  (import "env" "mem" (memory 1 2))
  (import "env" "tab" (table 3 funcref))
  (import "env" "mg" (global $mg (mut i64)))
  (import "env" "ret" (func $ret (param f32) (result f64 i32)))
  (import "env" "ret" (func $ret2 (param f32) (result f64 i32)))
  (func (export "run") (result f64 i32 i32)
    (call $p (i32.const 42))
    (drop (call $ret2 (f32.const -0.5)))
    (call $ret (f32.const 2.5))
    (i32.add (global.get $g) (i32.load (i32.const 0))))
  (func (export "table_size") (result i32) (table.size 0))
  (export "mg" (global $mg)))
EOF

# A binaryen -ttf module's hangLimitInitializer runs before each export and is not observed.
check hang_limit 'agree$' <<'EOF'
(module
  (global $limit (mut i32) (i32.const 0))
  (func (export "hangLimitInitializer") (global.set $limit (i32.const 3)))
  (func (export "spin") (result i32)
    (loop $l
      (if (i32.eqz (global.get $limit)) (then unreachable))
      (global.set $limit (i32.sub (global.get $limit) (i32.const 1)))
      (br $l))
    (i32.const 0))
  (func (export "left") (result i32) (global.get $limit)))
EOF

# Both engines refuse an invalid module (rule 4).
check invalid 'agree$' <<'EOF'
(module (func (result i32) (i64.const 0)))
EOF

# Deep recursion: the engines run out of stack at different depths: inconclusive, never a
# finding (rule 1).
check recursion 'inconclusive: (wafer|wabt) stack' <<'EOF'
(module (func $f (export "f") (result i32) (i32.add (call $f) (i32.const 1))))
EOF

# An endless loop: wafer runs out of fuel, wabt out of time.
check endless 'inconclusive: (wafer fuel|wabt time)' --time-limit 3000 <<'EOF'
(module (func (export "f") (loop $l (br $l))))
EOF

# memory.grow to 4 GiB: wafer maps it lazily, wabt must allocate it and aborts under its
# address-space limit: inconclusive, not a mismatch (the grow would succeed in both).
check grow_4gib 'inconclusive: wabt crash' <<'EOF'
(module
  (memory 1)
  (func (export "grow") (result i32) (memory.grow (i32.const 65535)))
  (func (export "size") (result i32) (memory.size)))
EOF

# table.grow by 2*10^7 elements: past wafer's default limit (10^7) but within what wabt holds
# under its address-space limit. The wafer adapter takes its grow limits from the reference
# (oracle.h, oracle_limits), so both grow, and a refusal never reads as a mismatch.
check table_grow_limits 'agree$' <<'EOF'
(module
  (table 0 funcref)
  (func (export "grow") (result i32) (table.grow 0 (ref.null func) (i32.const 20000000)))
  (func (export "size") (result i32) (table.size 0)))
EOF

# memory64 growing to exactly 2^48 pages: wafer refuses (-1); wabt's byte count wraps to 0 and
# the grow "succeeds". The known-bug mask makes it inconclusive.
check memory64_wrap 'inconclusive: wabt bug: memory64 of 2\^48 pages' <<'EOF'
(module
  (memory i64 0)
  (func (export "grow") (result i64) (memory.grow (i64.const 0x1000000000000))))
EOF

# Multi-memory and memory64 exports: each memory's size and contents are compared.
check memories 'agree$' <<'EOF'
(module
  (memory $a (export "a") 1)
  (memory $b (export "b") i64 2)
  (data (memory $a) (i32.const 70) "\ff\00\01")
  (func (export "store") (i32.store8 $a (i32.const 3) (i32.const 9)) (i64.store $b (i64.const 131064) (i64.const -1))))
EOF

# wabt's interpreter types a data segment's offset by memory 0's index type: it refuses this
# valid module. The known-bug mask makes it inconclusive.
check data_offset_type 'inconclusive: wabt bug: a data segment' <<'EOF'
(module
  (memory $a 1)
  (memory $b i64 2)
  (data (memory $b) (i64.const 70000) "\ff\00\01"))
EOF

# A NaN's payload is the engines' choice (spec 4.3.3), but once stored to memory and read back
# as bits it is an ordinary value: wabt makes 0/NaN the canonical NaN, wafer keeps the operand's
# payload, and the oracle reports the difference. (Reduced from a wasm-opt -ttf module; such
# campaigns generate with --denan.)
check nan_bits_in_memory 'MISMATCH: call read: wafer return i64:0xffffffffffffff93, wabt return i64:0x7ff8000000000000' <<'EOF'
(module
  (memory 1)
  (func (export "write") (f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const -nan:0xfffffffffff93))))
  (func (export "read") (result i64) (i64.load (i32.const 0))))
EOF

# Names travel as bytes: UTF-8, spaces and NUL bytes in export names.
check names 'agree$' <<'EOF'
(module (func (export "\c3\a9t\e2\82\ac") (result i32) (i32.const 3)) (func (export "x y\00z")))
EOF

# `wafer reduce` refuses a module that does not mismatch; with ORACLE_SLOW=1 it also shrinks the
# NaN module above (wasm-reduce takes about a minute) and the result keeps the mismatch's class.
out=$(cd "$tmp" && "$wafer" reduce names.wasm -o names.min.wasm 2>&1)
if [ $? -eq 1 ] && [[ $out =~ "does not mismatch" ]]; then
  echo "ok   reduce_refuses_agreement"
  passed=$((passed + 1))
else
  echo "FAIL reduce_refuses_agreement: $out"
  failed=$((failed + 1))
fi
if [ "${ORACLE_SLOW:-0}" = 1 ]; then
  wat2wasm - -o "$tmp/nan_noisy.wasm" <<'EOF'
(module
  (memory 1)
  (global $g (mut i32) (i32.const 5))
  (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "noise") (result i32) (global.set $g (call $triple (global.get $g))) (global.get $g))
  (func (export "write") (f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const -nan:0xfffffffffff93))))
  (func (export "read") (result i64) (i64.load (i32.const 0))))
EOF
  out=$(cd "$tmp" && "$wafer" reduce nan_noisy.wasm -o nan.min.wasm 2>/dev/null)
  if [[ $out =~ "still MISMATCH value" ]] &&
     [ "$(stat -c %s "$tmp/nan.min.wasm")" -lt "$(stat -c %s "$tmp/nan_noisy.wasm")" ]; then
    echo "ok   reduce_keeps_the_class: $out"
    passed=$((passed + 1))
  else
    echo "FAIL reduce_keeps_the_class: $out"
    failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
