#!/usr/bin/env bash
# Proves each fuzz target can fail (issue 6, "a deliberately broken runtime is caught by the
# matching target within a minute"). Builds build/fuzz/planted/ (`./build.sh planted`: libFuzzer,
# ASan+UBSan, -DWAFER_PLANTED_BUGS, runtime/src/planted.h), then for every target T:
#   1. fuzzes T with WAFER_PLANTED_BUG=T for at most PLANTED_SECONDS (default 60) from a copy of
#      its seeds (corpora/T/), with its dictionary and options: a crash must come (a sanitizer
#      report or a trap, kept by libFuzzer as crash-* or leak-*; a timeout or out-of-memory does
#      not count);
#   2. replays the crashing input under the same build without WAFER_PLANTED_BUG: it must not
#      crash, so the finding is the planted bug's and not a real one (which would be reported).
# A target with no PLANTED("T") in runtime/src fails, and so does a planted bug named after no
# target: every target needs one, and every planted bug its target.
# Targets run PLANTED_JOBS (default 2) at a time; FUZZ_TARGETS="a b" limits the run to those. Prints a line per target, then
# `fuzz planted: N passed, N failed`; exit status 0 only if none failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

seconds=${PLANTED_SECONDS:-60}
jobs=${PLANTED_JOBS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
if ! ./build.sh planted >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  echo "fuzz planted: the planted build failed"
  echo "fuzz planted: 0 passed, 1 failed"
  exit 1
fi
echo "planted build: $(($(date +%s) - start)) s"

mapfile -t targets < <(fuzz_selected_targets)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz planted: 0 passed, 1 failed"; exit 1; }
mapfile -t all_targets < <(fuzz_target_names)
mapfile -t planted < <(grep -rhoE --include='*.c' 'PLANTED\("[A-Za-z0-9_]+"\)' runtime/src | sed -E 's/PLANTED\("(.*)"\)/\1/' |
  sort -u)
fuzz_sanitizer_env

# prove T: step 1 and 2 above for target T; writes its verdict line to $work/T.verdict.
prove() {
  local t=$1 dir=$work/$1 bin=build/fuzz/planted/$1 t0 crash verdict flags
  mkdir -p "$dir/corpus" "$dir/artifacts"
  [ -d "corpora/$t" ] && find "corpora/$t" -maxdepth 1 -type f -exec cp {} "$dir/corpus/" \;
  mapfile -t flags < <(fuzz_options_flags "$t")
  t0=$(date +%s)
  WAFER_PLANTED_BUG=$t timeout $((seconds + 30)) "$bin" "${flags[@]}" -max_total_time="$seconds" \
    -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/fuzz.log" 2>&1
  crash=$(find "$dir/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \) | head -n 1)
  if [ -z "$crash" ]; then
    verdict="FAILED: no crash within ${seconds} s with WAFER_PLANTED_BUG=$t"
    verdict+=" ($(grep -E '^#[0-9]+' "$dir/fuzz.log" | tail -n 1))"
    echo "$verdict" >"$dir.verdict"
    return
  fi
  local found=$(($(date +%s) - t0))
  local what
  what=$(grep -m 1 -oE '(ERROR|WARNING): [A-Za-z]+Sanitizer: [^ ]+( [^ ]+)?|runtime error: .*|deadly signal|broken invariant: .*' \
    "$dir/fuzz.log" | head -n 1 | cut -c 1-100)
  if ! env -u WAFER_PLANTED_BUG "$bin" "$crash" >"$dir/replay.log" 2>&1; then
    verdict="FAILED: $(basename "$crash") (found in ${found} s) also crashes without the planted bug:"
    verdict+=" a real finding, see $(grep -m 1 -E 'ERROR|runtime error|broken invariant' "$dir/replay.log")"
    mkdir -p "findings/$t" && cp "$crash" "findings/$t/"
  else
    verdict="ok: crash in ${found} s (${what:-crash}), input does not crash without the planted bug"
  fi
  echo "$verdict" >"$dir.verdict"
}

passed=0
failed=0
pids=()
for t in "${targets[@]}"; do
  if ! printf '%s\n' "${planted[@]}" | grep -x "$t" >/dev/null; then
    echo "FAILED: $t has no planted bug (no PLANTED(\"$t\") in runtime/src)" >"$work/$t.verdict"
    continue
  fi
  prove "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
wait
for t in "${targets[@]}"; do
  verdict=$(cat "$work/$t.verdict" 2>/dev/null || echo "FAILED: no verdict")
  printf '  %-20s %s\n' "$t" "$verdict"
  case $verdict in ok:*) passed=$((passed + 1)) ;; *) failed=$((failed + 1)) ;; esac
  if [ "${verdict#ok}" = "$verdict" ] && [ -f "$work/$t/fuzz.log" ]; then
    grep -E 'ERROR|SUMMARY|runtime error|broken invariant' "$work/$t/fuzz.log" | head -n 5 |
      sed 's/^/      /'
  fi
done
for p in "${planted[@]}"; do
  if ! printf '%s\n' "${all_targets[@]}" | grep -x "$p" >/dev/null; then
    printf '  %-20s FAILED: planted bug "%s" has no fuzz target fuzz_targets/%s.c\n' "$p" "$p" "$p"
    failed=$((failed + 1))
  fi
done
echo "fuzz planted: $((passed + failed)) targets in $(($(date +%s) - start)) s"
echo "fuzz planted: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
