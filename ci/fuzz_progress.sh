# shellcheck shell=bash
# The live progress of a campaign (ci/fuzz_local.sh), sourced: a block of status lines redrawn in
# place on a terminal, and printed whole every $FUZZ_PROGRESS_SECONDS (default 10) otherwise, so a
# log or a CI page shows the same lines without control codes; and event lines (a finding, a
# target done) printed above the block as they happen.

progress_tty=0
[ -t 1 ] && [ "${TERM:-dumb}" != dumb ] && progress_tty=1
progress_every=${FUZZ_PROGRESS_SECONDS:-10}
progress_drawn=0      # lines of the block now on the terminal
progress_last_print=0 # when the block was last printed, off a terminal

# progress_bar DONE TOTAL WIDTH: "[#####.....]", DONE of TOTAL.
progress_bar() {
  local done=$1 total=$2 width=$3 filled
  [ "$total" -gt 0 ] || total=1
  [ "$done" -le "$total" ] || done=$total
  filled=$((done * width / total))
  printf '[%s%s]' "$(printf '%*s' "$filled" '' | tr ' ' '#')" \
    "$(printf '%*s' $((width - filled)) '' | tr ' ' '.')"
}

# progress_clear: takes the block off the terminal (nothing off one).
progress_clear() {
  if [ "$progress_tty" = 1 ] && [ "$progress_drawn" -gt 0 ]; then
    printf '\033[%dA\033[J' "$progress_drawn"
  fi
  progress_drawn=0
}

# progress_event TEXT: one line that stays, above the block.
progress_event() {
  progress_clear
  echo "$1"
}

# progress_draw LINE...: shows the block: redrawn on a terminal, printed every progress_every
# seconds otherwise (and always with --force as the first argument).
progress_draw() {
  local force=0 now
  [ "${1:-}" = --force ] && { force=1; shift; }
  if [ "$progress_tty" = 1 ]; then
    # Lines cut to the terminal's width: a wrapped line would spoil the next redraw.
    local cols
    cols=$(tput cols 2>/dev/null || echo 100)
    progress_clear
    printf '%s\n' "$@" | cut -c "1-$cols"
    progress_drawn=$#
    return
  fi
  now=$(date +%s)
  if [ "$force" = 1 ] || [ $((now - progress_last_print)) -ge "$progress_every" ]; then
    printf '%s\n' "$@"
    progress_last_print=$now
  fi
}
