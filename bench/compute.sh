#!/bin/sh
# The compute benchmarks of issue 8 (`make bench`): builds every bench/programs/*.c to wasm32
# with clang-16 and wasm-ld-16 (no libc: a program that needs any of it, memset included, fails
# to link), to native code with gcc -O2, and through wasm2c to gcc -O2; then
# bench/compute_measure.py runs them on every engine turn by turn, checks each checksum against
# native's and prints the tables; then, if all went well and matplotlib is installed,
# bench/compute_plot.py draws build/bench/compute.png.
#
#   BENCH_RUNS      runs per benchmark and engine (default 5)
#   BENCH_PROGRAMS  which programs (default: all of bench/programs/)
#   BENCH_ENGINES   which engines (default: native wasm2c v8 v8-liftoff wafer wafer-epoch wabt;
#                   wafer-epoch is wafer with epoch interruption on and a deadline never reached)
#   BENCH_TIMEOUT   seconds one run may take before it counts as failed (default 300)
#   WAFER           the wafer binary (default build/wafer)
#
# Exit status: non-zero when any engine's checksum differs from native's or a run fails.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/build/bench/compute
src=$here/bench/programs
mkdir -p "$out/wasm" "$out/native" "$out/wasm2c"

programs=${BENCH_PROGRAMS:-}
if [ -z "$programs" ]; then
    for f in "$src"/*.c; do programs="$programs $(basename "$f" .c)"; done
fi

# wasm32 MVP, no libc, and wasm-ld called directly: the clang driver would run wasm-opt when
# binaryen is installed, and then the benchmark would no longer be what clang produced.
wasm_cc="clang-16 --target=wasm32 -mcpu=mvp -O2 -nostdlib -ffreestanding"
for p in $programs; do
    $wasm_cc -c "$src/$p.c" -o "$out/wasm/$p.o"
    wasm-ld-16 --no-entry --strip-debug "$out/wasm/$p.o" -o "$out/wasm/$p.wasm"
    gcc -std=c11 -O2 "$src/$p.c" "$here/bench/compute_native.c" -o "$out/native/$p" -lm
    mkdir -p "$out/wasm2c/$p"
    wasm2c "$out/wasm/$p.wasm" -n bench -o "$out/wasm2c/$p/module.c"
    gcc -std=gnu11 -O2 -I/usr/src/wasm2c -I"$out/wasm2c/$p" "$out/wasm2c/$p/module.c" \
        "$here/bench/compute_wasm2c.c" /usr/src/wasm2c/wasm-rt-impl.c -o "$out/wasm2c/$p/run" -lm
done

# A copy, so that every round runs the same wafer even if build/wafer is rebuilt meanwhile.
cp "${WAFER:-$here/build/wafer}" "$out/wafer"

status=0
# shellcheck disable=SC2086 # programs are words
python3 "$here/bench/compute_measure.py" --dir "$out" --wafer "$out/wafer" \
    --node-runner "$here/bench/compute_node.cjs" --runs "${BENCH_RUNS:-5}" \
    --timeout "${BENCH_TIMEOUT:-300}" \
    --engines "${BENCH_ENGINES:-native wasm2c v8 v8-liftoff wafer wafer-epoch wabt}" \
    $programs || status=$?

# Debian's python3 carries python3-matplotlib; a python3 earlier in PATH may not.
plotter=
for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import matplotlib' 2>/dev/null; then
        plotter=$py
        break
    fi
done
if [ -z "$plotter" ]; then
    echo "no plot: matplotlib is not installed (./ci/deps.sh bench installs python3-matplotlib)" >&2
elif [ "$status" -ne 0 ]; then
    echo "no plot: the run failed" >&2
else
    "$plotter" "$here/bench/compute_plot.py" "$out/summary.tsv" "$here/build/bench/compute.png"
fi
exit $status
