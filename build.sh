#!/bin/bash
# Builds wafer's fuzz targets, in the oss-fuzz style.
#
# A target is every fuzz_targets/*.c that defines LLVMFuzzerTestOneInput; the .c files in
# subdirectories of fuzz_targets/ (e.g. gen/) are support code any target may use. Targets link
# against the whole runtime (runtime/src/*.c).
#
# oss-fuzz / ClusterFuzzLite mode, when $LIB_FUZZING_ENGINE or $OUT is set: compiles with $CC $CFLAGS,
# links with $CXX $CXXFLAGS $LIB_FUZZING_ENGINE, writes each target to $OUT with
# <target>_seed_corpus.zip (from corpora/<target>/), <target>.dict and <target>.options (from
# fuzz_targets/), and keeps objects in $WORK. Unset ones default to a local clang-16 ASan+UBSan
# libFuzzer build.
#
# Local mode, otherwise: `./build.sh [libfuzzer] [standalone]` (both by default) builds
#   build/fuzz/libfuzzer/<target>   clang-16, -fsanitize=fuzzer,address,undefined
#   build/fuzz/standalone/<target>  gcc ASan+UBSan with fuzz_targets/standalone_main.c, a reproducer
#                                   that runs the files (or directories of files) it is given
# rebuilding only objects older than their source or any header. $JOBS (default 2) compiles run
# in parallel.
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
common_flags="-std=c11 -D_GNU_SOURCE -Iruntime/include -Iruntime/src -Ifuzz_targets"
warn_flags="-Wall -Wextra -Wno-unused-parameter"
san_flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
  -fsanitize-address-use-after-scope -fno-sanitize-recover=all
  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"

targets=()
for f in fuzz_targets/*.c; do
  if grep -Eq '^(extern "C" +)?int +LLVMFuzzerTestOneInput *\(.*[^;] *$' "$f"; then
    t=$(basename "$f" .c)
    targets+=("$t")
  fi
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "build.sh: no fuzz targets in fuzz_targets/" >&2
  exit 1
fi
support_src=$(find fuzz_targets -mindepth 2 -name '*.c' | sort)
runtime_src=$(ls runtime/src/*.c)
headers=$(find runtime/include runtime/src fuzz_targets -name '*.h' | sort)

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

# compile_all CC "FLAGS" OBJDIR SRC...: compiles each SRC to OBJDIR/SRC.o, $jobs at a time.
compile_all() {
  local cc=$1 flags=$2 objdir=$3
  shift 3
  local pids=() src obj
  for src in "$@"; do
    obj=$objdir/${src%.c}.o
    # shellcheck disable=SC2086
    if newer_than "$obj" "$src" $headers; then
      mkdir -p "$(dirname "$obj")"
      echo "  CC $obj"
      # shellcheck disable=SC2086
      $cc $common_flags $flags -c "$src" -o "$obj" &
      pids+=($!)
      if [ ${#pids[@]} -ge "$jobs" ]; then
        wait "${pids[0]}"
        pids=("${pids[@]:1}")
      fi
    fi
  done
  local pid
  for pid in "${pids[@]+"${pids[@]}"}"; do
    wait "$pid"
  done
}

# build_variant CC "CFLAGS" LINKER "LINKFLAGS" OBJDIR BINDIR [EXTRA_OBJ_SRC]: the runtime and
# support code go into one archive, so a target links only what it uses.
build_variant() {
  local cc=$1 cflags=$2 linker=$3 linkflags=$4 objdir=$5 bindir=$6 extra_src=${7:-}
  local target_src=() t
  for t in "${targets[@]}"; do target_src+=("fuzz_targets/$t.c"); done
  # shellcheck disable=SC2086
  compile_all "$cc" "$cflags" "$objdir" $runtime_src $support_src $extra_src "${target_src[@]}"
  local lib=$objdir/libwafer_fuzz.a lib_objs=() src
  for src in $runtime_src $support_src; do lib_objs+=("$objdir/${src%.c}.o"); done
  if newer_than "$lib" "${lib_objs[@]}" || [ "$(ar t "$lib" | wc -l)" -ne ${#lib_objs[@]} ]; then
    rm -f "$lib"
    ar rcs "$lib" "${lib_objs[@]}"
  fi
  mkdir -p "$bindir"
  local extra_obj=
  [ -n "$extra_src" ] && extra_obj=$objdir/${extra_src%.c}.o
  for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    if newer_than "$bindir/$t" "$objdir/fuzz_targets/$t.o" $extra_obj "$lib"; then
      echo "  LD $bindir/$t"
      # shellcheck disable=SC2086
      $linker $linkflags "$objdir/fuzz_targets/$t.o" $extra_obj "$lib" -lm -o "$bindir/$t"
    fi
  done
}

if [ -n "${LIB_FUZZING_ENGINE:-}" ] || [ -n "${OUT:-}" ]; then
  : "${CC:=clang-16}" "${CXX:=clang++-16}"
  : "${CFLAGS:=$san_flags -fsanitize=fuzzer-no-link}"
  : "${CXXFLAGS:=$CFLAGS}"
  : "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
  : "${OUT:=$root/build/fuzz/out}"
  : "${WORK:=$root/build/fuzz/work}"
  mkdir -p "$OUT" "$WORK"
  build_variant "$CC" "$CFLAGS" "$CXX" "$CXXFLAGS $LIB_FUZZING_ENGINE" "$WORK/obj" "$OUT"
  for t in "${targets[@]}"; do
    if [ -d "corpora/$t" ] && [ -n "$(ls -A "corpora/$t")" ]; then
      rm -f "$OUT/${t}_seed_corpus.zip"
      (cd "corpora/$t" && zip -q -X -r "$OUT/${t}_seed_corpus.zip" .)
    fi
    [ -f "fuzz_targets/$t.dict" ] && cp "fuzz_targets/$t.dict" "$OUT/"
    [ -f "fuzz_targets/$t.options" ] && cp "fuzz_targets/$t.options" "$OUT/"
  done
  echo "build.sh: built ${targets[*]} into $OUT"
  exit 0
fi

variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(libfuzzer standalone)
for v in "${variants[@]}"; do
  case $v in
  libfuzzer)
    build_variant clang-16 "$warn_flags $san_flags -fsanitize=fuzzer-no-link" \
      clang++-16 "$san_flags -fsanitize=fuzzer" build/fuzz/obj/libfuzzer build/fuzz/libfuzzer
    ;;
  standalone)
    build_variant gcc "$warn_flags $san_flags" gcc "$san_flags" \
      build/fuzz/obj/standalone build/fuzz/standalone fuzz_targets/standalone_main.c
    ;;
  *)
    echo "usage: ./build.sh [libfuzzer] [standalone]" >&2
    exit 2
    ;;
  esac
done
echo "build.sh: built ${targets[*]} (${variants[*]}) under build/fuzz/"
