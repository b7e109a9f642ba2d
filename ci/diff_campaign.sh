#!/usr/bin/env bash
# A differential campaign (issue 3 item 4): what `make diff-campaign` runs, and `make fuzz` briefly.
#
#   DIFF_COUNT=20000 DIFF_SEED=7 DIFF_ORACLE=wabt ci/diff_campaign.sh
#   DIFF_SECONDS=30 ci/diff_campaign.sh
#
# Generates modules with binaryen's fuzzer (`wasm-opt -ttf --denan`: raw -ttf modules let NaN bits
# reach memory, where no rule may canonicalise them) from pseudo-random seed files, rotating over
# feature sets, and runs them through `wafer diff` in batches on DIFF_JOBS workers (default 2, one
# per core). Every 10 s, and at the end, prints a tally: modules, modules/s, agree, inconclusive by
# reason, mismatches. Mismatches are saved by `wafer diff --save` under DIFF_OUT/saved/ (module,
# WAT, each engine's observations, a repro line); every verdict line goes to DIFF_OUT/verdicts.
#
# binaryen 108's -ttf never makes a memory64 or a second memory, and wafer has no generator of its
# own yet, so those two proposals are not covered here (the spec suite covers them).
#
# Parameters (environment):
#   DIFF_COUNT    modules to run (default 1000; ignored when DIFF_SECONDS is set)
#   DIFF_SECONDS  run for this long instead (whole batches: it may overrun by one batch)
#   DIFF_SEED     campaign seed (default: from the clock); module N's seed file and feature set
#                 depend only on DIFF_SEED and N, so `DIFF_SEED=S DIFF_FIRST=N DIFF_COUNT=1`
#                 regenerates module N
#   DIFF_FIRST    index of the first module (default 0)
#   DIFF_ORACLE   wabt (default), binaryen, v8 or all
#   DIFF_BATCH    modules per `wafer diff` process (default 40)
#   DIFF_JOBS     parallel workers (default 2)
#   DIFF_OUT      output directory (default findings/diff)
#   WAFER         the wafer binary (default build/wafer)
# Exit status 1 if any module mismatched (a trap-kind mismatch included), 2 on a setup error.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

seconds=${DIFF_SECONDS:-}
count=${DIFF_COUNT:-1000}
seed=${DIFF_SEED:-$(date +%s)}
first=${DIFF_FIRST:-0}
oracle=${DIFF_ORACLE:-wabt}
batch=${DIFF_BATCH:-40}
jobs=${DIFF_JOBS:-2}
out=${DIFF_OUT:-findings/diff}
wafer=${WAFER:-build/wafer}

for tool in wasm-opt python3; do
  command -v "$tool" >/dev/null || { echo "diff_campaign.sh: $tool missing" >&2; exit 2; }
done
[ -x "$wafer" ] || { echo "diff_campaign.sh: $wafer missing (run make)" >&2; exit 2; }
[[ $seed =~ ^[0-9]+$ && $first =~ ^[0-9]+$ && $batch =~ ^[1-9][0-9]*$ && $jobs =~ ^[1-9][0-9]*$ ]] ||
  { echo "diff_campaign.sh: DIFF_SEED, DIFF_FIRST, DIFF_BATCH, DIFF_JOBS must be numbers" >&2; exit 2; }
if [ -n "$seconds" ]; then
  [[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "diff_campaign.sh: bad DIFF_SECONDS" >&2; exit 2; }
  count=1000000000
fi
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "diff_campaign.sh: bad DIFF_COUNT" >&2; exit 2; }

# The feature sets, rotated per module. SIMD stays off (wafer rejects it); GC, exceptions, tail
# calls and threads are not wafer's. Reference types get a set of their own: with them, binaryen
# 108 makes few valid modules (see generate), and post-mvp would be mostly wasted.
feature_sets=(
  "default:"
  "post-mvp:--enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue --enable-mutable-globals"
  "reference-types:--enable-reference-types"
  "bulk-memory:--enable-bulk-memory"
  "sign-ext:--enable-sign-ext"
  "sat-float-to-int:--enable-nontrapping-float-to-int"
  "multi-value:--enable-multivalue"
)

mkdir -p "$out/saved" || exit 2
out=$(cd "$out" && pwd)
wafer=$(cd "$(dirname "$wafer")" && pwd)/$(basename "$wafer")
work=$(mktemp -d)
: >"$out/verdicts"
start=$(date +%s)
deadline=$((seconds ? start + seconds : 0))
pids=()
# On any exit, interrupted too: stop the workers, keep every verdict so far in $out/verdicts.
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  cat "$work"/*.out >"$out/verdicts" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "== diff campaign interrupted"; tally; exit 130' INT TERM

# seeds LO HI DIR: the seed files of modules LO..HI-1, DIR/N.seed, from (DIFF_SEED, N) alone.
seeds() {
  python3 - "$seed" "$1" "$2" "$3" <<'PY'
import random, sys
seed, lo, hi, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for n in range(lo, hi):
    r = random.Random(f"{seed}.{n}")
    with open(f"{d}/{n}.seed", "wb") as f:
        f.write(r.randbytes(512 + r.randrange(16384)))
PY
}

# generate N DIR: module N from DIR/N.seed as DIR/N.FEATURESET.wasm. A seed that binaryen does not
# turn into a module is noted ("not generated"), and so is a module that wafer rejects as invalid
# ("not valid"): binaryen 108 still types funcref as a subtype of externref (its anyref), so with
# reference types on most of its modules break the final proposal's rules; both engines reject
# those, and a run would count an empty agreement. `wafer diff` gets valid modules only.
generate() {
  local n=$1 dir=$2 set=${feature_sets[$(($1 % ${#feature_sets[@]}))]}
  local name=${set%%:*} flags=${set#*:} m
  m=$dir/$n.$name.wasm
  # shellcheck disable=SC2086
  if ! wasm-opt "$dir/$n.seed" -ttf --denan $flags -o "$m" 2>/dev/null; then
    echo "$n.$name.wasm: not generated" >>"$dir/failed"
  elif ! "$wafer" validate "$m" >/dev/null 2>&1; then
    echo "$n.$name.wasm: not valid" >>"$dir/failed"
    rm -f "$m"
  fi
  rm -f "$dir/$n.seed"
}

# worker W: batches W, W+jobs, ... until the count or the deadline; verdict lines to work/W.out.
worker() {
  local w=$1 b=$w dir=$work/w$1 lo hi n
  while :; do
    lo=$((first + b * batch))
    hi=$((lo + batch))
    [ "$hi" -gt $((first + count)) ] && hi=$((first + count))
    [ "$lo" -ge "$hi" ] && break
    [ "$deadline" -ne 0 ] && [ "$(date +%s)" -ge "$deadline" ] && break
    rm -rf "$dir" && mkdir -p "$dir"
    seeds "$lo" "$hi" "$dir"
    for ((n = lo; n < hi; n++)); do generate "$n" "$dir"; done
    [ -f "$dir/failed" ] && cat "$dir/failed" >>"$work/$w.out"
    if compgen -G "$dir/*.wasm" >/dev/null; then
      (cd "$dir" && "$wafer" diff ./*.wasm --oracle "$oracle" --save "$out/saved" \
        2>>"$work/$w.err") | sed "s|^\./|seed $seed module |" >>"$work/$w.out"
    fi
    b=$((b + jobs))
  done
  rm -rf "$dir"
}

# tally: the summary of every verdict line so far.
tally() {
  local now elapsed
  now=$(date +%s)
  elapsed=$((now - start))
  cat "$work"/*.out 2>/dev/null | awk -v elapsed="$elapsed" '
    / agree$/ { agree++; total++; next }
    / inconclusive: / {
      total++; inc++
      sub(/.*inconclusive: /, ""); split($0, w, /[ (:]+/); reason[w[1] " " w[2]]++; next
    }
    / MISMATCH/ { total++; mis++; next }
    / not generated$/ { notgen++; next }
    / not valid$/ { invalid++; next }
    / error: / { total++; err++; next }
    END {
      rate = elapsed > 0 ? total / elapsed : 0
      printf "[%ds] %d modules, %.1f modules/s: %d agree, %d inconclusive, %d MISMATCH", \
        elapsed, total, rate, agree, inc, mis
      if (err) printf ", %d unreadable", err
      if (notgen || invalid) \
        printf " (not run: %d seeds binaryen did not turn into a module, %d invalid modules)", \
          notgen, invalid
      printf "\n"
      for (r in reason) printf "    inconclusive: %-28s %d\n", r, reason[r]
    }'
}

span="$count modules"
[ -n "$seconds" ] && span="$seconds s"
echo "diff campaign: seed $seed, oracle $oracle, $span from #$first, batches of $batch," \
  "$jobs workers, ${#feature_sets[@]} feature sets; output $out/"
for ((w = 0; w < jobs; w++)); do
  worker "$w" &
  pids+=($!)
done
alive() {
  local p
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done
  return 1
}
ticks=0
while alive; do
  sleep 1
  ticks=$((ticks + 1))
  [ $((ticks % 10)) -eq 0 ] && alive && tally | head -n 1
done
wait
cat "$work"/*.out >"$out/verdicts" 2>/dev/null
# What wafer diff said on stderr besides its per-batch counts (an oracle that could not start...).
cat "$work"/*.err 2>/dev/null | grep -Ev '^wafer diff: [0-9]+ modules: ' | sort | uniq -c |
  sort -rn | head -n 5 | sed 's/^/    stderr: /'
echo "== diff campaign done"
tally
if grep -q ' MISMATCH' "$out/verdicts"; then
  echo "mismatches (saved under $out/saved/):"
  grep ' MISMATCH' "$out/verdicts"
  exit 1
fi
exit 0
