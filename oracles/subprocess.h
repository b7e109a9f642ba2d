/* Running a reference engine as a child process with a time limit and a memory limit, feeding
 * it input and collecting its output, for the adapters that drive command-line engines.
 */
#ifndef WAFER_ORACLE_SUBPROCESS_H
#define WAFER_ORACLE_SUBPROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct subprocess_limits {
    unsigned time_ms;      /* wall-clock; the child is killed (SIGKILL) when it runs longer */
    unsigned idle_ms;      /* killed likewise after this long without output; 0: no such limit */
    size_t max_output;     /* killed when stdout and stderr together exceed this; 0: no limit */
    uint64_t memory_bytes; /* RLIMIT_AS of the child; 0: none */
} subprocess_limits;

typedef enum subprocess_end {
    SUBPROCESS_EXITED,    /* status is the exit code */
    SUBPROCESS_SIGNALED,  /* status is the signal (SIGABRT for a failed assertion, ...) */
    SUBPROCESS_TIMED_OUT, /* killed at the time limit or the idle limit */
    SUBPROCESS_TOO_MUCH_OUTPUT, /* killed at max_output; out and err hold what came before */
} subprocess_end;

typedef struct subprocess_result {
    subprocess_end end;
    int status;
    char *out; /* stdout, NUL-terminated (it may hold other NULs; out_len counts them) */
    size_t out_len;
    char *err; /* stderr, likewise */
    size_t err_len;
} subprocess_result;

/* Runs argv (argv[0] searched in PATH) with input on its stdin (may be NULL: empty stdin), its
 * stdout line-buffered (through coreutils' stdbuf, when present, so that what a crashing child
 * printed is not lost in its stdio buffer). False, with the reason in why, only when the child
 * could not be started or collected; a child that fails in any way is a true result. */
bool subprocess_run(char *const argv[], const uint8_t *input, size_t input_len,
                    const subprocess_limits *limits, subprocess_result *out, char *why,
                    size_t why_size);
void subprocess_result_free(subprocess_result *result);
/* Whether `tool --version` runs and exits 0 within 10 s; if not, why says so, naming `needs`
 * (what to install). */
bool subprocess_tool_works(const char *tool, const char *needs, char *why, size_t why_size);

#endif
