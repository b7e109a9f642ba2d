/* The pooling allocator (DESIGN.md invariant 5). When the engine is made it reserves, in one
 * mapping, total_instances instance slots of max_memories_per_instance memory slots each; every
 * memory slot reserves max_memory_pages plus the guard and is addressed by the instance slot and
 * the *defined* memory index. Table slots (max_tables_per_instance per instance slot, each
 * max_table_elements long, by *defined* table index) lie in a second mapping, readable and
 * writable but committed only where touched. Dropping an instance resets its memory slots
 * (memory_slot_reset: the image stays mapped, so the next instance of the same module needs no
 * mmap) and its table slots (cleared by table_destroy back to zero: uninitialised), and puts the instance
 * slot back on two free lists: the pool's (an array, so a random member is O(1) to take) and the
 * module's affinity list (doubly linked through the slots). Allocation takes the head of the
 * module's list, or else a random free slot; every operation is O(1) under one spinlock.
 *
 * Affinity is only a hint for speed: a slot's contents are decided by memory_slot_instantiate,
 * which compares the image it holds (a counted reference, never a dangling pointer) with the one
 * wanted, so a stale affinity can cost an mmap but never show the wrong data.
 */
#include "allocator.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "planted.h"
#include "sys.h"

#define NO_SLOT UINT32_MAX

/* The free slots last used by one module. */
struct pool_affinity {
    wafer_module *module;
    uint32_t head;                         /* first slot of the list, or NO_SLOT */
    struct pool_affinity *prev, *next;     /* every affinity of the pool, for teardown */
};

typedef struct pool_slot {
    uint32_t free_pos;               /* index in pool.free while free; NO_SLOT while in use */
    struct pool_affinity *affinity;  /* the list this free slot is on, or NULL */
    uint32_t aff_prev, aff_next;     /* neighbours on that list */
} pool_slot;

/* The fields every instantiation only reads come first; what the lock guards and every
 * instantiation writes has cache lines of its own (POOL_LINE), so threads instantiating at once
 * do not take the read-mostly lines from each other. */
#define POOL_LINE 64
typedef struct pool {
    instance_allocator base;
    wafer_pooling_config limits;
    pool_slot *slots;           /* limits.total_instances */
    uint32_t *free;             /* free instance slots, in no order */
    memory_slot *memory_slots;  /* total_instances * max_memories_per_instance */
    uint8_t *region;            /* the one reservation behind every memory slot */
    size_t region_size;
    uint8_t *tables;            /* every table slot: total_instances * max_tables_per_instance */
    size_t table_slot_bytes;    /* each one's size: max_table_elements pointers, whole pages */
    size_t tables_size;
    struct pool_affinity *affinities;
    _Alignas(POOL_LINE) pthread_spinlock_t lock; /* held for a few loads and stores */
    uint32_t num_free;
    uint64_t random_state;      /* xorshift64, for the random victim */
} pool;

static pool *pool_of(instance_allocator *a) { return (pool *)a; }

static memory_slot *pool_memory_slot(pool *p, uint32_t instance_slot, defined_memory_index d) {
    return &p->memory_slots[(size_t)instance_slot * p->limits.max_memories_per_instance + d.i];
}

static void **pool_table_slot(pool *p, uint32_t instance_slot, defined_table_index d) {
    size_t k = (size_t)instance_slot * p->limits.max_tables_per_instance + d.i;
    return (void **)(p->tables + k * p->table_slot_bytes);
}

static uint32_t random_below(pool *p, uint32_t n) {
    uint64_t x = p->random_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->random_state = x;
    return (uint32_t)(x % n);
}

/* ---- Free lists (the lock is held) ---------------------------------------------------------- */

static void affinity_unlink(pool *p, uint32_t s) {
    pool_slot *slot = &p->slots[s];
    struct pool_affinity *aff = slot->affinity;
    if (!aff) return;
    if (slot->aff_prev != NO_SLOT) p->slots[slot->aff_prev].aff_next = slot->aff_next;
    else aff->head = slot->aff_next;
    if (slot->aff_next != NO_SLOT) p->slots[slot->aff_next].aff_prev = slot->aff_prev;
    slot->affinity = NULL;
}

static void affinity_push(pool *p, uint32_t s, struct pool_affinity *aff) {
    pool_slot *slot = &p->slots[s];
    slot->affinity = aff;
    slot->aff_prev = NO_SLOT;
    slot->aff_next = aff->head;
    if (aff->head != NO_SLOT) p->slots[aff->head].aff_prev = s;
    aff->head = s;
}

static void take_slot(pool *p, uint32_t s) {
    uint32_t pos = p->slots[s].free_pos;
    uint32_t last = p->free[--p->num_free];
    p->free[pos] = last;
    p->slots[last].free_pos = pos;
    p->slots[s].free_pos = NO_SLOT;
    affinity_unlink(p, s);
}

static void put_slot(pool *p, uint32_t s) {
    p->slots[s].free_pos = p->num_free;
    p->free[p->num_free++] = s;
}

static struct pool_affinity *affinity_of(pool *p, wafer_module *module) {
    if (module->affinity) return module->affinity;
    struct pool_affinity *aff = malloc(sizeof *aff);
    if (!aff) return NULL; /* the slot is free all the same, just without a preference */
    aff->module = module;
    aff->head = NO_SLOT;
    aff->prev = NULL;
    aff->next = p->affinities;
    if (p->affinities) p->affinities->prev = aff;
    p->affinities = aff;
    module->affinity = aff;
    return aff;
}

static void affinity_free(pool *p, struct pool_affinity *aff) {
    for (uint32_t s = aff->head, next; s != NO_SLOT; s = next) {
        next = p->slots[s].aff_next;
        p->slots[s].affinity = NULL;
    }
    if (aff->prev) aff->prev->next = aff->next;
    else p->affinities = aff->next;
    if (aff->next) aff->next->prev = aff->prev;
    aff->module->affinity = NULL;
    free(aff);
}

/* ---- The interface -------------------------------------------------------------------------- */

/* Bytes of per-instance state the module needs, as instance.c allocates it. */
static uint64_t instance_size(const wafer_module *m) {
    return sizeof(wafer_instance) + (uint64_t)m->num_imported_funcs * sizeof(wafer_func *) +
           (uint64_t)m->num_globals * sizeof(wafer_global *) +
           (uint64_t)(m->num_globals - m->num_imported_globals) * sizeof(wafer_global) +
           (uint64_t)m->num_tables * sizeof(wafer_table *) +
           (uint64_t)m->num_memories * sizeof(wafer_memory *) +
           (uint64_t)m->num_elems * sizeof(instance_elem) +
           (uint64_t)data_bitmap_words(m->num_datas) * sizeof(uint64_t);
}

static wafer_error *check_module(const pool *p, const wafer_module *m) {
    const wafer_pooling_config *l = &p->limits;
    if (module_defined_memories(m) > l->max_memories_per_instance)
        return error_new(WAFER_ERROR_RESOURCE,
                         "module defines %u memories; the pooling allocator allows %u",
                         module_defined_memories(m), l->max_memories_per_instance);
    if (module_defined_tables(m) > l->max_tables_per_instance)
        return error_new(WAFER_ERROR_RESOURCE,
                         "module defines %u tables; the pooling allocator allows %u",
                         module_defined_tables(m), l->max_tables_per_instance);
    for (uint32_t t = m->num_imported_tables; t < m->num_tables; t++)
        if (m->tables[t].limits.min > l->max_table_elements)
            return error_new(WAFER_ERROR_RESOURCE,
                             "table minimum of %llu elements exceeds the pooling allocator's "
                             "%u", (unsigned long long)m->tables[t].limits.min,
                             l->max_table_elements);
    uint64_t size = instance_size(m);
    if (size > l->max_instance_size)
        return error_new(WAFER_ERROR_RESOURCE,
                         "instance state of %llu bytes exceeds the pooling allocator's %llu",
                         (unsigned long long)size, (unsigned long long)l->max_instance_size);
    return NULL;
}

static wafer_error *pool_instance_begin(instance_allocator *a, const wafer_module *module,
                                        instance_allocation *out) {
    pool *p = pool_of(a);
    wafer_error *err = check_module(p, module);
    if (err) return err;
    pthread_spin_lock(&p->lock);
    uint32_t s;
    const struct pool_affinity *aff = module->affinity;
    if (aff && aff->head != NO_SLOT) {
        s = aff->head;
    } else if (p->num_free > 0) {
        s = p->free[random_below(p, p->num_free)];
    } else {
        pthread_spin_unlock(&p->lock);
        return error_new(WAFER_ERROR_RESOURCE,
                         "all %u instance slots of the pooling allocator are in use",
                         p->limits.total_instances);
    }
    take_slot(p, s);
    pthread_spin_unlock(&p->lock);
    out->slot = s;
    return NULL;
}

static wafer_error *pool_memory_new(instance_allocator *a, instance_allocation *alloc,
                                    const wafer_module *module, defined_memory_index d,
                                    memory_image *image, wafer_memory **out) {
    pool *p = pool_of(a);
    memory_index x = memory_index_of_defined(module, d);
    if (PLANTED("multi_memory_pool")) x.i = d.i; /* planted: the defined index taken as full */
    return memory_create_in_slot(a->config, &module->memories[x.i],
                                 pool_memory_slot(p, alloc->slot, d), p->limits.max_memory_pages,
                                 image, out);
}

static wafer_error *pool_table_new(instance_allocator *a, instance_allocation *alloc,
                                   wafer_store *store, const wafer_module *module,
                                   defined_table_index d, wafer_table **out) {
    pool *p = pool_of(a);
    table_index x = table_index_of_defined(module, d);
    return table_create_in_slot(store, &module->tables[x.i], pool_table_slot(p, alloc->slot, d),
                                p->limits.max_table_elements, out);
}

/* The slot's memories are reset keeping the module's initial sizes accessible, so the next
 * instance of the same module changes no protection either; its tables went back to zero when
 * they were destroyed (table.c). A failed reset aborts (in memory_slot_reset or table_destroy)
 * before the slot can reach a free list: the next instance would see this one's data or
 * references (DESIGN.md invariant 1). */
static void pool_instance_end(instance_allocator *a, instance_allocation *alloc,
                              wafer_module *module) {
    pool *p = pool_of(a);
    for (uint32_t k = 0; k < p->limits.max_memories_per_instance; k++) {
        defined_memory_index d = {k};
        size_t keep = 0;
        if (k < module_defined_memories(module)) {
            uint64_t min = module->memories[memory_index_of_defined(module, d).i].limits.min;
            if (min <= p->limits.max_memory_pages) keep = (size_t)(min * WAFER_PAGE_SIZE);
        }
        memory_slot_reset(pool_memory_slot(p, alloc->slot, d), keep,
                          (size_t)a->config->memory_keep_resident);
    }
    pthread_spin_lock(&p->lock);
    put_slot(p, alloc->slot);
    struct pool_affinity *aff = affinity_of(p, module);
    if (aff) affinity_push(p, alloc->slot, aff);
    pthread_spin_unlock(&p->lock);
}

static void pool_module_forget(instance_allocator *a, wafer_module *module) {
    pool *p = pool_of(a);
    pthread_spin_lock(&p->lock);
    if (module->affinity) affinity_free(p, module->affinity);
    pthread_spin_unlock(&p->lock);
}

static void pool_destroy(instance_allocator *a) {
    pool *p = pool_of(a);
    while (p->affinities) affinity_free(p, p->affinities);
    size_t count = (size_t)p->limits.total_instances * p->limits.max_memories_per_instance;
    if (p->memory_slots)
        for (size_t i = 0; i < count; i++) memory_image_release(p->memory_slots[i].image);
    if (p->region) sys_munmap(p->region, p->region_size);
    if (p->tables) sys_munmap(p->tables, p->tables_size);
    pthread_spin_destroy(&p->lock);
    free(p->memory_slots);
    free(p->free);
    free(p->slots);
    free(p);
}

static const instance_allocator_ops pool_ops = {
    .instance_begin = pool_instance_begin,
    .memory_new = pool_memory_new,
    .table_new = pool_table_new,
    .instance_end = pool_instance_end,
    .module_forget = pool_module_forget,
    .destroy = pool_destroy,
};

/* Each memory slot's stride: its maximum size and the guard after it, in whole OS pages. */
static bool slot_stride(const wafer_config *config, size_t *memory_bytes, size_t *stride) {
    size_t page = sys_page_size();
    uint64_t max_pages = config->pooling.max_memory_pages;
    if (max_pages > SIZE_MAX / WAFER_PAGE_SIZE) return false;
    *memory_bytes = (size_t)max_pages * WAFER_PAGE_SIZE;
    uint64_t guard = (config->memory_guard_size + page - 1) / page * page;
    if (config->memory_guard_size > SIZE_MAX - page || guard > SIZE_MAX - *memory_bytes)
        return false;
    *stride = *memory_bytes + (size_t)guard;
    return true;
}

wafer_error *pool_allocator_new(const wafer_config *config, instance_allocator **out) {
    const wafer_pooling_config *l = &config->pooling;
    size_t memory_bytes, stride, count = (size_t)l->total_instances * l->max_memories_per_instance;
    if (!slot_stride(config, &memory_bytes, &stride) || (stride && count > SIZE_MAX / stride))
        return error_new(WAFER_ERROR_RESOURCE, "pooling allocator: the slots do not fit in "
                                               "the address space");
    pool *p = aligned_alloc(POOL_LINE, sizeof *p);
    if (p) memset(p, 0, sizeof *p);
    if (!p) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    p->base.ops = &pool_ops;
    p->base.config = config;
    p->limits = *l;
    p->random_state = 0x9E3779B97F4A7C15u;
    pthread_spin_init(&p->lock, PTHREAD_PROCESS_PRIVATE);
    p->slots = calloc(l->total_instances ? l->total_instances : 1, sizeof *p->slots);
    p->free = calloc(l->total_instances ? l->total_instances : 1, sizeof *p->free);
    p->memory_slots = calloc(count ? count : 1, sizeof *p->memory_slots);
    if (!p->slots || !p->free || !p->memory_slots) {
        pool_destroy(&p->base);
        return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    }
    if (count > 0 && stride > 0) {
        p->region_size = count * stride;
        void *region = sys_mmap(NULL, p->region_size, PROT_NONE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (region == MAP_FAILED) {
            pool_destroy(&p->base);
            return error_new(WAFER_ERROR_RESOURCE,
                             "pooling allocator: could not reserve %zu bytes for %zu memories",
                             count * stride, count);
        }
        p->region = region;
        for (size_t i = 0; i < count; i++)
            p->memory_slots[i] = (memory_slot){.base = p->region + i * stride,
                                               .reserved = memory_bytes};
    }
    size_t page = sys_page_size();
    size_t tables = (size_t)l->total_instances * l->max_tables_per_instance;
    size_t table_bytes = (size_t)l->max_table_elements * sizeof(void *);
    p->table_slot_bytes = (table_bytes + page - 1) / page * page;
    if (tables > 0 && p->table_slot_bytes > 0) {
        if (tables > SIZE_MAX / p->table_slot_bytes) {
            pool_destroy(&p->base);
            return error_new(WAFER_ERROR_RESOURCE, "pooling allocator: the table slots do not fit "
                                                   "in the address space");
        }
        p->tables_size = tables * p->table_slot_bytes;
        void *region = sys_mmap(NULL, p->tables_size, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (region == MAP_FAILED) {
            pool_destroy(&p->base);
            return error_new(WAFER_ERROR_RESOURCE,
                             "pooling allocator: could not reserve %zu bytes for %zu tables",
                             tables * p->table_slot_bytes, tables);
        }
        p->tables = region;
    }
    for (uint32_t s = 0; s < l->total_instances; s++) {
        p->slots[s].affinity = NULL;
        put_slot(p, s);
    }
    *out = &p->base;
    return NULL;
}
