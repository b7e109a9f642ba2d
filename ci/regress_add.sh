#!/usr/bin/env bash
# Files an input that crashes a fuzz target as a regression input: what `make regress-add` runs.
#
#   ci/regress_add.sh [--target T] [--planted NAME] [--force] FILE DESCRIPTION...
#
# Copies FILE to corpora/regressions/T/<slug>-<sha1>, the slug made from the description's first
# words and the sha1 that of FILE's content (corpora/regressions/README.md's naming), and adds
# the line "- <sha1> DESCRIPTION" to corpora/regressions/T/README.md. From then on `make check`
# replays it under ASan+UBSan (tests/fuzz_replay.sh) and fails whenever it crashes.
#
# File an input while the bug is still there: it must crash now (`wafer repro` says it fails in
# the standalone or libFuzzer build; with --planted NAME, in build/fuzz/planted/T with
# WAFER_PLANTED_BUG=NAME), so that the regression input is known to catch the bug; then fix the
# bug, and `make check` passes. --force files an input that does not crash (a bug already fixed
# whose input was kept, or a hang the builds' time limit does not reach).
# Refuses an input already filed for T (the same content under any name), even with --force.
# The target is taken from FILE's path as `wafer repro` takes it unless --target names it.
# Exit status: 0 filed; 1 refused (does not crash, or a duplicate); 2 usage error.
set -euo pipefail

usage() {
  sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

target='' planted='' force=0 file='' words=()
while [ $# -gt 0 ]; do
  case $1 in
  --target) target=${2:?--target needs T}; shift 2 ;;
  --planted) planted=${2:?--planted needs NAME}; shift 2 ;;
  --force) force=1; shift ;;
  -h | --help) usage ;;
  -*) echo "regress_add.sh: unknown option $1" >&2; usage ;;
  *) if [ -z "$file" ]; then file=$1; else words+=("$1"); fi; shift ;;
  esac
done
[ -n "$file" ] || usage
description=${words[*]:-}
if [ -z "${description// /}" ]; then
  echo "regress_add.sh: give a one-line description of what the input broke" >&2
  usage
fi
case $description in
*$'\n'*) echo "regress_add.sh: the description must be one line" >&2; exit 2 ;;
esac
[ -f "$file" ] || { echo "regress_add.sh: $file: no such file" >&2; exit 2; }
[ -s "$file" ] || echo "regress_add.sh: note: $file is empty" >&2
file=$(realpath "$file")
cd "$(dirname "$0")/.."
# shellcheck source=ci/fuzz_lib.sh
. ci/fuzz_lib.sh
wafer=build/wafer
[ -x "$wafer" ] || { echo "regress_add.sh: $wafer missing (run make)" >&2; exit 2; }

flags=()
[ -n "$target" ] && flags+=(--target "$target")
[ -n "$planted" ] && flags+=(--planted "$planted")
status=0
out=$("$wafer" repro "${flags[@]}" "$file") || status=$?
target=$(echo "$out" | sed -n '1s/.* through fuzz target //p')
if [ -z "$target" ]; then
  echo "$out" >&2
  exit 2
fi
echo "$out"
case $status in
1) ;;
0 | 2)
  if [ "$force" -eq 0 ]; then
    why="it does not crash any build of $target"
    [ "$status" -eq 2 ] && why="no build of $target could replay it"
    echo "regress_add.sh: refused: $why. File an input while its bug is present, so the" \
      "replay is known to catch it; --force (FORCE=1) files it anyway" >&2
    exit 1
  fi
  ;;
*) exit "$status" ;;
esac

sha1=$(sha1sum "$file" | cut -c 1-40)
mapfile -t filed < <(fuzz_regressions "$target")
for f in "${filed[@]}"; do
  if [ "$(sha1sum "$f" | cut -c 1-40)" = "$sha1" ]; then
    echo "regress_add.sh: refused: already filed as $f" >&2
    exit 1
  fi
done

# The slug: the description's words, lower case, joined by '-', cut after a word within 40.
slug=$(echo "$description" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' |
  sed 's/^-*//; s/-*$//')
if [ ${#slug} -gt 40 ]; then
  slug=${slug:0:41}
  slug=${slug%-*}
fi
dir=corpora/regressions/$target
name=${slug:+$slug-}$sha1
mkdir -p "$dir"
cp "$file" "$dir/$name"
index=$dir/README.md
if [ ! -f "$index" ]; then
  {
    echo "# Regression inputs of fuzz target $target"
    echo
    echo "Replayed by \`make check\` (tests/fuzz_replay.sh) through build/fuzz/standalone/$target."
    echo "One line per input filed by \`make regress-add\`: the sha1 of its content (the end of"
    echo "its file name), then what it broke."
    echo
  } >"$index"
fi
echo "- $sha1 $description" >>"$index"
echo "filed: $dir/$name ($(stat -c %s "$dir/$name") bytes), listed in $index"
if [ -n "$planted" ]; then
  echo "note: it crashes only with the planted bug $planted switched on" \
    "(WAFER_PLANTED_BUG=$planted in build/fuzz/planted/$target)"
fi
echo "replay: FUZZ_TARGETS=$target ./tests/fuzz_replay.sh (a stage of make check)"
