#!/bin/sh
# Writes the synthetic benchmark modules into build/bench/ (WAT generated here, assembled with
# wat2wasm). Each exports "run", a trivial function with no parameters, for the benchmark to call.
#   empty.wasm      nothing else
#   image1m.wasm    a 17-page memory whose first 1 MiB is one active data segment (non-zero bytes):
#                   a memory image of 1 MiB
#   funcs100k.wasm  100,000 functions and a 100,000-element funcref table filled by one active
#                   element segment
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/build/bench
mkdir -p "$out"
command -v wat2wasm >/dev/null || { echo "make_modules: wat2wasm (wabt) is needed" >&2; exit 1; }

cat > "$out/empty.wat" <<'WAT'
(module (func (export "run")))
WAT

# 1 MiB of printable, varying bytes: 64-byte lines of a rotating alphabet.
awk 'BEGIN {
    a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-" a
    printf "(module (memory 17) (func (export \"run\"))\n(data (i32.const 0)\n"
    for (i = 0; i < 16384; i++) {
        k = i % 64
        printf "\"%s%s\"\n", substr(a, k + 1), substr(a, 1, k)
    }
    printf "))\n"
}' > "$out/image1m.wat"

awk 'BEGIN {
    n = 100000
    printf "(module (table %d %d funcref)\n", n, n
    for (i = 0; i < n; i++) printf "(func $f%d (result i32) i32.const %d)\n", i, i
    printf "(func (export \"run\"))\n(elem (i32.const 0) func"
    for (i = 0; i < n; i++) printf " $f%d", i
    printf "))\n"
}' > "$out/funcs100k.wat"

for m in empty image1m funcs100k; do
    wat2wasm "$out/$m.wat" -o "$out/$m.wasm"
    rm "$out/$m.wat"
done
echo "make_modules: wrote $out/empty.wasm image1m.wasm funcs100k.wasm"
