/* The observable state of an instance, export by export, so that two instances of one module can
 * be compared: a fresh instance must look exactly like another fresh one, whatever ran in the
 * engine in between (a reused pool slot, a reset memory image: DESIGN.md invariants 1 and 5).
 *
 * Per export, in export order: a memory's size in pages and a hash of its bytes; a global's type
 * and value (a reference only as null or not: two instances never share functions or host
 * objects); a table's size and which of its elements (the first 4096) are null.
 * Functions are not recorded.
 */
#ifndef WAFER_FUZZ_SNAPSHOT_H
#define WAFER_FUZZ_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wafer.h"

typedef struct fuzz_export_state fuzz_export_state;

typedef struct fuzz_snapshot {
    fuzz_export_state *exports;
    size_t count;
} fuzz_snapshot;

/* Reads the instance's state; false only when memory runs out (nothing to free then). */
bool fuzz_snapshot_take(const wafer_instance *instance, fuzz_snapshot *out);
void fuzz_snapshot_free(fuzz_snapshot *snapshot);

/* Whether a and b differ; if so, the first difference in words into why. */
bool fuzz_snapshot_differ(const fuzz_snapshot *a, const fuzz_snapshot *b, char *why,
                          size_t why_size);

#endif
