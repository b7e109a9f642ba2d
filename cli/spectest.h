/* The spec test suite's host module "spectest", as the reference interpreter defines it
 * (spec interpreter/host/spectest.ml): print functions, four constant globals (666 and 666.6),
 * a funcref table of 10..20 elements and a memory of 1..2 pages.
 */
#ifndef WAFER_CLI_SPECTEST_H
#define WAFER_CLI_SPECTEST_H

#include <stdio.h>

#include "export_map.h"
#include "wafer.h"

/* Makes the module's objects in store and adds them to map. The print functions write what they
 * were given to log, as spectest-interp does ("called host spectest.print_i32(i32:1) =>").
 * NULL on success; otherwise a static description of what could not be made. */
const char *spectest_instantiate(wafer_store *store, FILE *log, export_map *map);

#endif
