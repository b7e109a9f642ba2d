#!/usr/bin/env bash
# Regenerates corpora/decode/, the decode fuzz target's seeds, from the spec test suite.
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
