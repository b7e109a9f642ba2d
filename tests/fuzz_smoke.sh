#!/usr/bin/env bash
# The smoke campaign of `make check`: every fuzz target (or those in FUZZ_TARGETS) fuzzed for
# SMOKE_SECONDS (default 20) by the campaign runner (ci/fuzz_local.sh: libFuzzer, ASan+UBSan,
# two targets at a time), from its seeds, with findings and working corpora in a temporary
# directory and nothing merged into corpora/ (a check leaves the checkout as it was).
# A target passes when it ran and left no crash; a timeout or an out-of-memory input is shown as
# a warning (on a loaded machine a slow input is not yet a bug) with where it was kept.
# Prints the runner's summary lines, a line per target, then `fuzz smoke: N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

seconds=${SMOKE_SECONDS:-20}
keep=build/check/smoke
rm -rf "$keep"
mkdir -p "$keep"
if ! ./build.sh libfuzzer >"$keep/build.log" 2>&1; then
  tail -n 20 "$keep/build.log"
  echo "fuzz smoke: 0 passed, 1 failed"
  exit 1
fi
mapfile -t targets < <(fuzz_selected_targets)
FUZZ_SECONDS=$seconds FUZZ_JOBS=${SMOKE_JOBS:-2} FUZZ_MERGE=0 FUZZ_FINDINGS=$keep DIFF_SECONDS=0 \
  FUZZ_PROGRESS_SECONDS=60 ./ci/fuzz_local.sh >"$keep/campaign.log" 2>&1
sed -n '/^== summary/,$p' "$keep/campaign.log"

passed=0
failed=0
for t in "${targets[@]}"; do
  summary=$(cat "$keep/$t/summary" 2>/dev/null)
  crashes=$(find "$keep/$t" -mindepth 2 -maxdepth 2 -name input -path "$keep/$t/[!.]*" \
    ! -path "$keep/$t/timeout/*" ! -path "$keep/$t/oom/*" -printf '%h ' 2>/dev/null)
  if [ -z "$summary" ] || [[ $summary == *FAILED* ]]; then
    printf '  %-20s FAILED: did not run (%s)\n' "$t" "$keep/campaign.log"
    failed=$((failed + 1))
  elif [ -n "$crashes" ]; then
    printf '  %-20s FAILED: %s\n' "$t" "$crashes"
    failed=$((failed + 1))
  else
    warn=''
    for d in timeout oom; do
      [ -f "$keep/$t/$d/input" ] && warn+=" (warning: a $d input, kept in $keep/$t/$d/)"
    done
    printf '  %-20s ok: %s%s\n' "$t" "$(echo "$summary" | cut -d ';' -f 1 | sed "s/^$t: //")" "$warn"
    passed=$((passed + 1))
  fi
done
echo "fuzz smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
