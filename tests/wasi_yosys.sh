#!/usr/bin/env bash
# yosys as a real program (issue 9 item 3): yosys.core.wasm of ../shared/realworld (YoWASP's
# build, WASI preview 1 only), fetched with npm pack and checked against its sha256 by
# bench/fetch_realworld.sh, runs under `wafer run --wasi` and node's WASI: `-V`; a synthesis script
# (tests/wasi_yosys_files/synth.ys: read_verilog, synth with abc, stat, write_verilog, write_json)
# on a design in a preopened directory; and scripts that fail: a missing file, and a path through
# ".." to the design's own host copy (beside the preopen on the host, so a sandbox that let ".."
# out would find it and exit 0). Each must exit as expected with the same stdout, stderr and files
# written (tests/wasi_compare.sh). yosys finds its techmap and cell libraries in a preopened
# /share, written out of the package by tests/wasi_programs/yosys_share.mjs, and abc its scratch
# files in a preopened /tmp.
# A package that cannot be fetched fails the stage: the npm registry is reachable on every
# machine of the project, and npm's cache serves it offline once fetched.
#   tests/wasi_yosys.sh WAFER
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
WAFER=$(realpath "${1:?usage: tests/wasi_yosys.sh WAFER}")
WORK=$root/build/wasi_yosys
rm -rf "$WORK" && mkdir -p "$WORK"
. "$root/tests/wasi_compare.sh"

module=$root/build/bench/realworld/yosys.core.wasm
"$root/bench/fetch_realworld.sh" --keep-package yosys.core.wasm
if [ ! -f "$module" ] || [ ! -d "$module.package" ]; then
  echo "FAIL yosys: yosys.core.wasm could not be fetched (see above)"
  echo "wasi yosys: 0 passed, 1 failed"
  exit 1
fi
share=$WORK/share
if ! node "$root/tests/wasi_programs/yosys_share.mjs" "$module.package/gen/resources-yosys.js" \
     "$share"; then
  echo "FAIL yosys: its share/ tree could not be written out of the package"
  echo "wasi yosys: 0 passed, 1 failed"
  exit 1
fi
design=$root/tests/wasi_yosys_files
none=/dev/null

wasi_compare yosys-version 0 $none - "$module" -V
wasi_compare yosys-synth 0 $none "$design" --dir "$share::/share" --dir @DIR@::/work \
  --dir @TMP@::/tmp "$module" -s /work/synth.ys
wasi_compare yosys-missing-file 1 $none "$design" --dir "$share::/share" --dir @DIR@::/work \
  "$module" -p 'read_verilog /work/no-such-design.v'
wasi_compare yosys-outside-preopen 1 $none "$design" --dir @DIR@::/work \
  "$module" -p 'read_verilog /work/../dir/counter.v'

echo "wasi yosys: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
