# Sourced by tests/wasi_programs.sh and tests/wasi_yosys.sh: runs one WASI command under
# `wafer run --wasi` and under node's WASI (tests/wasi_programs/node_wasi.mjs, which takes wafer's
# command line) and compares what a user would see.
#
#   wasi_compare NAME STATUS STDIN SEED [ENGINE_ARGS...]
#
# ENGINE_ARGS are given to both engines as they are, except that @DIR@ becomes that engine's own
# fresh copy of the directory SEED ("-": an empty one) and @TMP@ a fresh empty directory. STDIN is
# a file, or pipe:FILE for the file's bytes through a pipe (reads then return what the pipe has).
# $WAFER_RUN_FLAGS, if set, go to wafer alone, before --wasi (its configuration flags). With
# WASI_STDERR_DIFFERS=1 (programs that trap: each engine words its trap its own way) stderr must
# only be non-empty in both; with WASI_EXPECT_OUT=FILE stdout must also equal FILE. The case
# passes when both exit with STATUS and print the same stdout and stderr, and the two copies of
# SEED end the same (names, kinds, link targets, sizes and contents). Needs $WAFER and $WORK set;
# counts into $passed and $failed.

NODE_WASI=(node --no-warnings "$(dirname "${BASH_SOURCE[0]}")/wasi_programs/node_wasi.mjs")
WASI_TIMEOUT=${WASI_TIMEOUT:-300}
passed=0
failed=0

# What a directory holds, one line per entry, in an order that does not depend on the host.
tree_of() {
  (cd "$1" && find . -mindepth 1 -printf '%y %p %l\n' | LC_ALL=C sort &&
   find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# Runs one engine for the case; leaves out, err, status and tree in $WORK/NAME/ENGINE/.
run_engine() {
  local name=$1 engine=$2 stdin=$3 seed=$4
  shift 4
  local at=$WORK/$name/$engine
  rm -rf "$at" && mkdir -p "$at/tmp"
  if [ "$seed" = - ]; then mkdir "$at/dir"; else cp -a "$seed" "$at/dir"; fi
  local args=() a
  for a in "$@"; do a=${a//@DIR@/$at/dir}; args+=("${a//@TMP@/$at/tmp}"); done
  local cmd status
  if [ "$engine" = wafer ]; then
    read -ra cmd <<<"${WAFER_RUN_FLAGS:-}"
    cmd=("$WAFER" run "${cmd[@]}" --wasi)
  else
    cmd=("${NODE_WASI[@]}")
  fi
  if [[ $stdin == pipe:* ]]; then
    cat "${stdin#pipe:}" | timeout "$WASI_TIMEOUT" "${cmd[@]}" "${args[@]}" >"$at/out" 2>"$at/err"
    status=${PIPESTATUS[1]}
  else
    timeout "$WASI_TIMEOUT" "${cmd[@]}" "${args[@]}" <"$stdin" >"$at/out" 2>"$at/err"
    status=$?
  fi
  echo "$status" >"$at/status"
  tree_of "$at/dir" >"$at/tree"
}

wasi_compare() {
  local name=$1 status=$2 stdin=$3 seed=$4
  shift 4
  run_engine "$name" wafer "$stdin" "$seed" "$@"
  run_engine "$name" node "$stdin" "$seed" "$@"
  local w=$WORK/$name/wafer n=$WORK/$name/node why=() part
  [ "$(cat "$w/status")" = "$status" ] || why+=("wafer exited $(cat "$w/status"), not $status")
  [ "$(cat "$n/status")" = "$status" ] || why+=("node exited $(cat "$n/status"), not $status")
  local parts=(out err tree)
  if [ "${WASI_STDERR_DIFFERS:-0}" = 1 ]; then
    parts=(out tree)
    [ -s "$w/err" ] && [ -s "$n/err" ] || why+=("stderr empty")
  fi
  for part in "${parts[@]}"; do
    cmp -s "$w/$part" "$n/$part" || why+=("$part differs")
  done
  if [ -n "${WASI_EXPECT_OUT:-}" ] && ! cmp -s "$w/out" "$WASI_EXPECT_OUT"; then
    why+=("stdout is not $WASI_EXPECT_OUT's")
  fi
  if [ ${#why[@]} -eq 0 ]; then
    passed=$((passed + 1))
    printf 'ok   %-22s %s lines out, %s lines err\n' "$name" "$(wc -l <"$w/out")" "$(wc -l <"$w/err")"
    return
  fi
  failed=$((failed + 1))
  local IFS=';'
  echo "FAIL $name: ${why[*]} (wafer then node in ${w%/*})"
  for part in "${parts[@]}"; do
    cmp -s "$w/$part" "$n/$part" || diff "$w/$part" "$n/$part" | head -n 10 | sed 's/^/     /'
  done
  for part in wafer node; do
    [ -s "$WORK/$name/$part/err" ] && tail -n 3 "$WORK/$name/$part/err" | sed "s/^/     $part err: /"
  done
  return 0
}
