#!/usr/bin/env bash
# Shrinks an input that crashes a fuzz target, keeping its crash: what `make minimize` runs.
#
#   ci/minimize.sh [--target T] [--planted NAME] [--seconds S] FILE
#
# The target is taken from FILE's path as `wafer repro` takes it (corpora/regressions/T/...,
# findings/T/..., corpora/T/...) unless --target names it. FILE must crash
# build/fuzz/libfuzzer/T, or with --planted NAME build/fuzz/planted/T with WAFER_PLANTED_BUG=NAME.
#   1. libFuzzer's crash minimiser (-minimize_crash=1 -exact_artifact_path) for S seconds
#      (default MINIMIZE_SECONDS, else 60), with the target's -timeout;
#   2. for a target whose input is a WebAssembly module (decode), when binaryen can read the
#      result: binaryen's wasm-reduce, for the rest of the S seconds, keeping a reduction only when
#      `wafer repro` gives the same verdict and stack signature. wasm-reduce re-encodes the module,
#      so a crash in the binary encoding itself does not survive it and step 1's result stays.
# A result is kept only when `wafer repro` finds the same stack signature as FILE's. Writes
# FILE.min (a copy of FILE when nothing smaller keeps the crash) and prints the sizes.
# Exit status: 0 FILE.min written; 1 FILE does not crash (nothing to minimise) or a step failed;
# 2 usage error or a missing build.
set -euo pipefail

usage() {
  sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

target='' planted='' seconds=${MINIMIZE_SECONDS:-60} file=''
while [ $# -gt 0 ]; do
  case $1 in
  --target) target=${2:?--target needs T}; shift 2 ;;
  --planted) planted=${2:?--planted needs NAME}; shift 2 ;;
  --seconds) seconds=${2:?--seconds needs S}; shift 2 ;;
  -h | --help) usage ;;
  -*) echo "minimize.sh: unknown option $1" >&2; usage ;;
  *) [ -z "$file" ] || usage; file=$1; shift ;;
  esac
done
[ -n "$file" ] || usage
[ -f "$file" ] || { echo "minimize.sh: $file: no such file" >&2; exit 2; }
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "minimize.sh: --seconds needs a number" >&2; exit 2; }
# Paths the repository's tools are given: FILE stays as the user wrote it, read from here.
file=$(realpath "$file")
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh
wafer=build/wafer
[ -x "$wafer" ] || { echo "minimize.sh: $wafer missing (run make)" >&2; exit 2; }

build=libfuzzer
repro_flags=(--build libfuzzer)
if [ -n "$planted" ]; then
  build=planted
  repro_flags=(--build planted --planted "$planted")
fi
[ -n "$target" ] && repro_flags+=(--target "$target")

# signature_of F: sets signature to the stack signature `wafer repro` gives F in the chosen build
# (empty when F does not crash there), repro_status to its exit status, repro_out to its output.
signature_of() {
  repro_status=0
  repro_out=$("$wafer" repro "${repro_flags[@]}" "$1") || repro_status=$?
  signature=''
  if [ "$repro_status" -eq 1 ]; then
    signature=$(echo "$repro_out" | sed -n 's/^ *signature: //p' | head -n 1)
  fi
}

signature_of "$file"
want=$signature
if [ "$repro_status" -eq 2 ]; then
  echo "$repro_out" >&2
  exit 2
fi
if [ "$repro_status" -ne 1 ]; then
  echo "$repro_out"
  echo "minimize.sh: $file does not crash build/fuzz/$build; nothing to minimise" >&2
  exit 1
fi
target=$(echo "$repro_out" | sed -n '1s/.* through fuzz target //p')
[ -n "$target" ] || { echo "$repro_out" >&2; exit 2; }
repro_flags+=(--target "$target")
bin=build/fuzz/$build/$target
before=$(stat -c %s "$file")
echo "minimize: $file ($before bytes), target $target, build $bin, signature: $want"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
best=$work/best
cp "$file" "$best"
deadline=$(($(date +%s) + seconds))

# keep_if_same F: F becomes the best result when it is smaller and crashes the same way.
keep_if_same() {
  [ -s "$1" ] && [ "$(stat -c %s "$1")" -lt "$(stat -c %s "$best")" ] || return 1
  signature_of "$1"
  if [ "$signature" != "$want" ]; then
    echo "  ($(stat -c %s "$1") bytes, but the crash became: ${signature:-no crash}; not kept)"
    return 1
  fi
  cp "$1" "$best"
}

# binaryen_reads F: whether F is a module binaryen can read (wasm-reduce's precondition).
binaryen_reads() {
  [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 0061736d ] &&
    command -v wasm-reduce >/dev/null && wasm-opt -all "$1" -o /dev/null >/dev/null 2>&1
}

# Step 1 gets the whole time, or half when step 2 will run.
step1_seconds=$seconds
if [ "$target" = decode ] && binaryen_reads "$file"; then
  step1_seconds=$(((seconds + 1) / 2))
fi
timeout_flag=()
t_limit=$(fuzz_option "$target" timeout)
[ -n "$t_limit" ] && timeout_flag=(-timeout="$t_limit")
step_start=$(date +%s)
set +e
# timeout signals libFuzzer's whole process group: the minimiser runs each step as a child.
env ${planted:+WAFER_PLANTED_BUG="$planted"} timeout -k 5 "$step1_seconds" "$bin" \
  -minimize_crash=1 -max_total_time="$step1_seconds" "${timeout_flag[@]}" \
  -exact_artifact_path="$work/libfuzzer.min" "$file" >"$work/libfuzzer.log" 2>&1
set -e
if [ -f "$work/libfuzzer.min" ]; then
  keep_if_same "$work/libfuzzer.min" || true
fi
echo "  libFuzzer -minimize_crash: $before -> $(stat -c %s "$best") bytes" \
  "in $(($(date +%s) - step_start)) s"

if [ "$target" = decode ]; then
  left=$((deadline - $(date +%s)))
  if ! command -v wasm-reduce >/dev/null; then
    echo "  wasm-reduce: not installed (binaryen); skipped"
  elif ! binaryen_reads "$best"; then
    echo "  wasm-reduce: binaryen cannot read the input (an encoding-level crash); skipped"
  elif [ "$left" -lt 5 ]; then
    echo "  wasm-reduce: no time left of the ${seconds} s; skipped"
  else
    # wasm-reduce keeps a reduction when the command's output and status stay the same: the
    # command prints the signature and exits with wafer repro's status.
    # shellcheck disable=SC2016 # the $ are the command's own
    {
      echo '#!/bin/sh'
      printf 'cd %q || exit 3\n' "$(pwd)"
      printf 'out=$(%q repro' "$wafer"
      printf ' %q' "${repro_flags[@]}" --timeout 10
      printf ' "$1"); status=$?\n'
      echo "echo \"\$out\" | sed -n 's/^ *signature: //p'"
      echo 'exit $status'
    } >"$work/check.sh"
    chmod +x "$work/check.sh"
    step_start=$(date +%s)
    cp "$best" "$work/input.wasm"
    (cd "$work" && TMPDIR=$work timeout "$left" wasm-reduce input.wasm \
      "--command=$work/check.sh $work/t.wasm" -t "$work/t.wasm" -w "$work/w.wasm" \
      -b "$(dirname "$(command -v wasm-opt)")" --timeout 10 -all --force) \
      >"$work/wasm-reduce.log" 2>&1 || true
    from=$(stat -c %s "$best")
    if [ -f "$work/w.wasm" ]; then keep_if_same "$work/w.wasm" || true; fi
    echo "  wasm-reduce: $from -> $(stat -c %s "$best") bytes in $(($(date +%s) - step_start)) s"
  fi
fi

cp "$best" "$file.min"
after=$(stat -c %s "$file.min")
echo "minimize: $before -> $after bytes: $file.min (signature: $want)"
echo "next: make regress-add FILE=$file.min TARGET=$target${planted:+ PLANTED=$planted}" \
  'DESC="what it broke"'
