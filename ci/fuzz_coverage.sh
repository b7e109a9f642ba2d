#!/usr/bin/env bash
# Per-target source coverage of the runtime (`make fuzz-cov` builds what it needs, then runs this).
#
#   ci/fuzz_coverage.sh [TARGET...]                 replay each target's corpus only
#   COV_SECONDS=600 ci/fuzz_coverage.sh decode      fuzz 10 minutes first, then measure
#
# For each target (default: every one, or those in FUZZ_TARGETS):
#   1. with COV_SECONDS > 0, fuzzes build/fuzz/libfuzzer/TARGET (ASan+UBSan) that long on
#      findings/TARGET/corpus/, a working copy seeded from corpora/TARGET/ (as `make fuzz` does;
#      crashes go to findings/TARGET/);
#   2. replays corpora/TARGET/, corpora/regressions/TARGET/ and findings/TARGET/corpus/ through the
#      coverage build build/fuzz/cov/TARGET (-fprofile-instr-generate -fcoverage-mapping, libFuzzer
#      -runs=0), merges the profile with llvm-profdata-16 and prints the llvm-cov-16 line, function
#      and branch coverage of runtime/src/.
# Writes, per target, build/fuzz/coverage/TARGET/{report.txt (the per-file table), html/}, and
# at the end the same for all targets together in build/fuzz/coverage/all/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

seconds=${COV_SECONDS:-0}
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(fuzz_selected_targets)
fi
for tool in llvm-profdata-16 llvm-cov-16; do
  command -v $tool >/dev/null || { echo "fuzz_coverage.sh: $tool missing (make deps)" >&2; exit 1; }
done
for t in "${targets[@]}"; do
  [ -x "build/fuzz/cov/$t" ] ||
    { echo "fuzz_coverage.sh: build/fuzz/cov/$t missing (./build.sh cov)" >&2; exit 1; }
  if [ "$seconds" -gt 0 ] && [ ! -x "build/fuzz/libfuzzer/$t" ]; then
    echo "fuzz_coverage.sh: build/fuzz/libfuzzer/$t missing (./build.sh libfuzzer)" >&2
    exit 1
  fi
done
fuzz_sanitizer_env
out=build/fuzz/coverage
sources=runtime/src

# summary BIN... PROFILE: "lines L/T (P%), functions ..., branches ..." of runtime/src/.
summary() {
  local profile=${*: -1} objects=("${@:1:$#-1}") args=() o
  args=("${objects[0]}")
  for o in "${objects[@]:1}"; do args+=(-object "$o"); done
  llvm-cov-16 export -summary-only -instr-profile="$profile" "${args[@]}" "$sources" |
    python3 -c '
import json, sys
t = json.load(sys.stdin)["data"][0]["totals"]
def f(k):
    c = t[k]
    return "%s %d/%d (%.1f%%)" % (k, c["covered"], c["count"], c["percent"])
print(", ".join(f(k) for k in ("lines", "functions", "branches")))'
}

# report DIR BIN... PROFILE: the per-file table and the HTML report into DIR.
report() {
  local dir=$1 profile=${*: -1}
  local objects=("${@:2:$#-2}") args=() o
  args=("${objects[0]}")
  for o in "${objects[@]:1}"; do args+=(-object "$o"); done
  mkdir -p "$dir"
  llvm-cov-16 report -instr-profile="$profile" "${args[@]}" "$sources" >"$dir/report.txt"
  rm -rf "$dir/html"
  llvm-cov-16 show -format=html -output-dir="$dir/html" -instr-profile="$profile" \
    "${args[@]}" "$sources"
}

lines=()
profiles=()
bins=()
for t in "${targets[@]}"; do
  dir=$out/$t
  rm -rf "$dir/raw"
  mkdir -p "$dir/raw" "findings/$t/corpus"
  mapfile -t flags < <(fuzz_options_flags "$t")
  if [ "$seconds" -gt 0 ]; then
    if [ -d "corpora/$t" ]; then
      find "corpora/$t" -maxdepth 1 -type f -exec cp -n {} "findings/$t/corpus/" \;
    fi
    echo "== fuzzing $t for ${seconds}s (build/fuzz/libfuzzer/$t)"
    build/fuzz/libfuzzer/"$t" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="findings/$t/" "findings/$t/corpus" >"$dir/fuzz.log" 2>&1 ||
      echo "   the campaign stopped on a finding (findings/$t/, log $dir/fuzz.log)"
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$dir/fuzz.log" |
      sed 's/^/   /' || true
  fi
  corpus=()
  for d in "corpora/$t" "corpora/regressions/$t" "findings/$t/corpus"; do
    [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && corpus+=("$d")
  done
  echo "== coverage of $t: replaying ${corpus[*]:-no inputs}"
  # -runs=0 runs each input once; the profile is written when the process exits.
  LLVM_PROFILE_FILE="$dir/raw/%p.profraw" build/fuzz/cov/"$t" "${flags[@]}" -runs=0 \
    "${corpus[@]}" >"$dir/replay.log" 2>&1 ||
    { echo "   the replay stopped early (see $dir/replay.log)"; tail -n 5 "$dir/replay.log"; }
  llvm-profdata-16 merge -sparse "$dir"/raw/*.profraw -o "$dir/profile.profdata"
  report "$dir" "build/fuzz/cov/$t" "$dir/profile.profdata"
  line="$t: $(summary "build/fuzz/cov/$t" "$dir/profile.profdata")"
  echo "   $line"
  lines+=("$line")
  profiles+=("$dir/profile.profdata")
  bins+=("build/fuzz/cov/$t")
done

if [ ${#targets[@]} -gt 1 ]; then
  mkdir -p "$out/all"
  llvm-profdata-16 merge -sparse "${profiles[@]}" -o "$out/all/profile.profdata"
  report "$out/all" "${bins[@]}" "$out/all/profile.profdata"
  lines+=("all targets: $(summary "${bins[@]}" "$out/all/profile.profdata")")
fi
echo "== line coverage of runtime/src/ (per-file tables: $out/<target>/report.txt, HTML: $out/<target>/html/)"
printf '%s\n' "${lines[@]}"
