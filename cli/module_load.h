/* Loading a module from a file for the commands: a wasm binary is compiled, a precompiled module
 * (`wafer compile`, recognised by its magic) is loaded by mapping it.
 */
#ifndef WAFER_CLI_MODULE_LOAD_H
#define WAFER_CLI_MODULE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "wafer.h"

/* bytes (len) are the contents of path, already read. */
wafer_error *module_load(wafer_engine *engine, const char *path, const uint8_t *bytes, size_t len,
                         wafer_module **out);

/* Replaces *module with the result of serialising it to a temporary file and loading that back:
 * for running the spec suite through precompiled modules (WAFER_WAST_PRECOMPILE=1). */
wafer_error *module_round_trip(wafer_engine *engine, wafer_module **module);

#endif
