/* The pooling allocator (DESIGN.md invariant 5). When the engine is made it reserves, in one
 * mapping, total_instances instance slots of max_memories_per_instance memory slots each; every
 * memory slot reserves max_memory_pages plus the guard and is addressed by the instance slot and
 * the *defined* memory index. Table slots (max_tables_per_instance per instance slot, each
 * max_table_elements long, by *defined* table index) lie in a second mapping, readable and
 * writable but committed only where touched. Dropping an instance resets its memory slots
 * (memory_slot_reset: the image stays mapped, so the next instance of the same module needs no
 * mmap) and its table slots (cleared by table_destroy back to zero: uninitialised), and puts the instance
 * slot back on two free lists: a free array (so a random member is O(1) to take) and the module's
 * affinity list (doubly linked through the slots). Both are sharded by thread (thread_shard.h):
 * a slot goes back to the dropping thread's shard, and allocation asks every shard for a slot of
 * the same module, its own shard first, before it takes a random free slot, again its own shard's
 * first. So the preference is the same as with one list, and a thread that instantiates and drops
 * the same module takes only its own shard's lock and cache lines. Every operation is O(1): it
 * visits at most the fixed number of shards, under one shard's spinlock at a time.
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
#include "thread_shard.h"

#define NO_SLOT UINT32_MAX
#define POOL_LINE 64

/* The free slots last used by one module: a list per shard, each head on a cache line of its
 * own, guarded by its shard's lock. */
struct pool_affinity {
    wafer_module *module;
    struct pool_affinity *prev, *next; /* every affinity of the pool, under affinities_lock */
    struct affinity_head {
        _Alignas(POOL_LINE) uint32_t head; /* first slot of the list, or NO_SLOT */
    } shards[];
};

/* A slot's bookkeeping, written under the lock of the shard it is free in; a cache line each,
 * as neighbouring slots may be free in different shards. */
typedef struct pool_slot {
    _Alignas(POOL_LINE) uint32_t free_pos; /* index in its shard's free array; NO_SLOT in use */
    uint32_t shard;                  /* the shard it is free in */
    struct pool_affinity *affinity;  /* the list this free slot is on, or NULL */
    uint32_t aff_prev, aff_next;     /* neighbours on that list */
} pool_slot;

/* One shard of the free slots. num_free and the affinity heads are also read without the lock,
 * to skip empty shards: only as hints, checked again under the lock. */
typedef struct pool_shard {
    _Alignas(POOL_LINE) pthread_spinlock_t lock; /* held for a few loads and stores */
    uint32_t num_free;
    uint32_t *free;        /* the shard's free instance slots, in no order: total_instances room */
    uint64_t random_state; /* xorshift64, for the random victim */
} pool_shard;

/* A memory slot on cache lines of its own: slots of different instances are written by the
 * threads instantiating them. */
typedef struct pool_memory_line {
    _Alignas(POOL_LINE) memory_slot slot;
} pool_memory_line;

/* What every instantiation only reads comes first; what it writes lies in the shards. */
typedef struct pool {
    instance_allocator base;
    wafer_pooling_config limits;
    pool_slot *slots;           /* limits.total_instances */
    pool_memory_line *memory_slots; /* total_instances * max_memories_per_instance */
    uint8_t *region;            /* the one reservation behind every memory slot */
    size_t region_size;
    uint8_t *tables;            /* every table slot: total_instances * max_tables_per_instance */
    size_t table_slot_bytes;    /* each one's size: max_table_elements pointers, whole pages */
    size_t tables_size;
    uint32_t num_shards;
    pool_shard *shards;
    _Alignas(POOL_LINE) pthread_mutex_t affinities_lock; /* making and freeing affinities */
    struct pool_affinity *affinities;
} pool;

static pool *pool_of(instance_allocator *a) { return (pool *)a; }

static memory_slot *pool_memory_slot(pool *p, uint32_t instance_slot, defined_memory_index d) {
    return &p->memory_slots[(size_t)instance_slot * p->limits.max_memories_per_instance + d.i].slot;
}

static void **pool_table_slot(pool *p, uint32_t instance_slot, defined_table_index d) {
    size_t k = (size_t)instance_slot * p->limits.max_tables_per_instance + d.i;
    return (void **)(p->tables + k * p->table_slot_bytes);
}

static uint32_t random_below(pool_shard *shard, uint32_t n) {
    uint64_t x = shard->random_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    shard->random_state = x;
    return (uint32_t)(x % n);
}

/* ---- Free lists (the slot's shard's lock is held) -------------------------------------------- */

static uint32_t hint_load(const uint32_t *field) { return __atomic_load_n(field, __ATOMIC_RELAXED); }
static void hint_store(uint32_t *field, uint32_t value) {
    __atomic_store_n(field, value, __ATOMIC_RELAXED);
}

static void affinity_unlink(pool *p, uint32_t s) {
    pool_slot *slot = &p->slots[s];
    struct pool_affinity *aff = slot->affinity;
    if (!aff) return;
    if (slot->aff_prev != NO_SLOT) p->slots[slot->aff_prev].aff_next = slot->aff_next;
    else hint_store(&aff->shards[slot->shard].head, slot->aff_next);
    if (slot->aff_next != NO_SLOT) p->slots[slot->aff_next].aff_prev = slot->aff_prev;
    slot->affinity = NULL;
}

static void affinity_push(pool *p, uint32_t s, struct pool_affinity *aff) {
    pool_slot *slot = &p->slots[s];
    uint32_t *head = &aff->shards[slot->shard].head;
    slot->affinity = aff;
    slot->aff_prev = NO_SLOT;
    slot->aff_next = *head;
    if (*head != NO_SLOT) p->slots[*head].aff_prev = s;
    hint_store(head, s);
}

static void take_slot(pool *p, uint32_t s) {
    pool_shard *shard = &p->shards[p->slots[s].shard];
    uint32_t pos = p->slots[s].free_pos;
    uint32_t last = shard->free[shard->num_free - 1];
    hint_store(&shard->num_free, shard->num_free - 1);
    shard->free[pos] = last;
    p->slots[last].free_pos = pos;
    p->slots[s].free_pos = NO_SLOT;
    affinity_unlink(p, s);
}

static void put_slot(pool *p, uint32_t shard_index, uint32_t s) {
    pool_shard *shard = &p->shards[shard_index];
    p->slots[s].shard = shard_index;
    p->slots[s].free_pos = shard->num_free;
    shard->free[shard->num_free] = s;
    hint_store(&shard->num_free, shard->num_free + 1);
}

/* The module's affinity, made on first need; NULL when memory runs out (the slot is free all the
 * same, just without a preference). Published with release order: instance_begin reads it
 * without a lock. */
static struct pool_affinity *affinity_of(pool *p, wafer_module *module) {
    struct pool_affinity *aff = __atomic_load_n(&module->affinity, __ATOMIC_ACQUIRE);
    if (aff) return aff;
    pthread_mutex_lock(&p->affinities_lock);
    aff = module->affinity;
    if (!aff) {
        size_t size = sizeof *aff + p->num_shards * sizeof aff->shards[0];
        aff = aligned_alloc(POOL_LINE, (size + POOL_LINE - 1) / POOL_LINE * POOL_LINE);
        if (aff) {
            aff->module = module;
            for (uint32_t k = 0; k < p->num_shards; k++) aff->shards[k].head = NO_SLOT;
            aff->prev = NULL;
            aff->next = p->affinities;
            if (p->affinities) p->affinities->prev = aff;
            p->affinities = aff;
            __atomic_store_n(&module->affinity, aff, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&p->affinities_lock);
    return aff;
}

/* The module is going away, so nothing instantiates it any more; its slots stay free, without a
 * preference. */
static void affinity_free(pool *p, struct pool_affinity *aff) {
    for (uint32_t k = 0; k < p->num_shards; k++) {
        pthread_spin_lock(&p->shards[k].lock);
        for (uint32_t s = aff->shards[k].head, next; s != NO_SLOT; s = next) {
            next = p->slots[s].aff_next;
            p->slots[s].affinity = NULL;
        }
        pthread_spin_unlock(&p->shards[k].lock);
    }
    pthread_mutex_lock(&p->affinities_lock);
    if (aff->prev) aff->prev->next = aff->next;
    else p->affinities = aff->next;
    if (aff->next) aff->next->prev = aff->prev;
    pthread_mutex_unlock(&p->affinities_lock);
    aff->module->affinity = NULL;
    free(aff);
}

/* A free slot of the shard last used by the module, taken; NO_SLOT if it has none. */
static uint32_t take_affine(pool *p, uint32_t k, const struct pool_affinity *aff) {
    if (hint_load(&aff->shards[k].head) == NO_SLOT) return NO_SLOT;
    pthread_spin_lock(&p->shards[k].lock);
    uint32_t s = aff->shards[k].head;
    if (s != NO_SLOT) take_slot(p, s);
    pthread_spin_unlock(&p->shards[k].lock);
    return s;
}

/* A random free slot of the shard, taken; NO_SLOT if it has none. */
static uint32_t take_random(pool *p, uint32_t k) {
    pool_shard *shard = &p->shards[k];
    if (hint_load(&shard->num_free) == 0) return NO_SLOT;
    pthread_spin_lock(&shard->lock);
    uint32_t s = NO_SLOT;
    if (shard->num_free > 0) {
        s = shard->free[random_below(shard, shard->num_free)];
        take_slot(p, s);
    }
    pthread_spin_unlock(&shard->lock);
    return s;
}

/* ---- The interface -------------------------------------------------------------------------- */

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
    uint64_t size = instance_state_size(m);
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
    uint32_t own = thread_shard(p->num_shards), s = NO_SLOT;
    const struct pool_affinity *aff = __atomic_load_n(&module->affinity, __ATOMIC_ACQUIRE);
    for (uint32_t k = 0; aff && s == NO_SLOT && k < p->num_shards; k++)
        s = take_affine(p, (own + k) % p->num_shards, aff);
    for (uint32_t k = 0; s == NO_SLOT && k < p->num_shards; k++)
        s = take_random(p, (own + k) % p->num_shards);
    if (s == NO_SLOT)
        return error_new(WAFER_ERROR_RESOURCE,
                         "all %u instance slots of the pooling allocator are in use",
                         p->limits.total_instances);
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
    struct pool_affinity *aff = affinity_of(p, module);
    uint32_t own = thread_shard(p->num_shards);
    pthread_spin_lock(&p->shards[own].lock);
    put_slot(p, own, alloc->slot);
    if (aff) affinity_push(p, alloc->slot, aff);
    pthread_spin_unlock(&p->shards[own].lock);
}

static void pool_module_forget(instance_allocator *a, wafer_module *module) {
    pool *p = pool_of(a);
    if (module->affinity) affinity_free(p, module->affinity);
}

static void pool_destroy(instance_allocator *a) {
    pool *p = pool_of(a);
    while (p->affinities) affinity_free(p, p->affinities);
    size_t count = (size_t)p->limits.total_instances * p->limits.max_memories_per_instance;
    if (p->memory_slots)
        for (size_t i = 0; i < count; i++) memory_image_release(p->memory_slots[i].slot.image);
    if (p->region) sys_munmap(p->region, p->region_size);
    if (p->tables) sys_munmap(p->tables, p->tables_size);
    for (uint32_t k = 0; p->shards && k < p->num_shards; k++) {
        pthread_spin_destroy(&p->shards[k].lock);
        free(p->shards[k].free);
    }
    pthread_mutex_destroy(&p->affinities_lock);
    free(p->shards);
    free(p->memory_slots);
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

/* calloc for arrays of cache-line-aligned elements (size a multiple of POOL_LINE); at least one
 * element, so that an empty pool's arrays are valid too. */
static void *zeroed_lines(size_t count, size_t size) {
    if (count == 0) count = 1;
    if (count > SIZE_MAX / size) return NULL;
    void *p = aligned_alloc(POOL_LINE, count * size);
    if (p) memset(p, 0, count * size);
    return p;
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
    pthread_mutex_init(&p->affinities_lock, NULL);
    p->num_shards = thread_shard_count();
    p->shards = zeroed_lines(p->num_shards, sizeof *p->shards);
    if (p->shards) {
        for (uint32_t k = 0; k < p->num_shards; k++) {
            pthread_spin_init(&p->shards[k].lock, PTHREAD_PROCESS_PRIVATE);
            p->shards[k].random_state = 0x9E3779B97F4A7C15u + k;
            p->shards[k].free = calloc(l->total_instances ? l->total_instances : 1,
                                       sizeof *p->shards[k].free);
        }
    }
    p->slots = zeroed_lines(l->total_instances, sizeof *p->slots);
    p->memory_slots = zeroed_lines(count, sizeof *p->memory_slots);
    bool shards_ok = p->shards != NULL;
    for (uint32_t k = 0; shards_ok && k < p->num_shards; k++) shards_ok = p->shards[k].free;
    if (!shards_ok || !p->slots || !p->memory_slots) {
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
            p->memory_slots[i].slot = (memory_slot){.base = p->region + i * stride,
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
    /* The slots start spread over the shards, so no thread begins by asking the others. */
    for (uint32_t s = 0; s < l->total_instances; s++) {
        p->slots[s].affinity = NULL;
        put_slot(p, s % p->num_shards, s);
    }
    *out = &p->base;
    return NULL;
}
