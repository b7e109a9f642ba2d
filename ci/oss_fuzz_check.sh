#!/usr/bin/env bash
# oss-fuzz's build and its build check, without docker: what `make oss-fuzz-check` runs.
#
#   ci/oss_fuzz_check.sh                       address, undefined, memory (libFuzzer), afl
#   OSS_FUZZ_CONFIGS="address afl" ci/oss_fuzz_check.sh
#   FUZZ_TARGETS="decode" OSS_FUZZ_SECONDS=5 ci/oss_fuzz_check.sh
#
# For each configuration it sets the variables oss-fuzz's base-builder image sets (CC CXX CFLAGS
# CXXFLAGS LIB_FUZZING_ENGINE SANITIZER FUZZING_ENGINE ARCHITECTURE SRC WORK OUT), with the
# sanitizer flags base-builder uses, lays out $SRC as the project's Dockerfile does ($SRC/wafer,
# the checkout; $SRC/build.sh, oss-fuzz/build.sh), and runs $SRC/build.sh from $SRC/wafer into a
# fresh temporary $OUT. Then, as `infra/helper.py check_build` does, for every target in $OUT:
#   - the binary carries its sanitizer's runtime (its __asan_, __ubsan_ or __msan_ symbols);
#   - libFuzzer: `-runs=4` with no input must pass (and reach 100 edges, else a warning), then
#     OSS_FUZZ_SECONDS (default 3) of fuzzing from the unpacked seed corpus with the flags of
#     $OUT/<target>.options must find nothing;
#   - AFL++: the driver replays a seed, then afl-fuzz runs the target for OSS_FUZZ_SECONDS and
#     must say "All set and ready to roll" and find no crash;
#   - <target>_seed_corpus.zip, <target>.dict and <target>.options are in $OUT, and a dict key
#     of the options names a file there (without one, ClusterFuzz takes <target>.dict by name).
# A target that build.sh leaves out of oss-fuzz builds (it says why) is listed, not failed.
# Differences from oss-fuzz, on purpose: clang-16 (oss-fuzz has a newer clang), no libc++ (every
# target is C), and AFL++ 4.04c's afl-clang-fast wrapping clang-14; AFL++ is installed by
# `ci/deps.sh afl` when missing. Builds run with JOBS (default 2) compiles at a time; the
# temporary $SRC/$WORK/$OUT go away at the end unless OSS_FUZZ_KEEP=1.
# Ends with a table: one row per configuration (build, targets passed, files present) and exit
# status 0 only if every configuration passed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
repo=$(pwd)
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh

configs=${OSS_FUZZ_CONFIGS:-address undefined memory afl}
seconds=${OSS_FUZZ_SECONDS:-3}
export JOBS=${JOBS:-2}
tmp=$(mktemp -d /tmp/wafer-oss-fuzz-check.XXXXXX)
if [ "${OSS_FUZZ_KEEP:-0}" = 1 ]; then
  echo "oss-fuzz check: keeping $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi
mapfile -t all_targets < <(fuzz_selected_targets) || exit 2

# base-builder's flags (infra/base-images/base-builder/Dockerfile).
base_cflags="-O1 -fno-omit-frame-pointer -gline-tables-only"
base_cflags+=" -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
ubsan_checks=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero
ubsan_checks+=,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow
ubsan_checks+=,unreachable,vla-bound,vptr
ubsan_no_recover=-fno-sanitize-recover=$ubsan_checks
declare -A sanitizer_flags=(
  [address]="-fsanitize=address -fsanitize-address-use-after-scope"
  [undefined]="-fsanitize=$ubsan_checks,unsigned-integer-overflow $ubsan_no_recover"
  [memory]="-fsanitize=memory -fsanitize-memory-track-origins"
)
# A symbol every binary built with the sanitizer has.
declare -A sanitizer_symbol=([address]=__asan_init [undefined]=__ubsan_handle_ [memory]=__msan_init)

# configure NAME: exports the oss-fuzz variables of configuration NAME (a sanitizer with
# libFuzzer, or afl: AFL++ with ASan, as oss-fuzz builds it).
configure() {
  local name=$1 sanitizer=$1
  export ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c
  export SRC=$tmp/$name/src WORK=$tmp/$name/work OUT=$tmp/$name/out
  if [ "$name" = afl ]; then
    sanitizer=address
    export FUZZING_ENGINE=afl CC=afl-clang-fast CXX=afl-clang-fast++
    export LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a
    export CFLAGS="$base_cflags ${sanitizer_flags[$sanitizer]}"
  else
    export FUZZING_ENGINE=libfuzzer CC=clang-16 CXX=clang++-16
    export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
    export CFLAGS="$base_cflags ${sanitizer_flags[$sanitizer]} -fsanitize=fuzzer-no-link"
  fi
  export SANITIZER=$sanitizer CXXFLAGS=$CFLAGS
  # The options oss-fuzz's runner images set (infra/base-images/base-runner).
  local asan=alloc_dealloc_mismatch=0:allocator_may_return_null=1
  asan+=:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0
  asan+=:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1
  asan+=:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1
  asan+=:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10
  asan+=:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3
  export ASAN_OPTIONS=$asan
  export UBSAN_OPTIONS=print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1
  UBSAN_OPTIONS+=:dedup_token_length=3
  export MSAN_OPTIONS=print_stats=1:symbolize=1:dedup_token_length=3
  local symbolizer
  symbolizer=$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)
  [ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer MSAN_SYMBOLIZER_PATH=$symbolizer
}

# libfuzzer_flags T: $OUT/T.options' [libfuzzer] keys as flags, the dictionary's path made
# absolute (the runner runs from $OUT); without a dict key, $OUT/T.dict, which ClusterFuzz uses
# by its name.
libfuzzer_flags() {
  awk -F '=' -v out="$OUT" -v default_dict="$OUT/$1.dict" '
    /^\[/ { section = $0; next }
    section == "[libfuzzer]" && NF >= 2 {
      key = $1; value = substr($0, index($0, "=") + 1)
      gsub(/[ \t]/, "", key); gsub(/^[ \t]+|[ \t]+$/, "", value)
      if (key == "dict") { value = out "/" value; has_dict = 1 }
      print "-" key "=" value
    }
    END { if (!has_dict && (getline line < default_dict) > 0) print "-dict=" default_dict }
  ' "$OUT/$1.options"
}

# check_files T: what oss-fuzz reads beside the binary; prints the problems, one per line.
check_files() {
  local t=$1
  [ -f "$OUT/${t}_seed_corpus.zip" ] ||
    echo "no ${t}_seed_corpus.zip (corpora/$t/ is empty or missing)"
  [ -f "$OUT/$t.dict" ] || echo "no $t.dict"
  local dict
  if [ ! -f "$OUT/$t.options" ]; then
    echo "no $t.options"
  else
    # ClusterFuzz uses $OUT/T.dict by its name; a dict key must name a file of $OUT.
    dict=$(sed -n 's/^ *dict *= *\([^ ]*\) *$/\1/p' "$OUT/$t.options" | tail -n 1)
    if [ -n "$dict" ] && [ ! -f "$OUT/$dict" ]; then
      echo "$t.options names the dictionary $dict, which is not in \$OUT"
    fi
  fi
  if [ -f "$OUT/${t}_seed_corpus.zip" ] && ! unzip -tq "$OUT/${t}_seed_corpus.zip" >/dev/null; then
    echo "${t}_seed_corpus.zip is not a valid zip"
  fi
}

# run_libfuzzer T LOG: oss-fuzz's bad-build check, then a short run from the seed corpus.
run_libfuzzer() {
  local t=$1 log=$2 flags cov
  local dir=$tmp/$config/run/$t
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if ! (cd "$OUT" && timeout 120 "./$t" -seed=1337 -runs=4) >"$log" 2>&1; then
    echo "FAILED: -runs=4 failed ($(grep -m 1 -E 'ERROR|runtime error|invariant' "$log"))"
    return
  fi
  [ -f "$OUT/${t}_seed_corpus.zip" ] && unzip -q -o "$OUT/${t}_seed_corpus.zip" -d "$dir/corpus"
  mapfile -t flags < <(libfuzzer_flags "$t")
  if ! (cd "$OUT" && timeout $((seconds + 120)) "./$t" "${flags[@]}" -max_total_time="$seconds" \
    -artifact_prefix="$dir/artifacts/" -print_final_stats=1 "$dir/corpus") >>"$log" 2>&1; then
    echo "FAILED: ${seconds} s of fuzzing found $(find "$dir/artifacts" -type f | head -n 1):" \
      "$(grep -m 1 -E 'ERROR|runtime error|invariant' "$log")"
    return
  fi
  # The coverage once the seeds are loaded: what oss-fuzz's fuzzing starts from.
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  if [ "${cov:-0}" -lt 100 ]; then
    echo "ok (WARNING: ${cov:-?} edges from the seeds, oss-fuzz warns under 100; ${execs:-?} execs)"
  else
    echo "ok (${cov} edges from the seeds, ${execs:-?} execs in ${seconds} s)"
  fi
}

# run_afl T LOG: the AFL driver replays one seed; afl-fuzz starts and runs for a while.
run_afl() {
  local t=$1 log=$2 seed
  local dir=$tmp/$config/run/$t
  mkdir -p "$dir/corpus"
  [ -f "$OUT/${t}_seed_corpus.zip" ] && unzip -q -o "$OUT/${t}_seed_corpus.zip" -d "$dir/corpus"
  # A few small seeds: afl-fuzz calibrates each, which is slow for big inputs.
  mkdir -p "$dir/in"
  find "$dir/corpus" -type f -size -4k | head -n 8 | while read -r seed; do
    cp "$seed" "$dir/in/"
  done
  [ -n "$(ls -A "$dir/in")" ] || printf '\0' >"$dir/in/empty"
  seed=$(find "$dir/in" -type f | head -n 1)
  if ! timeout 60 "$OUT/$t" "$seed" >"$log" 2>&1; then
    echo "FAILED: the driver fails on seed $(basename "$seed")"
    return
  fi
  # afl-fuzz's own requirements on the sanitizer options.
  if ! ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1 \
    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0 MSAN_OPTIONS='' LSAN_OPTIONS='' \
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_BENCH_UNTIL_CRASH=1 \
    timeout $((seconds + 120)) afl-fuzz -i "$dir/in" -o "$dir/out" -V "$seconds" -t 10000 \
    -x "$OUT/$t.dict" -- "$OUT/$t" >>"$log" 2>&1; then
    echo "FAILED: afl-fuzz did not run" \
      "($(grep -m 1 -E 'PROGRAM ABORT|ERROR' "$log" | cut -c 1-120))"
    return
  fi
  if ! grep -q 'All set and ready to roll' "$log"; then
    echo "FAILED: afl-fuzz never said 'All set and ready to roll'"
    return
  fi
  local crashes
  crashes=$(find "$dir/out" -path '*crashes/id:*' -type f | wc -l)
  if [ "$crashes" -gt 0 ]; then
    echo "FAILED: afl-fuzz found $crashes crashes in ${seconds} s ($dir/out)"
    return
  fi
  local execs
  execs=$(sed -n 's/^execs_done *: *//p' "$dir"/out/*/fuzzer_stats 2>/dev/null | head -n 1)
  echo "ok (driver replays a seed; afl-fuzz ready, ${execs:-?} execs in ${seconds} s)"
}

declare -A row
failed_configs=0
for config in $configs; do
  case $config in
  address | undefined | memory | afl) ;;
  *) echo "oss-fuzz check: no configuration $config (address undefined memory afl)" >&2; exit 2 ;;
  esac
  echo "== $config$([ "$config" = afl ] && echo ' (AFL++, ASan)' || echo ' (libFuzzer)')"
  if [ "$config" = afl ] && ! command -v afl-clang-fast >/dev/null; then
    ./ci/deps.sh afl >&2 || true
    if ! command -v afl-clang-fast >/dev/null; then
      row[$config]="NOT RUN: AFL++ missing (as root: ./ci/deps.sh afl)"
      failed_configs=$((failed_configs + 1))
      continue
    fi
  fi
  configure "$config"
  mkdir -p "$SRC" "$WORK" "$OUT"
  ln -s "$repo" "$SRC/wafer"
  cp oss-fuzz/build.sh "$SRC/build.sh"
  start=$(date +%s)
  if ! (cd "$SRC/wafer" && bash -eu "$SRC/build.sh") >"$tmp/$config.build.log" 2>&1; then
    tail -n 20 "$tmp/$config.build.log" | sed 's/^/    /'
    row[$config]="BUILD FAILED after $(($(date +%s) - start)) s"
    failed_configs=$((failed_configs + 1))
    continue
  fi
  build_s=$(($(date +%s) - start))
  echo "  built in ${build_s} s"
  passed=0 failed=0 skipped=0 files_missing=0
  for t in "${all_targets[@]}"; do
    left_out=$(sed -n "s/^build.sh: $t left out of the oss-fuzz build: //p" \
      "$tmp/$config.build.log")
    if [ -n "$left_out" ]; then
      printf '  %-20s left out by build.sh: %s\n' "$t" "$left_out"
      skipped=$((skipped + 1))
      continue
    fi
    if [ ! -x "$OUT/$t" ]; then
      printf '  %-20s FAILED: not in %s\n' "$t" "$OUT"
      failed=$((failed + 1))
      continue
    fi
    problems=$(check_files "$t")
    if [ -n "$problems" ]; then
      files_missing=$((files_missing + 1))
      echo "$problems" | sed "s/^/  $(printf '%-20s' "$t") FILES: /"
    fi
    if ! grep -aq "${sanitizer_symbol[$SANITIZER]}" "$OUT/$t"; then
      verdict="FAILED: no ${sanitizer_symbol[$SANITIZER]} in the binary: built without $SANITIZER"
    elif [ "$config" = afl ]; then
      verdict=$(run_afl "$t" "$tmp/$config.$t.log")
    else
      verdict=$(run_libfuzzer "$t" "$tmp/$config.$t.log")
    fi
    printf '  %-20s %s\n' "$t" "$verdict"
    case $verdict in ok*) passed=$((passed + 1)) ;; *) failed=$((failed + 1)) ;; esac
  done
  summary="build ${build_s} s; targets: $passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && summary+=", $skipped left out"
  if [ "$files_missing" -eq 0 ]; then
    summary+="; files: all present"
  else
    summary+="; files: missing for $files_missing targets"
  fi
  if [ "$failed" -eq 0 ] && [ "$files_missing" -eq 0 ]; then
    row[$config]="ok: $summary"
  else
    row[$config]="FAILED: $summary"
    failed_configs=$((failed_configs + 1))
  fi
done

echo "== oss-fuzz check"
printf '  %-10s %-10s %s\n' sanitizer engine verdict
for config in $configs; do
  if [ "$config" = afl ]; then
    printf '  %-10s %-10s %s\n' address afl "${row[$config]}"
  else
    printf '  %-10s %-10s %s\n' "$config" libfuzzer "${row[$config]}"
  fi
done
[ "$failed_configs" -eq 0 ]
