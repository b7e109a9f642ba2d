#!/usr/bin/env bash
# Differential run of wafer against wabt's interpreter on modules binaryen generates.
#
#   TTF_COUNT=100 TTF_SEED=N tests/ttf_compare.sh [WAFER]
#
# For each of TTF_COUNT (default 100) modules: random seed bytes (500-16000) -> `wasm-opt -ttf`
# with bulk memory, sign extension, non-trapping float-to-int and multi-value (one module in four
# also optimised with -O2, another in four with reference types; never SIMD), then
#   wasm-interp --run-all-exports --dummy-import-func m.wasm
#   WAFER run m.wasm --invoke-all                     (WAFER defaults to build/wafer)
# and their outputs (stdout and stderr) are compared after normalising what may differ: NaN signs
# and payloads, trap texts (mapped to the trap's kind), and non-null funcref numbering. Both call
# the exports in order, so the -ttf modules' hang limit (reset only by hangLimitInitializer) runs
# down identically.
# Verdicts per module:
#   agree         same normalised output;
#   differ        different results, logs or trap/no-trap (saved under findings/ttf/);
#   trap-kind     both trapped at the same calls, but with different kinds (saved too);
#   inconclusive  outputs differ but an engine ran out of stack or time, or binaryen made a
#                 module wabt rejects (then wafer must reject it too, else it is `differ`).
# Prints the counts; exit status 1 if any module differs.
set -euo pipefail
cd "$(dirname "$0")/.."

wafer=${1:-build/wafer}
[ -x "$wafer" ] || { echo "ttf_compare.sh: $wafer missing (run make)" >&2; exit 1; }
for tool in wasm-opt wasm-interp wasm-validate; do
  command -v "$tool" >/dev/null || { echo "ttf_compare.sh: $tool missing" >&2; exit 1; }
done

exec python3 - "$wafer" "${TTF_COUNT:-100}" "${TTF_SEED:-}" <<'EOF'
import hashlib, os, random, re, shutil, subprocess, sys, tempfile

wafer, count, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
wafer_name = wafer
seed = int(seed) if seed else random.randrange(1 << 32)
rng = random.Random(seed)
FEATURES = ["--enable-bulk-memory", "--enable-sign-ext", "--enable-nontrapping-float-to-int",
            "--enable-multivalue", "--disable-simd"]
TIMEOUT = 30
FINDINGS = "findings/ttf"

# Trap texts of both engines (the spec's, and wabt 1.0.32's own) to one name per kind.
TRAP_KINDS = [
    ("unreachable", "unreachable"),
    ("out of bounds memory access", "memory-out-of-bounds"),
    ("out of bounds table access", "table-out-of-bounds"),
    ("undefined table index", "undefined-element"),
    ("undefined element", "undefined-element"),
    ("uninitialized table element", "uninitialized-element"),
    ("uninitialized element", "uninitialized-element"),
    ("indirect call signature mismatch", "indirect-call-mismatch"),
    ("indirect call type mismatch", "indirect-call-mismatch"),
    ("integer divide by zero", "integer-divide-by-zero"),
    ("integer overflow", "integer-overflow"),
    ("invalid conversion to integer", "invalid-conversion"),
    ("call stack exhausted", "call-stack-exhausted"),
]
RESULT = re.compile(r"^(called host \S+|\S*)\((.*)\) => ?(.*)$")
NAN = re.compile(r"\b(f32|f64):-?nan(:0x[0-9a-f]+)?\b")
FUNCREF = re.compile(r"\bfuncref:[1-9][0-9]*\b")

def trap_kind(text):
    for needle, kind in TRAP_KINDS:
        if needle in text:
            return kind
    return None

def values(text):
    return FUNCREF.sub("funcref:nonnull", NAN.sub(r"\1:nan", text))

def normalise(output, kinds=True):
    """Lines to compare: calls with their results, host calls, and an instantiation trap."""
    lines = []
    for line in output.splitlines():
        m = RESULT.match(line)
        if m:
            head, args, results = m.groups()
            if results.startswith("error:"):
                results = "trap " + ((trap_kind(results) or "other") if kinds else "")
            lines.append(f"{head}({values(args)}) => {values(results)}".rstrip())
        elif "error initializing module" in line:
            kind = trap_kind(line) or "other"
            lines.append("instantiation trap " + (kind if kinds else ""))
    return lines

def run(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=TIMEOUT)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode("utf-8", "replace")

def save(data, ref, ours, verdict, note):
    os.makedirs(FINDINGS, exist_ok=True)
    base = os.path.join(FINDINGS, hashlib.sha1(data).hexdigest())
    with open(base + ".wasm", "wb") as f:
        f.write(data)
    with open(base + ".txt", "w") as f:
        f.write(f"verdict: {verdict}: {note}\n\n== wasm-interp --run-all-exports "
                f"--dummy-import-func\n{ref}\n== {wafer_name} run --invoke-all\n{ours}\n")
    return base + ".wasm"

counts = {"agree": 0, "differ": 0, "trap-kind": 0, "inconclusive": 0}
reasons = {}
print(f"ttf compare: {count} modules, seed {seed}, {wafer} vs wasm-interp", flush=True)
with tempfile.TemporaryDirectory() as tmp:
    # A private copy, so a rebuild during the run cannot pull the binary away.
    shutil.copy(wafer, os.path.join(tmp, "wafer"))
    wafer = os.path.join(tmp, "wafer")
    seed_path, module = os.path.join(tmp, "seed"), os.path.join(tmp, "m.wasm")
    for i in range(count):
        with open(seed_path, "wb") as f:
            f.write(rng.randbytes(rng.randint(500, 16000)))
        features = FEATURES + (["--enable-reference-types"] if i % 4 == 3 else [])
        features += ["-O2"] if i % 4 == 1 else []
        gen = subprocess.run(["wasm-opt", "-ttf", seed_path, "-o", module] + features,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        verdict, note = "inconclusive", ""
        if i and i % 50 == 0:
            print(f"  {i} modules: " + ", ".join(f"{v} {k}" for k, v in counts.items()),
                  flush=True)
        if gen.returncode != 0:
            note = "wasm-opt failed"
            counts[verdict] += 1
            reasons[note] = reasons.get(note, 0) + 1
            continue
        with open(module, "rb") as f:
            data = f.read()
        if subprocess.run(["wasm-validate", module], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            rc, ours = run([wafer, "validate", module])
            if rc != 1:
                verdict = "differ"
                note = ("wabt rejects the module, wafer accepts it" if rc == 0 else
                        f"wafer validate exited with status {rc}")
                save(data, "(wasm-validate rejects)", ours, verdict, note)
            else:
                note = "wabt rejects the module (binaryen's reference types)"
            counts[verdict] += 1
            reasons[note] = reasons.get(note, 0) + 1
            if verdict == "differ":
                print(f"[{i}] {verdict}: {note}", flush=True)
            continue
        ref_rc, ref = run(["wasm-interp", "--run-all-exports", "--dummy-import-func", module])
        our_rc, ours = run([wafer, "run", module, "--invoke-all"])
        a, b = normalise(ref), normalise(ours)
        if a == b:
            verdict = "agree"
        elif "timeout" in (ref_rc, our_rc):
            note = "timeout: " + ("wasm-interp" if ref_rc == "timeout" else "wafer")
        elif any(trap_kind(l) == "call-stack-exhausted" for l in a + b):
            note = "call stack exhausted"
        elif not isinstance(our_rc, int) or our_rc < 0 or our_rc > 2:
            verdict, note = "differ", f"wafer exited with status {our_rc}"
        elif normalise(ref, kinds=False) == normalise(ours, kinds=False):
            verdict = "trap-kind"
        else:
            verdict = "differ"
        if verdict in ("differ", "trap-kind"):
            first = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]),
                         min(len(a), len(b)))
            note = note or (f"line {first + 1}: wasm-interp "
                            f"{a[first] if first < len(a) else '(nothing)'!r}, wafer "
                            f"{b[first] if first < len(b) else '(nothing)'!r}")
            path = save(data, ref, ours, verdict, note)
            print(f"[{i}] {verdict}: {path}: {note}", flush=True)
        counts[verdict] += 1
        if verdict == "inconclusive":
            reasons[note] = reasons.get(note, 0) + 1

print("ttf compare: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" (seed {seed})")
for note, n in sorted(reasons.items()):
    print(f"  inconclusive: {n} x {note}")
sys.exit(1 if counts["differ"] else 0)
EOF
