#!/usr/bin/env bash
# Source coverage of the runtime by the fuzz targets' corpora: what `make coverage` runs after
# `./build.sh cov`.
#
#   ci/coverage.sh                     every target (or those in FUZZ_TARGETS)
#
# For each target T, replays corpora/T/, corpora/regressions/T/ and FINDINGS/T/corpus/ (what
# `make fuzz` grew; FINDINGS is $FUZZ_FINDINGS, default findings) through build/fuzz/cov/T
# (clang-16 -fprofile-instr-generate -fcoverage-mapping, libFuzzer -runs=0, the whole runtime
# linked in), and merges the profiles with llvm-profdata-16. Then, over all targets together:
#   build/coverage/html/index.html   llvm-cov-16's HTML report of runtime/
#   build/coverage/table.txt         one row per file of runtime/: lines and branches covered
#   build/coverage/report.txt        llvm-cov-16's own per-file report (regions, functions too)
# and prints the table, a line per target (its lines and branches of runtime/ alone), and the
# totals. Exit status 1 when a replay fails or a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

findings=${FUZZ_FINDINGS:-findings}
mapfile -t targets < <(fuzz_selected_targets)
for tool in llvm-profdata-16 llvm-cov-16; do
  command -v $tool >/dev/null || { echo "coverage.sh: $tool missing (make deps)" >&2; exit 1; }
done
for t in "${targets[@]}"; do
  [ -x "build/fuzz/cov/$t" ] ||
    { echo "coverage.sh: build/fuzz/cov/$t missing (./build.sh cov)" >&2; exit 1; }
done
fuzz_sanitizer_env
out=build/coverage
sources=(runtime/src runtime/include)
rm -rf "$out"
mkdir -p "$out"

# objects_args BIN...: llvm-cov's way of naming several binaries: the first, then -object each.
objects_args() {
  echo "$1"
  shift
  local o
  for o in "$@"; do echo -object; echo "$o"; done
}

# totals PROFILE BIN...: "lines L/T (P%), branches B/T (P%)" of runtime/.
totals() {
  local profile=$1 args
  shift
  mapfile -t args < <(objects_args "$@")
  llvm-cov-16 export -summary-only -instr-profile="$profile" "${args[@]}" "${sources[@]}" |
    python3 -c '
import json, sys
t = json.load(sys.stdin)["data"][0]["totals"]
print(", ".join("%s %d/%d (%.1f%%)" % (k, t[k]["covered"], t[k]["count"], t[k]["percent"])
                for k in ("lines", "branches")))'
}

lines=()
profiles=()
bins=()
for t in "${targets[@]}"; do
  dir=$out/$t
  mkdir -p "$dir/raw"
  corpus=()
  for d in "corpora/$t" "corpora/regressions/$t" "$findings/$t/corpus"; do
    [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && corpus+=("$d")
  done
  mapfile -t flags < <(fuzz_options_flags "$t")
  echo "== $t: replaying ${corpus[*]:-no inputs}"
  # -runs=0 runs each input once; the profile is written when the process exits.
  if ! LLVM_PROFILE_FILE="$dir/raw/%p.profraw" build/fuzz/cov/"$t" "${flags[@]}" -runs=0 \
    "${corpus[@]}" >"$dir/replay.log" 2>&1; then
    echo "coverage.sh: the replay of $t failed (a crashing input stops it; $dir/replay.log):" >&2
    grep -m 3 -E 'ERROR|runtime error|invariant' "$dir/replay.log" >&2 || tail -n 5 "$dir/replay.log" >&2
    exit 1
  fi
  llvm-profdata-16 merge -sparse "$dir"/raw/*.profraw -o "$dir/profile.profdata"
  rm -rf "$dir/raw"
  lines+=("$(printf '  %-20s %s' "$t" "$(totals "$dir/profile.profdata" "build/fuzz/cov/$t")")")
  profiles+=("$dir/profile.profdata")
  bins+=("build/fuzz/cov/$t")
done

llvm-profdata-16 merge -sparse "${profiles[@]}" -o "$out/profile.profdata"
mapfile -t args < <(objects_args "${bins[@]}")
llvm-cov-16 report -instr-profile="$out/profile.profdata" "${args[@]}" "${sources[@]}" >"$out/report.txt"
llvm-cov-16 show -format=html -show-branches=count -output-dir="$out/html" \
  -instr-profile="$out/profile.profdata" "${args[@]}" "${sources[@]}"
llvm-cov-16 export -summary-only -instr-profile="$out/profile.profdata" "${args[@]}" "${sources[@]}" |
  python3 -c '
import json, os, sys
data = json.load(sys.stdin)["data"][0]
root = os.getcwd() + "/"
def cell(c):
    return "%6d/%-6d %5.1f%%" % (c["covered"], c["count"], c["percent"]) if c["count"] else "%20s" % "-"
print("%-34s %-20s %-20s" % ("file", "lines", "branches"))
for f in sorted(data["files"], key=lambda f: f["filename"]):
    s = f["summary"]
    print("%-34s %s %s" % (f["filename"].replace(root, ""), cell(s["lines"]), cell(s["branches"])))
t = data["totals"]
print("%-34s %s %s" % ("total", cell(t["lines"]), cell(t["branches"])))' >"$out/table.txt"

echo "== coverage of runtime/ by every target's corpora ($out/table.txt; HTML: $out/html/index.html)"
cat "$out/table.txt"
echo "== per target (runtime/ only)"
printf '%s\n' "${lines[@]}"
echo "all targets: $(totals "$out/profile.profdata" "${bins[@]}")"
