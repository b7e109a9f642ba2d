/* Crash output, read: see crash_report.h. */
#include "crash_report.h"

#include <stdio.h>
#include <string.h>

/* A line that opens a report: sanitizers' ERROR and WARNING lines (not their DEADLYSIGNAL
 * banners, which an ERROR line follows), UBSan's runtime errors, libFuzzer's own errors (deadly
 * signal, timeout, out-of-memory, leak) and the fuzz targets' broken invariants. */
static bool opens_report(const char *line, size_t len) {
    char text[CRASH_LINE_MAX * 2];
    snprintf(text, sizeof text, "%.*s", (int)len, line);
    if (strstr(text, "Sanitizer") && (strstr(text, "ERROR: ") || strstr(text, "WARNING: ")))
        return true;
    return strstr(text, "runtime error: ") || strstr(text, "ERROR: libFuzzer: ") ||
           strstr(text, "broken invariant: ");
}

static size_t line_length(const char *line) { return strcspn(line, "\n"); }

static const char *next_line(const char *line) {
    const char *end = line + line_length(line);
    return *end ? end + 1 : NULL;
}

static bool is_frame(const char *line, size_t len) {
    size_t i = strspn(line, " \t");
    return i + 1 < len && line[i] == '#' && line[i + 1] >= '0' && line[i + 1] <= '9';
}

/* A stack frame "    #N 0xADDR in FUNCTION LOCATION": its function and location; false for a
 * frame without a symbol ("    #N 0xADDR  (MODULE+0xOFFSET)"). */
static bool read_frame(const char *line, size_t len, char *function, size_t function_size,
                       char *location, size_t location_size) {
    const char *in = strstr(line, " in ");
    if (!in || in >= line + len) return false;
    const char *name = in + 4;
    size_t name_len = strcspn(name, " \n");
    if (name + name_len > line + len) return false;
    snprintf(function, function_size, "%.*s", (int)name_len, name);
    const char *where = name + name_len;
    snprintf(location, location_size, "%.*s", (int)(line + len - where), where);
    return true;
}

/* Joins the names of the first CRASH_SIGNATURE_FRAMES frames of the stack starting at stack
 * whose location contains one of places; false when none does. */
static bool sign_stack(const char *stack, const char *const places[], size_t nplaces,
                       char *signature, size_t size) {
    size_t used = 0, frames = 0;
    bool in_stack = false;
    signature[0] = '\0';
    for (const char *line = stack; line && frames < CRASH_SIGNATURE_FRAMES;
         line = next_line(line)) {
        size_t len = line_length(line);
        char function[128], location[512];
        if (!is_frame(line, len)) {
            if (in_stack) break; /* the first stack ended */
            continue;
        }
        in_stack = true;
        if (!read_frame(line, len, function, sizeof function, location, sizeof location)) continue;
        bool ours = false;
        for (size_t p = 0; p < nplaces && !ours; p++) ours = strstr(location, places[p]) != NULL;
        if (!ours) continue;
        int n = snprintf(signature + used, size - used, "%s%s", frames ? " < " : "", function);
        if (n < 0 || (size_t)n >= size - used) break;
        used += (size_t)n;
        frames++;
    }
    return frames > 0;
}

void crash_report_read(const char *output, crash_report *out) {
    memset(out, 0, sizeof *out);
    const char *report = NULL;
    for (const char *line = output; line; line = next_line(line)) {
        if (opens_report(line, line_length(line))) {
            report = line;
            break;
        }
    }
    if (!report) {
        snprintf(out->signature, sizeof out->signature, "(no stack)");
        return;
    }
    out->found = true;
    size_t len = line_length(report);
    /* Sanitizers start their lines with "==PID==", which differs on every run. */
    if (report[0] == '=' && report[1] == '=') {
        const char *end = strstr(report + 2, "==");
        if (end && end < report + len) {
            len -= (size_t)(end + 2 - report);
            report = end + 2;
        }
    }
    /* ASan's "... on address 0x... at pc 0x... bp 0x... sp 0x...": the registers differ on
     * every run and say nothing a reader of the first line needs. */
    const char *registers = strstr(report, " at pc 0x");
    if (registers && registers < report + len) len = (size_t)(registers - report);
    snprintf(out->first_line, sizeof out->first_line, "%.*s", (int)len, report);
    static const char *const runtime[] = {"runtime/src/", "runtime/include/"};
    static const char *const harness[] = {"fuzz_targets/", "oracles/"};
    if (!sign_stack(report, runtime, 2, out->signature, sizeof out->signature) &&
        !sign_stack(report, harness, 2, out->signature, sizeof out->signature))
        snprintf(out->signature, sizeof out->signature, "(no stack)");
}
