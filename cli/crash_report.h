/* Reading a fuzz target's crash output (a sanitizer report, a libFuzzer error, a broken invariant)
 * for the two facts `wafer repro` shows: the report's first line, and a stack signature that
 * names the crash independently of addresses, process ids and line numbers.
 */
#ifndef WAFER_CLI_CRASH_REPORT_H
#define WAFER_CLI_CRASH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

enum { CRASH_LINE_MAX = 240, CRASH_SIGNATURE_FRAMES = 3, CRASH_SIGNATURE_MAX = 256 };

typedef struct crash_report {
    bool found;                       /* the output holds a recognised report */
    char first_line[CRASH_LINE_MAX];  /* without the "==PID==" prefix; "" when !found */
    char signature[CRASH_SIGNATURE_MAX];
} crash_report;

/* Reads output (stdout and stderr of one run, NUL-terminated). The signature is the function
 * names of the first stack's top frames in runtime/ (the code under test), innermost first and
 * joined by " < "; without such frames, the top frames in fuzz_targets/ or oracles/; without
 * those, "(no stack)". */
void crash_report_read(const char *output, crash_report *out);

#endif
