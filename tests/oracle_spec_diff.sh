#!/usr/bin/env bash
# Zero false alarms on the spec suite's own modules: runs `wafer diff` (wabt as the reference)
# over every module a spec script instantiates (its "module" commands, converted by `make spec`
# into build/spec/), with the feature flags reference.tsv gives the script. Every verdict must be
# `agree` or `inconclusive`; a MISMATCH is a false alarm of the oracle or a wafer bug, and fails.
#
#   tests/oracle_spec_diff.sh [WAFER]        (WAFER defaults to build/wafer)
#
# Prints the mismatches, the tally (agree, inconclusive by reason, mismatch) and a last line
# "N passed, N failed" counting modules (agree or inconclusive pass). Exit status 1 if any failed.
# Environment: WAFER_SPEC_DIR (default ../shared/spec), ORACLE_SPEC_FILTER (a regular expression
# the script's part/name must match, to run a subset), ORACLE_SPEC_TIME_LIMIT (wabt's time per
# module in ms, default 5000: the few modules that loop when called with zeros are inconclusive
# either way, and wafer's fuel ends them first).
set -uo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null ||
       { cd "$(dirname "$0")/.." && pwd; })
cd "$root" || exit 2
wafer=${1:-build/wafer}
spec_dir=${WAFER_SPEC_DIR:-$root/../shared/spec}
[ -x "$wafer" ] || { echo "$0: $wafer missing (run make)" >&2; exit 2; }
[ -d build/spec ] || { echo "$0: build/spec missing (run make spec first)" >&2; exit 2; }
[ -f "$spec_dir/reference.tsv" ] || { echo "$0: no reference.tsv in $spec_dir" >&2; exit 2; }

exec python3 - "$wafer" "$spec_dir/reference.tsv" "${ORACLE_SPEC_FILTER:-}" \
  "${ORACLE_SPEC_TIME_LIMIT:-5000}" <<'EOF'
import collections, glob, json, os, re, subprocess, sys

wafer, reference, pattern, time_limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
flags = {}
with open(reference) as f:
    next(f)
    for line in f:
        fields = line.rstrip("\n").split("\t")
        if len(fields) >= 2:
            part = "core" if fields[1] == "core" else fields[1]
            flags[(part, fields[0][:-5])] = fields[4].split() if len(fields) > 4 else []

tally = collections.Counter()
reasons = collections.Counter()
mismatches = []
for path in sorted(glob.glob("build/spec/*/*/*.json")):
    part, name = path.split("/")[2], path.split("/")[3]
    if pattern and not re.search(pattern, f"{part}/{name}"):
        continue
    if "simd" in name:
        continue  # wafer does not implement SIMD: every module would be inconclusive
    with open(path) as f:
        script = json.load(f)
    directory = os.path.dirname(path)
    modules = [os.path.join(directory, c["filename"]) for c in script["commands"]
               if c["type"] == "module" and c.get("filename", "").endswith(".wasm")]
    if not modules:
        continue
    cmd = [wafer, "diff", "--time-limit", time_limit, *flags.get((part, name), []), *modules]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = 0
    for line in p.stdout.splitlines():
        m = re.match(r"^(.*?\.wasm): (agree|inconclusive: (.*)|MISMATCH.*)$", line)
        if not m:
            continue
        seen += 1
        if m.group(2) == "agree":
            tally["agree"] += 1
        elif m.group(2).startswith("inconclusive"):
            tally["inconclusive"] += 1
            reasons[re.sub(r" \(.*", "", m.group(3))] += 1
        else:
            tally["mismatch"] += 1
            mismatches.append(line)
            print(line, flush=True)
    if seen != len(modules):
        tally["mismatch"] += len(modules) - seen
        print(f"{path}: wafer diff gave {seen} verdicts for {len(modules)} modules "
              f"(exit {p.returncode}): {p.stderr.strip()[-300:]}", flush=True)

total = sum(tally.values())
print(f"spec diff: {total} modules: {tally['agree']} agree, {tally['inconclusive']} inconclusive, "
      f"{tally['mismatch']} mismatch")
for reason, n in sorted(reasons.items()):
    print(f"  inconclusive: {n} x {reason}")
passed = tally["agree"] + tally["inconclusive"]
print(f"{passed} passed, {tally['mismatch']} failed")
sys.exit(1 if tally["mismatch"] else 0)
EOF
