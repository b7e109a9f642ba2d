/* Reading a module's types, imports, exports, memories and tables: see module_facts.h.
 * Binary format: spec 5.5 (modules), 5.3 (types), 5.4.9 (constant expressions' instructions).
 */
#include "module_facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const uint8_t *p;
    const uint8_t *end;
    bool ok;
} reader;

static uint8_t read_byte(reader *r) {
    if (!r->ok || r->p >= r->end) {
        r->ok = false;
        return 0;
    }
    return *r->p++;
}

static uint64_t read_uleb(reader *r, unsigned bits) {
    uint64_t value = 0;
    for (unsigned shift = 0; shift < bits + 7; shift += 7) {
        uint8_t b = read_byte(r);
        if (!r->ok) return 0;
        value |= shift < 64 ? (uint64_t)(b & 0x7F) << shift : 0;
        if (!(b & 0x80)) {
            if (bits < 64 && (value >> bits)) r->ok = false;
            return value;
        }
    }
    r->ok = false;
    return 0;
}

/* Signed LEB128 of up to `bits` bits: only skipped, its value is not needed. */
static void skip_sleb(reader *r, unsigned bits) {
    for (unsigned shift = 0; shift < bits + 7; shift += 7) {
        uint8_t b = read_byte(r);
        if (!r->ok || !(b & 0x80)) return;
    }
    r->ok = false;
}

static uint32_t read_u32(reader *r) { return (uint32_t)read_uleb(r, 32); }

static void skip_bytes(reader *r, size_t n) {
    if (!r->ok || (size_t)(r->end - r->p) < n) {
        r->ok = false;
        return;
    }
    r->p += n;
}

static const uint8_t *read_name(reader *r, uint32_t *len) {
    *len = read_u32(r);
    const uint8_t *name = r->p;
    skip_bytes(r, *len);
    return name;
}

static bool is_valtype(uint8_t t) {
    return (t >= 0x7B && t <= 0x7F) || t == 0x70 || t == 0x6F;
}

static uint8_t read_valtype(reader *r) {
    uint8_t t = read_byte(r);
    if (!is_valtype(t)) r->ok = false;
    return t;
}

/* A count of entries that each take at least one byte, so a huge count fails before allocating. */
static uint32_t read_count(reader *r) {
    uint32_t n = read_u32(r);
    if (r->ok && n > (size_t)(r->end - r->p)) r->ok = false;
    return r->ok ? n : 0;
}

static facts_limits read_limits(reader *r, bool memory) {
    facts_limits l = {0};
    uint8_t flags = read_byte(r);
    if (flags > (memory ? 7 : 1)) r->ok = false;
    l.has_max = flags & 1;
    l.shared = (flags & 2) != 0;
    l.is64 = (flags & 4) != 0;
    unsigned bits = l.is64 ? 64 : 32;
    l.min = read_uleb(r, bits);
    if (l.has_max) l.max = read_uleb(r, bits);
    return l;
}

static facts_table read_tabletype(reader *r) {
    facts_table t;
    t.elem = read_byte(r);
    if (t.elem != 0x70 && t.elem != 0x6F) r->ok = false;
    t.limits = read_limits(r, false);
    return t;
}

static facts_global read_globaltype(reader *r) {
    facts_global g;
    g.type = read_valtype(r);
    uint8_t mut = read_byte(r);
    if (mut > 1) r->ok = false;
    g.is_mutable = mut == 1;
    return g;
}

/* Skips a constant expression up to its `end`: the instructions constant expressions may hold
 * (spec 3.3.10, with extended-const arithmetic and v128.const). */
static void skip_const_expr(reader *r) {
    while (r->ok) {
        uint8_t op = read_byte(r);
        switch (op) {
        case 0x0B: return;
        case 0x41: skip_sleb(r, 32); break;
        case 0x42: skip_sleb(r, 64); break;
        case 0x43: skip_bytes(r, 4); break;
        case 0x44: skip_bytes(r, 8); break;
        case 0x23: /* global.get */
        case 0xD2: /* ref.func */ read_u32(r); break;
        case 0xD0: skip_sleb(r, 33); break; /* ref.null heaptype */
        case 0x6A: case 0x6B: case 0x6C: case 0x7C: case 0x7D: case 0x7E: break;
        case 0xFD:
            if (read_u32(r) != 12) r->ok = false; /* v128.const */
            skip_bytes(r, 16);
            break;
        default: r->ok = false; break;
        }
    }
}

static void *grow_array(void *array, uint32_t count, uint32_t extra, size_t elem_size,
                        reader *r) {
    if (!r->ok) return array;
    size_t n = (size_t)count + extra;
    void *out = realloc(array, (n ? n : 1) * elem_size);
    if (!out) r->ok = false;
    return out ? out : array;
}

static void read_types(reader *r, module_facts *f) {
    uint32_t n = read_count(r);
    f->types = grow_array(f->types, f->ntypes, n, sizeof *f->types, r);
    for (uint32_t i = 0; i < n && r->ok; i++) {
        if (read_byte(r) != 0x60) {
            r->ok = false;
            break;
        }
        facts_functype *t = &f->types[f->ntypes];
        memset(t, 0, sizeof *t);
        f->ntypes++;
        t->nparams = read_count(r);
        t->params = malloc(t->nparams + 1);
        if (!t->params) r->ok = false;
        for (uint32_t k = 0; k < t->nparams && r->ok; k++) t->params[k] = read_valtype(r);
        t->nresults = read_count(r);
        t->results = malloc(t->nresults + 1);
        if (!t->results) r->ok = false;
        for (uint32_t k = 0; k < t->nresults && r->ok; k++) t->results[k] = read_valtype(r);
    }
}

static void read_imports(reader *r, module_facts *f) {
    uint32_t n = read_count(r);
    f->imports = grow_array(f->imports, f->nimports, n, sizeof *f->imports, r);
    for (uint32_t i = 0; i < n && r->ok; i++) {
        facts_extern *imp = &f->imports[f->nimports];
        imp->module = read_name(r, &imp->module_len);
        imp->name = read_name(r, &imp->name_len);
        imp->kind = read_byte(r);
        switch (imp->kind) {
        case FACTS_FUNC: {
            uint32_t type = read_u32(r);
            if (type >= f->ntypes) r->ok = false;
            f->func_types = grow_array(f->func_types, f->nfuncs, 1, sizeof *f->func_types, r);
            if (r->ok) f->func_types[f->nfuncs] = type;
            imp->index = f->nfuncs++;
            break;
        }
        case FACTS_TABLE: {
            facts_table t = read_tabletype(r);
            f->tables = grow_array(f->tables, f->ntables, 1, sizeof *f->tables, r);
            if (r->ok) f->tables[f->ntables] = t;
            imp->index = f->ntables++;
            break;
        }
        case FACTS_MEMORY: {
            facts_limits l = read_limits(r, true);
            f->memories = grow_array(f->memories, f->nmemories, 1, sizeof *f->memories, r);
            if (r->ok) f->memories[f->nmemories] = l;
            imp->index = f->nmemories++;
            break;
        }
        case FACTS_GLOBAL: {
            facts_global g = read_globaltype(r);
            f->globals = grow_array(f->globals, f->nglobals, 1, sizeof *f->globals, r);
            if (r->ok) f->globals[f->nglobals] = g;
            imp->index = f->nglobals++;
            break;
        }
        default: r->ok = false; break;
        }
        if (r->ok) f->nimports++;
    }
}

static void read_section(reader *r, uint8_t id, module_facts *f) {
    switch (id) {
    case 1: read_types(r, f); break;
    case 2: read_imports(r, f); break;
    case 3: {
        uint32_t n = read_count(r);
        f->func_types = grow_array(f->func_types, f->nfuncs, n, sizeof *f->func_types, r);
        for (uint32_t i = 0; i < n && r->ok; i++) {
            uint32_t type = read_u32(r);
            if (type >= f->ntypes) r->ok = false;
            f->func_types[f->nfuncs++] = type;
        }
        break;
    }
    case 4: {
        uint32_t n = read_count(r);
        f->tables = grow_array(f->tables, f->ntables, n, sizeof *f->tables, r);
        for (uint32_t i = 0; i < n && r->ok; i++) f->tables[f->ntables++] = read_tabletype(r);
        break;
    }
    case 5: {
        uint32_t n = read_count(r);
        f->memories = grow_array(f->memories, f->nmemories, n, sizeof *f->memories, r);
        for (uint32_t i = 0; i < n && r->ok; i++) f->memories[f->nmemories++] = read_limits(r, true);
        break;
    }
    case 6: {
        uint32_t n = read_count(r);
        f->globals = grow_array(f->globals, f->nglobals, n, sizeof *f->globals, r);
        for (uint32_t i = 0; i < n && r->ok; i++) {
            f->globals[f->nglobals++] = read_globaltype(r);
            skip_const_expr(r);
        }
        break;
    }
    case 7: {
        uint32_t n = read_count(r);
        f->exports = grow_array(f->exports, f->nexports, n, sizeof *f->exports, r);
        for (uint32_t i = 0; i < n && r->ok; i++) {
            facts_extern *e = &f->exports[f->nexports];
            memset(e, 0, sizeof *e);
            e->name = read_name(r, &e->name_len);
            e->kind = read_byte(r);
            e->index = read_u32(r);
            uint32_t bound = e->kind == FACTS_FUNC     ? f->nfuncs
                             : e->kind == FACTS_TABLE  ? f->ntables
                             : e->kind == FACTS_MEMORY ? f->nmemories
                             : e->kind == FACTS_GLOBAL ? f->nglobals
                                                       : 0;
            if (e->index >= bound) r->ok = false;
            if (r->ok) f->nexports++;
        }
        break;
    }
    case 11: {
        /* Data segments (spec 5.5.14): flags 0 active on memory 0, 1 passive, 2 active on an
         * explicit memory; then the offset expression (active) and the bytes. */
        uint32_t n = read_count(r);
        f->data = grow_array(f->data, f->ndata, n, sizeof *f->data, r);
        for (uint32_t i = 0; i < n && r->ok; i++) {
            uint32_t flags = read_u32(r);
            facts_data d = {flags != 1, flags == 2 ? read_u32(r) : 0};
            if (flags > 2) r->ok = false;
            if (d.active) skip_const_expr(r);
            skip_bytes(r, read_u32(r));
            if (r->ok) f->data[f->ndata++] = d;
        }
        break;
    }
    default: break; /* other sections, and custom sections: not needed */
    }
}

bool module_facts_read(const uint8_t *bytes, size_t len, module_facts *facts, char *why,
                       size_t why_size) {
    static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    memset(facts, 0, sizeof *facts);
    if (len < 8 || memcmp(bytes, header, 8) != 0) {
        snprintf(why, why_size, "not a WebAssembly 1.0 binary (bad header)");
        return false;
    }
    reader r = {bytes + 8, bytes + len, true};
    while (r.ok && r.p < r.end) {
        uint8_t id = read_byte(&r);
        uint32_t size = read_u32(&r);
        if (!r.ok || size > (size_t)(r.end - r.p)) {
            r.ok = false;
            break;
        }
        reader section = {r.p, r.p + size, true};
        read_section(&section, id, facts);
        if (!section.ok) {
            snprintf(why, why_size, "section %u is malformed or uses what the oracle cannot read",
                     id);
            module_facts_free(facts);
            return false;
        }
        r.p += size;
    }
    if (!r.ok) {
        snprintf(why, why_size, "malformed section header");
        module_facts_free(facts);
        return false;
    }
    return true;
}

void module_facts_free(module_facts *facts) {
    for (uint32_t i = 0; i < facts->ntypes; i++) {
        free(facts->types[i].params);
        free(facts->types[i].results);
    }
    free(facts->types);
    free(facts->func_types);
    free(facts->tables);
    free(facts->memories);
    free(facts->globals);
    free(facts->imports);
    free(facts->exports);
    free(facts->data);
    memset(facts, 0, sizeof *facts);
}

const facts_functype *module_facts_func_type(const module_facts *facts, uint32_t func) {
    if (func >= facts->nfuncs) return NULL;
    return &facts->types[facts->func_types[func]];
}
