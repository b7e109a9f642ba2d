/* Externrefs and their collection (DESIGN.md invariant 7), after Wasmtime's 2022 design.
 *
 * A reference's count has one unit per holder that outlives a wasm frame: the host (each
 * reference it made, cloned or was given), each table element and global holding it, and each
 * entry of a store's activation table. Wasm frames hold references without counting them; a
 * reference may enter a frame only through the activation table (arguments from the host,
 * table.get, global.get, results of host calls), so while it is in a frame some entry keeps it.
 *
 * The activation table is a bump chunk of entries plus the precise set the last collection found.
 * A collection walks every wasm frame of the store, reads the slots its stack map at the frame's
 * safepoint lists (code.h), makes the references found there the new precise set, and releases
 * the chunk and the old set. It runs when the chunk is full, when the host asks
 * (wafer_store_gc), and before host calls when the engine's config says so. Whatever is inserted
 * is first held by someone else (a table, a global, the host, or the caller handing over its
 * count), so the collection an insertion may run can never free it.
 *
 * Debug builds (WAFER_DEBUG_CHECKS, and fuzzing builds) check at each collection that every
 * reference found in a frame is in the table; every build aborts on a count going below zero,
 * and debug builds poison a released reference before freeing it.
 */
#include "planted.h"
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(WAFER_DEBUG_CHECKS) || defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
#define EXTERNREF_DEBUG 1
#else
#define EXTERNREF_DEBUG 0
#endif

/* Entries in a store's first chunk; enough for the references of ordinary code between
 * collections, small enough that a store touching one externref allocates little. */
#define ACTIVATION_CHUNK 512

/* A collection cannot proceed and the store's references would be unsafe to keep using. */
static void fatal(const char *what) {
    fprintf(stderr, "wafer: fatal: %s\n", what);
    abort();
}

/* ---- Counts ----------------------------------------------------------------------------- */

void externref_retain(wafer_externref *ref) {
    if (ref) __atomic_fetch_add(&ref->refcount, 1, __ATOMIC_RELAXED);
}

void externref_release(wafer_externref *ref) {
    if (!ref) return;
    uint64_t before = __atomic_fetch_sub(&ref->refcount, 1, __ATOMIC_ACQ_REL);
    if (before == 0) fatal("an externref was released more often than it was held");
    if (before != 1) return;
    if (ref->finalize) ref->finalize(ref->data);
    if (EXTERNREF_DEBUG) memset(ref, 0xA5, sizeof *ref); /* a later use reads garbage, loudly */
    free(ref);
}

/* ---- The public API ----------------------------------------------------------------------- */

wafer_externref *wafer_externref_new(void *data, void (*finalize)(void *)) {
    wafer_externref *ref = malloc(sizeof *ref);
    if (!ref) return NULL;
    ref->refcount = 1;
    ref->data = data;
    ref->finalize = finalize;
    return ref;
}

wafer_externref *wafer_externref_clone(wafer_externref *ref) {
    externref_retain(ref);
    return ref;
}

void wafer_externref_release(wafer_externref *ref) { externref_release(ref); }

void *wafer_externref_data(const wafer_externref *ref) { return ref->data; }

void wafer_value_release(wafer_value *value) {
    if (value->type == WAFER_EXTERNREF) {
        externref_release(value->of.externref);
        value->of.externref = NULL;
    }
}

void wafer_store_gc(wafer_store *store) { activation_collect(store); }

uint64_t wafer_store_gc_count(const wafer_store *store) { return store->activations.collections; }

/* ---- The activation table ----------------------------------------------------------------- */

static bool grow_chunk(activation_table *t, uint64_t need) {
    if (need <= t->chunk_cap) return true;
    uint64_t cap = t->chunk_cap ? t->chunk_cap : ACTIVATION_CHUNK;
    while (cap < need) cap *= 2;
    if (cap > UINT32_MAX) return false;
    wafer_externref **chunk = realloc(t->chunk, cap * sizeof *chunk);
    if (!chunk) return false;
    t->chunk = chunk;
    t->chunk_cap = (uint32_t)cap;
    return true;
}

bool activation_reserve(wafer_store *store, uint32_t n) {
    activation_table *t = &store->activations;
    if ((uint64_t)t->chunk_len + n <= t->chunk_cap) return true;
    if (t->chunk_len > 0) activation_collect(store);
    return grow_chunk(t, (uint64_t)t->chunk_len + n);
}

void activation_insert_owned(wafer_store *store, wafer_externref *ref) {
    activation_table *t = &store->activations;
    if (t->chunk_len >= t->chunk_cap) fatal("activation table insertion without room");
    t->chunk[t->chunk_len++] = ref;
}

void activation_enter(wafer_store *store, wafer_externref *ref) {
    if (!ref) return;
    if (!activation_reserve(store, 1)) fatal("out of memory growing the activation table");
    externref_retain(ref);
    activation_insert_owned(store, ref);
}

static int compare_refs(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (wafer_externref *const *)a;
    uintptr_t y = (uintptr_t) * (wafer_externref *const *)b;
    return x < y ? -1 : x > y;
}

/* Sorts and removes duplicates; returns the new length. */
static uint32_t sort_distinct(wafer_externref **refs, uint32_t n) {
    if (n < 2) return n;
    qsort(refs, n, sizeof *refs, compare_refs);
    uint32_t k = 1;
    for (uint32_t i = 1; i < n; i++)
        if (refs[i] != refs[k - 1]) refs[k++] = refs[i];
    return k;
}

static bool contains(wafer_externref *const *sorted, uint32_t n, wafer_externref *ref) {
    return n > 0 && bsearch(&ref, sorted, n, sizeof *sorted, compare_refs) != NULL;
}

/* The stack map of the frame's safepoint, by its pc (maps are sorted by pc). */
static const code_stack_map *map_at(const call_frame *frame) {
    const code_func *f = frame->code;
    uint32_t pc = (uint32_t)(frame->safepoint - f->code);
    uint32_t lo = 0, hi = f->num_stack_maps;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (f->stack_maps[mid].pc < pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->num_stack_maps && f->stack_maps[lo].pc == pc ? &f->stack_maps[lo] : NULL;
}

/* Appends the references in every frame's mapped slots to *roots. */
static bool find_roots(wafer_store *store, wafer_externref ***roots, uint32_t *len,
                       uint32_t *cap) {
    for (uint32_t d = 0; d < store->depth; d++) {
        const call_frame *frame = &store->frames[d];
        const code_stack_map *map = map_at(frame);
        if (!map) {
            if (frame->code->num_stack_maps) fatal("a wasm frame stopped where it has no stack map");
            continue;
        }
        const uint32_t *slots = frame->code->map_slots + map->first;
        for (uint32_t k = 0; k < map->count; k++) {
            if (PLANTED("table_ops") && k + 1 == map->count) break; /* a live slot missed */
            wafer_externref *ref = (wafer_externref *)(uintptr_t)frame->fp[slots[k]];
            if (!ref) continue;
            if (*len == *cap) {
                uint32_t grown = *cap ? *cap * 2 : 64;
                wafer_externref **more = realloc(*roots, grown * sizeof *more);
                if (!more) return false;
                *roots = more;
                *cap = grown;
            }
            (*roots)[(*len)++] = ref;
        }
    }
    return true;
}

void activation_collect(wafer_store *store) {
    activation_table *t = &store->activations;
    wafer_externref **roots = NULL;
    uint32_t len = 0, cap = 0;
    if (!find_roots(store, &roots, &len, &cap))
        fatal("out of memory collecting externrefs"); /* releasing anything now could free a
                                                          * reference a frame still holds */
    len = sort_distinct(roots, len);
    if (EXTERNREF_DEBUG) {
        /* sorted in place, duplicates kept: each entry holds a count */
        if (t->chunk_len > 1) qsort(t->chunk, t->chunk_len, sizeof *t->chunk, compare_refs);
        for (uint32_t i = 0; i < len; i++)
            if (!contains(t->chunk, t->chunk_len, roots[i]) &&
                !contains(t->live, t->live_len, roots[i]))
                fatal("a wasm frame holds an externref that is not in the activation table");
    }
    /* The new set's counts are taken before the old entries' are given back. */
    for (uint32_t i = 0; i < len; i++) externref_retain(roots[i]);
    for (uint32_t i = 0; i < t->chunk_len; i++) externref_release(t->chunk[i]);
    for (uint32_t i = 0; i < t->live_len; i++) externref_release(t->live[i]);
    t->chunk_len = 0;
    free(t->live);
    t->live = roots;
    t->live_len = len;
    t->live_cap = cap;
    t->collections++;
}

void activation_free(wafer_store *store) {
    activation_table *t = &store->activations;
    for (uint32_t i = 0; i < t->chunk_len; i++) externref_release(t->chunk[i]);
    for (uint32_t i = 0; i < t->live_len; i++) externref_release(t->live[i]);
    free(t->chunk);
    free(t->live);
    *t = (activation_table){0};
}
