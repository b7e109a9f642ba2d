/* The binary writer of the focused module shapes: see shape_wasm.h. Encoding: spec 5. */
#include "support/shape_wasm.h"

#include <stdlib.h>
#include <string.h>

static void name(wasm_buf *buf, const char *s) { wasm_name(buf, s, strlen(s)); }

static void limits(wasm_buf *buf, shape_limits l) {
    wasm_byte(buf, (uint8_t)((l.has_max ? 1 : 0) | (l.is64 ? 4 : 0)));
    wasm_uleb(buf, l.min);
    if (l.has_max) wasm_uleb(buf, l.max);
}

void shape_module_init(shape_module *m) { memset(m, 0, sizeof *m); }

void shape_module_free(shape_module *m) {
    wasm_buf *bufs[] = {&m->types,   &m->imports, &m->funcs, &m->tables, &m->memories,
                         &m->globals, &m->exports, &m->elems, &m->code,   &m->datas};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) wasm_buf_free(bufs[i]);
}

uint32_t shape_type(shape_module *m, uint32_t nparams, const uint8_t *params, uint32_t nresults,
                    const uint8_t *results) {
    wasm_byte(&m->types, 0x60);
    wasm_uleb(&m->types, nparams);
    wasm_bytes(&m->types, params, nparams);
    wasm_uleb(&m->types, nresults);
    wasm_bytes(&m->types, results, nresults);
    return m->ntypes++;
}

uint32_t shape_import_memory(shape_module *m, const char *module, const char *field,
                             shape_limits l) {
    name(&m->imports, module);
    name(&m->imports, field);
    wasm_byte(&m->imports, SHAPE_KIND_MEMORY);
    limits(&m->imports, l);
    m->nimports++;
    return m->nmemories++;
}

uint32_t shape_import_table(shape_module *m, const char *module, const char *field, uint8_t elem,
                            shape_limits l) {
    name(&m->imports, module);
    name(&m->imports, field);
    wasm_byte(&m->imports, SHAPE_KIND_TABLE);
    wasm_byte(&m->imports, elem);
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
    wasm_byte(&m->tables, elem);
    l.is64 = false;
    limits(&m->tables, l);
    m->table_defs++;
    return m->ntables++;
}

uint32_t shape_global(shape_module *m, uint8_t type, bool is_mutable, uint64_t bits) {
    wasm_buf *g = &m->globals;
    wasm_byte(g, type);
    wasm_byte(g, is_mutable ? 1 : 0);
    switch (type) {
    case SHAPE_I32:
        wasm_byte(g, SHAPE_OP_I32_CONST);
        wasm_sleb(g, (int32_t)(uint32_t)bits);
        break;
    case SHAPE_I64:
        wasm_byte(g, SHAPE_OP_I64_CONST);
        wasm_sleb(g, (int64_t)bits);
        break;
    case SHAPE_F32: {
        uint32_t b = (uint32_t)bits;
        wasm_byte(g, 0x43);
        wasm_bytes(g, &b, 4); /* little endian hosts only, as the runtime itself */
        break;
    }
    case SHAPE_F64:
        wasm_byte(g, 0x44);
        wasm_bytes(g, &bits, 8);
        break;
    default:
        if (type == SHAPE_FUNCREF && bits) {
            wasm_byte(g, 0xD2); /* ref.func */
            wasm_uleb(g, bits - 1);
        } else {
            wasm_byte(g, 0xD0); /* ref.null */
            wasm_byte(g, type);
        }
    }
    wasm_byte(g, SHAPE_OP_END);
    return m->nglobals++;
}

uint32_t shape_func(shape_module *m, uint32_t type, const wasm_buf *body) {
    wasm_uleb(&m->funcs, type);
    wasm_uleb(&m->code, body->len);
    wasm_bytes(&m->code, body->data, body->len);
    if (body->failed) m->code.failed = true;
    return m->nfuncs++;
}

void shape_export_code(shape_module *m, uint32_t nparams, const uint8_t *params,
                       uint32_t nresults, const uint8_t *results, const wasm_buf *code,
                       const char *name) {
    wasm_buf body = {0};
    wasm_uleb(&body, 0); /* no locals */
    for (uint32_t i = 0; i < nparams; i++) {
        wasm_byte(&body, SHAPE_OP_LOCAL_GET);
        wasm_uleb(&body, i);
    }
    wasm_bytes(&body, code->data, code->len);
    wasm_byte(&body, SHAPE_OP_END);
    uint32_t f = shape_func(m, shape_type(m, nparams, params, nresults, results), &body);
    shape_export(m, name, SHAPE_KIND_FUNC, f);
    wasm_buf_free(&body);
}

void shape_export(shape_module *m, const char *field, uint8_t kind, uint32_t index) {
    name(&m->exports, field);
    wasm_byte(&m->exports, kind);
    wasm_uleb(&m->exports, index);
    m->nexports++;
}

void shape_data_active(shape_module *m, uint32_t memory, bool is64, uint64_t offset,
                       const uint8_t *bytes, uint32_t len) {
    wasm_buf *d = &m->datas;
    if (memory == 0) {
        wasm_byte(d, 0);
    } else {
        wasm_byte(d, 2);
        wasm_uleb(d, memory);
    }
    if (is64) {
        wasm_byte(d, SHAPE_OP_I64_CONST);
        wasm_sleb(d, (int64_t)offset);
    } else {
        wasm_byte(d, SHAPE_OP_I32_CONST);
        wasm_sleb(d, (int32_t)(uint32_t)offset);
    }
    wasm_byte(d, SHAPE_OP_END);
    wasm_uleb(d, len);
    wasm_bytes(d, bytes, len);
    m->ndatas++;
}

void shape_data_passive(shape_module *m, const uint8_t *bytes, uint32_t len) {
    wasm_byte(&m->datas, 1);
    wasm_uleb(&m->datas, len);
    wasm_bytes(&m->datas, bytes, len);
    m->ndatas++;
}

void shape_elem_active(shape_module *m, uint32_t table, uint32_t offset, const uint32_t *funcs,
                       uint32_t count) {
    wasm_buf *e = &m->elems;
    if (table == 0) {
        wasm_byte(e, 0);
    } else {
        wasm_byte(e, 2);
        wasm_uleb(e, table);
    }
    wasm_byte(e, SHAPE_OP_I32_CONST);
    wasm_sleb(e, (int32_t)offset);
    wasm_byte(e, SHAPE_OP_END);
    if (table != 0) wasm_byte(e, 0x00); /* elemkind funcref */
    wasm_uleb(e, count);
    for (uint32_t i = 0; i < count; i++) wasm_uleb(e, funcs[i]);
    m->nelems++;
}

static void section(wasm_buf *out, uint8_t id, uint32_t count, const wasm_buf *body) {
    if (count == 0) return;
    wasm_buf content = {0};
    wasm_uleb(&content, count);
    wasm_bytes(&content, body->data, body->len);
    if (body->failed) content.failed = true;
    wasm_byte(out, id);
    wasm_uleb(out, content.len);
    wasm_bytes(out, content.data, content.len);
    if (content.failed) out->failed = true;
    wasm_buf_free(&content);
}

bool shape_module_finish(shape_module *m, uint8_t **out, size_t *len) {
    wasm_buf b = {0};
    static const uint8_t header[] = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};
    wasm_bytes(&b, header, sizeof header);
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
        wasm_buf count = {0};
        wasm_uleb(&count, m->ndatas);
        wasm_byte(&b, 12);
        wasm_uleb(&b, count.len);
        wasm_bytes(&b, count.data, count.len);
        wasm_buf_free(&count);
    }
    section(&b, 10, ndefined_funcs, &m->code);
    section(&b, 11, m->ndatas, &m->datas);
    if (b.failed || m->code.failed) {
        wasm_buf_free(&b);
        return false;
    }
    *out = b.data;
    *len = b.len;
    return true;
}

void shape_op_memory(wasm_buf *code, uint8_t op, uint32_t memory) {
    wasm_byte(code, op);
    wasm_uleb(code, memory);
}

void shape_op_memarg(wasm_buf *code, uint8_t op, uint32_t align, uint32_t memory,
                     uint64_t offset) {
    wasm_byte(code, op);
    if (memory == 0) {
        wasm_uleb(code, align);
    } else { /* multi-memory: bit 6 of the alignment says a memory index follows */
        wasm_uleb(code, align | 0x40);
        wasm_uleb(code, memory);
    }
    wasm_uleb(code, offset);
}

static void prefixed(wasm_buf *code, uint32_t sub) {
    wasm_byte(code, 0xFC);
    wasm_uleb(code, sub);
}

void shape_op_memory_init(wasm_buf *code, uint32_t data, uint32_t memory) {
    prefixed(code, 8);
    wasm_uleb(code, data);
    wasm_uleb(code, memory);
}

void shape_op_data_drop(wasm_buf *code, uint32_t data) {
    prefixed(code, 9);
    wasm_uleb(code, data);
}

void shape_op_memory_copy(wasm_buf *code, uint32_t dst, uint32_t src) {
    prefixed(code, 10);
    wasm_uleb(code, dst);
    wasm_uleb(code, src);
}

void shape_op_memory_fill(wasm_buf *code, uint32_t memory) {
    prefixed(code, 11);
    wasm_uleb(code, memory);
}

void shape_op_table_fill(wasm_buf *code, uint32_t table) {
    prefixed(code, 17);
    wasm_uleb(code, table);
}

void shape_op_table_grow(wasm_buf *code, uint32_t table) {
    prefixed(code, 15);
    wasm_uleb(code, table);
}
