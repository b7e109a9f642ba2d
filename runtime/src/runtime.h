/* The runtime objects behind the public handles, laid out for the interpreter to use directly.
 * instance.c, store.c, memory.c, table.c, global.c make and free them; interp.c reads them.
 */
#ifndef WAFER_RUNTIME_H
#define WAFER_RUNTIME_H

#include "module.h"
#include "error.h"
#include "image.h"

#include <pthread.h>

#define WAFER_PAGE_SIZE 65536u

/* Native bookkeeping of one wasm activation; the values live in the store's slot stack. */
typedef struct call_frame {
    const code_func *code;
    wafer_instance *instance;
    const uint32_t *return_pc; /* in the caller's code, after the CALL */
    uint64_t *fp;              /* this frame's slot 0 */
    /* The safepoint the frame is stopped at while anything else runs: the call it made, or the
     * instruction inserting into the activation table. Its stack map tells a collection which
     * slots hold externrefs (code.h). */
    const uint32_t *safepoint;
} call_frame;

/* stack_cache.c: value stacks and frame arrays of deleted stores, for the engine's next stores,
 * sharded by thread (thread_shard.h): a store takes from and gives back to its thread's shard. */
#define STACK_CACHE_PER_SHARD 8
typedef struct stack_cache_shard {
    _Alignas(64) pthread_spinlock_t lock; /* held for a few loads and stores */
    uint32_t count; /* also read without the lock, as a hint */
    struct spare_stack {
        uint64_t *stack;
        call_frame *frames;
    } spare[STACK_CACHE_PER_SHARD];
} stack_cache_shard;
typedef struct stack_cache {
    uint32_t num_shards;
    stack_cache_shard *shards;
} stack_cache;

/* Cache lines written by every store creation or epoch tick are kept apart from the
 * configuration every call reads (ENGINE_LINE; the engine is allocated aligned to it). */
#define ENGINE_LINE 64
struct wafer_engine {
    wafer_config config;
    struct instance_allocator *allocator; /* allocator.h: where instances' memories come from */
    struct wafer_func *host_funcs; /* wafer_func_new_engine_host's, linked by next_in_store */
    stack_cache stacks;
    _Alignas(ENGINE_LINE) uint64_t epoch; /* advanced by wafer_engine_increment_epoch */
};

/* Makes the engine's empty cache; false when memory runs out. */
bool stack_cache_init(wafer_engine *engine);
/* A stack of config.stack_slots + 1 slots and config.max_call_depth + 1 frames, spare or new;
 * false when memory runs out. */
bool stack_cache_take(wafer_engine *engine, uint64_t **stack, call_frame **frames);
/* Keeps a deleted store's stack for a later store, or frees it when enough are kept. */
void stack_cache_give(wafer_engine *engine, uint64_t *stack, call_frame *frames);
/* Frees every spare stack (engine deletion). */
void stack_cache_free(wafer_engine *engine);

/* extern_ref.c: a host object wasm can hold (DESIGN.md invariant 7). Counted references keep it
 * alive: the host's, tables' and globals' (each element or global holding it counts one), and the
 * activation tables' (for references in wasm frames, which count nothing themselves). */
struct wafer_externref {
    uint64_t refcount; /* atomic: stores on several threads may share a reference */
    void *data;
    void (*finalize)(void *);
};

/* The references that entered wasm frames (extern_ref.c), per store: a bump chunk taking each
 * insertion, and the precise set the last collection found live in frames. Each entry of either
 * holds one count. Nothing is allocated until the first insertion. */
typedef struct activation_table {
    wafer_externref **chunk;
    uint32_t chunk_len, chunk_cap;
    wafer_externref **live; /* sorted, distinct */
    uint32_t live_len, live_cap;
    uint64_t collections;
} activation_table;

struct wafer_func {
    const wafer_functype *type;
    wafer_instance *instance; /* wasm functions: the instance whose code this is */
    const code_func *code;    /* wasm functions; NULL for host functions */
    wafer_host_callback host;
    void *env;
    void (*env_free)(void *);
    wafer_functype owned_type; /* host functions: their copy of the type */
    bool of_engine;            /* an engine host function, usable in every store */
    struct wafer_func *next_in_store; /* or in the engine's list, for engine host functions */
};

struct wafer_memory {
    uint8_t *data;
    uint64_t size_bytes;
    uint64_t pages;
    uint64_t max_pages; /* the declared maximum, or the index type's, capped by the config */
    wafer_memorytype type;
    size_t reserved_bytes; /* what memory.c mapped for data */
    struct wafer_memory *next_in_store;
    /* Where data lives (image.h): own_slot, or an allocator's slot that outlives the memory.
     * A static memory's slot reserves its maximum and never moves; a dynamic one reserves its
     * current size and moves when it grows past it. guard_bytes of PROT_NONE follow either. */
    memory_slot *slot;
    memory_slot own_slot;
    bool is_static;
    size_t guard_bytes;
    /* Set by every write to the contents (stores, bulk operations, data segments copied in, the
     * host taking the data pointer): a pooled slot whose memory was never written needs no
     * reset of its bytes (memory_destroy hands the flag to the slot). */
    bool written;
};

/* Table elements (DESIGN.md invariant 6): a slot holds 0 while uninitialised, or a reference
 * (wafer_func * or wafer_externref *, NULL for null) with TABLE_REF_TAG set, so an explicitly
 * stored null (TABLE_REF_TAG alone) differs from "not yet initialised". An uninitialised slot is
 * resolved on first read from the table's lazy source: the precomputed function indices of the
 * module that defined the table, resolved in the defining instance; past lazy_len, or without a
 * source, it is null. Every read goes through table_ref_get or table_elem_resolve. */
#define TABLE_REF_TAG ((uintptr_t)1)

struct wafer_table {
    void **elems; /* tagged references, see above; 0 = uninitialised */
    uint32_t size;
    uint32_t max; /* the declared maximum capped by the config */
    wafer_tabletype type;
    struct wafer_table *next_in_store;
    /* The lazy source: elems[i] == 0 with i < lazy_len resolves to function lazy_funcs[i] - 1
     * of lazy_instance, or null where lazy_funcs[i] is 0. lazy_funcs belongs to the module. */
    wafer_instance *lazy_instance;
    const uint32_t *lazy_funcs;
    uint32_t lazy_len;
    /* elems lie in an allocator's table slot (allocator.h): never reallocated or freed here,
     * and max is within the slot's capacity */
    bool pooled;
    /* Every element at or past it is still zero, as the table was made: what a pooled slot's
     * reset must clear ends here (table_written). */
    uint32_t written_end;
};

struct wafer_global {
    uint64_t bits; /* same encoding as a frame slot */
    wafer_globaltype type;
    struct wafer_global *next_in_store;
};

/* instance_funcs.c: the function objects of an instance's defined functions, made on first use. */
typedef struct func_objects {
    wafer_func **slots; /* capacity entries, a power of two (or none); NULL marks a free one */
    uint32_t capacity;
    uint32_t count;
} func_objects;

/* An element segment as the instance sees it: evaluated references, or none once dropped. An
 * externref segment counts its references (global.get of an imported global can put one there). */
typedef struct instance_elem {
    uint32_t count;
    bool externrefs;
    void **refs;
} instance_elem;
/* instance.c: elem.drop, giving back an externref segment's counts. */
void instance_elem_drop(instance_elem *elem);

/* What the engine's allocator keeps per instance (allocator.h). */
struct instance_allocation {
    uint32_t slot; /* pooling: the instance slot */
};

struct wafer_instance {
    wafer_module *module; /* retained through module_retain_for_instance, in module_ref_shard */
    uint32_t module_ref_shard;
    wafer_store *store;
    wafer_func **imported_funcs; /* by import index among functions */
    func_objects func_objects;   /* defined functions that escaped, see instance_func */
    wafer_table **tables;   /* full index space */
    wafer_memory **memories;/* full index space */
    wafer_global **globals; /* full index space */
    instance_elem *elems;   /* per element segment */
    uint64_t *data_dropped; /* a bit per data segment, see data_is_dropped */
    wafer_global *defined_globals; /* the module's own globals, owned by the instance */
    struct wafer_instance *next_in_store;
    /* DESIGN.md invariant 4: set once every resource exists; until then instance_destroy is
     * releasing a half-built instance, never dropping a whole one. */
    bool initialised;
    bool allocation_begun;  /* the engine's allocator holds `allocation` for it */
    bool data_from_image;   /* active data segments came from the module's images */
    struct instance_allocation allocation;
};

/* Data segments' dropped bits, in words of 64. */
static inline uint32_t data_bitmap_words(uint32_t num_datas) { return (num_datas + 63) / 64; }
static inline bool data_is_dropped(const wafer_instance *instance, uint32_t i) {
    return instance->data_dropped[i / 64] >> (i % 64) & 1;
}
static inline void data_drop(wafer_instance *instance, uint32_t i) {
    instance->data_dropped[i / 64] |= UINT64_C(1) << (i % 64);
}

struct wafer_store {
    wafer_engine *engine;
    uint64_t *stack;     /* config.stack_slots slots, from the engine's stack cache */
    uint64_t *stack_top; /* first slot not used by any active frame (host calls re-enter here) */
    call_frame *frames;  /* config.max_call_depth entries */
    uint32_t depth;      /* active wasm frames, across nested entries from host functions */
    uint32_t entries;    /* active interp_call activations: each re-entry from a host function
                          * costs native stack, so their nesting is bounded separately */
    uint64_t fuel;
    uint64_t epoch_deadline;
    wafer_instance *instances;
    wafer_func *funcs;
    wafer_memory *memories;
    wafer_table *tables;
    wafer_global *globals;
    activation_table activations;
};

struct wafer_caller {
    wafer_store *store;
    wafer_instance *instance; /* of the calling wasm code; NULL when the host called directly */
};

/* interp.c: runs func with its arguments in slots[0..nparams); on success its results are in
 * slots[0..nresults). slots must lie in store->stack at or above store->stack_top, with room for
 * the larger of nparams and nresults. Returns NULL or a trap. Host functions may be called too. */
wafer_error *interp_call(wafer_store *store, wafer_func *func, uint64_t *slots);

/* Slot encoding of a public value and back. */
uint64_t value_to_slot(wafer_value v);
wafer_value value_from_slot(wafer_valtype type, uint64_t slot);

/* func.c: runs a host function's env_free and frees it (store deletion). */
void host_func_destroy(wafer_func *func);

/* instance.c: frees an instance with the memories, tables, globals and functions it defined, and
 * releases its module (store deletion, or a failed instantiation). */
void instance_destroy(wafer_instance *instance);
/* Bytes of the one allocation that holds an instance of m and its per-instance arrays. */
uint64_t instance_state_size(const wafer_module *m);
/* The function at a full index of the instance's function space. The objects of defined functions
 * are made on first use (ref.func, a table read, an export, the start function; direct calls need
 * none), so a large module's instance costs nothing per function it never lets escape. Aborts
 * only when the process is out of memory. */
wafer_func *instance_defined_func(wafer_instance *instance, uint32_t defined);
static inline wafer_func *instance_func(wafer_instance *instance, uint32_t index) {
    uint32_t imported = instance->module->num_imported_funcs;
    return index < imported ? instance->imported_funcs[index]
                            : instance_defined_func(instance, index - imported);
}
/* Frees the function objects made for the instance (instance_destroy). */
void instance_funcs_free(wafer_instance *instance);
/* Import matching alone (spec 4.5.2), and instantiation with imports already matched: what
 * wafer_instance_new does in two steps, for wafer_instance_pre (instance_pre.c). */
wafer_error *instance_match_imports(const wafer_module *module, const wafer_extern *imports,
                                    size_t nimports);
wafer_error *instance_new_matched(wafer_store *store, wafer_module *module,
                                  const wafer_extern *imports, wafer_instance **out);

/* extern_ref.c */
/* Counts: +1 (NULL allowed, nothing done) and -1, running the finalizer at zero. */
void externref_retain(wafer_externref *ref);
void externref_release(wafer_externref *ref);
/* A reference held by a table or global (which keep it alive) enters a wasm frame: it goes into
 * the activation table, collecting first if the chunk is full. The running frame's safepoint
 * must be set. */
void activation_enter(wafer_store *store, wafer_externref *ref);
/* Room for n insertions that must not collect in between (the references are not in any frame
 * yet): collects now if needed, then grows the chunk if that freed too little. False when memory
 * runs out. */
bool activation_reserve(wafer_store *store, uint32_t n);
/* Inserts a reference whose count the caller hands over (after activation_reserve). */
void activation_insert_owned(wafer_store *store, wafer_externref *ref);
/* Collects: keeps what the frames' stack maps show live, releases the rest. */
void activation_collect(wafer_store *store);
/* Releases everything (store deletion). */
void activation_free(wafer_store *store);

/* global.c: an externref global's count of its value (other globals: nothing), and setting a
 * global's bits with the counts kept. */
void global_value_retain(wafer_global *global);
void global_value_release(wafer_global *global);
void global_set_bits(wafer_global *global, uint64_t bits);

/* memory.c */
/* Makes a memory of type->limits.min pages, zeroed, not linked into the store's list: the caller
 * owns it. WAFER_ERROR_RESOURCE if the minimum exceeds the configured limit or the OS refuses. */
wafer_error *memory_create(wafer_store *store, const wafer_memorytype *type, wafer_memory **out);
/* Grows by delta pages; returns the old size in pages, or UINT64_MAX if refused (no change). */
uint64_t memory_grow(wafer_memory *memory, uint64_t delta_pages);
void memory_destroy(wafer_memory *memory);

/* table.c */
/* Makes a table of type->limits.min elements set to init, not linked into the store's list: the
 * caller owns it. WAFER_ERROR_RESOURCE if the minimum exceeds the configured limit. */
wafer_error *table_create(wafer_store *store, const wafer_tabletype *type, void *init,
                          wafer_table **out);
/* Grows by delta elements; returns the old size, or UINT64_MAX if refused (no change). */
uint64_t table_grow(wafer_table *table, uint64_t delta, void *init);
void table_destroy(wafer_table *table);
/* Makes a table whose elements live in `storage` (capacity elements, all zero), as
 * table_create does with a null init, its maximum capped by the capacity. */
wafer_error *table_create_in_slot(wafer_store *store, const wafer_tabletype *type, void **storage,
                                  uint32_t capacity, wafer_table **out);
/* Resolves the uninitialised slot i (< size) from the lazy source, stores the result tagged and
 * returns it (tagged). */
uintptr_t table_elem_resolve(wafer_table *table, uint32_t i);
/* Resolves every uninitialised slot of [start, start + n) (in bounds). */
void table_resolve_range(wafer_table *table, uint32_t start, uint32_t n);

/* The tagged element at i (< size), resolved if it was uninitialised. */
static inline uintptr_t table_elem(wafer_table *table, uint32_t i) {
    uintptr_t e = (uintptr_t)table->elems[i];
    if (__builtin_expect(e == 0, 0)) e = table_elem_resolve(table, i);
    return e;
}
/* The reference at i (< size): NULL for null. */
static inline void *table_ref_get(wafer_table *table, uint32_t i) {
    return (void *)(table_elem(table, i) & ~TABLE_REF_TAG);
}
static inline void *table_ref_tagged(void *ref) {
    return (void *)((uintptr_t)ref | TABLE_REF_TAG);
}
/* Every write of elements [.., end) reports its end, for the pooled slot's reset. */
static inline void table_written(wafer_table *table, uint32_t end) {
    if (end > table->written_end) table->written_end = end;
}
static inline void table_ref_set(wafer_table *table, uint32_t i, void *ref) {
    table->elems[i] = table_ref_tagged(ref);
    table_written(table, i + 1);
}
/* Stores a reference at i (< size), keeping an externref table's counts: the table takes a count
 * of the new reference and gives back the old one's. Every store of a reference into a table that
 * may be an externref table goes through here. */
void table_put_extern(wafer_table *table, uint32_t i, void *ref);
static inline void table_put(wafer_table *table, uint32_t i, void *ref) {
    if (table->type.elem == WAFER_EXTERNREF)
        table_put_extern(table, i, ref);
    else
        table_ref_set(table, i, ref);
}
/* table.copy of n elements (in bounds) between externref tables, counts kept. */
void table_copy_extern(wafer_table *dst, uint32_t d, wafer_table *src, uint32_t s, uint32_t n);

#endif
