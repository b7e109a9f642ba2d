#!/bin/bash
# Builds wafer's fuzz targets, in the oss-fuzz style (docs/FUZZING.md says how to use them).
#
# A target is every fuzz_targets/*.c that defines LLVMFuzzerTestOneInput. Every target is linked
# against the runtime (runtime/src/*.c), the oracles (oracles/*.c: the differential target drives the
# reference engines through them; libc only) and every .c in a subdirectory of fuzz_targets/ (gen/,
# support/: code any target may use), all through one archive, so a target links only what it uses.
# Nothing else: no target needs a library beyond libc and libm. A target unfit for a build is left
# out of it, saying why (msan_unfit, oss_fuzz_unfit below).
# A target that does not compile fails the build: there is no skipping.
#
# Each target's dictionary is fuzz_targets/<target>.dict, else fuzz_targets/common.dict (the
# shared one: integer and LEB128 edge values, section ids, the bulk memory and table opcodes);
# its options fuzz_targets/<target>.options, else none.
#
# oss-fuzz / ClusterFuzzLite mode, when $LIB_FUZZING_ENGINE or $OUT is set: compiles with $CC
# $CFLAGS, links with $CXX $CXXFLAGS $LIB_FUZZING_ENGINE, writes each target to $OUT with
# <target>_seed_corpus.zip (from corpora/<target>/), <target>.dict and <target>.options, and keeps
# objects in $WORK. Unset ones default to a local clang-16 ASan+UBSan libFuzzer build.
#
# Local mode, otherwise: `./build.sh [VARIANT...]` (libfuzzer and standalone by default) builds
# build/fuzz/VARIANT/<target> for each VARIANT of:
#   libfuzzer   clang-16, -fsanitize=fuzzer,address,undefined
#   standalone  gcc ASan+UBSan with fuzz_targets/standalone_main.c, a reproducer that runs the
#               files (or directories of files) it is given
#   afl         AFL++'s afl-clang-fast (clang-14) with AFL_USE_ASAN=1 AFL_USE_UBSAN=1 and AFL's
#               libFuzzer-compatible driver (replays a file given as argument)
#   afl-cmplog  afl-clang-fast with AFL_LLVM_CMPLOG=1 and no sanitizer: the `afl-fuzz -c` binary
#               (AFL++ only uses it to solve comparisons; the crash verdicts come from `afl`)
#   msan        clang-16, -fsanitize=fuzzer,memory -fsanitize-memory-track-origins
#   cov         clang-16 libFuzzer with -fprofile-instr-generate -fcoverage-mapping, linking the
#               whole runtime into every target (ci/coverage.sh measures against all of it)
#   planted     the libfuzzer variant with -DWAFER_PLANTED_BUGS (runtime/src/planted.h)
#   plain       clang-16 libFuzzer at -O2 with no sanitizer: what the runtime itself costs per
#               execution (make bench-fuzz compares it with libfuzzer)
# rebuilding only objects older than their source or any header. $JOBS (default 2) compiles run
# in parallel. FUZZ_TARGETS="decode deserialize" limits either mode to the targets named.
set -eu

# The repository: beside this script, or the current directory (oss-fuzz copies build.sh to $SRC
# and runs it from the checkout), or $SRC/wafer.
root=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$root/runtime/include/wafer.h" ]; then
  if [ -f runtime/include/wafer.h ]; then
    root=$(pwd)
  elif [ -n "${SRC:-}" ] && [ -f "$SRC/wafer/runtime/include/wafer.h" ]; then
    root=$SRC/wafer
  else
    echo "build.sh: cannot find the wafer checkout" >&2
    exit 1
  fi
fi
cd "$root"

jobs=${JOBS:-2}
common_flags="-std=c11 -D_GNU_SOURCE -Iruntime/include -Iruntime/src -Ioracles -Ifuzz_targets -I."
warn_flags="-Wall -Wextra -Wno-unused-parameter"
san_flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
  -fsanitize-address-use-after-scope -fno-sanitize-recover=all
  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
base_flags="-O1 -g -fno-omit-frame-pointer -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"

# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh
mapfile -t targets < <(fuzz_selected_targets)
if [ ${#targets[@]} -eq 0 ]; then
  echo "build.sh: no fuzz targets in fuzz_targets/" >&2
  exit 1
fi
support_src=$(find fuzz_targets -mindepth 2 -name '*.c' | sort)
lib_src="$(ls runtime/src/*.c runtime/src/wasi/*.c) $(ls oracles/*.c) $support_src"
headers=$(find runtime/include runtime/src oracles fuzz_targets -name '*.h' | sort)
link_libs=-lm

# newer_than OBJ FILE...: whether any FILE is newer than OBJ (or OBJ is missing).
newer_than() {
  local obj=$1
  shift
  [ -f "$obj" ] || return 0
  local f
  for f in "$@"; do
    [ "$f" -nt "$obj" ] && return 0
  done
  return 1
}

# compile_all CC "FLAGS" OBJDIR SRC...: compiles each SRC to OBJDIR/SRC.o, $jobs at a time; fails
# if any compile fails (after the others finish). An object whose compile failed is removed, so
# the next build retries it.
compile_all() {
  local cc=$1 flags=$2 objdir=$3
  shift 3
  local pids=() objs=() src obj i bad=0
  for src in "$@"; do
    obj=$objdir/${src%.c}.o
    # shellcheck disable=SC2086
    if newer_than "$obj" "$src" $headers; then
      mkdir -p "$(dirname "$obj")"
      echo "  CC $obj"
      # shellcheck disable=SC2086
      { $cc $common_flags $flags -c "$src" -o "$obj" || { rm -f "$obj"; exit 1; }; } &
      pids+=($!)
      objs+=("$src")
      if [ ${#pids[@]} -ge "$jobs" ]; then
        wait "${pids[0]}" || { echo "build.sh: ${objs[0]} does not compile" >&2; bad=1; }
        pids=("${pids[@]:1}")
        objs=("${objs[@]:1}")
      fi
    fi
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { echo "build.sh: ${objs[$i]} does not compile" >&2; bad=1; }
  done
  return $bad
}

# build_variant CC "CFLAGS" LINKER "LINKFLAGS" OBJDIR BINDIR [EXTRA_OBJ_SRC]: compiles the runtime,
# oracles and support code into one archive and links each target with it (all of it when
# $whole_archive is 1).
whole_archive=0
build_variant() {
  local cc=$1 cflags=$2 linker=$3 linkflags=$4 objdir=$5 bindir=$6 extra_src=${7:-}
  local target_src=() t
  for t in "${targets[@]}"; do target_src+=("fuzz_targets/$t.c"); done
  # shellcheck disable=SC2086
  compile_all "$cc" "$cflags" "$objdir" $lib_src $extra_src "${target_src[@]}" || return 1
  local lib=$objdir/libwafer_fuzz.a lib_objs=() src
  for src in $lib_src; do lib_objs+=("$objdir/${src%.c}.o"); done
  if newer_than "$lib" "${lib_objs[@]}" || [ "$(ar t "$lib" | wc -l)" -ne ${#lib_objs[@]} ]; then
    rm -f "$lib"
    ar rcs "$lib" "${lib_objs[@]}"
  fi
  mkdir -p "$bindir"
  local extra_obj='' lib_args=$lib
  [ -n "$extra_src" ] && extra_obj=$objdir/${extra_src%.c}.o
  [ "$whole_archive" = 1 ] && lib_args="-Wl,--whole-archive $lib -Wl,--no-whole-archive"
  for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    if newer_than "$bindir/$t" "$objdir/fuzz_targets/$t.o" $extra_obj "$lib"; then
      echo "  LD $bindir/$t"
      # shellcheck disable=SC2086
      $linker "$objdir/fuzz_targets/$t.o" $extra_obj $lib_args $linkflags $link_libs -o "$bindir/$t" ||
        { echo "build.sh: $t does not link" >&2; return 1; }
    fi
  done
}

# Targets oss-fuzz cannot run, and why: its runner image holds only what is in $OUT.
# shellcheck disable=SC2034  # read through fit_targets' name reference
declare -A oss_fuzz_unfit=(
  [differential]="it runs wabt's spectest-interp, which oss-fuzz's runner image does not have"
)
# Targets MemorySanitizer cannot judge, and why: it needs every write to memory the program reads
# made by instrumented code, or the value reads as uninitialised.
declare -A msan_unfit=(
  [differential]="oracles/wabt.c empties directories with libc's nftw, which MSan does not\
 intercept: the struct FTW it passes reads as uninitialised, a false report on the first input"
)

# fit_targets REASONS WHAT: the targets without an entry in the associative array named REASONS,
# one per line; says on stderr which are left out of the WHAT build and why.
fit_targets() {
  local -n reasons=$1
  local t
  for t in "${targets[@]}"; do
    if [ -n "${reasons[$t]:-}" ]; then
      echo "build.sh: $t left out of the $2 build: ${reasons[$t]}" >&2
    else
      echo "$t"
    fi
  done
}

if [ -n "${LIB_FUZZING_ENGINE:-}" ] || [ -n "${OUT:-}" ]; then
  mapfile -t targets < <(fit_targets oss_fuzz_unfit oss-fuzz)
  if [ "${SANITIZER:-}" = memory ]; then
    mapfile -t targets < <(fit_targets msan_unfit MemorySanitizer)
  fi
  : "${CC:=clang-16}" "${CXX:=clang++-16}"
  : "${CFLAGS:=$san_flags -fsanitize=fuzzer-no-link}"
  : "${CXXFLAGS:=$CFLAGS}"
  : "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
  : "${OUT:=$root/build/fuzz/out}"
  : "${WORK:=$root/build/fuzz/work}"
  mkdir -p "$OUT" "$WORK"
  build_variant "$CC" "$CFLAGS" "$CXX" "$CXXFLAGS $LIB_FUZZING_ENGINE" "$WORK/obj" "$OUT"
  for t in "${targets[@]}"; do
    rm -f "$OUT/${t}_seed_corpus.zip"
    if [ -d "corpora/$t" ] && [ -n "$(ls -A "corpora/$t")" ]; then
      (cd "corpora/$t" && zip -q -X -r "$OUT/${t}_seed_corpus.zip" .)
    fi
    cp "$(fuzz_dict "$t")" "$OUT/$t.dict"
    if [ -f "fuzz_targets/$t.options" ]; then
      # the dictionary is $OUT/<target>.dict whatever the options file named
      sed -E "s|^( *dict *= *).*|\\1$t.dict|" "fuzz_targets/$t.options" >"$OUT/$t.options"
    else
      printf '[libfuzzer]\ndict = %s.dict\n' "$t" >"$OUT/$t.options"
    fi
  done
  echo "build.sh: built ${targets[*]} into $OUT"
  exit 0
fi

variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(libfuzzer standalone)
for v in "${variants[@]}"; do
  obj=build/fuzz/obj/$v bin=build/fuzz/$v
  case $v in
  libfuzzer)
    build_variant clang-16 "$warn_flags $san_flags -fsanitize=fuzzer-no-link" \
      clang++-16 "$san_flags -fsanitize=fuzzer" "$obj" "$bin"
    ;;
  plain)
    build_variant clang-16 "$warn_flags -O2 -g -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
      -fsanitize=fuzzer-no-link" clang++-16 "-O2 -g -fsanitize=fuzzer" "$obj" "$bin"
    ;;
  planted)
    build_variant clang-16 "$warn_flags $san_flags -fsanitize=fuzzer-no-link -DWAFER_PLANTED_BUGS" \
      clang++-16 "$san_flags -fsanitize=fuzzer" "$obj" "$bin"
    ;;
  standalone)
    build_variant gcc "$warn_flags $san_flags" gcc "$san_flags" "$obj" "$bin" \
      fuzz_targets/standalone_main.c
    ;;
  afl | afl-cmplog)
    command -v afl-clang-fast >/dev/null ||
      { echo "build.sh: afl-clang-fast missing (./ci/deps.sh afl installs AFL++)" >&2; exit 1; }
    # AFL++'s compiler reads its settings from the environment, at compile and at link time.
    afl_env="env AFL_QUIET=1 AFL_USE_ASAN=1 AFL_USE_UBSAN=1"
    [ "$v" = afl-cmplog ] && afl_env="env AFL_QUIET=1 AFL_LLVM_CMPLOG=1"
    build_variant "$afl_env afl-clang-fast" "$warn_flags $base_flags" \
      "$afl_env afl-clang-fast++" "$base_flags -fsanitize=fuzzer" "$obj" "$bin"
    ;;
  msan)
    msan_flags="$base_flags -fsanitize=memory -fsanitize-memory-track-origins"
    all_targets=("${targets[@]}")
    mapfile -t targets < <(fit_targets msan_unfit MemorySanitizer)
    for t in "${all_targets[@]}"; do
      [ -n "${msan_unfit[$t]:-}" ] && rm -f "$bin/$t"
    done
    build_variant clang-16 "$warn_flags $msan_flags -fsanitize=fuzzer-no-link" \
      clang++-16 "$msan_flags -fsanitize=fuzzer" "$obj" "$bin"
    targets=("${all_targets[@]}")
    ;;
  cov)
    # All of the runtime in every binary, so each target's coverage counts all of runtime/src.
    cov_flags="$base_flags -fprofile-instr-generate -fcoverage-mapping"
    whole_archive=1
    build_variant clang-16 "$warn_flags $cov_flags -fsanitize=fuzzer-no-link" \
      clang++-16 "$cov_flags -fsanitize=fuzzer" "$obj" "$bin"
    whole_archive=0
    ;;
  *)
    echo "usage: ./build.sh [libfuzzer|standalone|afl|afl-cmplog|msan|cov|planted|plain]..." >&2
    exit 2
    ;;
  esac
done
echo "build.sh: built ${targets[*]} (${variants[*]}) under build/fuzz/"
