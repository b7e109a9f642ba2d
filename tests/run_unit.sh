#!/usr/bin/env bash
# Runs each cmocka test program given and sums their results: one line per program, then
# "N passed, N failed". A program that crashes, reports a sanitizer error or exits non-zero
# without saying which tests failed counts as one failed test more. Exit status 1 if any failed.
set -uo pipefail

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

total_passed=0
total_failed=0
for bin in "$@"; do
  output=$("$bin" 2>&1)
  status=$?
  # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:" per group.
  passed=$(printf '%s\n' "$output" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' |
           awk '{s += $1} END {print s + 0}')
  failed=$(printf '%s\n' "$output" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' |
           awk '{s += $1} END {print s + 0}')
  note=""
  sanitizer_report='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'
  if printf '%s\n' "$output" | grep -E "$sanitizer_report" >/dev/null; then
    failed=$((failed + 1))
    note=" (sanitizer report)"
  elif [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
    note=" (exit status $status)"
  fi
  if [ "$failed" -ne 0 ]; then
    printf '%s\n' "$output" | grep -E "^\\[ *(ERROR|FAILED|LINE) *\\]|$sanitizer_report" | head -20
  fi
  echo "$(basename "$bin"): $passed passed, $failed failed$note"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
done
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
