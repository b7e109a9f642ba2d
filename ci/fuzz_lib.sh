# shellcheck shell=bash
# What every fuzzing script agrees on, sourced (not run) by build.sh, ci/fuzz_*.sh and
# tests/fuzz_*.sh from the repository root: which files are fuzz targets, and each target's
# dictionary, libFuzzer flags, seeds and regression inputs.

# fuzz_target_names: every fuzz_targets/*.c that defines LLVMFuzzerTestOneInput, one per line.
fuzz_target_names() {
  local f
  for f in fuzz_targets/*.c; do
    grep -Eq '^(extern "C" +)?int +LLVMFuzzerTestOneInput *\(.*[^;] *$' "$f" &&
      basename "$f" .c
  done
  return 0
}

# fuzz_selected_targets: the targets named in $FUZZ_TARGETS (each must exist), else every one.
fuzz_selected_targets() {
  local t
  if [ -z "${FUZZ_TARGETS:-}" ]; then
    fuzz_target_names
    return 0
  fi
  for t in $FUZZ_TARGETS; do
    if ! fuzz_target_names | grep -qx "$t"; then
      echo "no fuzz target $t in fuzz_targets/" >&2
      return 1
    fi
    echo "$t"
  done
}

# fuzz_dict T: the dictionary of target T: its own fuzz_targets/T.dict, else the shared
# fuzz_targets/common.dict.
fuzz_dict() {
  if [ -f "fuzz_targets/$1.dict" ]; then
    echo "fuzz_targets/$1.dict"
  else
    echo fuzz_targets/common.dict
  fi
}

# fuzz_options_flags T: the [libfuzzer] keys of fuzz_targets/T.options as -key=value flags, one per
# line, then -dict= with T's dictionary (whatever dict key the options file had).
fuzz_options_flags() {
  local file=fuzz_targets/$1.options section='' key value
  if [ -f "$file" ]; then
    while IFS='=' read -r key value; do
      key=$(echo "$key" | tr -d '[:space:]')
      value=$(echo "$value" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
      case $key in
      '' | '#'* | ';'*) ;;
      '['*) section=$key ;;
      dict) ;;
      *) [ "$section" = '[libfuzzer]' ] && echo "-$key=$value" ;;
      esac
    done <"$file"
  fi
  echo "-dict=$(fuzz_dict "$1")"
}

# fuzz_option T KEY: the value of KEY in fuzz_targets/T.options' [libfuzzer] section, if any.
fuzz_option() {
  fuzz_options_flags "$1" | sed -n "s/^-$2=//p" | tail -n 1
}

# fuzz_regressions T: the regression inputs of target T, one path per line: the files of
# corpora/regressions/T/ (README.md aside), and for decode also the files directly in
# corpora/regressions/.
fuzz_regressions() {
  local f
  for f in "corpora/regressions/$1"/*; do
    [ -f "$f" ] && [ "$(basename "$f")" != README.md ] && echo "$f"
  done
  if [ "$1" = decode ]; then
    for f in corpora/regressions/*; do
      [ -f "$f" ] && [ "$(basename "$f")" != README.md ] && echo "$f"
    done
  fi
  return 0
}

# fuzz_sanitizer_env: the sanitizer settings every script runs targets with (symbolised stacks,
# leaks reported, no recovery).
fuzz_sanitizer_env() {
  local symbolizer
  symbolizer=$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)
  [ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer MSAN_SYMBOLIZER_PATH=$symbolizer
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export MSAN_OPTIONS=${MSAN_OPTIONS:-allocator_may_return_null=1}
}
