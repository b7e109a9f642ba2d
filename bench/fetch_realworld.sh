#!/bin/sh
# Fetches the real-world modules of ../shared/realworld/modules.tsv with `npm pack`, checks each
# against its sha256 and leaves it in build/bench/realworld/FILE. Which ones: the arguments (file
# names from the table), or by default the SpiderMonkey-based ones the issue benchmarks.
# A module that cannot be fetched (registry unreachable) or does not match is reported and skipped:
# the benchmarks run without it. Exit status 0 unless the table itself is missing.
# With --keep-package first, the rest of the package is kept too, unpacked in
# build/bench/realworld/FILE.package/ (what tests/wasi_yosys.sh needs of yosys beside its module).
set -u
keep_package=false
if [ "${1:-}" = --keep-package ]; then keep_package=true; shift; fi
here=$(cd "$(dirname "$0")/.." && pwd)
table=${REALWORLD_TSV:-$here/../shared/realworld/modules.tsv}
out=$here/build/bench/realworld
[ -r "$table" ] || { echo "fetch_realworld: no table at $table" >&2; exit 1; }
[ $# -gt 0 ] || set -- fastly.wasm starlingmonkey_embedding.wasm
mkdir -p "$out"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

for want in "$@"; do
    line=$(awk -F'\t' -v f="$want" 'NR > 1 && $1 == f' "$table")
    if [ -z "$line" ]; then echo "fetch_realworld: $want: not in $table" >&2; continue; fi
    pkg=$(printf '%s\n' "$line" | cut -f2)
    inner=$(printf '%s\n' "$line" | cut -f3)
    sha=$(printf '%s\n' "$line" | cut -f4)
    dest=$out/$want
    if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$sha" ] &&
       { ! $keep_package || [ -d "$dest.package" ]; }; then
        echo "fetch_realworld: $want: present, sha256 ok"; continue
    fi
    work=$(mktemp -d)
    if ! (cd "$work" && timeout 300 npm pack --prefer-offline --silent "$pkg" >/dev/null 2>npm.err); then
        echo "fetch_realworld: $want: SKIPPED: npm pack $pkg failed (registry unreachable?):" \
             "$(tail -1 "$work/npm.err")" >&2
        rm -rf "$work"; continue
    fi
    if $keep_package; then what=package; else what=package/$inner; fi
    if ! tar -xzf "$work"/*.tgz -C "$work" "$what" 2>/dev/null ||
       [ ! -f "$work/package/$inner" ]; then
        echo "fetch_realworld: $want: SKIPPED: package/$inner not in the tarball of $pkg" >&2
        rm -rf "$work"; continue
    fi
    got=$(sha_of "$work/package/$inner")
    if [ "$got" != "$sha" ]; then
        echo "fetch_realworld: $want: SKIPPED: sha256 $got, expected $sha" >&2
        rm -rf "$work"; continue
    fi
    mv "$work/package/$inner" "$dest"
    if $keep_package; then rm -rf "$dest.package" && mv "$work/package" "$dest.package"; fi
    rm -rf "$work"
    echo "fetch_realworld: $want: fetched from $pkg, sha256 ok"
done
exit 0
