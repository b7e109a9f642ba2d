/* A small WebAssembly binary writer for targets that build focused module shapes whose every
 * detail they model (memory64_bounds, multi_memory_pool, pool_isolation, table_ops): what
 * oracles/wasm_writer.h has, plus imported tables, memory64 limits, active and passive data
 * segments (with the data count section), active element segments, multi-memory memargs and the
 * bulk memory and table instructions. There is no randomness here: the targets choose.
 *
 * What it promises: writing never fails midway; running out of memory sets `failed` on the buffer
 * and shape_module_finish reports it, so callers write freely and check once. Indices returned
 * are full indices (imports first); imports must all be added before the first definition of
 * their kind.
 */
#ifndef WAFER_SHAPE_WASM_H
#define WAFER_SHAPE_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm_writer.h" /* the byte buffer and LEB128 writers (oracles/) */

/* Value and reference types, by their encoding. */
enum {
    SHAPE_I32 = 0x7F,
    SHAPE_I64 = 0x7E,
    SHAPE_F32 = 0x7D,
    SHAPE_F64 = 0x7C,
    SHAPE_FUNCREF = 0x70,
    SHAPE_EXTERNREF = 0x6F,
};

/* Export and import kinds. */
enum { SHAPE_KIND_FUNC = 0, SHAPE_KIND_TABLE = 1, SHAPE_KIND_MEMORY = 2, SHAPE_KIND_GLOBAL = 3 };

typedef struct shape_limits {
    uint64_t min, max;
    bool has_max;
    bool is64; /* memories only */
} shape_limits;

typedef struct shape_module {
    wasm_buf types, imports, funcs, tables, memories, globals, exports, elems, code, datas;
    uint32_t ntypes, nimports, nexports, nelems, ndatas;
    uint32_t nfuncs, ntables, nmemories, nglobals; /* full index spaces */
    uint32_t table_defs, memory_defs;              /* definitions only */
} shape_module;

void shape_module_init(shape_module *m);
void shape_module_free(shape_module *m);

uint32_t shape_type(shape_module *m, uint32_t nparams, const uint8_t *params, uint32_t nresults,
                    const uint8_t *results);
uint32_t shape_import_memory(shape_module *m, const char *module, const char *name,
                             shape_limits limits);
uint32_t shape_import_table(shape_module *m, const char *module, const char *name, uint8_t elem,
                            shape_limits limits);
uint32_t shape_memory(shape_module *m, shape_limits limits);
uint32_t shape_table(shape_module *m, uint8_t elem, shape_limits limits);
/* A global of a numeric type initialised to the value with these bits (i32: the low 32), or of a
 * reference type initialised to null (bits 0) or, for funcref, to ref.func (bits - 1). */
uint32_t shape_global(shape_module *m, uint8_t type, bool is_mutable, uint64_t bits);
/* body: local declarations, then instructions, ending with `end`. */
uint32_t shape_func(shape_module *m, uint32_t type, const wasm_buf *body);
/* A function of its own type whose parameters go, in order, to the instructions `code`,
 * exported as `name`: the wrappers the targets call an instruction through. */
void shape_export_code(shape_module *m, uint32_t nparams, const uint8_t *params,
                       uint32_t nresults, const uint8_t *results, const wasm_buf *code,
                       const char *name);
/* The type of an address into a memory of this index type. */
static inline uint8_t shape_addr_type(bool is64) { return is64 ? SHAPE_I64 : SHAPE_I32; }
void shape_export(shape_module *m, const char *name, uint8_t kind, uint32_t index);
/* An active data segment at a constant offset (i64.const for a 64-bit memory, else i32.const of
 * the low 32 bits), or a passive one. */
void shape_data_active(shape_module *m, uint32_t memory, bool is64, uint64_t offset,
                       const uint8_t *bytes, uint32_t len);
void shape_data_passive(shape_module *m, const uint8_t *bytes, uint32_t len);
/* An active funcref segment of function indices at a constant i32 offset. */
void shape_elem_active(shape_module *m, uint32_t table, uint32_t offset, const uint32_t *funcs,
                       uint32_t count);

/* The module's bytes (malloc'd; the caller frees them). False if memory ran out. */
bool shape_module_finish(shape_module *m, uint8_t **out, size_t *len);

/* ---- Instructions ---- */
enum {
    SHAPE_OP_END = 0x0B,
    SHAPE_OP_DROP = 0x1A,
    SHAPE_OP_LOCAL_GET = 0x20,
    SHAPE_OP_GLOBAL_SET = 0x24,
    SHAPE_OP_TABLE_GET = 0x25,
    SHAPE_OP_TABLE_SET = 0x26,
    SHAPE_OP_MEMORY_SIZE = 0x3F,
    SHAPE_OP_MEMORY_GROW = 0x40,
    SHAPE_OP_I32_CONST = 0x41,
    SHAPE_OP_I64_CONST = 0x42,
};

/* op with a memory index immediate (memory.size, memory.grow). */
void shape_op_memory(wasm_buf *code, uint8_t op, uint32_t memory);
/* A load or store: opcode, then the memarg (alignment log2, memory index, static offset). */
void shape_op_memarg(wasm_buf *code, uint8_t op, uint32_t align, uint32_t memory,
                     uint64_t offset);
/* 0xFC-prefixed instructions with their immediates. */
void shape_op_memory_init(wasm_buf *code, uint32_t data, uint32_t memory);
void shape_op_data_drop(wasm_buf *code, uint32_t data);
void shape_op_memory_copy(wasm_buf *code, uint32_t dst, uint32_t src);
void shape_op_memory_fill(wasm_buf *code, uint32_t memory);
void shape_op_table_fill(wasm_buf *code, uint32_t table);
void shape_op_table_grow(wasm_buf *code, uint32_t table);

#endif
