#!/usr/bin/env bash
# Everything `make check` checks, stage by stage:
#   unit      the cmocka unit tests (make unit), under ASan+UBSan
#   spec      the spec suite (make spec), under ASan+UBSan, compared with wabt's scores
#   spec-pooling, spec-no-image, spec-limits
#             the whole suite again with --pooling, with --no-memory-image, and compiled for fuel
#             and epochs: it must pass the same under every allocator, with memory images on and
#             off, and with the code that fuel and epoch engines run
#   gcc       the runtime and CLI compile with gcc -O2 and no warning (-Werror)
#   clang-16  the same with clang-16
#   gen-stats 10,000 generated modules valid in wafer, 300 of them in wabt (tests/gen_stats.sh)
#   replay    every seed and regression input through the fuzz targets' ASan reproducers
#   msan      the same inputs through the targets' MemorySanitizer build (tests/fuzz_replay.sh msan)
#   planted   each fuzz target finds its planted bug (a -DWAFER_PLANTED_BUGS build) within a
#             minute, and the crashing input is harmless without it (tests/fuzz_planted.sh)
#   smoke     a 20-second campaign per target through the campaign runner: no crash
#             (tests/fuzz_smoke.sh)
#   repro     wafer repro, make minimize and make regress-add on fake and planted crashes
#             (tests/fuzz_repro_test.sh)
#   campaign  make fuzz finds a planted crash, files it, keeps everything on Ctrl-C; the
#             finding is reproduced, minimised, filed, and fails the replay while the bug is
#             switched on (tests/fuzz_campaign_test.sh)
#   oracle    `wafer diff` against wabt on modules written for one comparison rule each
#   sensitivity
#             a wafer built with a deliberately wrong i64.rem_s is reported MISMATCH, the correct
#             build agrees (tests/oracle_sensitivity.sh)
#   diff-regressions
#             the modules of corpora/regressions/diff/ (campaign mismatches, fixed) agree with wabt
#   wabt-bugs the reference's known bugs, shown against the installed wabt (masks stay honest)
#   spec-diff `wafer diff` over every module of the spec suite: no false alarm (needs spec first)
#   wasi-programs
#             C programs compiled to wasm32-wasi run the same under wafer (ASan build) and node's
#             WASI: stdout, stderr, exit status, files written (tests/wasi_programs.sh)
#   wasi-yosys
#             yosys.core.wasm (npm pack) runs -V and a synthesis script the same under wafer and
#             node (tests/wasi_yosys.sh)
# Prints each stage's result and a last line "N passed, N failed": unit tests plus spec commands,
# plus one per compiler stage. Exit status 1 if anything failed.
set -uo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null ||
       { cd "$(dirname "$0")/.." && pwd; })
cd "$root" || exit 2
logs=$root/build/check
mkdir -p "$logs"
jobs=${WAFER_CHECK_JOBS:-2}

total_passed=0
total_failed=0
summary=()

# The last line of a log that reads "N passed, N failed", after a label like "fuzz replay: " if any.
counts_line() {
  grep -E '^([a-z -]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 | sed -E 's/^[a-z -]+: //'
}

# A stage that runs a test target and reports "N passed, N failed".
test_stage() {
  local stage=$1
  shift
  local log=$logs/$stage.log line passed=0 failed=0 status
  echo "== $stage: $*"
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  line=$(counts_line "$log")
  if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
  fi
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1  # it stopped before counting (a build error, a crash): one failure to show it
    line="stopped with exit status $status before its count (${log#"$root"/})"
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  summary+=("$(printf '%-9s %s' "$stage:" "$line")")
}

# The compiler flags of the Makefile (CSTD, WARN, INCLUDES), with -Werror.
WERROR_FLAGS=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Werror -O2
              -Iruntime/include -Iruntime/src)

# A stage that compiles every runtime and CLI source with one compiler, failing on any warning.
werror_stage() {
  local stage=$1 cc=$2 log=$logs/$1.log bad=0 src
  echo "== $stage: every source with $cc -Werror"
  : >"$log"
  for src in runtime/src/*.c runtime/src/wasi/*.c oracles/*.c cli/*.c; do
    if ! "$cc" "${WERROR_FLAGS[@]}" -c "$src" -o /dev/null >>"$log" 2>&1; then
      echo "$src does not compile cleanly with $cc" >>"$log"
      bad=$((bad + 1))
    fi
  done
  if [ "$bad" -eq 0 ]; then
    total_passed=$((total_passed + 1))
    summary+=("$(printf '%-9s ok, no warnings' "$stage:")")
  else
    cat "$log"
    total_failed=$((total_failed + 1))
    summary+=("$(printf '%-9s FAILED: %s file(s) with warnings or errors (%s)' "$stage:" "$bad" \
      "${log#"$root"/}")")
  fi
}

test_stage unit make --no-print-directory -j"$jobs" unit
test_stage spec make --no-print-directory -j"$jobs" spec
# code_verify over every function compiled for the spec suite just converted: no false rejection
test_stage spec-verify env WAFER_SPEC_DIR=build/spec ./tests/run_unit.sh build/tests/test_code_verify
# the whole suite again under the pooling allocator, and with memory images off (issue 4)
test_stage spec-pooling env WAFER_SPEC_EXTRA_FLAGS=--pooling make --no-print-directory -j"$jobs" spec
test_stage spec-no-image env WAFER_SPEC_EXTRA_FLAGS=--no-memory-image \
  make --no-print-directory -j"$jobs" spec
# and compiled for fuel and epoch interruption, whose code differs (code.h: FUEL, _LOOP branches)
test_stage spec-limits env WAFER_SPEC_EXTRA_FLAGS="--fuel 100000000000 --epoch-deadline 1000000000" \
  make --no-print-directory -j"$jobs" spec
werror_stage gcc gcc
werror_stage clang-16 clang-16
test_stage gen-stats ./tests/gen_stats.sh
test_stage replay ./tests/fuzz_replay.sh
test_stage msan ./tests/fuzz_replay.sh msan
test_stage planted ./tests/fuzz_planted.sh
test_stage smoke ./tests/fuzz_smoke.sh
test_stage repro ./tests/fuzz_repro_test.sh
test_stage campaign ./tests/fuzz_campaign_test.sh
test_stage oracle ./tests/oracle_diff_cases.sh
test_stage sensitivity ./tests/oracle_sensitivity.sh
test_stage diff-regressions ./tests/oracle_diff_regressions.sh
test_stage wabt-bugs ./tests/oracle_wabt_bugs.sh
test_stage spec-diff ./tests/oracle_spec_diff.sh
test_stage wasi-programs make --no-print-directory -j"$jobs" wasi-programs
test_stage wasi-yosys make --no-print-directory wasi-yosys

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
