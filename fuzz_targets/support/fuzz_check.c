/* Findings other than crashes: see fuzz_check.h. */
#include "fuzz_check.h"

#include <stdio.h>

void fuzz_broken_invariant(const char *what, const char *detail) {
    fprintf(stderr, "broken invariant: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    fflush(stderr);
    __builtin_trap();
}

static bool is_error_kind(wafer_error_kind kind) {
    return kind >= WAFER_ERROR_MALFORMED && kind <= WAFER_ERROR_USAGE;
}

void fuzz_check_error(const wafer_error *err) {
    const char *message = wafer_error_message(err);
    if (!message || !message[0]) fuzz_broken_invariant("error with an empty message", NULL);
    wafer_error_kind kind = wafer_error_kind_of(err);
    if (!is_error_kind(kind)) fuzz_broken_invariant("error of unknown kind", message);
    bool has_trap_kind = wafer_error_trap_kind(err) != WAFER_TRAP_NONE;
    if ((kind == WAFER_ERROR_TRAP) != has_trap_kind)
        fuzz_broken_invariant("error kind and trap kind disagree", message);
}

bool fuzz_failed(wafer_error *err) {
    if (!err) return false;
    fuzz_check_error(err);
    wafer_error_free(err);
    return true;
}
