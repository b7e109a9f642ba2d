#!/usr/bin/env bash
# Installs the Debian packages wafer's build, tests and fuzzing need, if any are missing.
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
#
#   ci/deps.sh        what `make`, `make check` and `make fuzz` need
#   ci/deps.sh afl    AFL++ as well (`ENGINE=afl make fuzz`): kept apart, `make deps` stays small
#   ci/deps.sh bench  the compute benchmarks' peers and plot as well (`make bench`)
set -euo pipefail
packages=(
  clang-16 libclang-rt-16-dev llvm-16  # libFuzzer, sanitizers, llvm-symbolizer, coverage
  libjansson-dev                       # JSON for the spec runner (cli/wast)
  libcmocka-dev                        # unit tests
  wabt                                 # wast2json, wasm-interp, spectest-interp: the reference
  binaryen                             # wasm-opt -ttf: generated modules
  zip                                  # seed corpora archives for build.sh
  nodejs                               # V8, the second-opinion oracle; node's WASI
  wasi-libc libclang-rt-16-dev-wasm32 lld-16  # C to wasm32-wasi: the real-program tests
)
case ${1:-} in
'') ;;
afl) packages+=(afl++ libclang-rt-14-dev) ;;  # afl-clang-fast wraps clang-14: its ASan runtime
bench) packages+=(python3 python3-matplotlib) ;;  # the table and its plot
*) echo "usage: ci/deps.sh [afl|bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "wafer needs these Debian packages: ${missing[*]}" >&2
  echo "run as root: apt-get update && $cmd" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd >/dev/null
