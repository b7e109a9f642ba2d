/* Linear memories. A memory is "dynamic": exactly its current size is mapped, growth remaps
 * (possibly moving the data, so code reloads memory->data after anything that may grow it), and an
 * empty memory maps nothing (data NULL). Bounds are checked explicitly by the code that accesses
 * memory (DESIGN.md invariant 9); nothing here relies on guard pages.
 *
 * Sizes are in one of two units, kept apart by name: pages (64 KiB, what wasm counts) and bytes.
 * The only conversion is pages_to_bytes, which refuses what does not fit (DESIGN.md invariant 2:
 * 2^48 pages of memory64 are 2^64 bytes, one more than uint64_t holds).
 */
#include "runtime.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The index type's own bound on the page count: 2^16 pages for 32-bit memories, 2^48 for 64-bit
 * (spec 2.3.8 "Memory Types", memory64 proposal). */
#define MEMORY32_MAX_PAGES (UINT64_C(1) << 16)
#define MEMORY64_MAX_PAGES (UINT64_C(1) << 48)

static bool pages_to_bytes(uint64_t pages, uint64_t *bytes) {
    if (pages > UINT64_MAX / WAFER_PAGE_SIZE) return false;
    *bytes = pages * WAFER_PAGE_SIZE;
    return true;
}

/* What the OS maps for a size in bytes: rounded up to its page size, or false if that is not
 * representable. */
static bool mapping_size(uint64_t bytes, size_t *out) {
    long p = sysconf(_SC_PAGESIZE);
    size_t os_page = p > 0 ? (size_t)p : 4096;
    if (bytes > SIZE_MAX - (os_page - 1)) return false;
    *out = ((size_t)bytes + os_page - 1) / os_page * os_page;
    return true;
}

static uint64_t index_type_max_pages(bool is64) {
    return is64 ? MEMORY64_MAX_PAGES : MEMORY32_MAX_PAGES;
}

/* Sets the mapping to hold `pages` pages, keeping the contents; new bytes are zero. */
static bool memory_resize(wafer_memory *memory, uint64_t pages) {
    uint64_t bytes;
    size_t map_bytes;
    if (!pages_to_bytes(pages, &bytes) || !mapping_size(bytes, &map_bytes)) return false;
    if (map_bytes == memory->reserved_bytes) {
        memory->pages = pages;
        memory->size_bytes = bytes;
        return true;
    }
    void *data;
    if (memory->reserved_bytes == 0)
        data = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    else
        data = mremap(memory->data, memory->reserved_bytes, map_bytes, MREMAP_MAYMOVE);
    if (data == MAP_FAILED) return false;
    memory->data = data;
    memory->reserved_bytes = map_bytes;
    memory->pages = pages;
    memory->size_bytes = bytes;
    return true;
}

wafer_error *memory_create(wafer_store *store, const wafer_memorytype *type, wafer_memory **out) {
    uint64_t limit = store->engine->config.limits.max_memory_pages;
    uint64_t max_pages = index_type_max_pages(type->is64);
    if (type->limits.has_max && type->limits.max < max_pages) max_pages = type->limits.max;
    if (limit < max_pages) max_pages = limit;
    if (type->limits.min > max_pages)
        return error_new(WAFER_ERROR_RESOURCE,
                         "memory minimum of %llu pages exceeds the limit of %llu pages",
                         (unsigned long long)type->limits.min, (unsigned long long)max_pages);
    wafer_memory *memory = calloc(1, sizeof *memory);
    if (!memory) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    memory->type = *type;
    memory->max_pages = max_pages;
    if (type->limits.min > 0 && !memory_resize(memory, type->limits.min)) {
        free(memory);
        return error_new(WAFER_ERROR_RESOURCE, "could not map a memory of %llu pages",
                         (unsigned long long)type->limits.min);
    }
    *out = memory;
    return NULL;
}

uint64_t memory_grow(wafer_memory *memory, uint64_t delta_pages) {
    uint64_t old = memory->pages;
    if (delta_pages > memory->max_pages - old) return UINT64_MAX;
    if (delta_pages == 0) return old;
    if (!memory_resize(memory, old + delta_pages)) return UINT64_MAX;
    return old;
}

void memory_destroy(wafer_memory *memory) {
    if (memory->reserved_bytes) munmap(memory->data, memory->reserved_bytes);
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

uint8_t *wafer_memory_data(wafer_memory *memory) { return memory->data; }

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
