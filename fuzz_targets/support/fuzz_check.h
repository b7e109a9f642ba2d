/* What every fuzz target treats as a finding besides crashes and sanitizer reports: a broken
 * invariant of the public API (wafer.h), reported on stderr and turned into a trap so that the
 * fuzzer keeps the input.
 */
#ifndef WAFER_FUZZ_CHECK_H
#define WAFER_FUZZ_CHECK_H

#include <stdbool.h>

#include "wafer.h"

/* Prints "broken invariant: WHAT[: DETAIL]" and traps. detail may be NULL. */
_Noreturn void fuzz_broken_invariant(const char *what, const char *detail);

/* Every error says what went wrong, has a known kind, and carries a trap kind exactly when it is
 * a trap; a violation is a broken invariant. */
void fuzz_check_error(const wafer_error *err);

/* Checks err (if any) as above and frees it; returns whether there was one. */
bool fuzz_failed(wafer_error *err);

#endif
