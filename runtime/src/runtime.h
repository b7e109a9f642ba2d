/* The runtime objects behind the public handles, laid out for the interpreter to use directly.
 * instance.c, store.c, memory.c, table.c, global.c make and free them; interp.c reads them.
 */
#ifndef WAFER_RUNTIME_H
#define WAFER_RUNTIME_H

#include "module.h"
#include "error.h"

#define WAFER_PAGE_SIZE 65536u

struct wafer_engine {
    wafer_config config;
    uint64_t epoch; /* advanced by wafer_engine_increment_epoch */
};

struct wafer_externref {
    void *data;
    void (*finalize)(void *);
    struct wafer_externref *next_in_store;
};

struct wafer_func {
    const wafer_functype *type;
    wafer_instance *instance; /* wasm functions: the instance whose code this is */
    const code_func *code;    /* wasm functions; NULL for host functions */
    wafer_host_callback host;
    void *env;
    void (*env_free)(void *);
    wafer_functype owned_type; /* host functions: their copy of the type */
    struct wafer_func *next_in_store;
};

struct wafer_memory {
    uint8_t *data;
    uint64_t size_bytes;
    uint64_t pages;
    uint64_t max_pages; /* the declared maximum, or the index type's, capped by the config */
    wafer_memorytype type;
    size_t reserved_bytes; /* what memory.c mapped for data */
    struct wafer_memory *next_in_store;
};

struct wafer_table {
    void **elems; /* wafer_func * or wafer_externref *, NULL for null */
    uint32_t size;
    uint32_t max; /* the declared maximum capped by the config */
    wafer_tabletype type;
    struct wafer_table *next_in_store;
};

struct wafer_global {
    uint64_t bits; /* same encoding as a frame slot */
    wafer_globaltype type;
    struct wafer_global *next_in_store;
};

/* An element segment as the instance sees it: evaluated references, or none once dropped. */
typedef struct instance_elem {
    uint32_t count;
    void **refs;
} instance_elem;

struct wafer_instance {
    wafer_module *module; /* retained */
    wafer_store *store;
    wafer_func **funcs;     /* full index space */
    wafer_table **tables;   /* full index space */
    wafer_memory **memories;/* full index space */
    wafer_global **globals; /* full index space */
    instance_elem *elems;   /* per element segment */
    bool *data_dropped;     /* per data segment */
    wafer_func *defined_funcs;     /* the module's own functions, owned by the instance */
    wafer_global *defined_globals; /* the module's own globals, owned by the instance */
    struct wafer_instance *next_in_store;
};

/* Native bookkeeping of one wasm activation; the values live in the store's slot stack. */
typedef struct call_frame {
    const wafer_func *func;
    const uint32_t *return_pc; /* in the caller's code, after the CALL */
    uint64_t *fp;              /* this frame's slot 0 */
} call_frame;

struct wafer_store {
    wafer_engine *engine;
    uint64_t *stack;     /* config.stack_slots slots, made on first call */
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
    wafer_externref *externrefs;
};

struct wafer_caller {
    wafer_store *store;
    wafer_instance *instance; /* of the calling wasm code; NULL when the host called directly */
};

/* interp.c: runs func with its arguments in slots[0..nparams); on success its results are in
 * slots[0..nresults). slots must lie in store->stack at or above store->stack_top, with room for
 * the larger of nparams and nresults. Returns NULL or a trap. Host functions may be called too. */
wafer_error *interp_call(wafer_store *store, wafer_func *func, uint64_t *slots);

/* Structural equality of function types, for call_indirect and import matching. */
bool functype_equal(const wafer_functype *a, const wafer_functype *b);

/* Slot encoding of a public value and back. */
uint64_t value_to_slot(wafer_value v);
wafer_value value_from_slot(wafer_valtype type, uint64_t slot);

/* func.c: runs a host function's env_free and frees it (store deletion). */
void host_func_destroy(wafer_func *func);

/* instance.c: frees an instance with the memories, tables, globals and functions it defined, and
 * releases its module (store deletion, or a failed instantiation). */
void instance_destroy(wafer_instance *instance);

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

#endif
