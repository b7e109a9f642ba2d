/* A small WebAssembly binary writer, for the modules the oracles generate (the wabt adapter's
 * shims and wrappers): types, imports, functions, memories, tables, globals, exports, a start
 * function. Code is written by the caller as raw instruction bytes into a wasm_buf.
 *
 * Memory runs out -> the buffer's `failed` flag is set and every later write is dropped;
 * wasm_module_finish reports it. So callers write freely and check once at the end.
 */
#ifndef WAFER_ORACLE_WASM_WRITER_H
#define WAFER_ORACLE_WASM_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wasm_buf {
    uint8_t *data;
    size_t len;
    size_t capacity;
    bool failed;
} wasm_buf;

void wasm_buf_free(wasm_buf *buf);
void wasm_byte(wasm_buf *buf, uint8_t byte);
void wasm_bytes(wasm_buf *buf, const void *bytes, size_t len);
void wasm_uleb(wasm_buf *buf, uint64_t value);
void wasm_sleb(wasm_buf *buf, int64_t value);
void wasm_name(wasm_buf *buf, const void *name, size_t len); /* length, then bytes */

/* Instructions the generated code uses. */
enum {
    WASM_OP_UNREACHABLE = 0x00,
    WASM_OP_BLOCK = 0x02,
    WASM_OP_LOOP = 0x03,
    WASM_OP_IF = 0x04,
    WASM_OP_ELSE = 0x05,
    WASM_OP_END = 0x0B,
    WASM_OP_BR = 0x0C,
    WASM_OP_BR_IF = 0x0D,
    WASM_OP_RETURN = 0x0F,
    WASM_OP_CALL = 0x10,
    WASM_OP_DROP = 0x1A,
    WASM_OP_LOCAL_GET = 0x20,
    WASM_OP_LOCAL_SET = 0x21,
    WASM_OP_LOCAL_TEE = 0x22,
    WASM_OP_GLOBAL_GET = 0x23,
    WASM_OP_I64_LOAD = 0x29,
    WASM_OP_I32_LOAD8_U = 0x2D,
    WASM_OP_MEMORY_SIZE = 0x3F,
    WASM_OP_I32_CONST = 0x41,
    WASM_OP_I64_CONST = 0x42,
    WASM_OP_F32_CONST = 0x43,
    WASM_OP_F64_CONST = 0x44,
    WASM_OP_I32_EQZ = 0x45,
    WASM_OP_I64_EQZ = 0x50,
    WASM_OP_I64_LT_U = 0x54,
    WASM_OP_I64_GT_U = 0x56,
    WASM_OP_I64_GE_U = 0x5A,
    WASM_OP_I64_ADD = 0x7C,
    WASM_OP_I64_MUL = 0x7E,
    WASM_OP_I64_SHL = 0x86,
    WASM_OP_I64_XOR = 0x85,
    WASM_OP_I32_WRAP_I64 = 0xA7,
    WASM_OP_I64_EXTEND_I32_U = 0xAD,
    WASM_OP_I32_REINTERPRET_F32 = 0xBC,
    WASM_OP_I64_REINTERPRET_F64 = 0xBD,
    WASM_OP_REF_NULL = 0xD0,
    WASM_OP_REF_IS_NULL = 0xD1,
};

/* Block types and value types, by their encoding. */
enum {
    WASM_BLOCK_EMPTY = 0x40,
    WASM_I32 = 0x7F,
    WASM_I64 = 0x7E,
    WASM_F32 = 0x7D,
    WASM_F64 = 0x7C,
    WASM_V128 = 0x7B,
    WASM_FUNCREF = 0x70,
    WASM_EXTERNREF = 0x6F,
};

typedef struct wasm_limits {
    uint64_t min;
    uint64_t max;
    bool has_max;
    bool is64;
    bool shared;
} wasm_limits;

/* A module being written: sections are kept apart until wasm_module_finish puts them in order.
 * Imports must all be added before the first function; index results are full indices. */
typedef struct wasm_module {
    wasm_buf types, imports, funcs, tables, memories, globals, exports, code;
    uint32_t ntypes, nimports, nexports;
    uint32_t func_imports, func_defs; /* the function index space: imports, then definitions */
    uint32_t memory_imports, memory_defs;
    uint32_t global_imports, global_defs;
    uint32_t table_defs;
    bool has_start;
    uint32_t start;
} wasm_module;

void wasm_module_init(wasm_module *m);
void wasm_module_free(wasm_module *m);

uint32_t wasm_type(wasm_module *m, uint32_t nparams, const uint8_t *params, uint32_t nresults,
                   const uint8_t *results);
uint32_t wasm_import_func(wasm_module *m, const void *module, size_t module_len, const void *name,
                          size_t name_len, uint32_t type);
uint32_t wasm_import_memory(wasm_module *m, const void *module, size_t module_len,
                            const void *name, size_t name_len, wasm_limits limits);
uint32_t wasm_import_global(wasm_module *m, const void *module, size_t module_len,
                            const void *name, size_t name_len, uint8_t type, bool is_mutable);
/* body: local declarations, then instructions, ending with `end`. */
uint32_t wasm_func(wasm_module *m, uint32_t type, const wasm_buf *body);
uint32_t wasm_memory(wasm_module *m, wasm_limits limits);
uint32_t wasm_table(wasm_module *m, uint8_t elem, wasm_limits limits);
/* A global initialised to the zero (or null) of its type. */
uint32_t wasm_global_zero(wasm_module *m, uint8_t type, bool is_mutable);
void wasm_export(wasm_module *m, const void *name, size_t name_len, uint8_t kind, uint32_t index);
void wasm_start(wasm_module *m, uint32_t func);

/* The module's bytes (malloc'd, the caller frees them). False if memory ran out. */
bool wasm_module_finish(wasm_module *m, uint8_t **out, size_t *len);

/* Pushes the zero (or null) value of type: i32.const 0, ..., ref.null t. */
void wasm_zero(wasm_buf *code, uint8_t type);

#endif
