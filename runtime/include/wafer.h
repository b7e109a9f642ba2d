/* wafer: a WebAssembly runtime in C11.
 *
 * The embedding API. What it promises:
 * - An engine holds configuration; modules are compiled against an engine, are immutable once made,
 *   and are refcounted so many stores may instantiate them.
 * - A store owns every runtime object made in it (instances, functions, memories, tables, globals);
 *   deleting the store releases them all. Objects of one store never mix with another's.
 * - Externrefs are counted references (see "Externrefs"): values the API hands out own a count the
 *   caller releases; values the caller hands in are borrowed, except host function results.
 * - Every fallible call returns a wafer_error * (NULL on success) that the caller frees with
 *   wafer_error_free. A trap is an error of kind WAFER_ERROR_TRAP whose trap kind says which trap;
 *   its message is the spec test suite's text for that trap.
 * - No call prints, exits, or crashes on bad input: malformed bytes, invalid modules, absurd limits,
 *   traps and exhaustion of stack, memory or fuel all come back as errors.
 */
#ifndef WAFER_H
#define WAFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Types ------------------------------------------------------------------------------ */

typedef struct wafer_engine wafer_engine;
typedef struct wafer_module wafer_module;
typedef struct wafer_store wafer_store;
typedef struct wafer_instance wafer_instance;
typedef struct wafer_func wafer_func;
typedef struct wafer_memory wafer_memory;
typedef struct wafer_table wafer_table;
typedef struct wafer_global wafer_global;
typedef struct wafer_externref wafer_externref;
typedef struct wafer_error wafer_error;
typedef struct wafer_caller wafer_caller;

/* Value types, numbered as in the binary format. */
typedef enum wafer_valtype {
    WAFER_I32 = 0x7F,
    WAFER_I64 = 0x7E,
    WAFER_F32 = 0x7D,
    WAFER_F64 = 0x7C,
    WAFER_V128 = 0x7B,
    WAFER_FUNCREF = 0x70,
    WAFER_EXTERNREF = 0x6F,
} wafer_valtype;

/* A typed value. Floats travel as their bit patterns so NaN payloads survive every copy. */
typedef struct wafer_value {
    wafer_valtype type;
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        uint8_t v128[16];            /* lane bytes in memory order (little-endian lanes) */
        wafer_func *funcref;         /* NULL is ref.null func */
        wafer_externref *externref;  /* NULL is ref.null extern */
    } of;
} wafer_value;

typedef struct wafer_functype {
    uint32_t num_params;
    uint32_t num_results;
    const wafer_valtype *params;
    const wafer_valtype *results;
} wafer_functype;

/* Whether two function types have the same parameter and result types, in order. */
bool wafer_functype_equal(const wafer_functype *a, const wafer_functype *b);

typedef struct wafer_limits {
    uint64_t min;
    uint64_t max;  /* meaningful only when has_max */
    bool has_max;
} wafer_limits;

typedef struct wafer_tabletype {
    wafer_valtype elem;  /* WAFER_FUNCREF or WAFER_EXTERNREF */
    wafer_limits limits; /* in elements */
} wafer_tabletype;

typedef struct wafer_memorytype {
    wafer_limits limits; /* in 64 KiB pages */
    bool is64;           /* memory64: addresses are i64 */
    bool shared;
} wafer_memorytype;

typedef struct wafer_globaltype {
    wafer_valtype type;
    bool is_mutable;
} wafer_globaltype;

typedef enum wafer_extern_kind {
    WAFER_EXTERN_FUNC = 0,
    WAFER_EXTERN_TABLE = 1,
    WAFER_EXTERN_MEMORY = 2,
    WAFER_EXTERN_GLOBAL = 3,
} wafer_extern_kind;

typedef struct wafer_externtype {
    wafer_extern_kind kind;
    union {
        const wafer_functype *func;
        wafer_tabletype table;
        wafer_memorytype memory;
        wafer_globaltype global;
    } of;
} wafer_externtype;

/* A runtime object that can be imported or exported. */
typedef struct wafer_extern {
    wafer_extern_kind kind;
    union {
        wafer_func *func;
        wafer_table *table;
        wafer_memory *memory;
        wafer_global *global;
    } of;
} wafer_extern;

/* Names are UTF-8 and may contain NUL bytes, so they travel with their length. */
typedef struct wafer_name {
    const char *bytes;
    size_t len;
} wafer_name;

typedef struct wafer_import_desc {
    wafer_name module;
    wafer_name name;
    wafer_externtype type;
} wafer_import_desc;

typedef struct wafer_export_desc {
    wafer_name name;
    wafer_externtype type;
} wafer_export_desc;

/* ---- Errors and traps ------------------------------------------------------------------- */

typedef enum wafer_error_kind {
    WAFER_ERROR_MALFORMED = 1, /* the bytes are not a module (decoding failed) */
    WAFER_ERROR_INVALID,       /* decoded, but fails validation */
    WAFER_ERROR_UNSUPPORTED,   /* uses a feature that is switched off or not implemented */
    WAFER_ERROR_LIMIT,         /* exceeds one of the engine's implementation limits */
    WAFER_ERROR_UNLINKABLE,    /* imports missing or of the wrong type */
    WAFER_ERROR_TRAP,          /* execution trapped (also during instantiation) */
    WAFER_ERROR_RESOURCE,      /* the OS or the configuration refused memory */
    WAFER_ERROR_USAGE,         /* the API was called wrongly (argument count or types, ...) */
} wafer_error_kind;

typedef enum wafer_trap_kind {
    WAFER_TRAP_NONE = 0,
    WAFER_TRAP_UNREACHABLE,            /* "unreachable" */
    WAFER_TRAP_MEMORY_OUT_OF_BOUNDS,   /* "out of bounds memory access" */
    WAFER_TRAP_TABLE_OUT_OF_BOUNDS,    /* "out of bounds table access" */
    WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO, /* "integer divide by zero" */
    WAFER_TRAP_INTEGER_OVERFLOW,       /* "integer overflow" */
    WAFER_TRAP_INVALID_CONVERSION,     /* "invalid conversion to integer" */
    WAFER_TRAP_UNDEFINED_ELEMENT,      /* "undefined element" */
    WAFER_TRAP_UNINITIALIZED_ELEMENT,  /* "uninitialized element" */
    WAFER_TRAP_INDIRECT_CALL_MISMATCH, /* "indirect call type mismatch" */
    WAFER_TRAP_CALL_STACK_EXHAUSTED,   /* "call stack exhausted" */
    WAFER_TRAP_OUT_OF_FUEL,            /* "all fuel consumed" */
    WAFER_TRAP_INTERRUPTED,            /* "interrupted: epoch deadline reached" */
    WAFER_TRAP_HOST,                   /* a host function returned an error; message is its */
} wafer_trap_kind;

wafer_error_kind wafer_error_kind_of(const wafer_error *err);
wafer_trap_kind wafer_error_trap_kind(const wafer_error *err); /* WAFER_TRAP_NONE if not a trap */
const char *wafer_error_message(const wafer_error *err);
void wafer_error_free(wafer_error *err);
/* For host functions that want to trap with their own message. */
wafer_error *wafer_error_new_trap(const char *message);
/* An error of any kind but a trap (use wafer_error_new_trap), for libraries built on this API
 * (wafer_wasi.h) that report link or resource failures as the runtime does. */
wafer_error *wafer_error_new(wafer_error_kind kind, const char *message);
const char *wafer_trap_kind_message(wafer_trap_kind kind);

/* ---- Engine ----------------------------------------------------------------------------- */

enum {
    WAFER_FEATURE_MUTABLE_GLOBALS = 1u << 0,
    WAFER_FEATURE_SIGN_EXTENSION = 1u << 1,
    WAFER_FEATURE_SAT_FLOAT_TO_INT = 1u << 2,
    WAFER_FEATURE_MULTI_VALUE = 1u << 3,
    WAFER_FEATURE_BULK_MEMORY = 1u << 4,
    WAFER_FEATURE_REFERENCE_TYPES = 1u << 5,
    WAFER_FEATURE_MEMORY64 = 1u << 6,
    WAFER_FEATURE_MULTI_MEMORY = 1u << 7,
    WAFER_FEATURE_SIMD = 1u << 8, /* not implemented: a module that uses SIMD fails to compile
                                   * with "unsupported feature: simd" whatever this bit says */
};
#define WAFER_FEATURES_DEFAULT                                                                     \
    (WAFER_FEATURE_MUTABLE_GLOBALS | WAFER_FEATURE_SIGN_EXTENSION |                                \
     WAFER_FEATURE_SAT_FLOAT_TO_INT | WAFER_FEATURE_MULTI_VALUE | WAFER_FEATURE_BULK_MEMORY |      \
     WAFER_FEATURE_REFERENCE_TYPES | WAFER_FEATURE_MEMORY64 | WAFER_FEATURE_MULTI_MEMORY)

/* Implementation limits. A module that asks for more fails to compile or instantiate with
 * WAFER_ERROR_LIMIT or WAFER_ERROR_RESOURCE; it never makes the runtime misbehave. */
typedef struct wafer_limits_config {
    uint32_t max_types;
    uint32_t max_functions;
    uint32_t max_imports;
    uint32_t max_exports;
    uint32_t max_globals;
    uint32_t max_tables;
    uint32_t max_memories;
    uint32_t max_element_segments;
    uint32_t max_data_segments;
    uint32_t max_params;         /* per function type, also results */
    uint32_t max_locals;         /* per function, params included */
    uint32_t max_function_size;  /* bytes of one body */
    uint32_t max_nesting;        /* depth of nested blocks */
    uint32_t max_table_elements; /* per table, at instantiation and on growth */
    uint64_t max_memory_pages;   /* per memory, at instantiation and on growth (any index type) */
} wafer_limits_config;

/* Where instances get their memories, tables and state (DESIGN.md section 3). */
typedef enum wafer_allocator_kind {
    WAFER_ALLOCATOR_ON_DEMAND = 0, /* allocate at instantiation, free at drop */
    WAFER_ALLOCATOR_POOLING,       /* preallocated slots, reused with affinity to the last module */
} wafer_allocator_kind;

/* Limits of the pooling allocator: everything is reserved once, when the engine is made. A module
 * that needs more than a slot holds fails to instantiate with WAFER_ERROR_RESOURCE. */
typedef struct wafer_pooling_config {
    uint32_t total_instances;        /* instance slots */
    uint32_t max_memories_per_instance; /* defined memories (imported ones are not pooled) */
    uint32_t max_tables_per_instance;   /* defined tables */
    uint64_t max_memory_pages;       /* per memory slot */
    uint32_t max_table_elements;     /* per table slot */
    uint64_t max_instance_size;      /* bytes of per-instance state (functions, globals, ...) */
} wafer_pooling_config;

typedef struct wafer_config {
    uint32_t features;       /* WAFER_FEATURE_* bits */
    uint32_t max_call_depth; /* wasm frames before "call stack exhausted" */
    uint32_t stack_slots;    /* value stack size in 8-byte slots; overflow is also exhaustion */
    bool consume_fuel;       /* if set, each store starts with 0 fuel: see wafer_store_set_fuel */
    bool epoch_interruption; /* if set, code checks the store's epoch deadline */
    bool gc_at_host_calls;   /* collect externrefs before every host function call (testing) */
    wafer_limits_config limits;

    /* Instance machinery (issue 4). */
    wafer_allocator_kind allocator;
    wafer_pooling_config pooling;
    bool memory_images;                  /* map data segments copy-on-write (default on) */
    uint64_t static_memory_maximum_size; /* bytes: memories whose maximum fits are "static" */
    bool static_memory_forced;           /* make every memory static (reserve the maximum) */
    uint64_t memory_guard_size;          /* bytes of PROT_NONE reserved after a static memory */
    uint64_t memory_keep_resident;       /* bytes of a pooled memory reset by memset, not madvise */
} wafer_config;

/* Fills *config with the defaults: all features of WAFER_FEATURES_DEFAULT, generous limits. */
void wafer_config_default(wafer_config *config);

wafer_engine *wafer_engine_new(const wafer_config *config); /* NULL config: defaults */
void wafer_engine_delete(wafer_engine *engine);
const wafer_config *wafer_engine_config(const wafer_engine *engine);
/* Advances the engine's epoch; stores whose deadline it reaches trap at the next check. */
void wafer_engine_increment_epoch(wafer_engine *engine);

/* ---- Modules ---------------------------------------------------------------------------- */

/* Decodes, validates and compiles. The bytes are copied; the caller keeps ownership of its own. */
wafer_error *wafer_module_new(wafer_engine *engine, const uint8_t *bytes, size_t len,
                              wafer_module **out);
/* Decodes and validates only. */
wafer_error *wafer_module_validate(wafer_engine *engine, const uint8_t *bytes, size_t len);
void wafer_module_retain(wafer_module *module);
void wafer_module_release(wafer_module *module);

size_t wafer_module_import_count(const wafer_module *module);
wafer_import_desc wafer_module_import(const wafer_module *module, size_t index);
size_t wafer_module_export_count(const wafer_module *module);
wafer_export_desc wafer_module_export(const wafer_module *module, size_t index);

/* ---- Stores ----------------------------------------------------------------------------- */

wafer_store *wafer_store_new(wafer_engine *engine);
void wafer_store_delete(wafer_store *store);
/* Fuel: with consume_fuel set, running out traps with WAFER_TRAP_OUT_OF_FUEL. A unit is spent per
 * wasm instruction run, paid a basic block at a time when the block is entered: a block whose
 * cost exceeds the fuel left traps before it runs, leaving that fuel (code.h). */
void wafer_store_set_fuel(wafer_store *store, uint64_t fuel);
uint64_t wafer_store_fuel(const wafer_store *store);
/* Epochs: the store traps with WAFER_TRAP_INTERRUPTED once the engine's epoch reaches
 * (epoch at this call) + ticks. */
void wafer_store_set_epoch_deadline(wafer_store *store, uint64_t ticks);

/* ---- Externrefs ------------------------------------------------------------------------- */

/* A host object wasm can hold but not look into, kept alive by counted references; finalize (may
 * be NULL) runs on data when the last one is released. Ownership across the API:
 * - wafer_externref_new and wafer_externref_clone return a reference the caller owns.
 * - Values the API returns own their reference: results of wafer_func_call, wafer_table_get and
 *   wafer_global_get. Release them (wafer_value_release or wafer_externref_release).
 * - Values the caller passes in are borrowed: arguments of wafer_func_call, values given to
 *   wafer_table_new/set/grow and wafer_global_new/set; the runtime takes its own counts.
 * - A host function's arguments are borrowed for the call; the results it writes are handed over
 *   (the runtime takes the count the host put there).
 * Tables and globals count the references they hold; wasm frames hold references through the
 * store's activation table, which a collection trims to what the frames still hold (invariant 7 of
 * DESIGN.md). Deleting a store releases everything the store holds. */
wafer_externref *wafer_externref_new(void *data, void (*finalize)(void *));
wafer_externref *wafer_externref_clone(wafer_externref *ref);
void wafer_externref_release(wafer_externref *ref);
void *wafer_externref_data(const wafer_externref *ref);
/* Releases an externref value's reference (and sets it to null); other values are left alone. */
void wafer_value_release(wafer_value *value);
/* Collects the store's activation table now: references no wasm frame holds are released. */
void wafer_store_gc(wafer_store *store);
/* Collections so far (for tests and benchmarks). */
uint64_t wafer_store_gc_count(const wafer_store *store);

/* ---- Functions -------------------------------------------------------------------------- */

/* Host functions fill results (as many as the type has results, of those types) and return NULL,
 * or return an error, which traps the calling wasm code with WAFER_TRAP_HOST. */
typedef wafer_error *(*wafer_host_callback)(void *env, wafer_caller *caller,
                                            const wafer_value *args, wafer_value *results);

/* The type is copied. env_free (may be NULL) runs on env when the store is deleted. */
wafer_func *wafer_func_new_host(wafer_store *store, const wafer_functype *type,
                                wafer_host_callback callback, void *env,
                                void (*env_free)(void *));
/* A host function of the engine rather than of one store: an import for instances in every store
 * of the engine, so a wafer_instance_pre made of such functions serves every store and
 * instantiating needs no per-store setup. The callback may run on several threads at once when
 * stores are used from several threads. env_free runs when the engine is deleted. */
wafer_func *wafer_func_new_engine_host(wafer_engine *engine, const wafer_functype *type,
                                       wafer_host_callback callback, void *env,
                                       void (*env_free)(void *));
const wafer_functype *wafer_func_type(const wafer_func *func);
/* Calls func with nargs arguments; writes its results to results[0..nresults). Argument count and
 * types must match the function's type, else WAFER_ERROR_USAGE. */
wafer_error *wafer_func_call(wafer_store *store, wafer_func *func, const wafer_value *args,
                             size_t nargs, wafer_value *results, size_t nresults);

/* Inside a host callback: an export of the instance whose code made the call, if any. */
bool wafer_caller_export(wafer_caller *caller, const char *name, size_t name_len,
                         wafer_extern *out);
wafer_store *wafer_caller_store(wafer_caller *caller);

/* ---- Memories, tables, globals ---------------------------------------------------------- */

wafer_error *wafer_memory_new(wafer_store *store, const wafer_memorytype *type,
                              wafer_memory **out);
wafer_memorytype wafer_memory_type(const wafer_memory *memory);
uint8_t *wafer_memory_data(wafer_memory *memory);
uint64_t wafer_memory_size_bytes(const wafer_memory *memory);
uint64_t wafer_memory_size_pages(const wafer_memory *memory);
/* Grows by delta pages; *old_pages (may be NULL) gets the previous size. Fails without change
 * past the maximum or when memory is refused. */
wafer_error *wafer_memory_grow(wafer_memory *memory, uint64_t delta, uint64_t *old_pages);

wafer_error *wafer_table_new(wafer_store *store, const wafer_tabletype *type, wafer_value init,
                             wafer_table **out);
wafer_tabletype wafer_table_type(const wafer_table *table);
uint64_t wafer_table_size(const wafer_table *table);
wafer_error *wafer_table_get(wafer_table *table, uint64_t index, wafer_value *out);
wafer_error *wafer_table_set(wafer_table *table, uint64_t index, wafer_value value);
wafer_error *wafer_table_grow(wafer_table *table, uint64_t delta, wafer_value init,
                              uint64_t *old_size);

wafer_error *wafer_global_new(wafer_store *store, const wafer_globaltype *type, wafer_value init,
                              wafer_global **out);
wafer_globaltype wafer_global_type(const wafer_global *global);
wafer_value wafer_global_get(const wafer_global *global);
wafer_error *wafer_global_set(wafer_global *global, wafer_value value); /* mutable only */

/* ---- Instances -------------------------------------------------------------------------- */

/* imports[i] satisfies the module's import i. Link errors are WAFER_ERROR_UNLINKABLE with the
 * spec's texts ("unknown import", "incompatible import type") and leave nothing behind. A trap while
 * initialising segments or in the start function is WAFER_ERROR_TRAP; as the spec requires, what
 * the segments already wrote into imported memories and tables stays, and functions of the failed
 * instance stored there stay callable (the store keeps them), but no instance handle is returned. */
wafer_error *wafer_instance_new(wafer_store *store, wafer_module *module,
                                const wafer_extern *imports, size_t nimports,
                                wafer_instance **out);
const wafer_module *wafer_instance_module(const wafer_instance *instance);
bool wafer_instance_export(const wafer_instance *instance, const char *name, size_t name_len,
                           wafer_extern *out);
size_t wafer_instance_export_count(const wafer_instance *instance);
/* The export at index, in the module's export order. */
wafer_extern wafer_instance_export_at(const wafer_instance *instance, size_t index,
                                      wafer_name *name);

/* ---- Pre-instantiation ------------------------------------------------------------------ */

/* A module with its imports resolved and type-checked once, for many fast instantiations. The
 * imports are objects of `store`; instances are made there. With store NULL every import must be
 * an engine host function (wafer_func_new_engine_host), and instances may be made in any store of
 * the module's engine, as for a module without imports. Import types only widen over time (tables
 * and memories only grow), so a match made once stays valid. Link errors are those of
 * wafer_instance_new. */
typedef struct wafer_instance_pre wafer_instance_pre;
wafer_error *wafer_instance_pre_new(wafer_store *store, wafer_module *module,
                                    const wafer_extern *imports, size_t nimports,
                                    wafer_instance_pre **out);
/* As wafer_instance_new with the pre's module and imports; store NULL means the pre's store (a
 * pre made without a store needs one here). */
wafer_error *wafer_instance_pre_instantiate(const wafer_instance_pre *pre, wafer_store *store,
                                            wafer_instance **out);
void wafer_instance_pre_delete(wafer_instance_pre *pre);

/* ---- Precompiled modules ---------------------------------------------------------------- */

/* Writes the module, validated and compiled, to path (a ".cwasm" file), with its memory images
 * page aligned in the file so that loading can map them. */
wafer_error *wafer_module_serialize_file(const wafer_module *module, const char *path);
/* Loads a file written by wafer_module_serialize_file. Memory images are mapped from the file
 * itself (copy-on-write), not copied. A file that is truncated, corrupted, written by another
 * version of wafer or for an engine with another configuration is refused with
 * WAFER_ERROR_MALFORMED (or WAFER_ERROR_UNSUPPORTED for a version or configuration mismatch) and a
 * message saying which. The file must not be truncated or rewritten in place while the module
 * (or an instance of it) lives: its image pages are mapped from it. Replace it by renaming. */
wafer_error *wafer_module_deserialize_file(wafer_engine *engine, const char *path,
                                           wafer_module **out);
/* Whether bytes start like a precompiled module (its magic), as opposed to a wasm binary. */
bool wafer_module_is_serialized(const uint8_t *bytes, size_t len);

#ifdef __cplusplus
}
#endif
#endif
