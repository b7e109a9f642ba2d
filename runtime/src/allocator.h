/* Instance allocators: where an instance's defined memories and tables come from and where they
 * go when it is dropped (DESIGN.md sections 2 and 3). Two implementations behind one interface:
 *   ondemand.c  (default) maps each memory when it is made and unmaps it when dropped;
 *   pool.c      (config.allocator = WAFER_ALLOCATOR_POOLING) reserves every slot when the engine
 *               is made, resets slots on drop and hands them out again with affinity to the
 *               module that last used them (invariant 5).
 *
 * Storage is indexed by *defined* index, code by *full* index (invariant 3); the two are distinct
 * types here so that passing one where the other is meant does not compile.
 */
#ifndef WAFER_ALLOCATOR_H
#define WAFER_ALLOCATOR_H

#include "image.h"
#include "runtime.h"

/* ---- Index spaces --------------------------------------------------------------------------- */

typedef struct { uint32_t i; } memory_index;         /* full: imports first */
typedef struct { uint32_t i; } defined_memory_index; /* the module's own memories, from 0 */
typedef struct { uint32_t i; } table_index;
typedef struct { uint32_t i; } defined_table_index;

static inline memory_index memory_index_of_defined(const wafer_module *m, defined_memory_index d) {
    return (memory_index){m->num_imported_memories + d.i};
}
/* false for an imported memory. */
static inline bool memory_index_to_defined(const wafer_module *m, memory_index x,
                                           defined_memory_index *out) {
    if (x.i < m->num_imported_memories) return false;
    out->i = x.i - m->num_imported_memories;
    return true;
}
static inline table_index table_index_of_defined(const wafer_module *m, defined_table_index d) {
    return (table_index){m->num_imported_tables + d.i};
}
static inline uint32_t module_defined_memories(const wafer_module *m) {
    return m->num_memories - m->num_imported_memories;
}
static inline uint32_t module_defined_tables(const wafer_module *m) {
    return m->num_tables - m->num_imported_tables;
}

/* ---- The interface -------------------------------------------------------------------------- */

/* What an allocator keeps per instance between instance_begin and instance_end (runtime.h). */
typedef struct instance_allocation instance_allocation;

typedef struct instance_allocator instance_allocator;

typedef struct instance_allocator_ops {
    /* Takes what the instance needs before its memories are made; checks the module against the
     * allocator's limits. */
    wafer_error *(*instance_begin)(instance_allocator *a, const wafer_module *module,
                                   instance_allocation *out);
    /* Makes defined memory d of the instance, with image's contents (NULL: zeros). The memory is
     * not linked into any store list; the instance owns it. */
    wafer_error *(*memory_new)(instance_allocator *a, instance_allocation *alloc,
                               const wafer_module *module, defined_memory_index d,
                               memory_image *image, wafer_memory **out);
    /* Makes defined table d of the instance, all elements zero (uninitialised, DESIGN.md
     * invariant 6); not linked into the store's list. */
    wafer_error *(*table_new)(instance_allocator *a, instance_allocation *alloc,
                              wafer_store *store, const wafer_module *module,
                              defined_table_index d, wafer_table **out);
    /* Takes back everything of the instance, after its memories and tables were destroyed with
     * memory_destroy and table_destroy (which clears a pooled table's slot). The pool resets the
     * slot's memories here (aborting if that fails). */
    void (*instance_end)(instance_allocator *a, instance_allocation *alloc,
                         wafer_module *module);
    /* The module is being freed: forget any affinity to it. */
    void (*module_forget)(instance_allocator *a, wafer_module *module);
    void (*destroy)(instance_allocator *a);
} instance_allocator_ops;

struct instance_allocator {
    const instance_allocator_ops *ops;
    const wafer_config *config; /* the engine's */
};

/* The allocator config->allocator names. WAFER_ERROR_RESOURCE when the pool cannot be reserved. */
wafer_error *instance_allocator_new(const wafer_config *config, instance_allocator **out);
wafer_error *ondemand_allocator_new(const wafer_config *config, instance_allocator **out);
wafer_error *pool_allocator_new(const wafer_config *config, instance_allocator **out);

/* memory.c: a memory in a slot reserved by an allocator: static, never moving, at most
 * slot_max_pages pages (the slot's capacity). The slot is not released by memory_destroy. */
wafer_error *memory_create_in_slot(const wafer_config *config, const wafer_memorytype *type,
                                   memory_slot *slot, uint64_t slot_max_pages,
                                   memory_image *image, wafer_memory **out);
/* memory.c: a memory with its own reservation, static or dynamic as the config says. */
wafer_error *memory_create_owned(const wafer_config *config, const wafer_memorytype *type,
                                 memory_image *image, wafer_memory **out);

#endif
