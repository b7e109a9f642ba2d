#!/usr/bin/env bash
# Real programs as tests (issue 9 item 3): the C programs of tests/wasi_programs/, compiled to
# wasm32-wasi by `make wasi-programs`, each run under `wafer run --wasi` and node's WASI with the
# same arguments, environment, stdin and a fresh copy of the same preopened directory; every case
# must end with the expected status and the same stdout, stderr and directory contents in both
# (tests/wasi_compare.sh). Prints a line per case and "N passed, N failed".
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

wasi_compare files 0 $none - --dir @DIR@::/sandbox "$p/files.wasm" /sandbox
wasi_compare files-dot-preopen 0 $none - --dir @DIR@::. "$p/files.wasm" .
wasi_compare fsmeta 0 $none - --dir @DIR@::/sandbox "$p/fsmeta.wasm" /sandbox
wasi_compare readdir 0 $none - --dir @DIR@::/sandbox "$p/readdir.wasm" /sandbox
wasi_compare readdir-second-preopen 0 $none - --dir @TMP@::/other --dir @DIR@::/data \
  "$p/readdir.wasm" /data
wasi_compare args-env 0 $none - --env HOME=/home/guest --env GREETING='hello there' --env EMPTY= \
  --env 'ODD=a=b=c' "$p/args_env.wasm" one 'two words' '' 'héllo ✓' --not-a-flag
wasi_compare args-env-none 1 $none - "$p/args_env.wasm" fail
wasi_compare clock-random 0 $none - "$p/clock_random.wasm"
wasi_compare exit-return 7 $none - "$p/exit_codes.wasm" return 7
wasi_compare exit-exit 42 $none - "$p/exit_codes.wasm" exit 42
wasi_compare exit-high-status 200 $none - "$p/exit_codes.wasm" exit 200
wasi_compare exit-status-wraps 44 $none - "$p/exit_codes.wasm" exit 300
wasi_compare exit-_Exit 3 $none - "$p/exit_codes.wasm" _Exit 3
wasi_compare exit-closed-stdout 5 $none - "$p/exit_codes.wasm" closed-stdout 5
wasi_compare exit-usage 2 $none - "$p/exit_codes.wasm"
wasi_compare stdin-text 0 "$text" - "$p/stdin_stdout.wasm"
wasi_compare stdin-empty 0 $none - "$p/stdin_stdout.wasm"
wasi_compare stdin-binary 0 "$p/compute.wasm" - "$p/stdin_stdout.wasm" bytes
wasi_compare compute 0 $none - "$p/compute.wasm"

echo "wasi programs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
