/* Instantiating any module the way fuzz targets do: every import a stand-in (fuzz_stubs.h), the
 * instantiation (segments, start function) run under a budget.
 */
#ifndef WAFER_FUZZ_INSTANTIATE_H
#define WAFER_FUZZ_INSTANTIATE_H

#include "fuzz_engine.h"
#include "wafer.h"

typedef enum fuzz_instantiated {
    FUZZ_INSTANTIATED,     /* *out is the instance */
    FUZZ_NO_STUBS,         /* the store refused a stand-in import (over the engine's limits) */
    FUZZ_NOT_INSTANTIATED, /* wafer_instance_new failed (its error is checked and freed) */
} fuzz_instantiated;

/* Instantiates module in store. On success the instance must be one (non-NULL, of this module),
 * else a broken invariant. trap (may be NULL) receives the trap kind of a failure that was a trap
 * (WAFER_TRAP_NONE otherwise), err_kind (may be NULL) the failure's error kind. */
fuzz_instantiated fuzz_instantiate(wafer_store *store, wafer_module *module,
                                   const fuzz_budget *budget, wafer_instance **out,
                                   wafer_error_kind *err_kind, wafer_trap_kind *trap);

#endif
