#!/usr/bin/env bash
# Fuzzing throughput (issue 8 item 3, `make bench-fuzz`): executions per second of every fuzz
# target in the ASan+UBSan libFuzzer build (what `make fuzz` runs) and in the plain build (-O2, no
# sanitizer: what the runtime and the target themselves cost), each started from a copy of its
# seed corpus with its options and dictionary, one after the other on one core; then the
# differential campaign's modules/s. Figures only: nothing here passes or fails on a time.
#
#   BENCH_FUZZ_SECONDS  seconds per target and build (default 20)
#   FUZZ_TARGETS        which targets (default: all)
#   BENCH_FUZZ_PROFILE  targets to profile (perf record of the plain build, BENCH_FUZZ_SECONDS
#                       each; default: the two slowest in the plain build; "none" for none): the
#                       top functions are printed, so what dominates and is not the runtime shows
#   BENCH_DIFF_SECONDS  seconds of differential campaign (default 30; 0 leaves it out)
# The table is also written to build/bench/fuzz_throughput.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh
fuzz_sanitizer_env
seconds=${BENCH_FUZZ_SECONDS:-20}
diff_seconds=${BENCH_DIFF_SECONDS:-30}
mapfile -t targets < <(fuzz_selected_targets)
./build.sh libfuzzer plain >/dev/null
mkdir -p build/bench
table=build/bench/fuzz_throughput.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fresh_corpus DIR T: DIR made a copy of T's seed corpus, so no run changes corpora/.
fresh_corpus() {
  mkdir -p "$1"
  if [ -d "corpora/$2" ]; then cp -r "corpora/$2/." "$1/"; fi
}

# run_target VARIANT T: prints execs/s and the corpus features (coverage) libFuzzer reached.
run_target() {
  local v=$1 t=$2 corpus=$work/$1-$2 flags
  fresh_corpus "$corpus" "$t"
  mapfile -t flags < <(fuzz_options_flags "$t")
  "build/fuzz/$v/$t" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$work/" "$corpus" >"$work/$v-$t.log" 2>&1 || true
  awk '/^stat::number_of_executed_units:/ { n = $2 }
       /^stat::average_exec_per_sec:/ { r = $2 }
       /^#[0-9]+/ { for (i = 1; i < NF; i++) if ($i == "ft:") ft = $(i + 1) }
       END { printf "%s %s %s\n", (r == "" ? "-" : r), (n == "" ? "-" : n), (ft == "" ? "-" : ft) }' \
    "$work/$v-$t.log"
}

echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $seconds s per run"
printf '%-20s %14s %14s %10s %12s\n' target 'asan execs/s' 'plain execs/s' 'plain/asan' \
  'features' | tee "$table"
for t in "${targets[@]}"; do
  read -r asan _ _ < <(run_target libfuzzer "$t")
  read -r plain _ ft < <(run_target plain "$t")
  ratio=-
  [ "$asan" != - ] && [ "$plain" != - ] && [ "$asan" -gt 0 ] &&
    ratio=$(awk -v a="$asan" -v p="$plain" 'BEGIN { printf "%.1fx", p / a }')
  printf '%-20s %14s %14s %10s %12s\n' "$t" "$asan" "$plain" "$ratio" "$ft" | tee -a "$table"
done

profile=${BENCH_FUZZ_PROFILE:-}
if [ -z "$profile" ]; then
  profile=$(tail -n +2 "$table" | awk '$3 ~ /^[0-9]+$/' | sort -k3,3n | head -n 2 | cut -d' ' -f1 |
            tr '\n' ' ')
fi
if [ "$profile" != none ] && command -v perf >/dev/null; then
  for t in $profile; do
    echo
    echo "profile of $t (plain build, $seconds s): top functions by samples"
    corpus=$work/profile-$t
    fresh_corpus "$corpus" "$t"
    mapfile -t flags < <(fuzz_options_flags "$t")
    perf record -q -o "$work/$t.perf" "build/fuzz/plain/$t" "${flags[@]}" \
      -max_total_time="$seconds" -artifact_prefix="$work/" "$corpus" >/dev/null 2>&1 || true
    # (head closes the pipe early: the report's SIGPIPE is no failure)
    { perf report -q -i "$work/$t.perf" --no-children --sort dso,symbol --stdio 2>/dev/null || true; } |
      grep -E '^ +[0-9]' | sed -E 's/[[:space:]-]+$//; s/^/  /' | head -n 15 || true
  done
fi

if [ "$diff_seconds" -gt 0 ]; then
  echo
  echo "differential campaign (wafer vs wabt, ci/diff_campaign.sh), $diff_seconds s:"
  make --no-print-directory build/wafer >/dev/null
  DIFF_SECONDS=$diff_seconds DIFF_SEED=1 DIFF_OUT=$work/diff ./ci/diff_campaign.sh 2>&1 | tail -n 2 |
    sed 's/^/  /'
fi
