#!/usr/bin/env bash
# Regenerates the fuzz targets' seeds: corpora/decode/ from the spec test suite (described here),
# then the other targets' (each section below says how).
#
#   ci/seed_corpora.sh [SPEC_DIR]     (default ../shared/spec, else /work/shared/spec)
#
# Every .wast listed in SPEC_DIR/reference.tsv is converted with wast2json (wabt 1.0.32) and that
# file's flags. From each file, in the order of reference.tsv, it takes binary modules not taken
# before (by content):
#   - valid ones (module, assert_unlinkable, assert_uninstantiable commands): up to 3, spread over
#     the file's sizes (smallest, middle, largest), at most 16 KiB each;
#   - one assert_malformed and one assert_invalid binary module (the smallest), so the error paths
#     have seeds too.
# SIMD files (simd_*) give one valid module each, for the first 8 only: wafer rejects SIMD early.
# Then 40 modules from binaryen's `wasm-opt -ttf` (binaryen 108), whose seed bytes are SHA-256
# blocks of a fixed text: executable code with loops, calls, memory and logging imports, which the
# spec's small modules lack. Every fourth also enables reference types.
# Files are named by the SHA-1 of their content, as libFuzzer names corpus files. The choice
# depends only on the suite and wast2json, so rerunning reproduces the directory exactly.
set -euo pipefail
cd "$(dirname "$0")/.."

spec=${1:-}
if [ -z "$spec" ]; then
  for d in ../shared/spec /work/shared/spec; do
    [ -f "$d/reference.tsv" ] && spec=$d && break
  done
fi
if [ -z "$spec" ] || [ ! -f "$spec/reference.tsv" ]; then
  echo "seed_corpora.sh: no spec suite (give its directory, holding reference.tsv)" >&2
  exit 1
fi
for tool in wast2json wasm-opt; do
  command -v $tool >/dev/null || { echo "seed_corpora.sh: $tool missing" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Convert every file into its own directory, named in reference.tsv order.
n=0
tail -n +2 "$spec/reference.tsv" | while IFS=$'\t' read -r file proposal _passed _total flags; do
  n=$((n + 1))
  src=$spec/$file
  [ "$proposal" = core ] && src=$spec/core/$file
  dir=$tmp/$(printf '%03d' "$n")_$(echo "${file%.wast}" | tr '/' '_')
  mkdir -p "$dir"
  # shellcheck disable=SC2086
  wast2json $flags "$src" -o "$dir/spec.json"
done

out=corpora/decode
mkdir -p "$out"
rm -f "$out"/*
python3 - "$tmp" "$out" <<'EOF'
import hashlib, json, os, subprocess, sys

tmp, out = sys.argv[1], sys.argv[2]
MAX_SIZE = 16 * 1024
VALID = {"module", "assert_unlinkable", "assert_uninstantiable"}
taken = set()
simd_files = 0

def read(d, name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()

def take(data):
    h = hashlib.sha1(data).hexdigest()
    if h in taken:
        return False
    taken.add(h)
    with open(os.path.join(out, h), "wb") as f:
        f.write(data)
    return True

def fresh_sorted(blobs):
    """Distinct blobs not taken yet, smallest first (ties by content), within MAX_SIZE."""
    seen, result = set(), []
    for b in blobs:
        h = hashlib.sha1(b).hexdigest()
        if h not in taken and h not in seen and len(b) <= MAX_SIZE:
            seen.add(h)
            result.append(b)
    return sorted(result, key=lambda b: (len(b), b))

for name in sorted(os.listdir(tmp)):
    d = os.path.join(tmp, name)
    with open(os.path.join(d, "spec.json")) as f:
        commands = json.load(f)["commands"]
    valid, malformed, invalid = [], [], []
    for c in commands:
        fn = c.get("filename", "")
        if not fn.endswith(".wasm"):
            continue
        if c["type"] in VALID:
            valid.append(read(d, fn))
        elif c["type"] == "assert_malformed":
            malformed.append(read(d, fn))
        elif c["type"] == "assert_invalid":
            invalid.append(read(d, fn))
    valid = fresh_sorted(valid)
    if "_simd_" in name:
        if valid and simd_files < 8:
            simd_files += 1
            take(valid[0])
        continue
    if valid:
        picks = sorted({0, len(valid) // 2, len(valid) - 1})
        for i in picks:
            take(valid[i])
    for group in (malformed, invalid):
        group = fresh_sorted(group)
        if group:
            take(group[0])

TTF_FEATURES = ["--enable-bulk-memory", "--enable-sign-ext", "--enable-nontrapping-float-to-int",
                "--enable-multivalue", "--disable-simd"]
seed_path, module_path = os.path.join(tmp, "ttf.seed"), os.path.join(tmp, "ttf.wasm")
for i in range(40):
    size = 1000 + (i * 397) % 15000
    blocks = (hashlib.sha256(f"wafer-ttf-{i}-{k}".encode()).digest() for k in range(size // 32 + 1))
    with open(seed_path, "wb") as f:
        f.write(b"".join(blocks)[:size])
    features = TTF_FEATURES + (["--enable-reference-types"] if i % 4 == 3 else [])
    subprocess.run(["wasm-opt", "-ttf", seed_path, "-o", module_path] + features, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(module_path, "rb") as f:
        take(f.read())
EOF
echo "seed_corpora.sh: $(find "$out" -type f | wc -l) files, $(cat "$out"/* | wc -c) bytes in $out"

# ---- instantiate, differential: generator inputs ---------------------------------------------
# Their generator (fuzz_targets/gen/) makes a module of any bytes, so seeds are bytes: the first
# picks the engine configuration (fuzz_targets/support/fuzz_engine.h), here N mod 64 for the N-th
# seed, the rest SHA-256 blocks of a fixed text, of sizes spread over 32..2000 bytes. 48 seeds
# for instantiate, 32 for differential.
python3 - <<'EOF'
import hashlib, os
for target, count in (("instantiate", 48), ("differential", 32)):
    out = os.path.join("corpora", target)
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    for i in range(count):
        size = 32 + (i * 409) % 1969
        blocks = b"".join(hashlib.sha256(f"wafer-{target}-{i}-{k}".encode()).digest()
                          for k in range(size // 32 + 1))
        data = bytes([i % 64]) + blocks[:size]
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
EOF
echo "seed_corpora.sh: $(find corpora/instantiate corpora/differential -type f | wc -l) files in" \
  "corpora/instantiate and corpora/differential"

# ---- memory64_bounds, multi_memory_pool, pool_isolation, table_ops: shape choices -------------
# These targets read their bytes as choices (fuzz_targets/support/shape_input.h): every byte
# string is an input, so seeds are SHA-256 blocks of a fixed text, 24 per target, of sizes spread
# over what one input reads (a module shape, then its calls, steps or rounds).
python3 - <<'EOF'
import hashlib, os
for target, base, step in (("memory64_bounds", 64, 28), ("multi_memory_pool", 120, 20),
                           ("pool_isolation", 80, 16), ("table_ops", 32, 24)):
    out = os.path.join("corpora", target)
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    for i in range(24):
        size = base + step * i
        data = b"".join(hashlib.sha256(f"wafer-{target}-{i}-{k}".encode()).digest()
                        for k in range(size // 32 + 1))[:size]
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
EOF
echo "seed_corpora.sh: $(cat corpora/{memory64_bounds,multi_memory_pool,pool_isolation,table_ops}/* | wc -c)" \
  "bytes in corpora/{memory64_bounds,multi_memory_pool,pool_isolation,table_ops}"

# ---- wast: script bundles --------------------------------------------------------------------
# `wafer wast-bundle` (build/wafer, or $WAFER) writes each converted script of at most 16 KiB as
# a bundle, with the flags it was converted with and configuration byte N mod 64 for the N-th,
# so that the seeds start spread over the configurations. Left out: SIMD files, and
# multi-memory/memory-multi, whose SIMD module wafer refuses (tests/spec_known_failures.txt).
wafer=${WAFER:-build/wafer}
[ -x "$wafer" ] || { echo "seed_corpora.sh: $wafer missing (make)" >&2; exit 1; }
out=corpora/wast
mkdir -p "$out"
rm -f "$out"/*
n=0 k=0
while IFS=$'\t' read -r file _proposal _passed _total flags; do
  n=$((n + 1))
  name=$(printf '%03d' "$n")_$(echo "${file%.wast}" | tr '/' '_')
  case $name in *simd_* | *multi-memory_memory-multi) continue ;; esac
  # shellcheck disable=SC2086
  "$wafer" wast-bundle $flags --config $((k % 64)) "$tmp/$name/spec.json" \
    -o "$tmp/$name.bundle" 2>/dev/null ||
    { echo "seed_corpora.sh: wafer wast-bundle failed on $file" >&2; exit 1; }
  if [ "$(stat -c %s "$tmp/$name.bundle")" -le 16384 ]; then
    cp "$tmp/$name.bundle" "$out/${name#*_}.bundle"
    k=$((k + 1))
  fi
done < <(tail -n +2 "$spec/reference.tsv")
echo "seed_corpora.sh: $(find "$out" -type f | wc -l) files, $(cat "$out"/* | wc -c) bytes in $out"

# ---- deserialize: precompiled modules --------------------------------------------------------
# `wafer compile` of spec modules with every kind of content (functions and tables, memories and
# data, globals, element segments, references, memory64) and of tests/code_verify.wat, which uses
# every instruction kind of the internal code, compiled for a fuel engine as the target's is (its
# code must pay fuel: code_verify refuses code without FUEL there). Rerun whenever the .cwasm
# format version changes: older files are refused at the header, and the fuzzer would never reach
# the payload.
out=corpora/deserialize
mkdir -p "$out"
rm -f "$out"/*
for entry in br_table:0 bulk:4 call_indirect:0 fac:0 global:0 load:0 loop:0 memory_copy:0 \
             ref_func:1 select:0 table_grow:0 proposals_memory64_memory64:0; do
  name=${entry%:*} index=${entry#*:}
  dir=$(find "$tmp" -maxdepth 1 -type d -name "[0-9][0-9][0-9]_$name" | head -n 1)
  [ -n "$dir" ] || { echo "seed_corpora.sh: no converted $name" >&2; exit 1; }
  "$wafer" compile --fuel 1000000 "$dir/spec.$index.wasm" -o "$out/${name#proposals_memory64_}.$index.cwasm"
done
wat2wasm --enable-multi-memory --enable-memory64 tests/code_verify.wat -o "$tmp/code_verify.wasm"
"$wafer" compile --fuel 1000000 "$tmp/code_verify.wasm" -o "$out/code_verify.cwasm"
echo "seed_corpora.sh: $(find "$out" -type f | wc -l) files, $(cat "$out"/* | wc -c) bytes in $out"
