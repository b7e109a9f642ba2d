/* Drop-counting host objects: see drop_counter.h. */
#include "support/drop_counter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJECT_MAGIC 0x0B1EC7u

typedef struct counted_object {
    uint32_t magic;
    uint32_t id;
    drop_counter *counter;
} counted_object;

void drop_counter_init(drop_counter *c) { memset(c, 0, sizeof *c); }

void drop_counter_free(drop_counter *c) {
    free(c->drops);
    memset(c, 0, sizeof *c);
}

static void object_drop(void *data) {
    counted_object *o = data;
    drop_counter *c = o->counter;
    if (o->id < c->capacity && c->drops[o->id] < UINT8_MAX) c->drops[o->id]++;
    c->dropped++;
    o->magic = 0;
    free(o);
}

wafer_externref *drop_counter_make(drop_counter *c) {
    if (c->created == c->capacity) {
        uint32_t capacity = c->capacity ? c->capacity * 2 : 64;
        uint8_t *drops = realloc(c->drops, capacity);
        if (!drops) return NULL;
        memset(drops + c->capacity, 0, capacity - c->capacity);
        c->drops = drops;
        c->capacity = capacity;
    }
    counted_object *o = malloc(sizeof *o);
    if (!o) return NULL;
    *o = (counted_object){OBJECT_MAGIC, c->created, c};
    wafer_externref *ref = wafer_externref_new(o, object_drop);
    if (!ref) {
        free(o);
        return NULL;
    }
    c->created++;
    return ref;
}

int64_t drop_counter_id(const drop_counter *c, const wafer_externref *ref) {
    if (!ref) return -1;
    const counted_object *o = wafer_externref_data(ref);
    if (!o || o->magic != OBJECT_MAGIC || o->counter != c || o->id >= c->created ||
        c->drops[o->id] != 0)
        return -2;
    return o->id;
}

bool drop_counter_check(const drop_counter *c, char *why, size_t why_size) {
    for (uint32_t id = 0; id < c->created; id++) {
        if (c->drops[id] != 1) {
            snprintf(why, why_size, "object %u of %u was dropped %u times", id, c->created,
                     c->drops[id]);
            return false;
        }
    }
    if (c->dropped != c->created) {
        snprintf(why, why_size, "%u objects made, %u drops", c->created, c->dropped);
        return false;
    }
    return true;
}
