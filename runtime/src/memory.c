/* Linear memories, kept in memory slots (image.h). A memory is either
 *   static:  its slot reserves the maximum size plus a guard region once; growth only changes
 *            protection and data never moves (a memory whose maximum fits within
 *            config.static_memory_maximum_size, every memory with config.static_memory_forced,
 *            and every pooled memory), or
 *   dynamic: its slot reserves the current size plus the guard; growth past that moves the data
 *            to a larger reservation, so code reloads memory->data after anything that may grow it.
 * Bounds are checked explicitly by the code that accesses memory (DESIGN.md invariant 9); the
 * guard regions are reservations that catch a runtime bug as a fault, never the trap mechanism.
 *
 * Sizes are in one of two units, kept apart by name: pages (64 KiB, what wasm counts) and bytes.
 * The only conversion is pages_to_bytes, which refuses what does not fit (DESIGN.md invariant 2:
 * 2^48 pages of memory64 are 2^64 bytes, one more than uint64_t holds).
 */
#include "allocator.h"
#include "planted.h"

#include <stdlib.h>
#include <string.h>

#include "sys.h"

/* The index type's own bound on the page count: 2^16 pages for 32-bit memories, 2^48 for 64-bit
 * (spec 2.3.8 "Memory Types", memory64 proposal). */
#define MEMORY32_MAX_PAGES (UINT64_C(1) << 16)
#define MEMORY64_MAX_PAGES (UINT64_C(1) << 48)

static bool pages_to_bytes(uint64_t pages, uint64_t *bytes) {
    if (pages > UINT64_MAX / WAFER_PAGE_SIZE) return false;
    *bytes = pages * WAFER_PAGE_SIZE;
    return true;
}

/* A byte count as a size_t of whole OS pages, or false if that is not representable. */
static bool mapping_size(uint64_t bytes, size_t *out) {
    size_t page = sys_page_size();
    if (bytes > SIZE_MAX - (page - 1)) return false;
    *out = ((size_t)bytes + page - 1) / page * page;
    return true;
}

static bool add_size(size_t a, size_t b, size_t *out) {
    if (a > SIZE_MAX - b) return false;
    *out = a + b;
    return true;
}

static uint64_t index_type_max_pages(bool is64) {
    return is64 ? MEMORY64_MAX_PAGES : MEMORY32_MAX_PAGES;
}

/* The most pages the memory may ever have: the declared maximum or the index type's, capped by
 * the configured limit and by `cap` (a pool slot's capacity). */
static uint64_t effective_max_pages(const wafer_config *config, const wafer_memorytype *type,
                                    uint64_t cap) {
    uint64_t max_pages = index_type_max_pages(type->is64);
    if (type->limits.has_max && type->limits.max < max_pages) max_pages = type->limits.max;
    if (config->limits.max_memory_pages < max_pages) max_pages = config->limits.max_memory_pages;
    if (cap < max_pages) max_pages = cap;
    return max_pages;
}

/* Checks the minimum against the maximum and makes the memory object (no slot yet). */
static wafer_error *memory_begin(const wafer_config *config, const wafer_memorytype *type,
                                 uint64_t cap, wafer_memory **out, size_t *min_accessible) {
    uint64_t max_pages = effective_max_pages(config, type, cap);
    uint64_t min_bytes;
    if (type->limits.min > max_pages || !pages_to_bytes(type->limits.min, &min_bytes) ||
        !mapping_size(min_bytes, min_accessible))
        return error_new(WAFER_ERROR_RESOURCE,
                         "memory minimum of %llu pages exceeds the limit of %llu pages",
                         (unsigned long long)type->limits.min, (unsigned long long)max_pages);
    wafer_memory *memory = calloc(1, sizeof *memory);
    if (!memory) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    memory->type = *type;
    memory->max_pages = max_pages;
    memory->pages = type->limits.min;
    memory->size_bytes = min_bytes;
    *out = memory;
    return NULL;
}

static void memory_sync(wafer_memory *memory) {
    memory->data = memory->slot->base;
    memory->reserved_bytes = memory->slot->reserved;
}

wafer_error *memory_create_in_slot(const wafer_config *config, const wafer_memorytype *type,
                                   memory_slot *slot, uint64_t slot_max_pages,
                                   memory_image *image, wafer_memory **out) {
    wafer_memory *memory;
    size_t accessible;
    wafer_error *err = memory_begin(config, type, slot_max_pages, &memory, &accessible);
    if (err) return err;
    if ((err = memory_slot_instantiate(slot, image, accessible))) {
        free(memory);
        return err;
    }
    memory->slot = slot;
    memory->is_static = true;
    memory_sync(memory);
    *out = memory;
    return NULL;
}

wafer_error *memory_create_owned(const wafer_config *config, const wafer_memorytype *type,
                                 memory_image *image, wafer_memory **out) {
    wafer_memory *memory;
    size_t accessible;
    wafer_error *err = memory_begin(config, type, UINT64_MAX, &memory, &accessible);
    if (err) return err;
    size_t guard, max_size = 0, reserve = 0;
    uint64_t max_bytes;
    bool max_fits = pages_to_bytes(memory->max_pages, &max_bytes) &&
                    mapping_size(max_bytes, &max_size);
    if (!mapping_size(config->memory_guard_size, &guard)) guard = 0;
    memory->is_static = config->static_memory_forced ||
                        (max_fits && max_bytes <= config->static_memory_maximum_size);
    bool sized = memory->is_static ? max_fits && add_size(max_size, guard, &reserve)
                                   : add_size(accessible, guard, &reserve);
    if (!sized) {
        err = error_new(WAFER_ERROR_RESOURCE, "cannot reserve a static memory of %llu pages",
                        (unsigned long long)memory->max_pages);
        free(memory);
        return err;
    }
    memory->guard_bytes = guard;
    memory->slot = &memory->own_slot;
    if ((err = memory_slot_reserve(&memory->own_slot, reserve))) {
        free(memory);
        return err;
    }
    if ((err = memory_slot_instantiate(&memory->own_slot, image, accessible))) {
        memory_slot_unreserve(&memory->own_slot);
        free(memory);
        return err;
    }
    memory_sync(memory);
    *out = memory;
    return NULL;
}

wafer_error *memory_create(wafer_store *store, const wafer_memorytype *type, wafer_memory **out) {
    return memory_create_owned(&store->engine->config, type, NULL, out);
}

/* A dynamic memory outgrew its reservation: a larger one (twice the size, within the maximum)
 * takes the bytes, and the old one goes. */
static bool memory_move(wafer_memory *memory, size_t accessible) {
    size_t capacity = accessible, max_size, reserve;
    uint64_t max_bytes;
    if (pages_to_bytes(memory->max_pages, &max_bytes) && mapping_size(max_bytes, &max_size)) {
        if (accessible <= max_size / 2) capacity = accessible * 2;
        else capacity = max_size;
    }
    if (!add_size(capacity, memory->guard_bytes, &reserve)) return false;
    memory_slot moved;
    wafer_error *err = memory_slot_reserve(&moved, reserve);
    if (err) {
        wafer_error_free(err);
        return false;
    }
    if (!memory_slot_grow(&moved, accessible)) {
        memory_slot_unreserve(&moved);
        return false;
    }
    moved.dirty = true;
    memcpy(moved.base, memory->slot->base, memory->slot->accessible);
    if (PLANTED("wast") && memory->slot->accessible) moved.base[0] ^= 1; /* first byte flips */
    memory_slot_unreserve(memory->slot);
    *memory->slot = moved;
    return true;
}

uint64_t memory_grow(wafer_memory *memory, uint64_t delta_pages) {
    uint64_t old = memory->pages;
    if (delta_pages > memory->max_pages - old) return UINT64_MAX;
    if (delta_pages == 0) return old;
    uint64_t bytes;
    size_t accessible;
    if (!pages_to_bytes(old + delta_pages, &bytes) || !mapping_size(bytes, &accessible))
        return UINT64_MAX;
    if (accessible + memory->guard_bytes <= memory->slot->reserved || memory->is_static) {
        if (!memory_slot_grow(memory->slot, accessible)) return UINT64_MAX;
    } else if (!memory_move(memory, accessible)) {
        return UINT64_MAX;
    }
    memory_sync(memory);
    memory->pages = old + delta_pages;
    memory->size_bytes = bytes;
    return old;
}

void memory_destroy(wafer_memory *memory) {
    if (memory->slot == &memory->own_slot)
        memory_slot_unreserve(&memory->own_slot);
    else if (memory->written)
        memory->slot->dirty = true; /* an allocator's slot: its reset must clean the bytes */
    free(memory);
}

/* ---- Public API ----------------------------------------------------------------------------- */

wafer_error *wafer_memory_new(wafer_store *store, const wafer_memorytype *type,
                              wafer_memory **out) {
    uint64_t bound = index_type_max_pages(type->is64);
    if (type->limits.min > bound || (type->limits.has_max && type->limits.max > bound))
        return error_new(WAFER_ERROR_USAGE, "memory size must be at most %llu pages",
                         (unsigned long long)bound);
    if (type->limits.has_max && type->limits.min > type->limits.max)
        return error_new(WAFER_ERROR_USAGE, "size minimum must not be greater than maximum");
    if (type->shared) return error_new(WAFER_ERROR_UNSUPPORTED, "shared memories are not supported");
    wafer_memory *memory;
    wafer_error *err = memory_create(store, type, &memory);
    if (err) return err;
    memory->next_in_store = store->memories;
    store->memories = memory;
    *out = memory;
    return NULL;
}

/* The spec's memory type of a memory instance: its current size is the minimum. */
wafer_memorytype wafer_memory_type(const wafer_memory *memory) {
    wafer_memorytype type = memory->type;
    type.limits.min = memory->pages;
    return type;
}

/* The host may write through the pointer: the memory counts as written. */
uint8_t *wafer_memory_data(wafer_memory *memory) {
    memory->written = true;
    return memory->data;
}

uint64_t wafer_memory_size_bytes(const wafer_memory *memory) { return memory->size_bytes; }

uint64_t wafer_memory_size_pages(const wafer_memory *memory) { return memory->pages; }

wafer_error *wafer_memory_grow(wafer_memory *memory, uint64_t delta, uint64_t *old_pages) {
    uint64_t old = memory_grow(memory, delta);
    if (old == UINT64_MAX)
        return error_new(WAFER_ERROR_RESOURCE,
                         "memory.grow by %llu pages refused (size %llu, maximum %llu pages)",
                         (unsigned long long)delta, (unsigned long long)memory->pages,
                         (unsigned long long)memory->max_pages);
    if (old_pages) *old_pages = old;
    return NULL;
}
