/* A long-lived child process that answers requests: the caller writes a request to its stdin and
 * reads its stdout up to an end line, with a time limit per exchange. For engines that are slow
 * to start (node) and so serve a whole batch of modules from one process.
 *
 * What it promises:
 * - Whatever the child does (hang, die, print garbage, stop reading), an exchange ends by its
 *   deadline and says how it ended; a child that timed out is killed, so the next exchange needs
 *   a fresh start.
 * - The reply keeps every complete line the child wrote before it ended, also when it died or
 *   was killed, so observations made before a crash are not lost.
 * - No signal reaches the caller: the request travels over a socket written with MSG_NOSIGNAL.
 */
#ifndef WAFER_ORACLE_COPROCESS_H
#define WAFER_ORACLE_COPROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct coprocess {
    pid_t pid;    /* 0 when not running */
    int in_fd;    /* the child's stdin (a socket) */
    int out_fd;   /* the child's stdout */
    int err_fd;   /* the child's stderr */
    char err_tail[1024]; /* the last bytes of its stderr, NUL-terminated */
    size_t err_len;
} coprocess;

typedef enum coprocess_end {
    COPROCESS_REPLIED,   /* the end line arrived */
    COPROCESS_TIMED_OUT, /* the deadline passed; the child was killed */
    COPROCESS_DIED,      /* the child exited or was killed by a signal; see status */
} coprocess_end;

typedef struct coprocess_reply {
    coprocess_end end;
    int status;  /* COPROCESS_DIED: the wait status (WIFEXITED / WIFSIGNALED ...) */
    char *text;  /* the complete lines before the end line, NUL-terminated; the caller frees it */
    size_t len;
} coprocess_reply;

/* Starts argv (argv[0] searched in PATH). False, with the reason in why, if it cannot be
 * started (a failed exec is detected here, not at the first exchange). */
bool coprocess_start(coprocess *cp, char *const argv[], char *why, size_t why_size);

/* Writes request and reads until a line equal to end_line, at most time_ms in all. False, with
 * the reason in why, only when memory runs out (the child is then stopped). */
bool coprocess_exchange(coprocess *cp, const uint8_t *request, size_t request_len,
                        const char *end_line, unsigned time_ms, coprocess_reply *reply,
                        char *why, size_t why_size);

/* Kills the child if it runs, reaps it, closes its pipes. Safe to call twice. */
void coprocess_stop(coprocess *cp);

#endif
