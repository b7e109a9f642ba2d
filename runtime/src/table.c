/* Tables: arrays of tagged references, initialised lazily (runtime.h, DESIGN.md invariant 6).
 * An externref table counts each reference its elements hold (extern_ref.c). */
#include "runtime.h"
#include "sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Sizes are u32 (spec 2.3.9: table limits are in the range of u32). */
static uint32_t table_max(const wafer_store *store, const wafer_tabletype *type) {
    uint64_t max = UINT32_MAX;
    if (type->limits.has_max && type->limits.max < max) max = type->limits.max;
    if (store->engine->config.limits.max_table_elements < max)
        max = store->engine->config.limits.max_table_elements;
    return (uint32_t)max;
}

/* Elements start zeroed (uninitialised, DESIGN.md invariant 6): a null init needs no writes, and
 * calloc hands large tables fresh zero pages. */
wafer_error *table_create(wafer_store *store, const wafer_tabletype *type, void *init,
                          wafer_table **out) {
    uint32_t max = table_max(store, type);
    if (type->limits.min > max)
        return error_new(WAFER_ERROR_RESOURCE,
                         "table minimum of %llu elements exceeds the limit of %u elements",
                         (unsigned long long)type->limits.min, max);
    wafer_table *table = calloc(1, sizeof *table);
    if (!table) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    uint32_t size = (uint32_t)type->limits.min;
    if (size > 0) {
        table->elems = calloc(size, sizeof *table->elems);
        if (!table->elems) {
            free(table);
            return error_new(WAFER_ERROR_RESOURCE, "could not allocate a table of %u elements",
                             size);
        }
    }
    table->size = size;
    table->max = max;
    table->type = *type;
    if (init)
        for (uint32_t i = 0; i < size; i++) {
            if (type->elem == WAFER_EXTERNREF) externref_retain(init);
            table_ref_set(table, i, init);
        }
    *out = table;
    return NULL;
}

uintptr_t table_elem_resolve(wafer_table *table, uint32_t i) {
    void *ref = NULL;
    if (i < table->lazy_len && table->lazy_funcs[i])
        ref = instance_func(table->lazy_instance, table->lazy_funcs[i] - 1);
    table_ref_set(table, i, ref);
    return (uintptr_t)table->elems[i];
}

void table_put_extern(wafer_table *table, uint32_t i, void *ref) {
    void *old = table_ref_get(table, i);
    externref_retain(ref);
    table_ref_set(table, i, ref);
    externref_release(old);
}

/* Element by element in memmove's order, so an overlapping copy reads each source element
 * before it is overwritten. */
void table_copy_extern(wafer_table *dst, uint32_t d, wafer_table *src, uint32_t s, uint32_t n) {
    if (dst != src || d <= s) {
        for (uint32_t k = 0; k < n; k++) table_put_extern(dst, d + k, table_ref_get(src, s + k));
    } else {
        for (uint32_t k = n; k-- > 0;) table_put_extern(dst, d + k, table_ref_get(src, s + k));
    }
}

void table_resolve_range(wafer_table *table, uint32_t start, uint32_t n) {
    for (uint32_t k = 0; k < n; k++)
        if (!table->elems[start + k]) table_elem_resolve(table, start + k);
}

/* New elements are initialised explicitly; the old ones keep their lazy source, whose indices all
 * lie below the old size. */
uint64_t table_grow(wafer_table *table, uint64_t delta, void *init) {
    uint32_t old = table->size;
    if (delta > (uint64_t)(table->max - old)) return UINT64_MAX;
    if (delta == 0) return old;
    uint32_t size = old + (uint32_t)delta;
    if (!table->pooled) {
        void **elems = realloc(table->elems, (size_t)size * sizeof *elems);
        if (!elems) return UINT64_MAX;
        table->elems = elems;
    }
    /* new elements hold nothing yet: each takes a count of init, none is given back */
    for (uint32_t i = old; i < size; i++) {
        if (table->type.elem == WAFER_EXTERNREF) externref_retain(init);
        table_ref_set(table, i, init);
    }
    table->size = size;
    return old;
}

/* A pooled table hands its slot back all zero (uninitialised) for the next instance (DESIGN.md
 * invariant 1). Only the elements before written_end can hold references. The first
 * page is cleared by memset so it stays resident, sparing the next table a page fault (a fault
 * costs more than clearing a page); the rest goes back to the kernel. A failed madvise aborts:
 * a slot that could not be cleaned must never be reused. */
static void table_slot_reset(wafer_table *table) {
    size_t page = sys_page_size();
    size_t used = (size_t)table->written_end * sizeof *table->elems;
    memset(table->elems, 0, used < page ? used : page);
    if (used <= page) return;
    size_t rest = (used - page + page - 1) / page * page;
    if (sys_madvise((uint8_t *)table->elems + page, rest, MADV_DONTNEED) != 0) {
        fprintf(stderr, "wafer: fatal: madvise of a table slot at %p failed (%s); a slot that "
                        "cannot be cleaned must not be reused\n",
                (void *)table->elems, strerror(errno));
        abort();
    }
}

void table_destroy(wafer_table *table) {
    if (table->type.elem == WAFER_EXTERNREF)
        for (uint32_t i = 0; i < table->size; i++) externref_release(table_ref_get(table, i));
    if (table->pooled)
        table_slot_reset(table);
    else
        free(table->elems);
    free(table);
}

wafer_error *table_create_in_slot(wafer_store *store, const wafer_tabletype *type, void **storage,
                                  uint32_t capacity, wafer_table **out) {
    uint32_t max = table_max(store, type);
    if (capacity < max) max = capacity;
    if (type->limits.min > max)
        return error_new(WAFER_ERROR_RESOURCE,
                         "table minimum of %llu elements exceeds the limit of %u elements",
                         (unsigned long long)type->limits.min, max);
    wafer_table *table = calloc(1, sizeof *table);
    if (!table) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    table->elems = storage;
    table->pooled = true;
    table->size = (uint32_t)type->limits.min;
    table->max = max;
    table->type = *type;
    *out = table;
    return NULL;
}

/* ---- Public API ----------------------------------------------------------------------------- */

static bool is_reftype(wafer_valtype t) { return t == WAFER_FUNCREF || t == WAFER_EXTERNREF; }

static void *ref_of(wafer_value v) {
    return v.type == WAFER_FUNCREF ? (void *)v.of.funcref : (void *)v.of.externref;
}

wafer_error *wafer_table_new(wafer_store *store, const wafer_tabletype *type, wafer_value init,
                             wafer_table **out) {
    if (!is_reftype(type->elem))
        return error_new(WAFER_ERROR_USAGE, "table element type must be a reference type");
    if (init.type != type->elem)
        return error_new(WAFER_ERROR_USAGE, "initial value does not match the element type");
    if (type->limits.min > UINT32_MAX || (type->limits.has_max && type->limits.max > UINT32_MAX))
        return error_new(WAFER_ERROR_USAGE, "table size must be at most 2^32-1 elements");
    if (type->limits.has_max && type->limits.min > type->limits.max)
        return error_new(WAFER_ERROR_USAGE, "size minimum must not be greater than maximum");
    wafer_table *table;
    wafer_error *err = table_create(store, type, ref_of(init), &table);
    if (err) return err;
    table->next_in_store = store->tables;
    store->tables = table;
    *out = table;
    return NULL;
}

/* The spec's table type of a table instance: its current size is the minimum. */
wafer_tabletype wafer_table_type(const wafer_table *table) {
    wafer_tabletype type = table->type;
    type.limits.min = table->size;
    return type;
}

uint64_t wafer_table_size(const wafer_table *table) { return table->size; }

wafer_error *wafer_table_get(wafer_table *table, uint64_t index, wafer_value *out) {
    if (index >= table->size) return error_trap(WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    *out = value_from_slot(table->type.elem, (uint64_t)(uintptr_t)table_ref_get(table, index));
    if (out->type == WAFER_EXTERNREF) externref_retain(out->of.externref); /* the caller's */
    return NULL;
}

wafer_error *wafer_table_set(wafer_table *table, uint64_t index, wafer_value value) {
    if (value.type != table->type.elem)
        return error_new(WAFER_ERROR_USAGE, "value does not match the table's element type");
    if (index >= table->size) return error_trap(WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    table_put(table, (uint32_t)index, ref_of(value));
    return NULL;
}

wafer_error *wafer_table_grow(wafer_table *table, uint64_t delta, wafer_value init,
                              uint64_t *old_size) {
    if (init.type != table->type.elem)
        return error_new(WAFER_ERROR_USAGE, "initial value does not match the element type");
    uint64_t old = table_grow(table, delta, ref_of(init));
    if (old == UINT64_MAX)
        return error_new(WAFER_ERROR_RESOURCE,
                         "table.grow by %llu elements refused (size %u, maximum %u)",
                         (unsigned long long)delta, table->size, table->max);
    if (old_size) *old_size = old;
    return NULL;
}
