/* The decoded module: what decode.c produces, validate.c checks and completes with compiled code,
 * and instance.c instantiates. Immutable once wafer_module_new returns; shared by refcount.
 *
 * Index spaces follow the spec: imports come first in the function, table, memory and global
 * index spaces, then the module's own definitions. Arrays named *_types below cover the whole index
 * space (imported entries included), so validation and compilation index them directly.
 */
#ifndef WAFER_MODULE_H
#define WAFER_MODULE_H

#include "wafer.h"
#include "code.h"
#include "thread_shard.h"

/* One instruction of a constant expression. The decoder records every instruction up to `end`;
 * the validator decides which are constant ("constant expression required"). */
typedef struct const_instr {
    uint16_t opcode; /* the wasm opcode byte (0x41 i32.const, 0x23 global.get, 0xD0 ref.null, ...) */
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        uint32_t index;        /* global.get, ref.func */
        wafer_valtype reftype; /* ref.null */
    } imm;
} const_instr;

typedef struct const_expr {
    uint32_t count; /* instructions before the final `end` */
    const_instr *instrs;
} const_expr;

typedef struct module_import {
    wafer_name module; /* point into module->bytes */
    wafer_name name;
    wafer_extern_kind kind;
    uint32_t type_index; /* WAFER_EXTERN_FUNC: index into types */
    /* other kinds: the entry of tables/memories/globals at this import's index holds the type */
    uint32_t kind_index; /* this import's index in its kind's index space */
} module_import;

typedef struct module_export {
    wafer_name name;
    wafer_extern_kind kind;
    uint32_t index; /* full index in the kind's index space */
} module_export;

typedef struct module_global {
    wafer_globaltype type;
    const_expr init; /* defined globals only */
} module_global;

typedef enum segment_mode {
    SEGMENT_ACTIVE,
    SEGMENT_PASSIVE,
    SEGMENT_DECLARATIVE, /* element segments only */
} segment_mode;

typedef struct module_elem {
    segment_mode mode;
    wafer_valtype type;   /* WAFER_FUNCREF or WAFER_EXTERNREF */
    uint32_t table_index; /* active only */
    const_expr offset;    /* active only */
    uint32_t count;
    const_expr *items; /* each item one expression; function-index forms become ref.func x */
    const_instr *item_instrs; /* one allocation holding every item's instructions */
} module_elem;

typedef struct module_data {
    segment_mode mode;
    uint32_t memory_index; /* active only */
    const_expr offset;     /* active only */
    const uint8_t *bytes;  /* points into module->bytes */
    uint32_t len;
} module_data;

/* How a defined funcref table is initialised lazily (DESIGN.md invariant 6): when every active
 * element segment on it has a constant offset, only ref.func and ref.null items, and fits the
 * table's minimum size, the segments are folded, in order, into one list of function indices that
 * instances resolve on first read. Other tables take the eager path. */
typedef struct table_plan {
    bool lazy;
    uint32_t len;    /* entries of funcs: the end of the furthest segment */
    uint32_t *funcs; /* per element: function index + 1, or 0 for null */
} table_plan;

typedef struct module_local_run {
    uint32_t count;
    wafer_valtype type;
} module_local_run;

typedef struct module_body {
    uint32_t num_local_runs; /* as encoded: runs of (count, type) */
    module_local_run *local_runs;
    uint32_t num_locals;       /* declared locals, params not included */
    const uint8_t *code;       /* the expression bytes after the locals, ending with `end` */
    uint32_t code_len;
    uint32_t code_offset;      /* offset of `code` in the module bytes, for error messages */
} module_body;

/* Every instantiation counts itself, from whatever thread instantiates. A single count would be a
 * cache line written by every core on every instantiation, so instances count in the instantiating
 * thread's shard of instance_refs instead (module_retain_for_instance); a shard going from zero to
 * one instance holds one count of refcount, and going back to zero gives it back. Each count has a
 * cache line of its own at the end (MODULE_LINE; modules are allocated aligned to it), so the
 * fields every instantiation reads stay shared between cores. */
#define MODULE_LINE 64
typedef struct {
    _Alignas(MODULE_LINE) uint32_t count; /* atomic */
} module_ref_shard;
struct wafer_module {
    wafer_engine *engine;
    uint8_t *bytes; /* private copy of the binary; names, data and bodies point into it */
    size_t len;

    uint32_t num_types;
    wafer_functype *types;

    uint32_t num_imports;
    module_import *imports;
    uint32_t num_imported_funcs, num_imported_tables, num_imported_memories, num_imported_globals;

    uint32_t num_funcs; /* full index space */
    uint32_t *func_type_indices;

    uint32_t num_tables; /* full index space; imported entries hold the import's type */
    wafer_tabletype *tables;
    uint32_t num_memories;
    wafer_memorytype *memories;
    uint32_t num_globals;
    module_global *globals;

    uint32_t num_exports;
    module_export *exports;

    bool has_start;
    uint32_t start_func;

    uint32_t num_elems;
    module_elem *elems;

    bool has_data_count;
    uint32_t data_count;
    uint32_t num_datas;
    module_data *datas;
    uint64_t *active_datas; /* a bit per data segment, set for active ones (64 per word) */

    /* Defined functions: bodies from the decoder, compiled code from validation. */
    uint32_t num_bodies;
    module_body *bodies;
    code_func *code; /* num_funcs - num_imported_funcs entries, filled by module_validate */

    /* Functions that may be named by ref.func in code: exported, or referenced in a global
     * initialiser or element segment (the spec's C.refs). Bit per function index. */
    uint8_t *declared_refs;

    /* Lazy tables, from module_plan_tables; both NULL when not planned (every table eager). */
    table_plan *table_plans; /* per defined table: index - num_imported_tables */
    bool *elem_planned;      /* per element segment: folded into a lazy table's plan */

    /* Memory images (image.h): NULL when the active data segments are copied at instantiation.
     * Built by module creation when config.memory_images is set, or by a precompiled loader. */
    struct module_images *images;
    /* The pooling allocator's free slots last used by this module (pool.c), or NULL; detached
     * by allocator_module_forget before the module is freed. */
    struct pool_affinity *affinity;
    _Alignas(MODULE_LINE) int refcount; /* atomic: API references, plus one per shard in use */
    module_ref_shard instance_refs[THREAD_SHARDS_MAX];
};

/* decode.c: bytes -> module. On failure returns a WAFER_ERROR_MALFORMED (or _LIMIT,
 * _UNSUPPORTED) error naming the offset, and frees everything it made. */
wafer_error *module_decode(wafer_engine *engine, const uint8_t *bytes, size_t len,
                           wafer_module **out);
/* validate.c: checks everything the spec's validation rules require, and compiles each body into
 * module->code. WAFER_ERROR_INVALID with the spec test suite's text on failure. */
wafer_error *module_validate(wafer_module *module, bool compile);
/* validate.c: the same checks except those of function bodies, for a precompiled module whose
 * compiled code is loaded instead of made (serialize.c). Also computes declared_refs. */
wafer_error *module_validate_declarations(wafer_module *module);
/* table_plan.c: computes table_plans and elem_planned of a validated module. */
wafer_error *module_plan_tables(wafer_module *module);
void module_free_table_plans(wafer_module *module);
/* An instance's count on its module (see instance_refs): the retain, made by a holder of another
 * reference, returns the shard that the release, from any thread, gives back to. */
uint32_t module_retain_for_instance(wafer_module *module);
void module_release_for_instance(wafer_module *module, uint32_t shard);
/* Frees a module whose refcount dropped to zero, or a half-decoded one. */
void module_free(wafer_module *module);

static inline bool module_func_is_imported(const wafer_module *m, uint32_t func_index) {
    return func_index < m->num_imported_funcs;
}

#endif
