#!/usr/bin/env bash
# Tests `make fuzz` (ci/fuzz_local.sh) and the planted-crash workflow end to end, in a scratch
# copy of this checkout (its build/ a link to this one's, so nothing is rebuilt):
#   1. `WAFER_PLANTED_BUG=decode FUZZ_TARGETS=decode make fuzz` runs; once the planted crash has
#      been filed and found again, SIGINT goes to make's process group, as Ctrl-C sends it;
#   2. the campaign stops within 30 s, leaving no process behind, having printed its progress,
#      the interruption and the summary; it kept the working corpus, merged new entries into
#      corpora/decode/ and filed one finding (one signature, several inputs) with the input,
#      the sanitizer report and a one-line repro command;
#   3. that repro command says the input fails, in the planted build only;
#   4. `make minimize` shrinks it and `make regress-add` files it under corpora/regressions/;
#   5. the regression replay of `make check` (tests/fuzz_replay.sh) then fails while
#      WAFER_PLANTED_BUG=decode is set, and passes without it.
# Needs build/wafer and the decode target's libfuzzer, standalone and planted builds (built here
# when out of date). Prints a line per failed check, then `fuzz campaign: N passed, N failed`.
# shellcheck disable=SC2016 # the checks are strings for eval, expanded there
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
repo=$(pwd)
passed=0
failed=0
tmp=$(mktemp -d)
scratch=$tmp/wafer
trap 'rm -rf "$tmp"' EXIT

# check NAME COMMAND...: COMMAND (evaluated) must succeed.
check() {
  local name=$1
  shift
  if eval "$*"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name"
  fi
}

if ! make --no-print-directory all >"$tmp/build.log" 2>&1 ||
  ! FUZZ_TARGETS=decode ./build.sh libfuzzer standalone planted >>"$tmp/build.log" 2>&1; then
  tail -n 20 "$tmp/build.log"
  echo "fuzz campaign: 0 passed, 1 failed"
  exit 1
fi

# The scratch checkout: every file git knows or would add, times kept so make and build.sh see
# their outputs up to date.
mkdir -p "$scratch"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp -p --parents -t "$scratch"
ln -s "$repo/build" "$scratch/build"
seeds=$(find corpora/decode -maxdepth 1 -type f | wc -l)
out=$tmp/make.out
cd "$scratch" || exit 2

# 1. The campaign, in a process group of its own (job control), interrupted as Ctrl-C would.
set -m
WAFER_PLANTED_BUG=decode FUZZ_TARGETS=decode FUZZ_SECONDS=60 FUZZ_JOBS=1 DIFF_SECONDS=0 \
  FUZZ_PROGRESS_SECONDS=2 make --no-print-directory fuzz >"$out" 2>&1 &
group=$!
set +m
seen_twice() { [ "$(cat findings/decode/*/seen 2>/dev/null | wc -l)" -ge 2 ]; }
for _ in $(seq 1 40); do
  seen_twice && break
  sleep 1
done
sleep 1
start=$(date +%s)
kill -INT -- "-$group"
status=0
wait "$group" || status=$?
for _ in $(seq 1 30); do
  kill -0 -- "-$group" 2>/dev/null || break
  sleep 1
done
stopped_in=$(($(date +%s) - start))
# What the campaign started runs in the scratch checkout (this script does too: not counted).
left=$(for p in /proc/[0-9]*; do
  [ "$(readlink "$p/cwd" 2>/dev/null)" = "$scratch" ] || continue
  tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -E 'build/fuzz/|fuzz_local|make'
done)

# 2. What the campaign left.
mapfile -t sigs < <(find findings/decode -mindepth 2 -maxdepth 2 -name input -printf '%h\n')
sig=${sigs[0]:-findings/decode/none}
check "campaign: it found the planted crash again after filing it" seen_twice
check "campaign: make fuzz stops on SIGINT with a failing status ($status)" '[ "$status" -ne 0 ]'
check "campaign: stopped within 30 s ($stopped_in s), nothing left running: ${left:-}" \
  '[ "$stopped_in" -lt 30 ] && [ -z "$left" ]'
check "campaign: live progress with a time bar, execs/s, coverage, corpus, findings" \
  'grep -qE "^  decode +\[#*\.*\] +[0-9]+/60s [0-9]+ exec/s, cov [0-9]+, ft [0-9]+, corpus [0-9]+, findings 1 " "$out"'
check "campaign: the interruption and the summary are printed" \
  'grep -q "^== interrupted: stopping the fuzzers" "$out" && grep -q "^== summary" "$out" &&
   grep -q "^decode: .*FINDINGS: 1 signature(s)" "$out"'
check "campaign: one signature, several inputs" \
  '[ ${#sigs[@]} -eq 1 ] && [ "$(wc -l <"$sig/seen")" -ge 2 ]'
check "campaign: the finding is named by its kind and stack" \
  '[[ $sig == findings/decode/heap-buffer-overflow--decode_module* ]]'
check "campaign: input, sanitizer report, repro line" \
  '[ -s "$sig/input" ] && grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$sig/report.txt" &&
   [ "$(wc -l <"$sig/repro")" -eq 1 ] &&
   grep -qx "build/wafer repro --target decode --planted decode $sig/input" "$sig/repro"'
check "campaign: the working corpus grew" \
  '[ "$(find findings/decode/corpus -type f | wc -l)" -gt "$seeds" ]'
merged=$(sed -n 's/^decode: .*(+\([0-9]*\) merged into corpora\/decode\/).*/\1/p' "$out" | tail -n 1)
check "campaign: new entries merged into corpora/decode/ (+${merged:-none})" \
  '[ "${merged:-0}" -gt 0 ] && [ "$(find corpora/decode -maxdepth 1 -type f | wc -l)" -eq $((seeds + merged)) ]'

# 3. The repro command.
check "repro: the finding fails in the planted build only" \
  'sh -c "$(cat "$sig/repro")" >"$tmp/repro.out" 2>&1; [ $? -eq 1 ] &&
   grep -q "still fails, in 1 of 3 builds" "$tmp/repro.out"'

# 4. Minimised and filed.
check "minimize: writes input.min" \
  'make --no-print-directory minimize FILE="$sig/input" PLANTED=decode MINIMIZE_SECONDS=5 \
     >"$tmp/min.out" 2>&1 && [ -s "$sig/input.min" ] &&
   [ "$(stat -c %s "$sig/input.min")" -le "$(stat -c %s "$sig/input")" ]'
check "regress-add: files it under corpora/regressions/decode/" \
  'make --no-print-directory regress-add FILE="$sig/input.min" PLANTED=decode \
     DESC="planted decode bug found by make fuzz" >"$tmp/add.out" 2>&1 &&
   ls corpora/regressions/decode/planted-decode-bug-found-by-make-fuzz-* >/dev/null'

# 5. make check's replay stage fails while the switch is on, passes once it is off.
check "replay: fails with WAFER_PLANTED_BUG=decode" \
  '! WAFER_PLANTED_BUG=decode FUZZ_TARGETS=decode ./tests/fuzz_replay.sh >"$tmp/replay.out" 2>&1 &&
   grep -q "FAIL decode corpora/regressions/decode/planted-decode-bug" "$tmp/replay.out"'
check "replay: passes without it" \
  'FUZZ_TARGETS=decode ./tests/fuzz_replay.sh >"$tmp/replay.out" 2>&1'

if [ "$failed" -gt 0 ]; then
  echo "--- make fuzz output:"
  tail -n 40 "$out"
fi
echo "fuzz campaign: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
