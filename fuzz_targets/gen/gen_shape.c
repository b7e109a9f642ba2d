/* Deciding the module's shape: types, imports, functions, tables, memories, globals, exports,
 * start, element and data segments (gen_model.h). Bodies come later, from gen_body.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_model.h"

static uint32_t cap_count(uint32_t n) { return n < GEN_MAX_COUNT ? n : GEN_MAX_COUNT; }

bool gen_is_ref(uint8_t type) { return type == GEN_T_FUNCREF || type == GEN_T_EXTERNREF; }

uint64_t gen_pages_bytes(uint64_t pages) {
    return pages > (UINT64_MAX >> 16) ? UINT64_MAX : pages << 16;
}

uint8_t gen_random_valtype(gen_input *in, const gen_config *cfg) {
    static const uint8_t types[] = {GEN_T_I32, GEN_T_I64, GEN_T_F32, GEN_T_F64, GEN_T_FUNCREF,
                                    GEN_T_EXTERNREF};
    return types[gen_below(in, cfg->reference_types ? 6 : 4)];
}

static uint8_t random_reftype(gen_input *in, const gen_config *cfg) {
    return cfg->reference_types && gen_chance(in, 1, 2) ? GEN_T_EXTERNREF : GEN_T_FUNCREF;
}

static void build_types(gen_model *m, gen_input *in) {
    const gen_config *cfg = m->cfg;
    uint32_t maxp = cfg->max_params < GEN_MAX_PARAMS ? cfg->max_params : GEN_MAX_PARAMS;
    m->ntypes = (uint32_t)gen_below(in, cap_count(cfg->max_types) + 1u);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        gen_functype *t = &m->types[i];
        if (gen_chance(in, 1, 8)) continue; /* [] -> []: start functions, plain blocks */
        t->nparams = (uint32_t)gen_below(in, maxp + 1u);
        for (uint32_t k = 0; k < t->nparams; k++) t->params[k] = gen_random_valtype(in, cfg);
        uint32_t maxr = cfg->multi_value ? maxp : (maxp ? 1 : 0);
        /* Mostly zero or one result, as real code has. */
        t->nresults = gen_chance(in, 1, 4) ? (uint32_t)gen_below(in, maxr + 1u)
                                           : (uint32_t)gen_below(in, (maxr ? 1u : 0u) + 1u);
        for (uint32_t k = 0; k < t->nresults; k++) t->results[k] = gen_random_valtype(in, cfg);
    }
}

static gen_limits random_limits(gen_input *in, uint64_t cap) {
    gen_limits l = {0};
    l.min = gen_chance(in, 1, 4) ? gen_range(in, 0, cap) : gen_range(in, 0, cap < 2 ? cap : 2);
    l.has_max = gen_chance(in, 1, 2);
    if (l.has_max) l.max = gen_chance(in, 1, 4) ? l.min : gen_range(in, l.min, cap);
    return l;
}

static gen_table random_table(gen_model *m, gen_input *in, bool imported) {
    gen_table t = {.elem = random_reftype(in, m->cfg), .imported = imported};
    t.limits = random_limits(in, m->cfg->max_table_elems);
    return t;
}

static gen_memory random_memory(gen_model *m, gen_input *in, bool imported) {
    gen_memory mem = {.imported = imported};
    mem.is64 = m->cfg->memory64 && gen_chance(in, 1, 2);
    uint64_t cap = mem.is64 ? m->cfg->max_memory64_pages : m->cfg->max_memory_pages;
    uint64_t spec_cap = mem.is64 ? UINT64_C(1) << 48 : UINT64_C(1) << 16;
    mem.limits = random_limits(in, cap < spec_cap ? cap : spec_cap);
    return mem;
}

uint64_t gen_random_bits(gen_input *in, uint8_t type) {
    bool wide = type == GEN_T_I64 || type == GEN_T_F64;
    switch (gen_below(in, 8)) {
    case 0: return 0;
    case 1: return type == GEN_T_F32 ? 0x3F800000u : type == GEN_T_F64 ? 0x3FF0000000000000u : 1;
    case 2: return wide ? UINT64_MAX : UINT32_MAX;
    case 3: return wide ? UINT64_C(1) << 63 : UINT32_C(1) << 31;
    case 4: return gen_below(in, 256);
    default: return wide ? gen_u64(in) : gen_u32(in);
    }
}

/* An imported immutable global of type, for global.get in a constant expression; UINT32_MAX
 * when there is none. */
static uint32_t const_global(const gen_model *m, gen_input *in, uint8_t type, uint32_t limit) {
    uint32_t found[GEN_MAX_COUNT], n = 0;
    for (uint32_t g = 0; g < limit && g < m->nglobals; g++)
        if (m->globals[g].imported && !m->globals[g].is_mutable && m->globals[g].type == type)
            found[n++] = g;
    return n ? found[gen_below(in, n)] : UINT32_MAX;
}

static gen_const random_const(const gen_model *m, gen_input *in, uint8_t type, uint32_t nglobals) {
    gen_const c = {.kind = GEN_CONST_VALUE, .type = type};
    uint32_t g = const_global(m, in, type, nglobals);
    if (g != UINT32_MAX && gen_chance(in, 1, 4)) {
        c.kind = GEN_CONST_GLOBAL;
        c.value = g;
    } else if (type == GEN_T_EXTERNREF || (type == GEN_T_FUNCREF && !m->nfuncs)) {
        c.kind = GEN_CONST_NULL;
    } else if (type == GEN_T_FUNCREF) {
        c.kind = gen_chance(in, 1, 4) ? GEN_CONST_NULL : GEN_CONST_FUNC;
        c.value = gen_below(in, m->nfuncs);
    } else {
        c.value = gen_random_bits(in, type);
    }
    return c;
}

static bool can_add_table(const gen_model *m) {
    return m->ntables < (m->cfg->reference_types ? cap_count(m->cfg->max_tables) : 1u) &&
           m->cfg->max_tables > 0;
}

static bool can_add_memory(const gen_model *m) {
    uint32_t cap = m->cfg->multi_memory ? cap_count(m->cfg->max_memories) : 1u;
    return m->nmemories < cap && m->cfg->max_memories > 0;
}

static void build_imports(gen_model *m, gen_input *in) {
    const gen_config *cfg = m->cfg;
    if (!cfg->allow_imports) return;
    uint32_t n = (uint32_t)gen_below(in, cap_count(cfg->max_imports) + 1u);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t kind = (uint8_t)gen_below(in, 4);
        if (kind == 0 && !m->ntypes) kind = 3;
        if (kind == 1 && !can_add_table(m)) kind = 3;
        if (kind == 2 && !can_add_memory(m)) kind = 3;
        m->import_kinds[m->nimports++] = kind;
        switch (kind) {
        case 0:
            m->funcs[m->nfuncs++] =
                (gen_func){.type = (uint32_t)gen_below(in, m->ntypes), .imported = true};
            break;
        case 1: m->tables[m->ntables++] = random_table(m, in, true); break;
        case 2: m->memories[m->nmemories++] = random_memory(m, in, true); break;
        default: {
            gen_global *g = &m->globals[m->nglobals++];
            *g = (gen_global){.type = gen_random_valtype(in, cfg), .imported = true};
            g->is_mutable = cfg->mutable_globals && gen_chance(in, 1, 3);
        }
        }
    }
}

static void build_definitions(gen_model *m, gen_input *in) {
    const gen_config *cfg = m->cfg;
    if (m->ntypes) {
        uint32_t n = (uint32_t)gen_below(in, cap_count(cfg->max_funcs) + 1u);
        for (uint32_t i = 0; i < n; i++)
            m->funcs[m->nfuncs++] = (gen_func){.type = (uint32_t)gen_below(in, m->ntypes)};
    }
    uint32_t ntables = (uint32_t)gen_below(in, cap_count(cfg->max_tables) + 1u);
    for (uint32_t i = 0; i < ntables && can_add_table(m); i++)
        m->tables[m->ntables++] = random_table(m, in, false);
    uint32_t nmems = (uint32_t)gen_below(in, cap_count(cfg->max_memories) + 1u);
    for (uint32_t i = 0; can_add_memory(m) && (i < nmems || m->nmemories < cfg->min_memories); i++)
        m->memories[m->nmemories++] = random_memory(m, in, false);
    uint32_t nimported_globals = m->nglobals;
    uint32_t nglobals = (uint32_t)gen_below(in, cap_count(cfg->max_globals) + 1u);
    for (uint32_t i = 0; i < nglobals; i++) {
        gen_global *g = &m->globals[m->nglobals++];
        *g = (gen_global){.type = gen_random_valtype(in, cfg), .is_mutable = gen_chance(in, 1, 2)};
        g->init = random_const(m, in, g->type, nimported_globals);
    }
    m->budget_global = UINT32_MAX;
    if (cfg->terminating) {
        m->budget_global = m->nglobals;
        m->globals[m->nglobals++] = (gen_global){
            .type = GEN_T_I32,
            .is_mutable = true,
            .init = {.kind = GEN_CONST_VALUE, .type = GEN_T_I32, .value = gen_range(in, 1, 1000)}};
    }
}

static bool exportable(const gen_model *m, uint8_t kind, uint32_t index) {
    return kind != 3 || !m->globals[index].is_mutable || m->cfg->mutable_globals;
}

static void add_export(gen_model *m, uint8_t kind, uint32_t index, const char *prefix,
                       uint32_t number) {
    gen_export *e = &m->exports[m->nexports++];
    e->kind = kind;
    e->index = index;
    snprintf(e->name, sizeof e->name, "%s%u", prefix, (unsigned)number);
    if (kind == 0) m->funcs[index].declared = true;
}

static void build_exports(gen_model *m, gen_input *in) {
    const uint32_t counts[4] = {m->nfuncs, m->ntables, m->nmemories, m->nglobals};
    static const char *const prefixes[4] = {"f", "t", "m", "g"};
    if (m->cfg->export_all) {
        for (uint8_t kind = 0; kind < 4; kind++)
            for (uint32_t i = 0; i < counts[kind]; i++)
                if (exportable(m, kind, i)) add_export(m, kind, i, prefixes[kind], i);
        return;
    }
    uint32_t n = (uint32_t)gen_below(in, cap_count(m->cfg->max_exports) + 1u);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t kind = (uint8_t)gen_below(in, 4);
        if (!counts[kind]) continue;
        uint32_t index = (uint32_t)gen_below(in, counts[kind]);
        if (exportable(m, kind, index)) add_export(m, kind, index, "e", i);
    }
}

static void build_start(gen_model *m, gen_input *in) {
    if (!m->cfg->allow_start || !gen_chance(in, 1, 2)) return;
    uint32_t found[2 * GEN_MAX_COUNT], n = 0;
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        const gen_functype *t = &m->types[m->funcs[f].type];
        if (!t->nparams && !t->nresults) found[n++] = f;
    }
    if (!n) return;
    m->has_start = true;
    m->start = found[gen_below(in, n)];
}

typedef enum offset_class {
    OFFSET_GLOBAL,
    OFFSET_IN_BOUNDS,
    OFFSET_AT_END,
    OFFSET_PAST_END,
    OFFSET_NEAR_TOP,
} offset_class;

/* An active segment's offset: mostly in bounds, sometimes exactly at the end, and with traps
 * allowed sometimes just past it or near the top of the address space (2^32 or 2^64). size is
 * the table's or memory's minimum, in elements or bytes; *len may shrink to fit. */
static gen_const segment_offset(gen_model *m, gen_input *in, uint8_t type, uint64_t size,
                                uint32_t *len, offset_class *class) {
    gen_const c = {.kind = GEN_CONST_VALUE, .type = type};
    uint32_t g = const_global(m, in, type, m->nglobals);
    if (m->cfg->allow_traps && g != UINT32_MAX && gen_chance(in, 1, 8)) {
        c.kind = GEN_CONST_GLOBAL;
        c.value = g;
        *class = OFFSET_GLOBAL;
        return c;
    }
    uint64_t addr_max = type == GEN_T_I64 ? UINT64_MAX : UINT32_MAX;
    if (size > addr_max) size = addr_max;
    if (!m->cfg->allow_traps && *len > size) *len = (uint32_t)size;
    unsigned pick = (unsigned)gen_below(in, m->cfg->allow_traps ? 16 : 12);
    if (*len > size && pick < 12) *len = (uint32_t)size; /* made to fit, as asked */
    if (pick < 9) {
        c.value = gen_range(in, 0, size - *len);
        *class = OFFSET_IN_BOUNDS;
    } else if (pick < 12) {
        c.value = size - *len;
        *class = OFFSET_AT_END;
    } else if (pick < 14) {
        uint64_t end = size - (*len < size ? *len : size);
        c.value = end + gen_range(in, 1, 3);
        if (c.value > addr_max) c.value = addr_max;
        *class = OFFSET_PAST_END;
    } else {
        c.value = addr_max - gen_below(in, 16);
        *class = OFFSET_NEAR_TOP;
    }
    if (type == GEN_T_I32) c.value = (uint32_t)c.value;
    return c;
}

static gen_const elem_item(const gen_model *m, gen_input *in, const gen_elem *e) {
    if (!e->expr_encoding)
        return (gen_const){.kind = GEN_CONST_FUNC, .type = GEN_T_FUNCREF,
                           .value = gen_below(in, m->nfuncs)};
    return random_const(m, in, e->type, m->cfg->wabt_compatible ? 0 : m->nglobals);
}

/* False when the segment cannot exist here (active without a table). */
static bool build_elem(gen_model *m, gen_input *in, gen_elem *e) {
    const gen_config *cfg = m->cfg;
    unsigned mode = (unsigned)gen_below(in, 4);
    if (mode >= 2 && !cfg->bulk_memory) mode = 0;
    if (mode == 3 && !cfg->reference_types) mode = 2;
    e->mode = mode < 2 ? GEN_SEG_ACTIVE : mode == 2 ? GEN_SEG_PASSIVE : GEN_SEG_DECLARATIVE;
    if (e->mode == GEN_SEG_ACTIVE) {
        if (!m->ntables) return false;
        e->table = cfg->reference_types ? (uint32_t)gen_below(in, m->ntables) : 0;
        e->type = m->tables[e->table].elem;
        e->explicit_table = e->table != 0 || (cfg->bulk_memory && gen_chance(in, 1, 4));
    } else {
        e->type = random_reftype(in, cfg);
    }
    /* Without bulk memory only the MVP's encoding exists: table 0, function indices. */
    e->expr_encoding = cfg->bulk_memory && (e->type == GEN_T_EXTERNREF || !m->nfuncs ||
                                            (cfg->reference_types && gen_chance(in, 1, 2)));
    e->len = m->nfuncs || e->expr_encoding ? (uint32_t)gen_below(in, cfg->max_elem_len + 1u) : 0;
    if (e->mode == GEN_SEG_ACTIVE) {
        offset_class class;
        e->offset = segment_offset(m, in, GEN_T_I32, m->tables[e->table].limits.min, &e->len,
                                   &class);
    }
    e->items = calloc(e->len ? e->len : 1, sizeof *e->items);
    if (!e->items) return true; /* gen_model_build reports it */
    for (uint32_t i = 0; i < e->len; i++) {
        e->items[i] = elem_item(m, in, e);
        if (e->items[i].kind == GEN_CONST_FUNC) m->funcs[e->items[i].value].declared = true;
    }
    gen_summary *s = m->summary;
    s->num_elems_active += e->mode == GEN_SEG_ACTIVE;
    s->num_elems_passive += e->mode == GEN_SEG_PASSIVE;
    s->num_elems_declarative += e->mode == GEN_SEG_DECLARATIVE;
    s->num_elems_expr_encoded += e->expr_encoding;
    return true;
}

static void build_data(gen_model *m, gen_input *in, gen_data *d) {
    const gen_config *cfg = m->cfg;
    gen_summary *s = m->summary;
    d->len = (uint32_t)gen_below(in, cfg->max_data_len + 1u);
    size_t take = in->left >= d->len ? d->len : in->left;
    if (take == d->len) d->bytes = in->bytes;
    if (take) {
        in->bytes += take;
        in->left -= take;
    }
    bool active = m->nmemories && (!cfg->bulk_memory || gen_chance(in, 3, 4));
    d->mode = active ? GEN_SEG_ACTIVE : GEN_SEG_PASSIVE;
    s->num_datas_passive += !active;
    if (!active) return;
    s->num_datas_active++;
    /* A memory index needs the explicit encoding (flags 2), which comes with bulk memory. */
    d->memory = cfg->multi_memory && cfg->bulk_memory ? (uint32_t)gen_below(in, m->nmemories) : 0;
    d->explicit_memory = d->memory != 0 || (cfg->bulk_memory && gen_chance(in, 1, 4));
    const gen_memory *mem = &m->memories[d->memory];
    offset_class class;
    d->offset = segment_offset(m, in, mem->is64 ? GEN_T_I64 : GEN_T_I32,
                               gen_pages_bytes(mem->limits.min), &d->len, &class);
    s->num_datas_in_bounds += class == OFFSET_IN_BOUNDS;
    s->num_datas_at_end += class == OFFSET_AT_END;
    s->num_datas_past_end += class == OFFSET_PAST_END;
    s->num_datas_near_4g += class == OFFSET_NEAR_TOP && !mem->is64;
    s->num_datas_near_2_64 += class == OFFSET_NEAR_TOP && mem->is64;
}

static void build_segments(gen_model *m, gen_input *in) {
    const gen_config *cfg = m->cfg;
    uint32_t nelems = (uint32_t)gen_below(in, cap_count(cfg->max_elems) + 1u);
    for (uint32_t i = 0; i < nelems; i++) {
        gen_elem *e = &m->elems[m->nelems];
        *e = (gen_elem){0};
        if (build_elem(m, in, e)) m->nelems++;
    }
    if (!m->nmemories && !cfg->bulk_memory) return;
    m->ndatas = (uint32_t)gen_below(in, cap_count(cfg->max_datas) + 1u);
    for (uint32_t i = 0; i < m->ndatas; i++) build_data(m, in, &m->datas[i]);
    m->has_datacount = cfg->bulk_memory && (m->ndatas > 0 || gen_chance(in, 1, 4));
}

static void mark_declared_globals(gen_model *m) {
    for (uint32_t g = 0; g < m->nglobals; g++)
        if (!m->globals[g].imported && m->globals[g].init.kind == GEN_CONST_FUNC)
            m->funcs[m->globals[g].init.value].declared = true;
}

void gen_model_free(gen_model *m) {
    for (uint32_t i = 0; m->elems && i < m->nelems; i++) free(m->elems[i].items);
    free(m->types);
    free(m->funcs);
    free(m->tables);
    free(m->memories);
    free(m->globals);
    free(m->elems);
    free(m->datas);
    free(m->exports);
    free(m->import_kinds);
}

bool gen_model_build(gen_model *m, gen_input *in) {
    const gen_config *cfg = m->cfg;
    uint32_t nimports = cap_count(cfg->max_imports);
    m->types = calloc(cap_count(cfg->max_types) + 1u, sizeof *m->types);
    m->funcs = calloc(nimports + cap_count(cfg->max_funcs) + 1u, sizeof *m->funcs);
    m->tables = calloc(nimports + cap_count(cfg->max_tables) + 1u, sizeof *m->tables);
    m->memories = calloc(nimports + cap_count(cfg->max_memories) + 1u, sizeof *m->memories);
    m->globals = calloc(nimports + cap_count(cfg->max_globals) + 2u, sizeof *m->globals);
    m->elems = calloc(cap_count(cfg->max_elems) + 1u, sizeof *m->elems);
    m->datas = calloc(cap_count(cfg->max_datas) + 1u, sizeof *m->datas);
    m->import_kinds = calloc(nimports + 1u, 1);
    if (!m->types || !m->funcs || !m->tables || !m->memories || !m->globals || !m->elems ||
        !m->datas || !m->import_kinds)
        return false;
    build_types(m, in);
    build_imports(m, in);
    build_definitions(m, in);
    uint32_t nexports = m->cfg->export_all
                            ? m->nfuncs + m->ntables + m->nmemories + m->nglobals
                            : cap_count(cfg->max_exports);
    m->exports = calloc(nexports + 1u, sizeof *m->exports);
    if (!m->exports) return false;
    build_exports(m, in);
    build_start(m, in);
    build_segments(m, in);
    for (uint32_t i = 0; i < m->nelems; i++)
        if (!m->elems[i].items) return false;
    mark_declared_globals(m);
    return true;
}
