/* The binary writer: see wasm_writer.h. Encoding: spec 5 (binary format). */
#include "wasm_writer.h"

#include <stdlib.h>
#include <string.h>

static bool reserve(wasm_buf *buf, size_t extra) {
    if (buf->failed) return false;
    if (buf->len + extra <= buf->capacity) return true;
    size_t capacity = buf->capacity ? buf->capacity : 64;
    while (capacity < buf->len + extra) capacity *= 2;
    uint8_t *data = realloc(buf->data, capacity);
    if (!data) {
        buf->failed = true;
        return false;
    }
    buf->data = data;
    buf->capacity = capacity;
    return true;
}

void wasm_buf_free(wasm_buf *buf) {
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

void wasm_byte(wasm_buf *buf, uint8_t byte) {
    if (reserve(buf, 1)) buf->data[buf->len++] = byte;
}

void wasm_bytes(wasm_buf *buf, const void *bytes, size_t len) {
    if (len && reserve(buf, len)) {
        memcpy(buf->data + buf->len, bytes, len);
        buf->len += len;
    }
}

void wasm_uleb(wasm_buf *buf, uint64_t value) {
    do {
        uint8_t b = value & 0x7F;
        value >>= 7;
        wasm_byte(buf, value ? (uint8_t)(b | 0x80) : b);
    } while (value);
}

void wasm_sleb(wasm_buf *buf, int64_t value) {
    for (;;) {
        uint8_t b = (uint8_t)(value & 0x7F);
        /* Arithmetic shift of a negative value is implementation-defined in C; do it by hand. */
        value = value < 0 ? ~(~value >> 7) : value >> 7;
        bool done = (value == 0 && !(b & 0x40)) || (value == -1 && (b & 0x40));
        wasm_byte(buf, done ? b : (uint8_t)(b | 0x80));
        if (done) return;
    }
}

void wasm_name(wasm_buf *buf, const void *name, size_t len) {
    wasm_uleb(buf, len);
    wasm_bytes(buf, name, len);
}

void wasm_module_init(wasm_module *m) { memset(m, 0, sizeof *m); }

void wasm_module_free(wasm_module *m) {
    wasm_buf *bufs[] = {&m->types,   &m->imports, &m->funcs,   &m->tables,
                        &m->memories, &m->globals, &m->exports, &m->code};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) wasm_buf_free(bufs[i]);
    wasm_module_init(m);
}

uint32_t wasm_type(wasm_module *m, uint32_t nparams, const uint8_t *params, uint32_t nresults,
                   const uint8_t *results) {
    wasm_byte(&m->types, 0x60);
    wasm_uleb(&m->types, nparams);
    wasm_bytes(&m->types, params, nparams);
    wasm_uleb(&m->types, nresults);
    wasm_bytes(&m->types, results, nresults);
    return m->ntypes++;
}

static void write_limits(wasm_buf *buf, wasm_limits l) {
    wasm_byte(buf, (uint8_t)((l.has_max ? 1 : 0) | (l.shared ? 2 : 0) | (l.is64 ? 4 : 0)));
    wasm_uleb(buf, l.min);
    if (l.has_max) wasm_uleb(buf, l.max);
}

static void import_head(wasm_module *m, const void *module, size_t module_len, const void *name,
                        size_t name_len, uint8_t kind) {
    wasm_name(&m->imports, module, module_len);
    wasm_name(&m->imports, name, name_len);
    wasm_byte(&m->imports, kind);
    m->nimports++;
}

uint32_t wasm_import_func(wasm_module *m, const void *module, size_t module_len, const void *name,
                          size_t name_len, uint32_t type) {
    import_head(m, module, module_len, name, name_len, 0);
    wasm_uleb(&m->imports, type);
    return m->func_imports++;
}

uint32_t wasm_import_memory(wasm_module *m, const void *module, size_t module_len,
                            const void *name, size_t name_len, wasm_limits limits) {
    import_head(m, module, module_len, name, name_len, 2);
    write_limits(&m->imports, limits);
    return m->memory_imports++;
}

uint32_t wasm_import_global(wasm_module *m, const void *module, size_t module_len,
                            const void *name, size_t name_len, uint8_t type, bool is_mutable) {
    import_head(m, module, module_len, name, name_len, 3);
    wasm_byte(&m->imports, type);
    wasm_byte(&m->imports, is_mutable ? 1 : 0);
    return m->global_imports++;
}

uint32_t wasm_func(wasm_module *m, uint32_t type, const wasm_buf *body) {
    wasm_uleb(&m->funcs, type);
    wasm_uleb(&m->code, body->len);
    wasm_bytes(&m->code, body->data, body->len);
    if (body->failed) m->code.failed = true;
    return m->func_imports + m->func_defs++;
}

uint32_t wasm_memory(wasm_module *m, wasm_limits limits) {
    write_limits(&m->memories, limits);
    return m->memory_imports + m->memory_defs++;
}

uint32_t wasm_table(wasm_module *m, uint8_t elem, wasm_limits limits) {
    wasm_byte(&m->tables, elem);
    write_limits(&m->tables, limits);
    return m->table_defs++;
}

void wasm_zero(wasm_buf *code, uint8_t type) {
    switch (type) {
    case WASM_I32: wasm_byte(code, WASM_OP_I32_CONST); wasm_byte(code, 0); break;
    case WASM_I64: wasm_byte(code, WASM_OP_I64_CONST); wasm_byte(code, 0); break;
    case WASM_F32:
        wasm_byte(code, WASM_OP_F32_CONST);
        wasm_bytes(code, "\0\0\0\0", 4);
        break;
    case WASM_F64:
        wasm_byte(code, WASM_OP_F64_CONST);
        wasm_bytes(code, "\0\0\0\0\0\0\0\0", 8);
        break;
    case WASM_V128:
        wasm_byte(code, 0xFD);
        wasm_uleb(code, 12); /* v128.const */
        wasm_bytes(code, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
        break;
    default: wasm_byte(code, WASM_OP_REF_NULL); wasm_byte(code, type); break;
    }
}

uint32_t wasm_global_zero(wasm_module *m, uint8_t type, bool is_mutable) {
    wasm_byte(&m->globals, type);
    wasm_byte(&m->globals, is_mutable ? 1 : 0);
    wasm_zero(&m->globals, type);
    wasm_byte(&m->globals, WASM_OP_END);
    return m->global_imports + m->global_defs++;
}

void wasm_export(wasm_module *m, const void *name, size_t name_len, uint8_t kind, uint32_t index) {
    wasm_name(&m->exports, name, name_len);
    wasm_byte(&m->exports, kind);
    wasm_uleb(&m->exports, index);
    m->nexports++;
}

void wasm_start(wasm_module *m, uint32_t func) {
    m->has_start = true;
    m->start = func;
}

/* A section of `count` entries (none: the section is left out): id, size, count, entries. */
static void section(wasm_buf *out, uint8_t id, uint32_t count, const wasm_buf *entries) {
    if (count == 0) return;
    wasm_buf body = {0};
    wasm_uleb(&body, count);
    wasm_bytes(&body, entries->data, entries->len);
    wasm_byte(out, id);
    wasm_uleb(out, body.len);
    wasm_bytes(out, body.data, body.len);
    if (body.failed || entries->failed) out->failed = true;
    wasm_buf_free(&body);
}

bool wasm_module_finish(wasm_module *m, uint8_t **out, size_t *len) {
    wasm_buf mod = {0};
    wasm_bytes(&mod, "\0asm\1\0\0\0", 8);
    section(&mod, 1, m->ntypes, &m->types);
    section(&mod, 2, m->nimports, &m->imports);
    section(&mod, 3, m->func_defs, &m->funcs);
    section(&mod, 4, m->table_defs, &m->tables);
    section(&mod, 5, m->memory_defs, &m->memories);
    section(&mod, 6, m->global_defs, &m->globals);
    section(&mod, 7, m->nexports, &m->exports);
    if (m->has_start) {
        wasm_buf start = {0};
        wasm_uleb(&start, m->start);
        wasm_byte(&mod, 8);
        wasm_uleb(&mod, start.len);
        wasm_bytes(&mod, start.data, start.len);
        if (start.failed) mod.failed = true;
        wasm_buf_free(&start);
    }
    section(&mod, 10, m->func_defs, &m->code);
    if (mod.failed) {
        wasm_buf_free(&mod);
        return false;
    }
    *out = mod.data;
    *len = mod.len;
    return true;
}
