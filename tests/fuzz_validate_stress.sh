#!/usr/bin/env bash
# Stress for `wafer validate` under ASan+UBSan: random files and mutated spec modules.
#
#   STRESS_SECONDS=60 STRESS_SEED=N tests/fuzz_validate_stress.sh [WAFER] [CORPUS_DIR]
#
# WAFER defaults to build/asan/wafer (built by `make asan`), CORPUS_DIR to corpora/decode. Until
# STRESS_SECONDS (default 60) have passed it writes inputs of these kinds, in turn, and runs
# `WAFER validate FILE...` on them, 50 at a time:
#   random      random bytes (0-2000), most of them behind a valid header;
#   bitflip     a corpus module with 1-8 bits flipped;
#   bytes       a corpus module with 1-4 bytes set to 0x00, 0x7f, 0x80 or 0xff;
#   truncate    a corpus module cut short;
#   splice      a corpus module with a span deleted, duplicated, or replaced by another's bytes.
# A run passes when it exits 0 (valid) or 1 (invalid) without any sanitizer report. Any other exit
# status (crash, abort, timeout) or report is a failure, and its inputs are then validated one by
# one: each failing input and its output are saved to findings/validate_stress/. Prints counts
# per kind; exit status 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

wafer=${1:-build/asan/wafer}
corpus=${2:-corpora/decode}
if [ ! -x "$wafer" ]; then
  echo "fuzz_validate_stress.sh: $wafer missing (run make asan)" >&2
  exit 1
fi
symbolizer=$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

exec python3 - "$wafer" "$corpus" "${STRESS_SECONDS:-60}" "${STRESS_SEED:-}" <<'EOF'
import hashlib, os, random, re, shutil, subprocess, sys, tempfile, time

wafer, corpus_dir, seconds, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
seed = int(seed) if seed else random.randrange(1 << 32)
rng = random.Random(seed)
corpus = []
for name in sorted(os.listdir(corpus_dir)):
    path = os.path.join(corpus_dir, name)
    if os.path.isfile(path):
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(b"\0asm") and len(data) > 8:
            corpus.append(data)
if not corpus:
    sys.exit(f"fuzz_validate_stress.sh: no modules in {corpus_dir}")
HEADER = b"\0asm\x01\0\0\0"
SANITIZER = re.compile(rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                       rb"SUMMARY: UndefinedBehaviorSanitizer")

def random_bytes():
    body = rng.randbytes(rng.randrange(2001))
    return HEADER + body if rng.random() < 0.75 else body

def bitflip():
    data = bytearray(rng.choice(corpus))
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)

def set_bytes():
    data = bytearray(rng.choice(corpus))
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(8, len(data))] = rng.choice((0x00, 0x7F, 0x80, 0xFF))
    return bytes(data)

def truncate():
    data = rng.choice(corpus)
    return data[: rng.randrange(len(data))]

def splice():
    data = rng.choice(corpus)
    a = rng.randrange(8, len(data))
    b = rng.randrange(a, min(len(data), a + 64) + 1)
    how = rng.randrange(3)
    if how == 0:
        return data[:a] + data[b:]
    if how == 1:
        return data[:b] + data[a:b] + data[b:]
    other = rng.choice(corpus)
    c = rng.randrange(len(other))
    return data[:a] + other[c : c + rng.randint(1, 64)] + data[b:]

kinds = [("random", random_bytes), ("bitflip", bitflip), ("bytes", set_bytes),
         ("truncate", truncate), ("splice", splice)]
counts = {k: [0, 0, 0] for k, _ in kinds}  # valid, invalid, failed
failures = []
findings = "findings/validate_stress"
BATCH = 50

def validate(paths):
    """Exit status (or "timeout") and output of one `wafer validate` over paths."""
    try:
        p = subprocess.run([wafer, "validate"] + paths, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10 + len(paths))
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or b""

def passed(rc, out):
    return rc in (0, 1) and not SANITIZER.search(out)

def record_failure(kind, data, rc, out):
    counts[kind][2] += 1
    os.makedirs(findings, exist_ok=True)
    saved = os.path.join(findings, f"{kind}-{hashlib.sha1(data).hexdigest()}.wasm")
    with open(saved, "wb") as f:
        f.write(data)
    with open(saved + ".log", "wb") as f:
        f.write(f"exit status: {rc}\n".encode() + out)
    failures.append(saved)
    print(f"FAIL {saved}: exit status {rc}", flush=True)

print(f"validate stress: {wafer}, {len(corpus)} corpus modules, {seconds:.0f}s, seed {seed}",
      flush=True)
start = time.monotonic()
last_report = start
n = 0
with tempfile.TemporaryDirectory() as tmp:
    # A private copy, so a rebuild during the run cannot pull the binary away.
    shutil.copy(wafer, os.path.join(tmp, "wafer"))
    wafer = os.path.join(tmp, "wafer")
    while time.monotonic() - start < seconds:
        if time.monotonic() - last_report >= 30:
            last_report = time.monotonic()
            print(f"  {n} inputs, {len(failures)} failures", flush=True)
        # One process validates a batch (ASan's start-up costs more than validating); a batch
        # that fails is run again one input at a time to find the culprits.
        batch = []
        for _ in range(BATCH):
            kind, make = kinds[n % len(kinds)]
            path = os.path.join(tmp, f"{n}.wasm")
            data = make()
            with open(path, "wb") as f:
                f.write(data)
            batch.append((kind, path, data))
            n += 1
        rc, out = validate([path for _, path, _ in batch])
        for kind, path, data in batch:
            if not passed(rc, out):
                one_rc, one_out = validate([path])
                if not passed(one_rc, one_out):
                    record_failure(kind, data, one_rc, one_out)
                    continue
            refused = (path + ": ").encode() in out
            counts[kind][1 if refused else 0] += 1
            os.remove(path)

elapsed = time.monotonic() - start
for k, (v, i, f) in counts.items():
    print(f"  {k:9} {v + i + f:7} inputs: {v} valid, {i} invalid, {f} failed")
print(f"validate stress: {n} inputs in {elapsed:.0f}s ({n / elapsed:.0f}/s), "
      f"{len(failures)} failures" + (f", saved under {findings}/" if failures else ""))
sys.exit(1 if failures else 0)
EOF
