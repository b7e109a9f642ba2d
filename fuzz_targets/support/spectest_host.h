/* The spec test suite's host module "spectest" (spec interpreter/host/spectest.ml), for running
 * spec scripts inside fuzz targets: print functions that print nothing, the globals global_i32,
 * global_i64 (666), global_f32, global_f64 (666.6), a funcref table of 10..20 elements and a
 * memory of 1..2 pages.
 */
#ifndef WAFER_SPECTEST_HOST_H
#define WAFER_SPECTEST_HOST_H

#include <stdbool.h>

#include "wafer.h"

/* Makes each of the module's objects in store and hands it to add with its name (a static
 * string). False as soon as the store refuses one or add returns false. */
bool spectest_host_make(wafer_store *store,
                        bool (*add)(void *env, const char *name, wafer_extern ext), void *env);

#endif
