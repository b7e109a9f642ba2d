#!/usr/bin/env bash
# The module generator against two validators: `wafer gen --stats` generates GEN_COUNT modules
# (default 10000) from pseudo-random inputs and validates each with wafer under exactly the
# features its configuration allows; GEN_WABT_SAMPLE of them (default 300) are written out and
# checked with wabt's wasm-validate too. Prints the generator's statistics (instruction and
# section shares), then "gen stats: N passed, N failed" over the two checks.
#
#   GEN_COUNT=N GEN_SEED=S GEN_WABT_SAMPLE=M tests/gen_stats.sh [WAFER]
set -uo pipefail
cd "$(dirname "$0")/.."

wafer=${1:-build/wafer}
count=${GEN_COUNT:-10000}
seed=${GEN_SEED:-1}
sample=${GEN_WABT_SAMPLE:-300}
if [ ! -x "$wafer" ]; then
  echo "gen_stats.sh: $wafer missing (run make)" >&2
  exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0
failed=0

if "$wafer" gen --stats "$count" --seed "$seed"; then
  passed=$((passed + 1))
else
  echo "gen_stats.sh: wafer refused generated modules (above)"
  failed=$((failed + 1))
fi

# The sample's inputs are the first ones of the run above, generated again avoiding the one
# valid construct wabt 1.0.32 refuses (global.get as an element item). Its --enable-all also turns
# on function references, under which it types ref.func too precisely and refuses valid funcref
# code, so the features are named instead.
bad=0
if "$wafer" gen --stats "$sample" --seed "$seed" --wabt-compatible --out-dir "$dir" >/dev/null; then
  for f in "$dir"/*.wasm; do
    if ! out=$(wasm-validate --enable-memory64 --enable-multi-memory "$f" 2>&1); then
      bad=$((bad + 1))
      [ "$bad" -le 5 ] && echo "wasm-validate: $(basename "$f"): $(echo "$out" | head -1)"
    fi
  done
else
  bad=$sample
fi
echo "wabt: $((sample - bad)) of $sample generated modules valid"
if [ "$bad" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "gen stats: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
