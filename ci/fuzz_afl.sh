#!/usr/bin/env bash
# A short AFL++ campaign on one fuzz target (`make fuzz-afl` builds what it runs).
#
#   ci/fuzz_afl.sh TARGET [SECONDS]        (SECONDS default $AFL_SECONDS, else 60)
#   AFL_JOBS=2 ci/fuzz_afl.sh decode 300
#
# Runs afl-fuzz on build/fuzz/afl/TARGET (AFL++ with ASan+UBSan and AFL's libFuzzer-compatible
# driver) from corpora/TARGET/ with the target's dictionary and timeout (ci/fuzz_lib.sh), into
# findings/TARGET/afl/ (resumed when it exists, AFL_AUTORESUME). AFL_JOBS instances (default 1):
# the main one (-M main) also runs the CmpLog binary build/fuzz/afl-cmplog/TARGET (-c), the
# others are secondaries (-S s1, s2...). Prints a summary: execs, execs/s, edges, corpus size,
# crashes and hangs, and where the crashing inputs are; exit status 1 if there is any crash.
# A crash reproduces with `build/fuzz/afl/TARGET FILE` (or build/fuzz/standalone/TARGET FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: ci/fuzz_afl.sh TARGET [SECONDS]" >&2
  exit 2
fi
t=$1
seconds=${2:-${AFL_SECONDS:-60}}
jobs=${AFL_JOBS:-1}
bin=build/fuzz/afl/$t
cmplog=build/fuzz/afl-cmplog/$t
for b in "$bin" "$cmplog"; do
  [ -x "$b" ] || { echo "fuzz_afl.sh: $b missing (make fuzz-afl builds it)" >&2; exit 1; }
done
command -v afl-fuzz >/dev/null || { echo "fuzz_afl.sh: afl-fuzz missing (ci/deps.sh afl)" >&2; exit 1; }

out=findings/$t/afl
seeds=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$seeds"
}
trap cleanup EXIT
# AFL++ skips inputs over 1 MiB and needs at least one.
[ -d "corpora/$t" ] && find "corpora/$t" -maxdepth 1 -type f -size -1024k -exec cp {} "$seeds/" \;
[ -n "$(ls -A "$seeds")" ] || printf '\0' >"$seeds/empty"

timeout_s=$(fuzz_option "$t" timeout)
timeout_ms=$(( ${timeout_s:-10} * 1000 ))
mkdir -p "$out"
# The sanitizer settings are AFL++'s own (it sets abort_on_error and symbolize=0 as it needs).
unset ASAN_OPTIONS UBSAN_OPTIONS
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_AUTORESUME=1 AFL_QUIET=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

echo "== AFL++ on $t for ${seconds}s: $jobs instance(s), CmpLog on main, dictionary" \
  "$(fuzz_dict "$t"), timeout ${timeout_ms} ms, output $out/"
for ((i = 0; i < jobs; i++)); do
  if [ "$i" -eq 0 ]; then
    role=(-M main -c "$cmplog")
    name=main
  else
    role=(-S "s$i")
    name=s$i
  fi
  afl-fuzz "${role[@]}" -i "$seeds" -o "$out" -x "$(fuzz_dict "$t")" -t "$timeout_ms" -m none \
    -V "$seconds" -- "$bin" >"$out/$name.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
pids=()

# stat DIR KEY: a value of DIR/fuzzer_stats.
stat() { sed -n "s/^$2 *: *//p" "$1/fuzzer_stats" 2>/dev/null | head -n 1; }
total_execs=0
total_rate=0
crashes=0
hangs=0
for d in "$out"/*/; do
  [ -f "$d/fuzzer_stats" ] || continue
  name=$(basename "$d")
  execs=$(stat "$d" execs_done)
  rate=$(stat "$d" execs_per_sec)
  c=$(stat "$d" saved_crashes)
  h=$(stat "$d" saved_hangs)
  echo "  $name: ${execs:-?} execs, ${rate:-?} execs/s, $(stat "$d" edges_found) edges" \
    "($(stat "$d" bitmap_cvg) of the map), corpus $(stat "$d" corpus_count), ${c:-0} crashes," \
    "${h:-0} hangs"
  total_execs=$((total_execs + ${execs:-0}))
  total_rate=$(awk -v a="$total_rate" -v b="${rate:-0}" 'BEGIN { printf "%.0f", a + b }')
  crashes=$((crashes + ${c:-0}))
  hangs=$((hangs + ${h:-0}))
done
if [ "$status" -ne 0 ] && [ "$total_execs" -eq 0 ]; then
  echo "fuzz_afl.sh: afl-fuzz did not run; its log:" >&2
  tail -n 30 "$out/main.log" >&2
  exit 1
fi
line="$t (AFL++): $total_execs execs, $total_rate execs/s, $crashes crashes, $hangs hangs"
if [ "$crashes" -gt 0 ]; then
  echo "$line; crashing inputs:"
  find "$out" -path '*/crashes/id:*' -type f | sort | sed 's/^/    /'
  exit 1
fi
echo "$line"
