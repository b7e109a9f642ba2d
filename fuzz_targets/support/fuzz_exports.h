/* Running an instance the way every fuzz target does: check that its exports are the module's,
 * read each exported table, memory and global through the host API, and call each exported
 * function, in export order, under a budget. Traps and other errors of calls are expected; what
 * is checked is listed beside each function, and a violation is a broken invariant
 * (fuzz_check.h).
 */
#ifndef WAFER_FUZZ_EXPORTS_H
#define WAFER_FUZZ_EXPORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "support/shape_input.h"
#include "fuzz_engine.h"
#include "wafer.h"

typedef struct fuzz_calls {
    fuzz_budget per_call;    /* set before each call */
    bool fuel;               /* the engine consumes fuel: per_input counts it */
    uint64_t fuel_per_input; /* under fuel, no call starts once the calls spent this much */
    size_t max_calls;        /* no call starts after this many */
    shape_input *args;       /* NULL: zero arguments; else arguments drawn from these bytes */
} fuzz_calls;

/* Reads an exported table, memory or global, which must agree with the type the module declares
 * for it: a table's size within its limits and every element read (the first 256; through the
 * lazy-initialisation path, DESIGN.md invariant 6) of its type, and a read one past its end
 * refused; a memory's size within its limits, its bytes matching its pages, its data present; a
 * global's type and value type as declared. Functions are not touched. */
void fuzz_inspect_export(wafer_extern ext, const wafer_export_desc *desc);

/* Checks that the instance has the module's exports (count, names, kinds; functions of their
 * declared types), inspects the others and calls the functions within calls' limits. A call that
 * returns must return values of its result types; under fuel, a call never ends with more fuel
 * than it began with. Returns the number of calls made. */
size_t fuzz_run_exports(wafer_store *store, const wafer_module *module,
                        const wafer_instance *instance, const fuzz_calls *calls);

#endif
