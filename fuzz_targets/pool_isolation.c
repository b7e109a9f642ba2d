/* Fuzz target pool_isolation (issue 6): a pooled slot, reused, shows nothing of the instance that
 * used it before (DESIGN.md invariants 1 and 5).
 *
 * From the input bytes: a pooling engine with one or two instance slots (so slots are reused at
 * once), memory images on or off and a resident prefix of 0 to 4 pages (reset by memset instead
 * of madvise); three module shapes with up to two memories (i32 or i64) with active data segments,
 * up to two tables (funcref with active element segments, or externref), and mutable globals of
 * every type with initial values; then rounds. In each round one or two instances of a shape are
 * made, and each must show exactly its own initial state, computed from its description: memory
 * sizes and every byte, the pages it grows into (zeros), table sizes and elements (its own
 * functions, or null), global values. Then it writes a pattern over everything it has (grown
 * memories filled, tables grown and filled with non-null references, globals set), through wasm
 * or the host API, and is dropped with its store, leaving its slot to the next round. Between
 * rounds a shape's module is sometimes freed and compiled again, so slots outlive the module
 * they have affinity to, and a new module (perhaps at the same address) brings new images.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/fuzz_check.h"
#include "support/shape_input.h"
#include "support/shape_wasm.h"
#include "wafer.h"

#define PAGE UINT64_C(65536)

enum {
    P_PAGES = 4,     /* pages per pool memory slot */
    TABLE_CAP = 16,  /* elements per pool table slot */
    MAX_MEMS = 2,
    MAX_TABS = 2,
    MAX_GLOBS = 4,
    MAX_DATAS = 4,
    DATA_LEN = 32,
    MAX_ELEMS = 2,
    ELEM_LEN = 6,
    MAX_FUNCS = 3,
    NSHAPES = 3,
    MAX_ROUNDS = 12,
};

/* ---- Module descriptions ---------------------------------------------------------------- */

typedef struct mem_decl {
    bool is64, has_max;
    uint64_t min, max;
} mem_decl;

typedef struct tab_decl {
    uint8_t elem; /* SHAPE_FUNCREF or SHAPE_EXTERNREF */
    bool has_max;
    uint32_t min, max;
} tab_decl;

typedef struct glob_decl {
    uint8_t type;
    uint64_t bits; /* funcref: function index + 1, or 0 for null; externref: 0 */
} glob_decl;

typedef struct data_decl {
    uint32_t mem, len;
    uint64_t offset;
    uint8_t bytes[DATA_LEN];
} data_decl;

typedef struct elem_decl {
    uint32_t table, offset, count;
    uint32_t funcs[ELEM_LEN];
} elem_decl;

typedef struct mod_desc {
    uint32_t nfuncs, nmems, ntabs, nglobs, ndatas, nelems;
    mem_decl mems[MAX_MEMS];
    tab_decl tabs[MAX_TABS];
    glob_decl globs[MAX_GLOBS];
    data_decl datas[MAX_DATAS];
    elem_decl elems[MAX_ELEMS];
    wafer_module *module;
} mod_desc;

static const uint8_t glob_types[] = {SHAPE_I32, SHAPE_I64, SHAPE_F32, SHAPE_F64, SHAPE_FUNCREF,
                                     SHAPE_EXTERNREF};

/* What a memory or table may grow to: its maximum, capped by the pool's slot. */
static uint64_t mem_max(const mem_decl *m) {
    return m->has_max && m->max < P_PAGES ? m->max : P_PAGES;
}
static uint32_t tab_max(const tab_decl *t) {
    return t->has_max && t->max < TABLE_CAP ? t->max : TABLE_CAP;
}

static void choose_shape(shape_input *in, mod_desc *d) {
    memset(d, 0, sizeof *d);
    uint8_t counts = shape_u8(in);
    d->nfuncs = 1 + counts % MAX_FUNCS;
    d->nmems = (counts >> 2) % (MAX_MEMS + 1);
    d->ntabs = (counts >> 4) % (MAX_TABS + 1);
    d->nglobs = (counts >> 6) % 2 ? shape_u8(in) % (MAX_GLOBS + 1) : 0;
    for (uint32_t i = 0; i < d->nmems; i++) {
        uint8_t b = shape_u8(in);
        mem_decl *m = &d->mems[i];
        m->is64 = b & 1;
        m->min = (b >> 1) % P_PAGES; /* room to grow */
        m->has_max = b & 0x10;
        m->max = m->min + (b >> 5) % (P_PAGES - m->min + 2); /* may exceed the slot */
    }
    for (uint32_t t = 0; t < d->ntabs; t++) {
        uint8_t b = shape_u8(in);
        tab_decl *tab = &d->tabs[t];
        tab->elem = (b & 1) ? SHAPE_EXTERNREF : SHAPE_FUNCREF;
        tab->min = (b >> 1) % 8;
        tab->has_max = b & 0x10;
        tab->max = tab->min + (b >> 5) * 2;
    }
    for (uint32_t g = 0; g < d->nglobs; g++) {
        glob_decl *gl = &d->globs[g];
        gl->type = glob_types[shape_u8(in) % sizeof glob_types];
        gl->bits = shape_u64(in);
        if (gl->type == SHAPE_FUNCREF) gl->bits %= d->nfuncs + 1;
        if (gl->type == SHAPE_EXTERNREF) gl->bits = 0;
        if (gl->type == SHAPE_I32 || gl->type == SHAPE_F32) gl->bits = (uint32_t)gl->bits;
    }
    if (d->nmems) d->ndatas = shape_u8(in) % (MAX_DATAS + 1);
    for (uint32_t i = 0; i < d->ndatas; i++) {
        data_decl *g = &d->datas[i];
        g->mem = shape_u8(in) % d->nmems;
        uint64_t room = d->mems[g->mem].min * PAGE;
        g->len = shape_u8(in) % (DATA_LEN + 1);
        if (g->len > room) g->len = 0;
        uint8_t how = shape_u8(in);
        uint64_t span = room - g->len + 1;
        g->offset = (how & 1) ? span - 1 : (how & 2) ? (uint64_t)shape_u16(in) * 3 % span : 0;
        shape_fill(in, g->bytes, g->len);
    }
    uint32_t funcref_tabs[MAX_TABS], nfuncref = 0;
    for (uint32_t t = 0; t < d->ntabs; t++)
        if (d->tabs[t].elem == SHAPE_FUNCREF) funcref_tabs[nfuncref++] = t;
    if (nfuncref) d->nelems = shape_u8(in) % (MAX_ELEMS + 1);
    for (uint32_t i = 0; i < d->nelems; i++) {
        elem_decl *e = &d->elems[i];
        e->table = funcref_tabs[shape_u8(in) % nfuncref];
        uint32_t min = d->tabs[e->table].min;
        e->count = shape_u8(in) % (min < ELEM_LEN ? min + 1 : ELEM_LEN + 1);
        e->offset = shape_u8(in) % (min - e->count + 1);
        for (uint32_t k = 0; k < e->count; k++) e->funcs[k] = shape_u8(in) % d->nfuncs;
    }
}

/* ---- Building modules ------------------------------------------------------------------- */

/* Exports: "f<k>" (returns k), "M<i>", "T<t>", "G<g>"; writers "mg<i>" (memory.grow), "mf<i>"
 * (memory.fill), "tg<t>" (table.grow), "tf<t>" (table.fill), "gs<g>" (global.set). */
static bool build_module(const mod_desc *d, uint8_t **bytes, size_t *len) {
    shape_module mod;
    shape_module_init(&mod);
    char name[16];
    wasm_buf code = {0};
    uint8_t i32 = SHAPE_I32;
    for (uint32_t k = 0; k < d->nfuncs; k++) {
        code.len = 0;
        wasm_byte(&code, SHAPE_OP_I32_CONST);
        wasm_sleb(&code, k);
        snprintf(name, sizeof name, "f%u", k);
        shape_export_code(&mod, 0, NULL, 1, &i32, &code, name);
    }
    for (uint32_t i = 0; i < d->nmems; i++) {
        const mem_decl *m = &d->mems[i];
        shape_memory(&mod, (shape_limits){.min = m->min, .max = m->max, .has_max = m->has_max,
                                          .is64 = m->is64});
        snprintf(name, sizeof name, "M%u", i);
        shape_export(&mod, name, SHAPE_KIND_MEMORY, i);
        uint8_t at = shape_addr_type(m->is64), p[3] = {at, SHAPE_I32, at};
        code.len = 0;
        shape_op_memory(&code, SHAPE_OP_MEMORY_GROW, i);
        snprintf(name, sizeof name, "mg%u", i);
        shape_export_code(&mod, 1, &at, 1, &at, &code, name);
        code.len = 0;
        shape_op_memory_fill(&code, i);
        snprintf(name, sizeof name, "mf%u", i);
        shape_export_code(&mod, 3, p, 0, NULL, &code, name);
    }
    for (uint32_t t = 0; t < d->ntabs; t++) {
        const tab_decl *tab = &d->tabs[t];
        shape_table(&mod, tab->elem,
                    (shape_limits){.min = tab->min, .max = tab->max, .has_max = tab->has_max});
        snprintf(name, sizeof name, "T%u", t);
        shape_export(&mod, name, SHAPE_KIND_TABLE, t);
        uint8_t grow[2] = {tab->elem, SHAPE_I32}, fill[3] = {SHAPE_I32, tab->elem, SHAPE_I32};
        code.len = 0;
        shape_op_table_grow(&code, t);
        snprintf(name, sizeof name, "tg%u", t);
        shape_export_code(&mod, 2, grow, 1, &i32, &code, name);
        code.len = 0;
        shape_op_table_fill(&code, t);
        snprintf(name, sizeof name, "tf%u", t);
        shape_export_code(&mod, 3, fill, 0, NULL, &code, name);
    }
    for (uint32_t g = 0; g < d->nglobs; g++) {
        shape_global(&mod, d->globs[g].type, true, d->globs[g].bits);
        snprintf(name, sizeof name, "G%u", g);
        shape_export(&mod, name, SHAPE_KIND_GLOBAL, g);
        code.len = 0;
        wasm_byte(&code, SHAPE_OP_GLOBAL_SET);
        wasm_uleb(&code, g);
        snprintf(name, sizeof name, "gs%u", g);
        shape_export_code(&mod, 1, &d->globs[g].type, 0, NULL, &code, name);
    }
    wasm_buf_free(&code);
    for (uint32_t i = 0; i < d->nelems; i++)
        shape_elem_active(&mod, d->elems[i].table, d->elems[i].offset, d->elems[i].funcs,
                          d->elems[i].count);
    for (uint32_t i = 0; i < d->ndatas; i++) {
        const data_decl *g = &d->datas[i];
        shape_data_active(&mod, g->mem, d->mems[g->mem].is64, g->offset, g->bytes, g->len);
    }
    bool ok = shape_module_finish(&mod, bytes, len);
    shape_module_free(&mod);
    return ok;
}

/* ---- Checks ----------------------------------------------------------------------------- */

typedef struct live {
    const mod_desc *d;
    uint32_t shape, round;
    wafer_store *store;
    wafer_instance *inst;
} live;

static _Noreturn void leak(const live *x, const char *what, const char *detail) {
    fprintf(stderr, "pool_isolation: round %u, shape %u\n", x->round, x->shape);
    fuzz_broken_invariant(what, detail);
}

static wafer_extern get_export(const live *x, char prefix, uint32_t i) {
    char name[16];
    snprintf(name, sizeof name, "%c%u", prefix, i);
    wafer_extern ext;
    if (!wafer_instance_export(x->inst, name, strlen(name), &ext)) leak(x, "no export", name);
    return ext;
}

static wafer_func *export_func(const live *x, const char *prefix, uint32_t i) {
    char name[16];
    snprintf(name, sizeof name, "%s%u", prefix, i);
    wafer_extern ext;
    if (!wafer_instance_export(x->inst, name, strlen(name), &ext) || ext.kind != WAFER_EXTERN_FUNC)
        leak(x, "no exported function", name);
    return ext.of.func;
}

static void expect_ok(const live *x, wafer_error *err, const char *what) {
    if (!err) return;
    fuzz_check_error(err);
    leak(x, what, wafer_error_message(err));
}

/* The instance's memory i holds its minimum size of zeros and its segments, and the pages it
 * grows into up to its maximum are zeros. Leaves it grown. */
static void check_memory(const live *x, uint32_t i, uint8_t *expect) {
    const mem_decl *m = &x->d->mems[i];
    wafer_memory *memory = get_export(x, 'M', i).of.memory;
    if (wafer_memory_size_pages(memory) != m->min) leak(x, "a new memory has the wrong size", NULL);
    memset(expect, 0, P_PAGES * PAGE);
    for (uint32_t k = 0; k < x->d->ndatas; k++) {
        const data_decl *g = &x->d->datas[k];
        if (g->mem == i) memcpy(expect + g->offset, g->bytes, g->len);
    }
    expect_ok(x, wafer_memory_grow(memory, mem_max(m) - m->min, NULL),
              "growing a memory within its slot failed");
    const uint8_t *data = wafer_memory_data(memory);
    uint64_t size = wafer_memory_size_bytes(memory);
    if (size != mem_max(m) * PAGE) leak(x, "a grown memory has the wrong size", NULL);
    if (memcmp(data, expect, size) != 0) {
        uint64_t a = 0;
        while (data[a] == expect[a]) a++;
        char detail[128];
        snprintf(detail, sizeof detail, "memory %u byte 0x%llx is 0x%02x, not 0x%02x (minimum %llu "
                 "pages)", i, (unsigned long long)a, data[a], expect[a],
                 (unsigned long long)m->min);
        leak(x, "a new instance sees bytes it did not write", detail);
    }
}

static void check_table(const live *x, uint32_t t) {
    const tab_decl *tab = &x->d->tabs[t];
    wafer_table *table = get_export(x, 'T', t).of.table;
    if (wafer_table_size(table) != tab->min) leak(x, "a new table has the wrong size", NULL);
    wafer_func *expect[TABLE_CAP] = {0};
    for (uint32_t k = 0; k < x->d->nelems; k++) {
        const elem_decl *e = &x->d->elems[k];
        if (e->table != t) continue;
        for (uint32_t j = 0; j < e->count; j++)
            expect[e->offset + j] = export_func(x, "f", e->funcs[j]);
    }
    for (uint32_t i = 0; i < tab->min; i++) {
        wafer_value v;
        expect_ok(x, wafer_table_get(table, i, &v), "reading a new table failed");
        void *ref = v.type == WAFER_FUNCREF ? (void *)v.of.funcref : (void *)v.of.externref;
        wafer_value_release(&v); /* only compared by address from here on */
        if (v.type != (wafer_valtype)tab->elem || ref != (void *)expect[i]) {
            char detail[64];
            snprintf(detail, sizeof detail, "table %u element %u", t, i);
            leak(x, "a new instance sees a table element it did not write", detail);
        }
    }
}

static void check_global(const live *x, uint32_t g) {
    const glob_decl *gl = &x->d->globs[g];
    wafer_value v = wafer_global_get(get_export(x, 'G', g).of.global);
    void *ext = v.type == WAFER_EXTERNREF ? v.of.externref : NULL;
    wafer_value_release(&v); /* only compared by address from here on */
    bool same = v.type == (wafer_valtype)gl->type;
    switch (gl->type) {
    case SHAPE_I32: same = same && (uint32_t)v.of.i32 == gl->bits; break;
    case SHAPE_I64: same = same && (uint64_t)v.of.i64 == gl->bits; break;
    case SHAPE_F32: same = same && v.of.f32_bits == gl->bits; break;
    case SHAPE_F64: same = same && v.of.f64_bits == gl->bits; break;
    case SHAPE_FUNCREF:
        same = same && v.of.funcref == (gl->bits ? export_func(x, "f", (uint32_t)gl->bits - 1)
                                                 : NULL);
        break;
    default: same = same && ext == NULL;
    }
    if (!same) {
        char detail[32];
        snprintf(detail, sizeof detail, "global %u", g);
        leak(x, "a new instance sees a global value it did not set", detail);
    }
}

static void check_initial(const live *x, uint8_t *expect) {
    for (uint32_t i = 0; i < x->d->nmems; i++) check_memory(x, i, expect);
    for (uint32_t t = 0; t < x->d->ntabs; t++) check_table(x, t);
    for (uint32_t g = 0; g < x->d->nglobs; g++) check_global(x, g);
}

/* ---- Writing over everything ------------------------------------------------------------ */

/* A non-null reference: the instance's function f0, or a new externref the caller releases
 * (wafer_value_release) once the table or global it went to holds its own count. */
static wafer_value ref_value(const live *x, uint8_t type) {
    wafer_value v;
    memset(&v, 0, sizeof v);
    v.type = (wafer_valtype)type;
    if (type == SHAPE_FUNCREF) v.of.funcref = export_func(x, "f", 0);
    else v.of.externref = wafer_externref_new(NULL, NULL);
    return v;
}

static wafer_value addr_value(bool is64, uint64_t a) {
    wafer_value v;
    memset(&v, 0, sizeof v);
    v.type = is64 ? WAFER_I64 : WAFER_I32;
    if (is64) v.of.i64 = (int64_t)a;
    else v.of.i32 = (int32_t)(uint32_t)a;
    return v;
}

static void call(const live *x, wafer_func *f, const wafer_value *args, size_t nargs,
                 wafer_value *results, size_t nresults) {
    expect_ok(x, wafer_func_call(x->store, f, args, nargs, results, nresults),
              "a writer function failed");
}

/* Memories are already grown to their maximum by check_memory. */
static void scribble(const live *x, shape_input *in) {
    uint8_t how = shape_u8(in), pattern = shape_u8(in) | 1;
    for (uint32_t i = 0; i < x->d->nmems; i++) {
        const mem_decl *m = &x->d->mems[i];
        wafer_memory *memory = get_export(x, 'M', i).of.memory;
        uint64_t size = wafer_memory_size_bytes(memory);
        if (how & 1) {
            memset(wafer_memory_data(memory), pattern, size);
        } else {
            wafer_value args[3] = {addr_value(m->is64, 0), addr_value(false, pattern),
                                   addr_value(m->is64, size)};
            call(x, export_func(x, "mf", i), args, 3, NULL, 0);
        }
        wafer_value r, zero = addr_value(m->is64, 0);
        call(x, export_func(x, "mg", i), &zero, 1, &r, 1); /* memory.grow by 0: the size */
        uint64_t pages = m->is64 ? (uint64_t)r.of.i64 : (uint32_t)r.of.i32;
        if (pages != mem_max(m)) leak(x, "wasm sees another memory size than the host", NULL);
    }
    for (uint32_t t = 0; t < x->d->ntabs; t++) {
        const tab_decl *tab = &x->d->tabs[t];
        wafer_table *table = get_export(x, 'T', t).of.table;
        wafer_value ref = ref_value(x, tab->elem);
        uint32_t delta = tab_max(tab) - tab->min;
        if (how & 2) {
            expect_ok(x, wafer_table_grow(table, delta, ref, NULL), "table grow failed");
            for (uint32_t k = 0; k < tab->min; k++)
                expect_ok(x, wafer_table_set(table, k, ref), "table set failed");
        } else {
            wafer_value r, grow[2] = {ref, addr_value(false, delta)};
            call(x, export_func(x, "tg", t), grow, 2, &r, 1);
            if (r.of.i32 != (int32_t)tab->min) leak(x, "table.grow within the slot failed", NULL);
            wafer_value fill[3] = {addr_value(false, 0), ref, addr_value(false, tab_max(tab))};
            call(x, export_func(x, "tf", t), fill, 3, NULL, 0);
        }
        wafer_value_release(&ref);
    }
    for (uint32_t g = 0; g < x->d->nglobs; g++) {
        const glob_decl *gl = &x->d->globs[g];
        wafer_value v;
        memset(&v, 0, sizeof v);
        if (gl->type == SHAPE_FUNCREF || gl->type == SHAPE_EXTERNREF) {
            v = ref_value(x, gl->type);
        } else {
            v.type = (wafer_valtype)gl->type;
            v.of.i64 = (int64_t)~gl->bits; /* differs from the initial value in every bit */
            if (gl->type == SHAPE_I32 || gl->type == SHAPE_F32) v.of.i32 = (int32_t)~gl->bits;
        }
        if (how & 4) expect_ok(x, wafer_global_set(get_export(x, 'G', g).of.global, v),
                               "global set failed");
        else call(x, export_func(x, "gs", g), &v, 1, NULL, 0);
        wafer_value_release(&v);
    }
}

/* ---- The target ------------------------------------------------------------------------- */

static wafer_engine *new_engine(uint8_t choice) {
    static const uint64_t resident[] = {0, 4096, PAGE, P_PAGES * PAGE};
    wafer_config config;
    wafer_config_default(&config);
    config.allocator = WAFER_ALLOCATOR_POOLING;
    config.stack_slots = 4096; /* no deep calls here: small stacks are quick to make */
    config.max_call_depth = 64;
    config.pooling.total_instances = 1 + (choice & 1);
    config.pooling.max_memories_per_instance = MAX_MEMS;
    config.pooling.max_tables_per_instance = MAX_TABS;
    config.pooling.max_memory_pages = P_PAGES;
    config.pooling.max_table_elements = TABLE_CAP;
    config.memory_guard_size = PAGE;
    config.memory_images = !(choice & 2);
    config.memory_keep_resident = resident[(choice >> 2) & 3];
    wafer_engine *engine = wafer_engine_new(&config);
    if (!engine) fuzz_broken_invariant("wafer_engine_new failed", NULL);
    return engine;
}

static void start(live *x, wafer_engine *engine, mod_desc *shapes, uint32_t shape,
                  uint32_t round, uint8_t *expect) {
    *x = (live){.d = &shapes[shape], .shape = shape, .round = round};
    x->store = wafer_store_new(engine);
    if (!x->store) abort();
    expect_ok(x, wafer_instance_new(x->store, x->d->module, NULL, 0, &x->inst),
              "instantiation with a free slot failed");
    check_initial(x, expect);
}

/* Builds and compiles the shape's module into d->module; false if memory ran out. */
static bool compile(wafer_engine *engine, mod_desc *d) {
    uint8_t *bytes;
    size_t len;
    d->module = NULL;
    if (!build_module(d, &bytes, &len)) return false;
    wafer_error *err = wafer_module_new(engine, bytes, len, &d->module);
    free(bytes);
    if (err) {
        fuzz_check_error(err);
        fuzz_broken_invariant("pool_isolation built an invalid module", wafer_error_message(err));
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t expect[P_PAGES * PAGE];
    shape_input in;
    shape_input_init(&in, data, size);
    uint8_t choice = shape_u8(&in);
    /* A fresh engine per input: its pool starts empty, so an input reproduces on its own. */
    wafer_engine *engine = new_engine(choice);
    mod_desc shapes[NSHAPES];
    memset(shapes, 0, sizeof shapes);
    bool ok = true;
    for (uint32_t k = 0; k < NSHAPES && ok; k++) {
        choose_shape(&in, &shapes[k]);
        ok = compile(engine, &shapes[k]);
    }
    bool two = choice & 1; /* two slots: sometimes two instances live at once */
    for (uint32_t round = 0; ok && round < MAX_ROUNDS && !shape_input_empty(&in); round++) {
        uint8_t r = shape_u8(&in);
        /* Sometimes a shape's module is freed and made again: the slots' affinity to the old
         * one goes, and the new module (maybe at the old one's address) has new images. */
        if (r & 0x40) {
            mod_desc *d = &shapes[(r >> 4) % NSHAPES];
            wafer_module_release(d->module);
            if (!(ok = compile(engine, d))) break;
        }
        live a, b;
        start(&a, engine, shapes, r % NSHAPES, round, expect);
        bool pair = two && (r & 0x80);
        if (pair) start(&b, engine, shapes, (r >> 2) % NSHAPES, round, expect);
        scribble(&a, &in);
        if (pair) scribble(&b, &in);
        wafer_store_delete(a.store);
        if (pair) wafer_store_delete(b.store);
    }
    for (uint32_t k = 0; k < NSHAPES; k++)
        if (shapes[k].module) wafer_module_release(shapes[k].module);
    wafer_engine_delete(engine);
    return 0;
}
