/* Host objects that count their own drops, for the externref GC invariants (the table_ops target,
 * issue 5): every object gets the next id, and its finalizer records that it was dropped.
 *
 * What it promises: drop_counter_check finds every way the runtime can get an object's life wrong
 * that the counts can see: an object never dropped (a leak), dropped twice (a double free, which
 * ASan also reports), or an id that was never made. Objects carry a magic number, so a reference
 * to freed or foreign memory read back through drop_counter_id is caught rather than trusted.
 */
#ifndef WAFER_FUZZ_DROP_COUNTER_H
#define WAFER_FUZZ_DROP_COUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wafer.h"

typedef struct drop_counter {
    uint32_t created;
    uint32_t dropped;
    uint8_t *drops; /* per id: times dropped */
    uint32_t capacity;
} drop_counter;

void drop_counter_init(drop_counter *c);
void drop_counter_free(drop_counter *c);
/* A new object with id c->created (then incremented), as a reference the caller owns. NULL if
 * memory ran out. */
wafer_externref *drop_counter_make(drop_counter *c);
/* The id of an object made here; -1 for null; -2 for a reference that is not a live object of
 * this counter (its magic is wrong, or it was dropped). */
int64_t drop_counter_id(const drop_counter *c, const wafer_externref *ref);
/* Whether every object made was dropped exactly once; if not, why in `why`. */
bool drop_counter_check(const drop_counter *c, char *why, size_t why_size);

#endif
