/* Fitting a module to binaryen's fuzz-exec harness (wasm-opt --fuzz-exec-before), which runs
 * every exported function much as the invocation protocol does, but differs from it in three
 * ways that a rewritten copy of the module undoes:
 *
 * - Its log lines do not say which import was called: an import of module "fuzzing-support"
 *   prints "[LoggingExternalInterface logging ARGS]", env.log_execution prints
 *   "[LoggingExternalInterface log-execution ARGS]", and nothing else is logged. Each variant
 *   (run) of the module renames function import k into one of those two channels by bit `run` of
 *   k; the channels a log line came through across the runs, and the shape of its arguments,
 *   name the import. binaryen_plan says how many runs are needed at most.
 * - It reports neither exported globals nor memories. Each variant appends one getter export per
 *   exported global (global.get, or ref.is_null of a reference) and per exported memory
 *   (memory.size), after every other export, so binaryen calls them after the protocol's last
 *   call and prints their results.
 * - It calls hangLimitInitializer as an export too. That is harmless only when its body just
 *   stores constants into globals that are not exported; other modules are refused.
 *
 * Custom sections are dropped from the variants (binaryen reads features and names from them).
 * What the harness cannot do at all makes the plan `unsupported` (inconclusive: feature):
 * imported memories, tables or globals (it links nothing), imported functions with results (it
 * returns nothing from them), more than one memory (binaryen 108 lacks multi-memory).
 */
#ifndef WAFER_ORACLE_BINARYEN_MODULE_H
#define WAFER_ORACLE_BINARYEN_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module_facts.h"

/* An appended getter export: what it reports, and how. */
typedef struct binaryen_getter {
    uint32_t export_index; /* the exported global or memory, as an index into facts.exports */
    uint8_t result;        /* the getter's result type: the global's, or i32 / i64 */
    bool is_null_test;     /* the global is a reference; the getter returns ref.is_null of it */
    char name[32];         /* its export name, unlike any of the module's */
} binaryen_getter;

typedef struct binaryen_plan {
    module_facts facts;
    /* Set when binaryen's harness cannot run this module under the protocol: why, for the
     * inconclusive line. Nothing below is meaningful then. */
    const char *unsupported;
    char unreadable[160]; /* where unsupported points when the module could not be read */
    uint32_t nfunc_imports; /* the first nfunc_imports entries of facts.imports (all of them) */
    uint32_t runs;          /* variants that together tell every import apart */
    bool has_hang_limit;    /* hangLimitInitializer is exported (and is harmless) */
    uint32_t hang_export;   /* its index into facts.exports */
    binaryen_getter *getters;
    uint32_t ngetters;
} binaryen_plan;

/* Reads bytes (which must outlive the plan) and decides how to run them. False, with the reason
 * in why, only when memory runs out; a module that cannot be read is `unsupported`. */
bool binaryen_plan_make(const uint8_t *bytes, size_t len, binaryen_plan *plan, char *why,
                        size_t why_size);
void binaryen_plan_free(binaryen_plan *plan);

/* The channel of function import k in variant run: true for env.log_execution, false for
 * fuzzing-support. */
bool binaryen_channel_b(uint32_t import, uint32_t run);

/* The variant for run (0 <= run < plan->runs), malloc'd into *out. False if memory ran out. */
bool binaryen_variant(const uint8_t *bytes, size_t len, const binaryen_plan *plan, uint32_t run,
                      uint8_t **out, size_t *out_len);

#endif
