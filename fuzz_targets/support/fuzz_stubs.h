/* Stand-ins for any module's imports, so that every module that compiles can be instantiated:
 * functions that return zeros of their result types, and memories, tables and globals made to
 * the imported types (tables filled with null, globals holding zero).
 */
#ifndef WAFER_FUZZ_STUBS_H
#define WAFER_FUZZ_STUBS_H

#include <stdbool.h>
#include <stddef.h>

#include "wafer.h"

/* A zero of the type (null for references). */
wafer_value fuzz_zero_value(wafer_valtype type);

/* Makes one stand-in per import of module in store, into a calloc'd array of
 * wafer_module_import_count(module) externs (*out, at least one element, freed by the caller).
 * False, with nothing in *out, when the store refuses one (a type over the engine's limits) or
 * memory runs out: the module cannot be instantiated here, which is not a finding. What was made
 * belongs to the store. */
bool fuzz_stub_imports(wafer_store *store, const wafer_module *module, wafer_extern **out);

#endif
