#!/usr/bin/env bash
# Real programs as tests (issue 9 item 3): the C programs of tests/wasi_programs/, compiled to
# wasm32-wasi by `make wasi-programs`, each run under `wafer run --wasi` and node's WASI with the
# same arguments, environment, stdin and a fresh copy of the same preopened directory; every case
# must end with the expected status and the same stdout, stderr and directory contents in both
# (tests/wasi_compare.sh). Every case runs three times: with wafer's defaults, with --pooling and
# with --no-memory-image (the allocators and memory setups a program's memory can come from).
# The compute benchmarks of bench/programs run once each, their checksums also held to native
# code's. Prints a line per case and "N passed, N failed".
#   tests/wasi_programs.sh WAFER [PROGRAM_DIR]   (default PROGRAM_DIR: build/wasi_programs)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
WAFER=$(realpath "${1:?usage: tests/wasi_programs.sh WAFER [PROGRAM_DIR]}")
programs=$(realpath "${2:-$root/build/wasi_programs}")
WORK=$root/build/wasi_programs/run
rm -rf "$WORK" && mkdir -p "$WORK"
. "$root/tests/wasi_compare.sh"
p=$programs
none=/dev/null

# Binary input: the bytes of a compiled program; text input: the C source of the filter itself.
text=$root/tests/wasi_programs/stdin_stdout.c

# The cases, each name prefixed with $1.
cases() {
  wasi_compare "$1"files 0 $none - --dir @DIR@::/sandbox "$p/files.wasm" /sandbox
  wasi_compare "$1"files-dot-preopen 0 $none - --dir @DIR@::. "$p/files.wasm" .
  wasi_compare "$1"fsmeta 0 $none - --dir @DIR@::/sandbox "$p/fsmeta.wasm" /sandbox
  wasi_compare "$1"readdir 0 $none - --dir @DIR@::/sandbox "$p/readdir.wasm" /sandbox
  wasi_compare "$1"readdir-second-preopen 0 $none - --dir @TMP@::/other --dir @DIR@::/data \
    "$p/readdir.wasm" /data
  wasi_compare "$1"args-env 0 $none - --env HOME=/home/guest --env GREETING='hello there' \
    --env EMPTY= --env 'ODD=a=b=c' "$p/args_env.wasm" one 'two words' '' 'héllo ✓' --not-a-flag
  wasi_compare "$1"args-env-none 1 $none - "$p/args_env.wasm" fail
  wasi_compare "$1"clock-random 0 $none - "$p/clock_random.wasm"
  wasi_compare "$1"exit-return 7 $none - "$p/exit_codes.wasm" return 7
  wasi_compare "$1"exit-exit 42 $none - "$p/exit_codes.wasm" exit 42
  wasi_compare "$1"exit-high-status 200 $none - "$p/exit_codes.wasm" exit 200
  wasi_compare "$1"exit-status-wraps 44 $none - "$p/exit_codes.wasm" exit 300
  wasi_compare "$1"exit-_Exit 3 $none - "$p/exit_codes.wasm" _Exit 3
  wasi_compare "$1"exit-closed-stdout 5 $none - "$p/exit_codes.wasm" closed-stdout 5
  wasi_compare "$1"exit-usage 2 $none - "$p/exit_codes.wasm"
  WASI_STDERR_DIFFERS=1 wasi_compare "$1"trap-abort 134 $none - "$p/traps.wasm" abort
  WASI_STDERR_DIFFERS=1 wasi_compare "$1"trap-divide 134 $none - "$p/traps.wasm" divide
  WASI_STDERR_DIFFERS=1 wasi_compare "$1"trap-stack 134 $none - "$p/traps.wasm" stack
  wasi_compare "$1"poll-pipe 0 "pipe:$text" - "$p/poll_wait.wasm"
  wasi_compare "$1"stdin-text 0 "$text" - "$p/stdin_stdout.wasm"
  wasi_compare "$1"stdin-empty 0 $none - "$p/stdin_stdout.wasm"
  wasi_compare "$1"stdin-binary 0 "$p/compute.wasm" - "$p/stdin_stdout.wasm" bytes
  wasi_compare "$1"stdin-text-pipe 0 "pipe:$text" - "$p/stdin_stdout.wasm"
  wasi_compare "$1"stdin-binary-pipe 0 "pipe:$p/compute.wasm" - "$p/stdin_stdout.wasm" bytes
  wasi_compare "$1"compute 0 $none - "$p/compute.wasm"
}

cases ""
WAFER_RUN_FLAGS=--pooling cases pooling/
WAFER_RUN_FLAGS=--no-memory-image cases no-image/

# The compute benchmarks as commands: a checksum each, which native code must print too.
for wasm in "$p"/bench-*.wasm; do
  name=$(basename "$wasm" .wasm)
  mkdir -p "$WORK/native"
  "$p/native/$name" >"$WORK/native/$name.out"
  WASI_EXPECT_OUT=$WORK/native/$name.out wasi_compare "$name" 0 $none - "$wasm"
done

echo "wasi programs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
