#!/usr/bin/env bash
# Tests the path from a finding to a regression input: `wafer repro`, ci/minimize.sh and
# ci/regress_add.sh (docs/FUZZING.md).
#
# Most cases run in a scratch repository whose "fuzz target" binaries are scripts that behave as
# told by their input (a fixed sanitizer report for "boom", a hang for "hang", a shrunk input
# under -minimize_crash), so verdicts, report parsing, time limits, minimisation, wasm-reduce and
# filing are checked exactly and fast; the scripts there are this checkout's. The last cases
# replay a real crash: the decode target's planted bug (a 3-byte module header read one byte too
# far) through build/fuzz/{standalone,libfuzzer,planted}/decode, built here when out of date.
# The wafer used is build/asan/wafer (make asan), so repro's own memory errors show too.
# Prints a line per failed check, then `fuzz repro: N passed, N failed`; exit status 0 only if
# none failed.
# shellcheck disable=SC2016,SC2034 # the checks are strings for eval, expanded there
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
repo=$(pwd)
wafer=$repo/build/asan/wafer
if [ ! -x "$wafer" ]; then
  echo "fuzz repro: $wafer missing (make asan)"
  echo "fuzz repro: 0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check NAME COMMAND...: COMMAND must succeed.
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    [ -f "$tmp/out" ] && sed 's/^/    | /' "$tmp/out" | head -n 30
  fi
}

# run EXPECTED_STATUS COMMAND...: runs COMMAND with its output in $tmp/out; true if it exits
# with EXPECTED_STATUS.
run() {
  local want=$1 status=0
  shift
  "$@" >"$tmp/out" 2>&1 || status=$?
  [ "$status" -eq "$want" ] || { echo "(exit status $status, not $want)" >>"$tmp/out"; return 1; }
}

has() { grep -qF -- "$1" "$tmp/out"; }
lacks() { ! grep -qF -- "$1" "$tmp/out"; }

# --- the scratch repository -----------------------------------------------------------------
fake=$tmp/repo
mkdir -p "$fake/ci" "$fake/fuzz_targets" "$fake/runtime/include" "$fake/build/fuzz"
cp ci/minimize.sh ci/regress_add.sh ci/fuzz_lib.sh "$fake/ci/"
touch "$fake/runtime/include/wafer.h"
ln -s "$wafer" "$fake/build/wafer"
for t in decode deserialize; do
  echo 'int LLVMFuzzerTestOneInput(const unsigned char *data, unsigned long size) {' \
    >"$fake/fuzz_targets/$t.c"
done
printf '[libfuzzer]\ntimeout = 5\n' >"$fake/fuzz_targets/decode.options"
cat >"$tmp/target" <<'EOF'
#!/usr/bin/env bash
# Stands in for a fuzz target binary: "boom" in the input crashes it with a fixed report,
# "hang" hangs it; -minimize_crash=1 shrinks an input starting "xx" to "xxboom".
file='' artifact='' minimize=0
for a in "$@"; do
  case $a in
  -exact_artifact_path=*) artifact=${a#*=} ;;
  -minimize_crash=1) minimize=1 ;;
  -*) ;;
  *) file=$a ;;
  esac
done
if [ "$minimize" = 1 ]; then
  [ "$(head -c 2 "$file")" = xx ] && printf xxboom >"$artifact"
  exit 0
fi
grep -q hang "$file" && sleep 30
grep -q boom "$file" || exit 0
cat >&2 <<'REPORT'
Running: input
==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000073 at pc 0x1 bp 0x2
READ of size 1 at 0x602000000073 thread T0
    #0 0x55 in __asan_memcpy (/x/decode+0x1)
    #1 0x56 in reader_bytes /repo/runtime/src/reader.c:105:9
    #2 0x57  (/lib/x86_64-linux-gnu/libc.so.6+0x3c04f)
    #3 0x58 in decode_module /repo/runtime/src/decode.c:700:3
    #4 0x59 in module_decode /repo/runtime/src/module.c:10:3
    #5 0x5a in LLVMFuzzerTestOneInput /repo/fuzz_targets/decode.c:40:3

0x602000000073 is located 0 bytes after 3-byte region
    #0 0x60 in malloc
    #1 0x61 in other_function /repo/runtime/src/other.c:1
SUMMARY: AddressSanitizer: heap-buffer-overflow
REPORT
exit 1
EOF
chmod +x "$tmp/target"
for b in standalone libfuzzer; do
  mkdir -p "$fake/build/fuzz/$b"
  cp "$tmp/target" "$fake/build/fuzz/$b/decode"
done
mkdir -p "$fake/findings/decode" "$fake/corpora/regressions/decode" "$tmp/elsewhere"
printf 'xx boom and some padding to shrink' >"$fake/findings/decode/crash-1"
printf 'harmless' >"$fake/findings/decode/ok-1"
printf 'hang' >"$fake/findings/decode/hang-1"
printf 'boom' >"$fake/corpora/regressions/boom-direct"
printf 'boom' >"$tmp/elsewhere/crash"
signature='signature: reader_bytes < decode_module < module_decode'

# --- wafer repro ------------------------------------------------------------------------------
cd "$fake" || exit 2
check "repro: no FILE is a usage error" run 2 build/wafer repro
check "repro: an unknown option is a usage error" \
  run 2 build/wafer repro --frobnicate findings/decode/crash-1
check "repro: an unknown target is a usage error" \
  run 2 build/wafer repro --target nosuch findings/decode/crash-1
check "repro: a path naming no target needs --target" \
  eval 'run 2 build/wafer repro "$tmp/elsewhere/crash" && has "--target T"'
check "repro: a crash fails in both builds, exit 1" \
  eval 'run 1 build/wafer repro findings/decode/crash-1 && has "through fuzz target decode" &&
        [ "$(grep -c "FAILS" "$tmp/out")" = 2 ] && has "still fails, in 2 of 2 builds"'
check "repro: the report's first line, without pid and registers" \
  eval 'has "report: ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000073" &&
        lacks "==4242==" && lacks "at pc"'
check "repro: the signature is the first stack's top runtime/ frames" eval 'has "$signature"'
check "repro: the rerun commands" \
  eval 'has "rerun: build/fuzz/standalone/decode findings/decode/crash-1" &&
        has "rerun: build/fuzz/libfuzzer/decode findings/decode/crash-1"'
check "repro: an input that passes, exit 0" \
  eval 'run 0 build/wafer repro findings/decode/ok-1 &&
        has "no longer fails (passes in 2 of 2 builds)"'
check "repro: target from corpora/regressions/FILE is decode" \
  eval 'run 1 build/wafer repro corpora/regressions/boom-direct && has "through fuzz target decode"'
check "repro: --target for a path naming none" \
  eval 'run 1 build/wafer repro --target decode "$tmp/elsewhere/crash"'
check "repro: a hang is killed at --timeout and fails" \
  eval 'run 1 build/wafer repro --timeout 1 --build libfuzzer findings/decode/hang-1 &&
        has "hangs: killed after 1 s"'
check "repro: a missing build says how to build it" \
  eval 'run 2 build/wafer repro --build msan findings/decode/crash-1 && has "./build.sh msan"'
check "repro: the planted build needs --planted" \
  eval 'run 2 build/wafer repro --build planted findings/decode/crash-1 && has "needs --planted"'

# --- ci/minimize.sh ---------------------------------------------------------------------------
check "minimize: no FILE is a usage error" run 2 ci/minimize.sh
check "minimize: an input that does not crash is refused" run 1 ci/minimize.sh findings/decode/ok-1
check "minimize: libFuzzer's minimiser result, kept when the signature stays" \
  eval 'run 0 ci/minimize.sh --seconds 5 findings/decode/crash-1 &&
        [ "$(cat findings/decode/crash-1.min)" = xxboom ] && has "minimize: 34 -> 6 bytes" &&
        has "${signature#signature: }"'
if command -v wat2wasm >/dev/null && command -v wasm-reduce >/dev/null; then
  cat >"$tmp/m.wat" <<'EOF'
(module
  (memory 1)
  (global $g (mut i32) (i32.const 7))
  (func $a (result i32) (i32.add (global.get $g) (i32.const 1)))
  (func $b (result i32) (i32.mul (call $a) (call $a)))
  (func (export "boom") (result i32) (i32.add (call $b) (i32.load (i32.const 16))))
  (func (export "other") (result i32) (call $b))
  (data (i32.const 0) "some bytes the reduction can drop"))
EOF
  wat2wasm "$tmp/m.wat" -o findings/decode/module.wasm
  size=$(stat -c %s findings/decode/module.wasm)
  check "minimize: wasm-reduce shrinks a module binaryen reads, keeping the crash" \
    eval 'run 0 ci/minimize.sh --seconds 30 findings/decode/module.wasm &&
          has "wasm-reduce: $size -> " &&
          [ "$(stat -c %s findings/decode/module.wasm.min)" -lt "$size" ] &&
          grep -q boom findings/decode/module.wasm.min'
fi
check "minimize: an encoding-level crash skips wasm-reduce" \
  eval 'printf "\0asm boom" >findings/decode/bad.wasm &&
        run 0 ci/minimize.sh --seconds 4 findings/decode/bad.wasm &&
        has "binaryen cannot read"'

# --- ci/regress_add.sh ------------------------------------------------------------------------
sha=$(sha1sum findings/decode/crash-1.min | cut -c 1-40)
check "regress-add: no description is a usage error" \
  run 2 ci/regress_add.sh findings/decode/crash-1.min
check "regress-add: a crashing input is filed" \
  eval 'run 0 ci/regress_add.sh findings/decode/crash-1.min "Heap overflow in reader_bytes" &&
        cmp -s findings/decode/crash-1.min \
          "corpora/regressions/decode/heap-overflow-in-reader-bytes-$sha"'
check "regress-add: README.md lists its sha1 and description" \
  grep -qx -- "- $sha Heap overflow in reader_bytes" corpora/regressions/decode/README.md
check "regress-add: the replay sees the input and not the README" \
  eval '. ci/fuzz_lib.sh && fuzz_regressions decode >"$tmp/out" &&
        has "corpora/regressions/decode/heap-overflow-in-reader-bytes-$sha" && lacks README.md'
check "regress-add: the same content again is refused" \
  eval 'cp findings/decode/crash-1.min "$tmp/copy" &&
        run 1 ci/regress_add.sh --force --target decode "$tmp/copy" "again" && has "already filed"'
check "regress-add: an input that does not crash is refused" \
  eval 'run 1 ci/regress_add.sh findings/decode/ok-1 "fixed already" && has "--force"'
check "regress-add: --force files it anyway" \
  eval 'run 0 ci/regress_add.sh --force findings/decode/ok-1 "kept after the fix" &&
        [ "$(grep -c "^- " corpora/regressions/decode/README.md)" = 2 ]'
check "regress-add: a description of several lines is refused" \
  eval 'run 2 ci/regress_add.sh --force findings/decode/hang-1 "$(printf "two\nlines")"'
cd "$repo" || exit 2

# --- a real crash: the decode target's planted bug ----------------------------------------------
if FUZZ_TARGETS=decode ./build.sh standalone libfuzzer planted >"$tmp/build.log" 2>&1; then
  mkdir -p "$tmp/findings/decode"
  printf '\0as' >"$tmp/findings/decode/crash-planted"
  check "planted: the 3-byte header crashes the planted build only, exit 1" \
    eval 'run 1 "$wafer" repro --planted decode "$tmp/findings/decode/crash-planted" &&
          has "still fails, in 1 of 3 builds" && grep -q "^planted  *FAILS" "$tmp/out" &&
          grep -q "^standalone  *passes" "$tmp/out" && grep -q "^libfuzzer  *passes" "$tmp/out"'
  check "planted: a sanitizer report with a runtime/ stack" \
    eval 'has "report: ERROR: AddressSanitizer: heap-buffer-overflow" &&
          has "signature: decode_module"'
  check "planted: the rerun command switches the bug on" \
    eval 'has "rerun: WAFER_PLANTED_BUG=decode build/fuzz/planted/decode" &&
          has "decode $tmp/findings/decode/crash-planted"'
  check "planted: without the switch it no longer fails, exit 0" \
    run 0 "$wafer" repro "$tmp/findings/decode/crash-planted"
  check "repro: outside the repository, uses the one holding the wafer run" \
    eval '(cd "$tmp" && run 0 "$wafer" repro findings/decode/crash-planted &&
           has "rerun: $repo/build/fuzz/libfuzzer/decode findings/decode/crash-planted")'
else
  echo "FAIL the decode builds (./build.sh standalone libfuzzer planted):"
  tail -n 20 "$tmp/build.log"
  failed=$((failed + 1))
fi

echo "fuzz repro: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
