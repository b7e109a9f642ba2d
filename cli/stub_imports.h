/* Stand-ins for every import of a module, so `wafer run` can instantiate anything: an imported
 * function logs its call and returns zeros (the log line is wasm-interp's, from
 * --dummy-import-func: "called host MODULE.NAME(ARGS) => RESULTS"); imported memories, tables and
 * globals are created to the declared types, holding zeros and nulls.
 */
#ifndef WAFER_CLI_STUB_IMPORTS_H
#define WAFER_CLI_STUB_IMPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "wafer.h"

/* On success *out is a malloc'd array of one extern per import, in import order (the objects
 * belong to the store; the caller frees the array). Function stubs write their log to log.
 * On failure returns false with the reason in why. */
bool stub_imports_new(wafer_store *store, const wafer_module *module, FILE *log,
                      wafer_extern **out, char *why, size_t why_size);
/* The same as engine host functions (wafer_func_new_engine_host), for a store-less
 * wafer_instance_pre; only for a module that imports nothing but functions (else false). Stubs
 * made before a failure stay with the engine until it is deleted. */
bool stub_imports_new_for_engine(wafer_engine *engine, const wafer_module *module, FILE *log,
                                 wafer_extern **out, char *why, size_t why_size);

#endif
