/* Encoding the module: the sections in their required order around the generated bodies, and
 * the public entry points (gen.h). */
#include <stdio.h>
#include <stdlib.h>

#include "gen_model.h"

static void write_limits(gen_buf *b, gen_limits l, bool is64) {
    gen_byte(b, (uint8_t)((l.has_max ? 1 : 0) | (is64 ? 4 : 0)));
    gen_uleb(b, l.min);
    if (l.has_max) gen_uleb(b, l.max);
}

static void write_const(gen_buf *b, const gen_const *c) {
    switch (c->kind) {
    case GEN_CONST_VALUE:
        switch (c->type) {
        case GEN_T_I32: gen_byte(b, 0x41); gen_sleb(b, (int32_t)(uint32_t)c->value); break;
        case GEN_T_I64: gen_byte(b, 0x42); gen_sleb(b, (int64_t)c->value); break;
        case GEN_T_F32: gen_byte(b, 0x43); gen_f32_bits(b, (uint32_t)c->value); break;
        default: gen_byte(b, 0x44); gen_f64_bits(b, c->value); break;
        }
        break;
    case GEN_CONST_GLOBAL: gen_byte(b, 0x23); gen_uleb(b, c->value); break;
    case GEN_CONST_NULL: gen_byte(b, 0xD0); gen_byte(b, c->type); break;
    case GEN_CONST_FUNC: gen_byte(b, 0xD2); gen_uleb(b, c->value); break;
    }
    gen_byte(b, 0x0B);
}

static void emit_section(gen_model *m, gen_buf *out, uint8_t id, gen_buf *content) {
    gen_section(out, id, content);
    m->summary->section_counts[id]++;
}

static void write_types(gen_model *m, gen_buf *out, gen_buf *s) {
    if (!m->ntypes) return;
    gen_uleb(s, m->ntypes);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const gen_functype *t = &m->types[i];
        gen_byte(s, 0x60);
        gen_uleb(s, t->nparams);
        gen_bytes(s, t->params, t->nparams);
        gen_uleb(s, t->nresults);
        gen_bytes(s, t->results, t->nresults);
    }
    emit_section(m, out, 1, s);
}

static void write_imports(gen_model *m, gen_buf *out, gen_buf *s) {
    if (!m->nimports) return;
    static const char prefixes[4] = {'f', 't', 'm', 'g'};
    uint32_t next[4] = {0};
    gen_uleb(s, m->nimports);
    for (uint32_t i = 0; i < m->nimports; i++) {
        uint8_t kind = m->import_kinds[i];
        uint32_t index = next[kind]++;
        char name[16];
        snprintf(name, sizeof name, "%c%u", prefixes[kind], (unsigned)index);
        gen_name(s, "gen");
        gen_name(s, name);
        gen_byte(s, kind);
        switch (kind) {
        case 0: gen_uleb(s, m->funcs[index].type); break;
        case 1:
            gen_byte(s, m->tables[index].elem);
            write_limits(s, m->tables[index].limits, false);
            break;
        case 2: write_limits(s, m->memories[index].limits, m->memories[index].is64); break;
        default:
            gen_byte(s, m->globals[index].type);
            gen_byte(s, m->globals[index].is_mutable);
        }
    }
    emit_section(m, out, 2, s);
}

static void write_definitions(gen_model *m, gen_buf *out, gen_buf *s) {
    uint32_t n = 0;
    for (uint32_t f = 0; f < m->nfuncs; f++) n += !m->funcs[f].imported;
    if (n) {
        gen_uleb(s, n);
        for (uint32_t f = 0; f < m->nfuncs; f++)
            if (!m->funcs[f].imported) gen_uleb(s, m->funcs[f].type);
        emit_section(m, out, 3, s);
    }
    n = 0;
    for (uint32_t t = 0; t < m->ntables; t++) n += !m->tables[t].imported;
    if (n) {
        gen_uleb(s, n);
        for (uint32_t t = 0; t < m->ntables; t++) {
            if (m->tables[t].imported) continue;
            gen_byte(s, m->tables[t].elem);
            write_limits(s, m->tables[t].limits, false);
        }
        emit_section(m, out, 4, s);
    }
    n = 0;
    for (uint32_t i = 0; i < m->nmemories; i++) n += !m->memories[i].imported;
    if (n) {
        gen_uleb(s, n);
        for (uint32_t i = 0; i < m->nmemories; i++)
            if (!m->memories[i].imported)
                write_limits(s, m->memories[i].limits, m->memories[i].is64);
        emit_section(m, out, 5, s);
    }
    n = 0;
    for (uint32_t g = 0; g < m->nglobals; g++) n += !m->globals[g].imported;
    if (n) {
        gen_uleb(s, n);
        for (uint32_t g = 0; g < m->nglobals; g++) {
            if (m->globals[g].imported) continue;
            gen_byte(s, m->globals[g].type);
            gen_byte(s, m->globals[g].is_mutable);
            write_const(s, &m->globals[g].init);
        }
        emit_section(m, out, 6, s);
    }
}

static void write_exports_start(gen_model *m, gen_buf *out, gen_buf *s) {
    if (m->nexports) {
        gen_uleb(s, m->nexports);
        for (uint32_t i = 0; i < m->nexports; i++) {
            gen_name(s, m->exports[i].name);
            gen_byte(s, m->exports[i].kind);
            gen_uleb(s, m->exports[i].index);
        }
        emit_section(m, out, 7, s);
    }
    if (m->has_start) {
        gen_uleb(s, m->start);
        emit_section(m, out, 8, s);
    }
}

/* The segment's flags (spec 5.5.12): bit 0 passive or declarative, bit 1 explicit table (when
 * active) or declarative, bit 2 items as expressions. Flags 4 means table 0 of funcref. */
static void write_elem(gen_buf *s, const gen_elem *e) {
    bool explicit_table = e->explicit_table || e->type != GEN_T_FUNCREF;
    uint8_t flags = e->expr_encoding ? 4 : 0;
    if (e->mode == GEN_SEG_PASSIVE) flags |= 1;
    if (e->mode == GEN_SEG_DECLARATIVE) flags |= 3;
    if (e->mode == GEN_SEG_ACTIVE && explicit_table) flags |= 2;
    gen_uleb(s, flags);
    if (e->mode == GEN_SEG_ACTIVE) {
        if (explicit_table) gen_uleb(s, e->table);
        write_const(s, &e->offset);
    }
    if (flags & 3) gen_byte(s, e->expr_encoding ? e->type : 0x00);
    gen_uleb(s, e->len);
    for (uint32_t i = 0; i < e->len; i++) {
        if (e->expr_encoding)
            write_const(s, &e->items[i]);
        else
            gen_uleb(s, e->items[i].value);
    }
}

static void write_code(gen_model *m, gen_input *in, gen_buf *out, gen_buf *s) {
    uint32_t n = 0;
    for (uint32_t f = 0; f < m->nfuncs; f++) n += !m->funcs[f].imported;
    if (!n) return;
    gen_buf body = {0};
    gen_uleb(s, n);
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        if (m->funcs[f].imported) continue;
        gen_body(m, f, in, &body);
        gen_uleb(s, body.len);
        gen_bytes(s, body.bytes, body.len);
        if (body.failed) s->failed = true;
        body.len = 0;
    }
    gen_buf_free(&body);
    emit_section(m, out, 10, s);
}

static void write_datas(gen_model *m, gen_buf *out, gen_buf *s) {
    if (!m->ndatas) return;
    static const uint8_t zeros[256];
    gen_uleb(s, m->ndatas);
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const gen_data *d = &m->datas[i];
        if (d->mode == GEN_SEG_PASSIVE) {
            gen_byte(s, 1);
        } else {
            gen_byte(s, d->explicit_memory ? 2 : 0);
            if (d->explicit_memory) gen_uleb(s, d->memory);
            write_const(s, &d->offset);
        }
        gen_uleb(s, d->len);
        for (uint32_t k = 0; k < d->len; k += sizeof zeros) {
            uint32_t chunk = d->len - k < sizeof zeros ? d->len - k : (uint32_t)sizeof zeros;
            gen_bytes(s, d->bytes ? d->bytes + k : zeros, chunk);
        }
    }
    emit_section(m, out, 11, s);
}

static void encode(gen_model *m, gen_input *in, gen_buf *out) {
    static const uint8_t header[8] = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};
    gen_buf s = {0};
    gen_bytes(out, header, sizeof header);
    write_types(m, out, &s);
    write_imports(m, out, &s);
    write_definitions(m, out, &s);
    write_exports_start(m, out, &s);
    if (m->nelems) {
        gen_uleb(&s, m->nelems);
        for (uint32_t i = 0; i < m->nelems; i++) write_elem(&s, &m->elems[i]);
        emit_section(m, out, 9, &s);
    }
    if (m->has_datacount) {
        gen_uleb(&s, m->ndatas);
        emit_section(m, out, 12, &s);
    }
    write_code(m, in, out, &s);
    write_datas(m, out, &s);
    /* A custom section now and then: decoders must skip it wherever it is. */
    if (gen_chance(in, 1, 8)) {
        gen_name(&s, "gen");
        gen_byte(&s, gen_u8(in));
        emit_section(m, out, 0, &s);
    }
    if (s.failed) out->failed = true;
    gen_buf_free(&s);
}

static void summarize(const gen_model *m, gen_summary *s) {
    s->num_types = m->ntypes;
    s->num_funcs = m->nfuncs;
    s->num_imports = m->nimports;
    s->num_memories = m->nmemories;
    s->num_tables = m->ntables;
    s->num_globals = m->nglobals;
    s->num_elems = m->nelems;
    s->num_datas = m->ndatas;
    s->num_exports = m->nexports;
    s->has_start = m->has_start;
    s->budget_global = m->budget_global;
    for (uint32_t i = 0; i < m->nmemories; i++) s->num_memory64 += m->memories[i].is64;
    for (uint32_t i = 0; i < m->ntables; i++)
        s->num_externref_tables += m->tables[i].elem == GEN_T_EXTERNREF;
    for (uint32_t i = 0; i < m->nimports; i++) {
        uint8_t k = m->import_kinds[i];
        s->num_imported_funcs += k == 0;
        s->num_imported_tables += k == 1;
        s->num_imported_memories += k == 2;
        s->num_imported_globals += k == 3;
    }
}

bool gen_module_new(const uint8_t *data, size_t size, const gen_config *cfg, gen_module *out) {
    *out = (gen_module){0};
    gen_input in = {data, size};
    gen_model m = {.cfg = cfg, .summary = &out->summary};
    gen_buf buf = {0};
    bool ok = gen_model_build(&m, &in);
    if (ok) {
        encode(&m, &in, &buf);
        summarize(&m, &out->summary);
        ok = !buf.failed;
    }
    gen_model_free(&m);
    if (!ok) {
        gen_buf_free(&buf);
        *out = (gen_module){0};
        return false;
    }
    out->bytes = buf.bytes;
    out->len = buf.len;
    return true;
}

void gen_module_free(gen_module *m) {
    free(m->bytes);
    *m = (gen_module){0};
}
