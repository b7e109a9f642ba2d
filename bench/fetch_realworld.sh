#!/bin/sh
# Fetches the real-world modules of ../shared/realworld/modules.tsv with `npm pack`, checks each
# against its sha256 and leaves it in build/bench/realworld/FILE. Which ones: the arguments (file
# names from the table), or by default the SpiderMonkey-based ones the issue benchmarks.
# A module that cannot be fetched (registry unreachable) or does not match is reported and skipped:
# the benchmarks run without it. Exit status 0 unless the table itself is missing.
set -u
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
    if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$sha" ]; then
        echo "fetch_realworld: $want: present, sha256 ok"; continue
    fi
    work=$(mktemp -d)
    if ! (cd "$work" && timeout 300 npm pack --silent "$pkg" >/dev/null 2>npm.err); then
        echo "fetch_realworld: $want: SKIPPED: npm pack $pkg failed (registry unreachable?):" \
             "$(tail -1 "$work/npm.err")" >&2
        rm -rf "$work"; continue
    fi
    if ! tar -xzf "$work"/*.tgz -C "$work" "package/$inner" 2>/dev/null; then
        echo "fetch_realworld: $want: SKIPPED: package/$inner not in the tarball of $pkg" >&2
        rm -rf "$work"; continue
    fi
    got=$(sha_of "$work/package/$inner")
    if [ "$got" != "$sha" ]; then
        echo "fetch_realworld: $want: SKIPPED: sha256 $got, expected $sha" >&2
        rm -rf "$work"; continue
    fi
    mv "$work/package/$inner" "$dest"
    rm -rf "$work"
    echo "fetch_realworld: $want: fetched from $pkg, sha256 ok"
done
exit 0
