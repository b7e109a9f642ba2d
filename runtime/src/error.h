/* Making errors. Every error is a heap object with a kind, a trap kind for traps, and a message;
 * wafer_error_free releases it. Allocation failure while making an error yields a static
 * "out of memory" error that wafer_error_free recognises, so callers always get a value.
 */
#ifndef WAFER_ERROR_H
#define WAFER_ERROR_H

#include "wafer.h"

struct wafer_error {
    wafer_error_kind kind;
    wafer_trap_kind trap;
    char message[];
};

#if defined(__GNUC__)
#define WAFER_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WAFER_PRINTF(fmt, args)
#endif

wafer_error *error_new(wafer_error_kind kind, const char *fmt, ...) WAFER_PRINTF(2, 3);
wafer_error *error_trap(wafer_trap_kind trap);
/* A new error of the same kind whose message is prefix + ": " + the old message; frees err. */
wafer_error *error_wrap(wafer_error *err, const char *prefix);

#endif
