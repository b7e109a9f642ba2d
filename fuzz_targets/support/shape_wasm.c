/* The binary writer of the focused module shapes: see shape_wasm.h. Encoding: spec 5. */
#include "support/shape_wasm.h"

#include <stdlib.h>
#include <string.h>

static bool reserve(shape_buf *buf, size_t extra) {
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

void shape_buf_free(shape_buf *buf) {
    free(buf->data);
    *buf = (shape_buf){0};
}

void shape_byte(shape_buf *buf, uint8_t byte) {
    if (reserve(buf, 1)) buf->data[buf->len++] = byte;
}

void shape_bytes(shape_buf *buf, const void *bytes, size_t len) {
    if (len && reserve(buf, len)) {
        memcpy(buf->data + buf->len, bytes, len);
        buf->len += len;
    }
}

void shape_uleb(shape_buf *buf, uint64_t value) {
    do {
        uint8_t byte = value & 0x7F;
        value >>= 7;
        shape_byte(buf, byte | (value ? 0x80 : 0));
    } while (value);
}

void shape_sleb(shape_buf *buf, int64_t value) {
    for (;;) {
        uint8_t byte = value & 0x7F;
        value >>= 7; /* arithmetic shift: gcc and clang define it */
        bool done = (value == 0 && !(byte & 0x40)) || (value == -1 && (byte & 0x40));
        shape_byte(buf, byte | (done ? 0 : 0x80));
        if (done) return;
    }
}

static void name(shape_buf *buf, const char *s) {
    size_t len = strlen(s);
    shape_uleb(buf, len);
    shape_bytes(buf, s, len);
}

static void limits(shape_buf *buf, shape_limits l) {
    shape_byte(buf, (uint8_t)((l.has_max ? 1 : 0) | (l.is64 ? 4 : 0)));
    shape_uleb(buf, l.min);
    if (l.has_max) shape_uleb(buf, l.max);
}

void shape_module_init(shape_module *m) { memset(m, 0, sizeof *m); }

void shape_module_free(shape_module *m) {
    shape_buf *bufs[] = {&m->types,   &m->imports, &m->funcs, &m->tables, &m->memories,
                         &m->globals, &m->exports, &m->elems, &m->code,   &m->datas};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) shape_buf_free(bufs[i]);
}

uint32_t shape_type(shape_module *m, uint32_t nparams, const uint8_t *params, uint32_t nresults,
                    const uint8_t *results) {
    shape_byte(&m->types, 0x60);
    shape_uleb(&m->types, nparams);
    shape_bytes(&m->types, params, nparams);
    shape_uleb(&m->types, nresults);
    shape_bytes(&m->types, results, nresults);
    return m->ntypes++;
}

uint32_t shape_import_memory(shape_module *m, const char *module, const char *field,
                             shape_limits l) {
    name(&m->imports, module);
    name(&m->imports, field);
    shape_byte(&m->imports, SHAPE_KIND_MEMORY);
    limits(&m->imports, l);
    m->nimports++;
    return m->nmemories++;
}

uint32_t shape_import_table(shape_module *m, const char *module, const char *field, uint8_t elem,
                            shape_limits l) {
    name(&m->imports, module);
    name(&m->imports, field);
    shape_byte(&m->imports, SHAPE_KIND_TABLE);
    shape_byte(&m->imports, elem);
    l.is64 = false;
    limits(&m->imports, l);
    m->nimports++;
    return m->ntables++;
}

uint32_t shape_memory(shape_module *m, shape_limits l) {
    limits(&m->memories, l);
    m->memory_defs++;
    return m->nmemories++;
}

uint32_t shape_table(shape_module *m, uint8_t elem, shape_limits l) {
    shape_byte(&m->tables, elem);
    l.is64 = false;
    limits(&m->tables, l);
    m->table_defs++;
    return m->ntables++;
}

uint32_t shape_global(shape_module *m, uint8_t type, bool is_mutable, uint64_t bits) {
    shape_buf *g = &m->globals;
    shape_byte(g, type);
    shape_byte(g, is_mutable ? 1 : 0);
    switch (type) {
    case SHAPE_I32:
        shape_byte(g, SHAPE_OP_I32_CONST);
        shape_sleb(g, (int32_t)(uint32_t)bits);
        break;
    case SHAPE_I64:
        shape_byte(g, SHAPE_OP_I64_CONST);
        shape_sleb(g, (int64_t)bits);
        break;
    case SHAPE_F32: {
        uint32_t b = (uint32_t)bits;
        shape_byte(g, 0x43);
        shape_bytes(g, &b, 4); /* little endian hosts only, as the runtime itself */
        break;
    }
    case SHAPE_F64:
        shape_byte(g, 0x44);
        shape_bytes(g, &bits, 8);
        break;
    default:
        if (type == SHAPE_FUNCREF && bits) {
            shape_byte(g, 0xD2); /* ref.func */
            shape_uleb(g, bits - 1);
        } else {
            shape_byte(g, 0xD0); /* ref.null */
            shape_byte(g, type);
        }
    }
    shape_byte(g, SHAPE_OP_END);
    return m->nglobals++;
}

uint32_t shape_func(shape_module *m, uint32_t type, const shape_buf *body) {
    shape_uleb(&m->funcs, type);
    shape_uleb(&m->code, body->len);
    shape_bytes(&m->code, body->data, body->len);
    if (body->failed) m->code.failed = true;
    return m->nfuncs++;
}

void shape_export(shape_module *m, const char *field, uint8_t kind, uint32_t index) {
    name(&m->exports, field);
    shape_byte(&m->exports, kind);
    shape_uleb(&m->exports, index);
    m->nexports++;
}

void shape_data_active(shape_module *m, uint32_t memory, bool is64, uint64_t offset,
                       const uint8_t *bytes, uint32_t len) {
    shape_buf *d = &m->datas;
    if (memory == 0) {
        shape_byte(d, 0);
    } else {
        shape_byte(d, 2);
        shape_uleb(d, memory);
    }
    if (is64) {
        shape_byte(d, SHAPE_OP_I64_CONST);
        shape_sleb(d, (int64_t)offset);
    } else {
        shape_byte(d, SHAPE_OP_I32_CONST);
        shape_sleb(d, (int32_t)(uint32_t)offset);
    }
    shape_byte(d, SHAPE_OP_END);
    shape_uleb(d, len);
    shape_bytes(d, bytes, len);
    m->ndatas++;
}

void shape_data_passive(shape_module *m, const uint8_t *bytes, uint32_t len) {
    shape_byte(&m->datas, 1);
    shape_uleb(&m->datas, len);
    shape_bytes(&m->datas, bytes, len);
    m->ndatas++;
}

void shape_elem_active(shape_module *m, uint32_t table, uint32_t offset, const uint32_t *funcs,
                       uint32_t count) {
    shape_buf *e = &m->elems;
    if (table == 0) {
        shape_byte(e, 0);
    } else {
        shape_byte(e, 2);
        shape_uleb(e, table);
    }
    shape_byte(e, SHAPE_OP_I32_CONST);
    shape_sleb(e, (int32_t)offset);
    shape_byte(e, SHAPE_OP_END);
    if (table != 0) shape_byte(e, 0x00); /* elemkind funcref */
    shape_uleb(e, count);
    for (uint32_t i = 0; i < count; i++) shape_uleb(e, funcs[i]);
    m->nelems++;
}

static void section(shape_buf *out, uint8_t id, uint32_t count, const shape_buf *body) {
    if (count == 0) return;
    shape_buf content = {0};
    shape_uleb(&content, count);
    shape_bytes(&content, body->data, body->len);
    if (body->failed) content.failed = true;
    shape_byte(out, id);
    shape_uleb(out, content.len);
    shape_bytes(out, content.data, content.len);
    if (content.failed) out->failed = true;
    shape_buf_free(&content);
}

bool shape_module_finish(shape_module *m, uint8_t **out, size_t *len) {
    shape_buf b = {0};
    static const uint8_t header[] = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};
    shape_bytes(&b, header, sizeof header);
    uint32_t ndefined_funcs = m->nfuncs; /* no function imports in these shapes */
    section(&b, 1, m->ntypes, &m->types);
    section(&b, 2, m->nimports, &m->imports);
    section(&b, 3, ndefined_funcs, &m->funcs);
    section(&b, 4, m->table_defs, &m->tables);
    section(&b, 5, m->memory_defs, &m->memories);
    section(&b, 6, m->nglobals, &m->globals);
    section(&b, 7, m->nexports, &m->exports);
    section(&b, 9, m->nelems, &m->elems);
    if (m->ndatas) { /* the data count section, so code may use memory.init and data.drop */
        shape_buf count = {0};
        shape_uleb(&count, m->ndatas);
        shape_byte(&b, 12);
        shape_uleb(&b, count.len);
        shape_bytes(&b, count.data, count.len);
        shape_buf_free(&count);
    }
    section(&b, 10, ndefined_funcs, &m->code);
    section(&b, 11, m->ndatas, &m->datas);
    if (b.failed || m->code.failed) {
        shape_buf_free(&b);
        return false;
    }
    *out = b.data;
    *len = b.len;
    return true;
}

void shape_op_memory(shape_buf *code, uint8_t op, uint32_t memory) {
    shape_byte(code, op);
    shape_uleb(code, memory);
}

void shape_op_memarg(shape_buf *code, uint8_t op, uint32_t align, uint32_t memory,
                     uint64_t offset) {
    shape_byte(code, op);
    if (memory == 0) {
        shape_uleb(code, align);
    } else { /* multi-memory: bit 6 of the alignment says a memory index follows */
        shape_uleb(code, align | 0x40);
        shape_uleb(code, memory);
    }
    shape_uleb(code, offset);
}

static void prefixed(shape_buf *code, uint32_t sub) {
    shape_byte(code, 0xFC);
    shape_uleb(code, sub);
}

void shape_op_memory_init(shape_buf *code, uint32_t data, uint32_t memory) {
    prefixed(code, 8);
    shape_uleb(code, data);
    shape_uleb(code, memory);
}

void shape_op_data_drop(shape_buf *code, uint32_t data) {
    prefixed(code, 9);
    shape_uleb(code, data);
}

void shape_op_memory_copy(shape_buf *code, uint32_t dst, uint32_t src) {
    prefixed(code, 10);
    shape_uleb(code, dst);
    shape_uleb(code, src);
}

void shape_op_memory_fill(shape_buf *code, uint32_t memory) {
    prefixed(code, 11);
    shape_uleb(code, memory);
}

void shape_op_table_fill(shape_buf *code, uint32_t table) {
    prefixed(code, 17);
    shape_uleb(code, table);
}

void shape_op_table_grow(shape_buf *code, uint32_t table) {
    prefixed(code, 15);
    shape_uleb(code, table);
}
