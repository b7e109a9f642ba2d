#!/usr/bin/env bash
# Runs the WebAssembly spec suite with BINARY (a wafer build, normally the ASan+UBSan one) and
# compares every file's score with wabt's in reference.tsv.
#
#   tests/run_spec.sh BINARY
#
# Each .wast file is converted with wast2json and the flags reference.tsv gives it into
# build/spec/<part>/<name>/<name>.json (again only when the .wast or the flags changed), then
# `BINARY wast FLAGS <name>.json` runs with its output in <name>.log beside it, two files at a time.
# A file matches when wafer passes (or skips, for text-format modules wafer cannot read) as many
# commands as wabt passes, out of the same total, with no sanitizer report. SIMD files are listed
# as not supported yet and not run. tests/spec_known_failures.txt lists files (part/name) allowed
# not to match for now; a listed file that matches fails the run, so the list only shrinks.
#
# Prints a table per part and ends with "N passed, N failed, N skipped, N known": commands
# passed; commands that did not pass in files that fail the run (at least one per such file, so
# a sanitizer report after the last command or a list entry that should go counts too); commands
# skipped; commands that did not pass in listed files. Exit status 1 if any file fails the run.
#
# Environment: WAFER_SPEC_DIR (default: ../shared/spec beside the repository),
# WAFER_SPEC_TIMEOUT (seconds per file, default 300), WAFER_SPEC_JOBS (default 2),
# WAFER_SPEC_EXTRA_FLAGS (configuration flags given to every run, e.g. "--pooling"; the logs of
# such a run are <name>.<flags>.log, so runs with different flags do not overwrite each other),
# WAFER_SPEC_ONLY (an extended regular expression: only files whose PART/NAME matches are run
# and reported; the others are left out of the table and the sums).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BINARY" >&2
  exit 2
fi
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null ||
       { cd "$(dirname "$0")/.." && pwd; })
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
spec_dir=${WAFER_SPEC_DIR:-$root/../shared/spec}
known_list=$root/tests/spec_known_failures.txt
out_dir=$root/build/spec
timeout_s=${WAFER_SPEC_TIMEOUT:-300}
jobs=${WAFER_SPEC_JOBS:-2}
extra_flags=${WAFER_SPEC_EXTRA_FLAGS:-}
only=${WAFER_SPEC_ONLY:-}
log_tag=$(printf '%s' "$extra_flags" | tr -cs 'a-z0-9-' '_' | sed 's/^_*//; s/_*$//')
log_tag=${log_tag:+.$log_tag}
[ -n "$extra_flags" ] && echo "extra flags: $extra_flags"

if [ ! -x "$binary" ]; then
  echo "$0: $binary is not an executable" >&2
  exit 2
fi
if [ ! -f "$spec_dir/reference.tsv" ]; then
  echo "$0: no spec suite at $spec_dir (set WAFER_SPEC_DIR)" >&2
  exit 2
fi
spec_dir=$(cd "$spec_dir" && pwd -P)
command -v wast2json >/dev/null || { echo "$0: wast2json (package wabt) is missing" >&2; exit 2; }

# reference.tsv: file, proposal, passed, total, flags. The part names the table and the output
# directory: core, memory64, multi-memory. Sets part_name (no subshell: this runs per line).
part_of() {
  case $1 in
    core) part_name=core ;;
    *) part_name=$1 ;;
  esac
}

# Whether PART/NAME is listed, as a line of its own with an optional "# reason" after it.
is_known() {
  [ -f "$known_list" ] &&
    awk -v key="$1" '{ sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, "") } $0 == key { found = 1 }
                     END { exit !found }' "$known_list"
}

# ---- Conversion ------------------------------------------------------------------------------
jobs_file=$(mktemp)
trap 'rm -f "$jobs_file"' EXIT
while IFS=$'\t' read -r file proposal ref_passed ref_total flags; do
  [ "$file" = file ] && continue
  part_of "$proposal"
  part=$part_name
  name=${file##*/}
  name=${name%.wast}
  case $name in simd_*) continue ;; esac
  [ -n "$only" ] && ! [[ $part/$name =~ $only ]] && continue
  src=$spec_dir/$file
  [ "$proposal" = core ] && src=$spec_dir/core/$file
  dir=$out_dir/$part/$name
  json=$dir/$name.json
  mkdir -p "$dir"
  if [ ! -f "$json" ] || [ "$src" -nt "$json" ] ||
     [ "$(cat "$dir/flags" 2>/dev/null)" != "$flags" ]; then
    rm -f "$dir"/*.json "$dir"/*.wasm "$dir"/*.wat
    # shellcheck disable=SC2086 # flags are words
    if ! wast2json $flags "$src" -o "$json" 2>"$dir/wast2json.err"; then
      echo "$0: wast2json failed on $file:" >&2
      cat "$dir/wast2json.err" >&2
      exit 2
    fi
    printf '%s' "$flags" >"$dir/flags"
  fi
  printf '%s\t%s\t%s\n' "$dir" "$name" "$flags" >>"$jobs_file"
done <"$spec_dir/reference.tsv"

# ---- Running ---------------------------------------------------------------------------------
# One job: a line "DIR<tab>NAME<tab>FLAGS" of the jobs file.
run_one() {
  local dir name flags
  IFS=$'\t' read -r dir name flags <<<"$1"
  # shellcheck disable=SC2086 # flags are words
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout "$timeout_s" "$binary" wast $flags $extra_flags "$dir/$name.json" \
    >"$dir/$name$log_tag.log" 2>&1
  echo $? >"$dir/$name$log_tag.rc"
}
export -f run_one
export binary timeout_s extra_flags log_tag
# shellcheck disable=SC2016 # $1 belongs to the inner shell
xargs -d '\n' -P "$jobs" -n 1 bash -c 'run_one "$1"' _ <"$jobs_file"

# ---- Comparing -------------------------------------------------------------------------------
sum_passed=0 sum_failed=0 sum_skipped=0 sum_known=0 files_bad=0

# One row of the table for a non-SIMD file, adding its numbers to the sums.
report_file() {
  local part=$1 name=$2 ref_passed=$3 ref_total=$4
  local dir=$out_dir/$part/$name
  local log=$dir/$name$log_tag.log
  local rc last passed=0 failed=0 skipped=0 verdict="" matches=0 missed wafer_col="-"
  rc=$(cat "$dir/$name$log_tag.rc" 2>/dev/null || echo 255)
  last=$(tail -n 1 "$log" 2>/dev/null || true)
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
    passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} skipped=${BASH_REMATCH[4]:-0}
    wafer_col="$passed/$((passed + failed + skipped))"
  elif [ "$rc" = 124 ]; then
    verdict="timeout"
  else
    verdict="crash (exit status $rc)"
  fi
  if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" 2>/dev/null; then
    verdict="sanitizer report"
  fi
  local wafer_total=$((passed + failed + skipped))
  if [ -z "$verdict" ] && [ "$failed" -eq 0 ] && [ $((passed + skipped)) -eq "$ref_passed" ] &&
     [ "$wafer_total" -eq "$ref_total" ]; then
    matches=1
  fi
  [ -z "$verdict" ] && [ "$wafer_total" -ne "$ref_total" ] && verdict="count differs"
  [ -z "$verdict" ] && [ "$matches" -eq 0 ] && verdict="fails"
  # Commands that did not pass: failures, and any the run never reached.
  missed=$((ref_total - passed - skipped))
  [ "$missed" -lt 0 ] && missed=$failed
  sum_passed=$((sum_passed + passed))
  sum_skipped=$((sum_skipped + skipped))
  if is_known "$part/$name"; then
    if [ "$matches" -eq 1 ]; then
      verdict="FAIL: matches now, remove $part/$name from tests/spec_known_failures.txt"
      sum_failed=$((sum_failed + 1))
      files_bad=$((files_bad + 1))
    else
      verdict="known failure: $verdict"
      sum_known=$((sum_known + missed))
    fi
  elif [ "$matches" -eq 1 ]; then
    verdict="ok"
  else
    verdict="FAIL: $verdict (see ${log#"$root"/})"
    # A file can fail the run with every command passed (a sanitizer report at exit): count it.
    [ "$missed" -eq 0 ] && missed=1
    sum_failed=$((sum_failed + missed))
    files_bad=$((files_bad + 1))
  fi
  printf '  %-36s %13s %8s %13s  %s\n' "$name" "$wafer_col" "$skipped" "$ref_passed/$ref_total" \
    "$verdict"
}

for part in core memory64 multi-memory; do
  echo
  if [ "$part" = core ]; then echo "core (without SIMD)"; else echo "$part"; fi
  printf '  %-36s %13s %8s %13s  %s\n' file wafer skipped reference verdict
  simd_rows=""
  while IFS=$'\t' read -r file proposal ref_passed ref_total flags; do
    [ "$file" = file ] && continue
    part_of "$proposal"
    [ "$part_name" = "$part" ] || continue
    name=${file##*/}
    name=${name%.wast}
    case $name in
      simd_*)
        simd_rows+=$(printf '  %-36s %13s %8s %13s  %s' "$name" - - "$ref_passed/$ref_total" \
          "not supported yet")$'\n'
        continue ;;
    esac
    [ -n "$only" ] && ! [[ $part/$name =~ $only ]] && continue
    report_file "$part" "$name" "$ref_passed" "$ref_total"
  done <"$spec_dir/reference.tsv"
  if [ -n "$simd_rows" ]; then
    echo "core SIMD (not counted)"
    printf '%s' "$simd_rows"
  fi
done

echo
[ "$files_bad" -gt 0 ] && echo "$files_bad file(s) fail the run"
echo "$sum_passed passed, $sum_failed failed, $sum_skipped skipped, $sum_known known"
[ "$files_bad" -eq 0 ]
