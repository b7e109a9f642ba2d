#!/usr/bin/env bash
# Files one crashing input of a campaign under its stack signature: what ci/fuzz_local.sh runs on
# every artifact libFuzzer or AFL++ leaves.
#
#   ci/fuzz_finding.sh [--build B] [--planted NAME] [--log FILE] TARGET ARTIFACT FINDINGS
#
# Replays ARTIFACT through build/fuzz/B/TARGET (B: libfuzzer, the default; planted, with
# WAFER_PLANTED_BUG=NAME; afl) with `wafer repro`, which names the crash by the report's kind and
# stack signature (cli/crash_report.h). Findings with the same kind and signature are one finding:
# FINDINGS/TARGET/<kind>--<frames>/ holds
#   input       the smallest input seen with that signature
#   report.txt  the sanitizer report of replaying input (the fuzzer's own output, from --log,
#               when the replay does not fail)
#   repro       one line, run from the repository: `build/wafer repro ...` on input
#   seen        one line per artifact filed there (name, size in bytes)
#   module.wasm, module.wat
#               the module the input stands for, where the target has one: decode's input when
#               it starts with the wasm magic, instantiate's and differential's generated module
#               (`wafer gen --target T`); the .wat when wasm2wat reads it
# Timeouts (timeout-*, AFL++ hangs/) and out-of-memory inputs (oom-*) are not replayed (a replay
# would take as long as the limit); they go to FINDINGS/TARGET/timeout/ and .../oom/. A crash that
# does not fail again on replay goes to FINDINGS/TARGET/unreproduced/ with the fuzzer's log.
# ARTIFACT is removed once filed. Prints one line: "new finding DIR: REPORT" or "again DIR".
# Exit status: 0 filed; 2 usage error or no build to replay with.
set -euo pipefail

build=libfuzzer planted='' log=''
while [ $# -gt 0 ]; do
  case $1 in
  --build) build=${2:?--build needs B}; shift 2 ;;
  --planted) planted=${2:?--planted needs NAME}; shift 2 ;;
  --log) log=${2:?--log needs FILE}; shift 2 ;;
  -*) echo "fuzz_finding.sh: unknown option $1" >&2; exit 2 ;;
  *) break ;;
  esac
done
[ $# -eq 3 ] || { sed -n '4,5p' "$0" | sed 's/^# *//' >&2; exit 2; }
target=$1 artifact=$2 findings=$3
[ -f "$artifact" ] || { echo "fuzz_finding.sh: $artifact: no such file" >&2; exit 2; }
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh
wafer=build/wafer
[ -x "$wafer" ] || { echo "fuzz_finding.sh: $wafer missing (run make)" >&2; exit 2; }

repro_flags=(--target "$target" --build "$build")
[ -n "$planted" ] && repro_flags+=(--planted "$planted")
limit=$(fuzz_option "$target" timeout)
limit=$(( ${limit:-25} + 5 ))

# slug TEXT: TEXT as a file name: letters, digits, '_' and '-', runs of others made one '-'.
slug() { echo "$1" | tr -cs 'A-Za-z0-9_' '-' | sed 's/^-*//; s/-*$//'; }

name=$(basename "$artifact")
report_line='' replay_out=''
if [[ $name == timeout-* || $artifact == */hangs/* ]]; then
  dir=timeout
elif [[ $name == oom-* ]]; then
  dir=oom
else
  status=0
  replay_out=$("$wafer" repro "${repro_flags[@]}" --timeout "$limit" "$artifact") || status=$?
  [ "$status" -eq 2 ] && { echo "$replay_out" >&2; exit 2; }
  if [ "$status" -eq 0 ]; then
    dir=unreproduced
  else
    report_line=$(echo "$replay_out" | sed -n 's/^ *report: //p' | head -n 1)
    signature=$(echo "$replay_out" | sed -n 's/^ *signature: //p' | head -n 1)
    # The kind: ASan's "heap-buffer-overflow", UBSan's "signed integer overflow", libFuzzer's
    # "deadly signal", a target's "broken invariant"; a hang killed by repro is a timeout.
    kind=$(echo "$report_line" | sed -nE 's/.*Sanitizer: ([^ ]+).*/\1/p')
    [ -z "$kind" ] && kind=$(echo "$report_line" |
      sed -nE 's/.*runtime error: ([^:]*).*/ubsan \1/p' | cut -d ' ' -f 1-4)
    [ -z "$kind" ] && kind=$(echo "$report_line" | sed -nE 's/.*libFuzzer: ([a-z-]+( [a-z-]+)?).*/\1/p')
    [ -z "$kind" ] && case $report_line in *"broken invariant"*) kind="broken invariant" ;; esac
    echo "$replay_out" | grep -q 'hangs: killed' && kind=timeout
    frames=$(echo "$signature" | sed 's/ < /./g')
    dir=$(slug "${kind:-crash}")--$(slug "$frames")
    dir=${dir:0:120}
  fi
fi

dest=$findings/$target/$dir
size=$(stat -c %s "$artifact")
mkdir -p "$findings/$target"
if [ -f "$dest/input" ] && [ "$(stat -c %s "$dest/input")" -le "$size" ]; then
  echo "$name $size" >>"$dest/seen"
  rm -f "$artifact"
  echo "again $dest ($(wc -l <"$dest/seen") inputs)"
  exit 0
fi

# A new finding, or a smaller input for one: written beside it, then moved in place, so an
# interrupted filing leaves the old one whole.
tmp=$(mktemp -d "$findings/$target/.filing.XXXXXX")
chmod 755 "$tmp"
[ -f "$dest/seen" ] && cp "$dest/seen" "$tmp/seen"
echo "$name $size" >>"$tmp/seen"
cp "$artifact" "$tmp/input"
case $dir in
timeout | oom | unreproduced)
  echo "$replay_out" >"$tmp/report.txt"
  if [ -n "$log" ]; then cat "$log" >>"$tmp/report.txt"; fi
  ;;
*)
  # The whole report, as the build prints it (wafer repro shows only its first line).
  bin=build/fuzz/$build/$target
  env ${planted:+WAFER_PLANTED_BUG="$planted"} timeout -k 2 "$limit" "$bin" "$tmp/input" \
    >"$tmp/report.txt" 2>&1 || true
  ;;
esac
# The repro line replays through every build (not only the campaign's), as a user would.
printf 'build/wafer repro --target %s%s %s\n' "$target" "${planted:+ --planted $planted}" \
  "$dest/input" >"$tmp/repro"
case $target in
decode)
  [ "$(head -c 4 "$tmp/input" | od -An -tx1 | tr -d ' ')" = 0061736d ] &&
    cp "$tmp/input" "$tmp/module.wasm"
  ;;
instantiate | differential)
  "$wafer" gen --target "$target" "$tmp/input" -o "$tmp/module.wasm" >/dev/null 2>&1 || true
  ;;
esac
if [ -f "$tmp/module.wasm" ] && command -v wasm2wat >/dev/null; then
  wasm2wat --enable-all "$tmp/module.wasm" -o "$tmp/module.wat" 2>/dev/null || rm -f "$tmp/module.wat"
fi
old=''
if [ -d "$dest" ]; then
  old=$findings/$target/.old.$$
  mv "$dest" "$old"
fi
mv "$tmp" "$dest"
[ -n "$old" ] && rm -rf "$old"
rm -f "$artifact"
if [ "$(wc -l <"$dest/seen")" -gt 1 ]; then
  echo "again $dest ($(wc -l <"$dest/seen") inputs; this one is smaller)"
else
  echo "new finding $dest: ${report_line:-$dir}"
fi
