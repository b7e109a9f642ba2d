/* Fuzz target multi_memory_pool (issue 6): imported and defined memories and tables under the
 * pooling allocator, where storage is indexed by *defined* index and code by *full* index
 * (DESIGN.md invariant 3), with instances of three modules made and dropped in any order so that
 * pool slots pass from one module to another.
 *
 * The modules, shaped by the input:
 *   A  an exporter: 1-3 memories (i32 or i64), a table, data and element segments;
 *   B  an importer: some of A's memories (any subset, repeats allowed) and maybe A's table, then
 *      memories and a table of its own; data segments may target the imported memories (and
 *      trap there, in order, when out of bounds);
 *   C  an unrelated module with memories, a table and segments of its own.
 * Each exports every memory as "M<i>" and table as "T<t>" by full index, and per memory
 * "ld<i>"/"st<i>" (i64 at an address), "sz<i>" (memory.size), "gr<i>" (memory.grow), "cp<i>"
 * (memory.copy into memory i from memory i+1, cyclically: two index mappings at once), per table
 * "tg<t>"/"ts<t>" (table.get/set).
 *
 * Instances live in up to three stores (B imports from the A of its store, or from memories the
 * host made when there is none); dropping means deleting a store. Operations from the input:
 * instantiate A, B or C, drop a store, grow, store, load, table set and get, through wasm or the
 * host API. The model knows every memory's size and bytes and every table's elements, and how
 * many pool slots are in use (instantiation beyond them must fail with WAFER_ERROR_RESOURCE).
 * After every step each live memory is compared with the model at every address ever written,
 * from the host (wafer_memory_data) and from each instance's view of each full index; a new
 * instance's memories are compared whole, so a slot that shows another instance's bytes, or a
 * defined memory mapped to the wrong slot or type, is found.
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
    P_PAGES = 3,           /* pages per pool memory slot: every memory's capacity */
    TABLE_CAP = 8,         /* elements per pool table slot */
    TOTAL_INSTANCES = 6,   /* pool instance slots */
    MAX_DEFINED_MEMS = 3,  /* per instance, as the pool allows */
    MAX_MEMS = 5,          /* full index space of one module */
    MAX_TABS = 2,
    MAX_DATAS = 4,
    DATA_LEN = 24,
    MAX_ELEMS = 2,
    ELEM_LEN = 4,
    NSTORES = 3,
    MAX_B_PER_STORE = 2,
    MAX_STEPS = 64,
    MAX_ADDRS = 48,
    MAX_MODEL_MEMS = 96,
    MAX_MODEL_TABS = 64,
    MAX_MODEL_INSTS = 48,
};

/* ---- Module descriptions ---------------------------------------------------------------- */

typedef struct mem_decl {
    bool is64, imported;
    uint32_t source; /* imports: A's memory index */
    uint64_t min, max;
    bool has_max;
} mem_decl;

typedef struct tab_decl {
    bool imported;
    uint32_t min, max;
} tab_decl;

typedef struct data_decl {
    uint32_t mem;
    uint64_t offset;
    uint32_t len;
    uint8_t bytes[DATA_LEN];
} data_decl;

typedef struct elem_decl {
    uint32_t table, offset, count;
    uint32_t funcs[ELEM_LEN];
} elem_decl;

typedef struct mod_desc {
    char tag; /* 'A', 'B' or 'C' */
    uint32_t nmems, ntabs, ndatas, nelems;
    uint32_t imported_mems, imported_tabs;
    mem_decl mems[MAX_MEMS];
    tab_decl tabs[MAX_TABS];
    data_decl datas[MAX_DATAS];
    elem_decl elems[MAX_ELEMS];
    wafer_module *module;
} mod_desc;

/* Functions: five per memory (ld, st, sz, gr, cp), then two per table (tg, ts). */
enum { MEM_FUNCS = 5 };
static uint32_t num_funcs(const mod_desc *d) { return MEM_FUNCS * d->nmems + 2 * d->ntabs; }

static void func_name(const mod_desc *d, uint32_t f, char *buf, size_t size) {
    static const char *mem_ops[MEM_FUNCS] = {"ld", "st", "sz", "gr", "cp"};
    static const char *tab_ops[] = {"tg", "ts"};
    uint32_t t = f - MEM_FUNCS * d->nmems;
    if (f < MEM_FUNCS * d->nmems)
        snprintf(buf, size, "%s%u", mem_ops[f % MEM_FUNCS], f / MEM_FUNCS);
    else
        snprintf(buf, size, "%s%u", tab_ops[t % 2], t / 2);
}

static uint64_t index_bound(bool is64) { return is64 ? UINT64_C(1) << 48 : UINT64_C(1) << 16; }

static void choose_defined_mem(shape_input *in, mem_decl *m) {
    uint8_t b = shape_u8(in);
    m->is64 = b & 1;
    m->imported = false;
    m->min = (b >> 1) % (P_PAGES + 1);
    m->has_max = b & 0x20;
    m->max = m->min + ((b >> 6) & 3); /* may exceed the slot: capped there */
}

static void choose_table(shape_input *in, tab_decl *t) {
    uint8_t b = shape_u8(in);
    t->imported = false;
    t->min = 1 + b % 4;
    t->max = t->min + (b >> 4) % (TABLE_CAP - t->min + 1);
}

/* Data segments into defined memories lie within their minimum size (so images can form);
 * into imported ones anywhere within a slot, so they may trap. */
static void choose_datas(shape_input *in, mod_desc *d) {
    d->ndatas = shape_u8(in) % (MAX_DATAS + 1);
    for (uint32_t i = 0; i < d->ndatas; i++) {
        data_decl *g = &d->datas[i];
        g->mem = shape_u8(in) % d->nmems;
        const mem_decl *m = &d->mems[g->mem];
        uint64_t room = m->imported ? P_PAGES * PAGE : m->min * PAGE;
        g->len = shape_u8(in) % (DATA_LEN + 1);
        if (room < g->len) g->len = 0;
        uint64_t span = room - g->len + 1;
        uint8_t how = shape_u8(in);
        if (how & 1) g->offset = (shape_u16(in) * 8) % span;
        else g->offset = (how & 2) ? span - 1 : (span - 1) / PAGE * PAGE; /* at an end */
        if (m->imported && (how & 4)) g->offset = (how >> 3) % 3 * PAGE + (how >> 5) % 2;
        shape_fill(in, g->bytes, g->len);
    }
}

static void choose_elems(shape_input *in, mod_desc *d) {
    uint32_t t = d->imported_tabs; /* the module's own table */
    d->nelems = shape_u8(in) % (MAX_ELEMS + 1);
    for (uint32_t i = 0; i < d->nelems; i++) {
        elem_decl *e = &d->elems[i];
        e->table = t;
        e->count = shape_u8(in) % (d->tabs[t].min + 1);
        if (e->count > ELEM_LEN) e->count = ELEM_LEN;
        e->offset = shape_u8(in) % (d->tabs[t].min - e->count + 1);
        for (uint32_t k = 0; k < e->count; k++) e->funcs[k] = shape_u8(in) % num_funcs(d);
    }
}

/* A or C: memories, one table and segments of its own. */
static void choose_exporter(shape_input *in, mod_desc *d, char tag, uint32_t min_mems) {
    memset(d, 0, sizeof *d);
    d->tag = tag;
    d->nmems = min_mems + shape_u8(in) % (MAX_DEFINED_MEMS - min_mems + 1);
    for (uint32_t i = 0; i < d->nmems; i++) choose_defined_mem(in, &d->mems[i]);
    d->ntabs = 1;
    choose_table(in, &d->tabs[0]);
    choose_datas(in, d);
    choose_elems(in, d);
}

static void choose_importer(shape_input *in, mod_desc *d, const mod_desc *a) {
    memset(d, 0, sizeof *d);
    d->tag = 'B';
    d->imported_mems = shape_u8(in) % (MAX_MEMS - 2 + 1);
    if (d->imported_mems > a->nmems + 1) d->imported_mems = a->nmems + 1;
    for (uint32_t i = 0; i < d->imported_mems; i++) {
        mem_decl *m = &d->mems[i];
        m->imported = true;
        m->source = shape_u8(in) % a->nmems;
        m->is64 = a->mems[m->source].is64;
    }
    uint32_t ndefined = 1 + shape_u8(in) % 2;
    d->nmems = d->imported_mems + ndefined;
    for (uint32_t i = d->imported_mems; i < d->nmems; i++) choose_defined_mem(in, &d->mems[i]);
    d->imported_tabs = shape_bool(in);
    if (d->imported_tabs) d->tabs[0].imported = true;
    d->ntabs = d->imported_tabs + 1;
    choose_table(in, &d->tabs[d->imported_tabs]);
    choose_datas(in, d);
    choose_elems(in, d);
}

/* ---- Building modules ------------------------------------------------------------------- */

static bool build_module(const mod_desc *d, uint8_t **bytes, size_t *len) {
    shape_module mod;
    shape_module_init(&mod);
    char name[16];
    for (uint32_t i = 0; i < d->nmems; i++) {
        const mem_decl *m = &d->mems[i];
        if (m->imported) {
            snprintf(name, sizeof name, "M%u", m->source);
            shape_import_memory(&mod, "a", name, (shape_limits){.min = 0, .is64 = m->is64});
        } else {
            shape_memory(&mod, (shape_limits){.min = m->min, .max = m->max,
                                              .has_max = m->has_max, .is64 = m->is64});
        }
        snprintf(name, sizeof name, "M%u", i);
        shape_export(&mod, name, SHAPE_KIND_MEMORY, i);
    }
    for (uint32_t t = 0; t < d->ntabs; t++) {
        const tab_decl *tab = &d->tabs[t];
        if (tab->imported)
            shape_import_table(&mod, "a", "T0", SHAPE_FUNCREF, (shape_limits){.min = 0});
        else
            shape_table(&mod, SHAPE_FUNCREF,
                        (shape_limits){.min = tab->min, .max = tab->max, .has_max = true});
        snprintf(name, sizeof name, "T%u", t);
        shape_export(&mod, name, SHAPE_KIND_TABLE, t);
    }
    for (uint32_t i = 0; i < d->nmems; i++) {
        uint8_t at = shape_addr_type(d->mems[i].is64), p[2];
        wasm_buf code = {0};
        p[0] = at, p[1] = SHAPE_I64;
        shape_op_memarg(&code, 0x29, 3, i, 0); /* i64.load */
        snprintf(name, sizeof name, "ld%u", i);
        shape_export_code(&mod, 1, p, 1, &p[1], &code, name);
        code.len = 0;
        shape_op_memarg(&code, 0x37, 3, i, 0); /* i64.store */
        snprintf(name, sizeof name, "st%u", i);
        shape_export_code(&mod, 2, p, 0, NULL, &code, name);
        code.len = 0;
        shape_op_memory(&code, SHAPE_OP_MEMORY_SIZE, i);
        snprintf(name, sizeof name, "sz%u", i);
        shape_export_code(&mod, 0, NULL, 1, &at, &code, name);
        code.len = 0;
        shape_op_memory(&code, SHAPE_OP_MEMORY_GROW, i);
        snprintf(name, sizeof name, "gr%u", i);
        shape_export_code(&mod, 1, &at, 1, &at, &code, name);
        uint32_t src = (i + 1) % d->nmems;
        bool src64 = d->mems[src].is64;
        uint8_t cp[3] = {at, shape_addr_type(src64), shape_addr_type(d->mems[i].is64 && src64)};
        code.len = 0;
        shape_op_memory_copy(&code, i, src);
        snprintf(name, sizeof name, "cp%u", i);
        shape_export_code(&mod, 3, cp, 0, NULL, &code, name);
        wasm_buf_free(&code);
    }
    for (uint32_t t = 0; t < d->ntabs; t++) {
        uint8_t p[2] = {SHAPE_I32, SHAPE_FUNCREF};
        wasm_buf code = {0};
        wasm_byte(&code, SHAPE_OP_TABLE_GET);
        wasm_uleb(&code, t);
        snprintf(name, sizeof name, "tg%u", t);
        shape_export_code(&mod, 1, p, 1, &p[1], &code, name);
        code.len = 0;
        wasm_byte(&code, SHAPE_OP_TABLE_SET);
        wasm_uleb(&code, t);
        snprintf(name, sizeof name, "ts%u", t);
        shape_export_code(&mod, 2, p, 0, NULL, &code, name);
        wasm_buf_free(&code);
    }
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

/* ---- The model -------------------------------------------------------------------------- */

typedef struct mmem {
    bool live;
    bool is64;
    uint32_t store;
    uint64_t pages, max_pages;
    uint8_t *page[P_PAGES]; /* NULL: all zero */
    wafer_memory *handle;   /* NULL while its instance has not been returned */
} mmem;

typedef struct mtab {
    bool live;
    uint32_t store, size;
    wafer_func *elems[TABLE_CAP];
    wafer_table *handle;
} mtab;

typedef struct minst {
    bool live;
    const mod_desc *desc;
    uint32_t store;
    wafer_instance *inst;
    uint32_t mems[MAX_MEMS], tabs[MAX_TABS]; /* model ids by full index */
} minst;

typedef struct mstore {
    wafer_store *store;
    uint32_t pooled;     /* instances in the pool's slots, trapped ones included */
    int a;               /* the live A instance, or -1 */
    uint32_t nb;
    bool has_c;
} mstore;

typedef struct world {
    wafer_engine *engine;
    mod_desc mods[3]; /* A, B, C */
    mmem mems[MAX_MODEL_MEMS];
    mtab tabs[MAX_MODEL_TABS];
    minst insts[MAX_MODEL_INSTS];
    uint32_t nmems, ntabs, ninsts;
    mstore stores[NSTORES];
    uint32_t pooled; /* pool instance slots in use */
    uint64_t addrs[MAX_ADDRS];
    uint32_t naddrs;
    uint64_t step;
} world;

static _Noreturn void mismatch(const world *w, const char *what, const char *detail) {
    fprintf(stderr, "multi_memory_pool: step %llu\n", (unsigned long long)w->step);
    fuzz_broken_invariant(what, detail);
}

static uint8_t mem_byte(const mmem *m, uint64_t a) {
    const uint8_t *p = m->page[a / PAGE];
    return p ? p[a % PAGE] : 0;
}

static void mem_write(mmem *m, uint64_t a, const uint8_t *bytes, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x = a + i;
        if (!m->page[x / PAGE]) {
            m->page[x / PAGE] = calloc(1, PAGE);
            if (!m->page[x / PAGE]) abort();
        }
        m->page[x / PAGE][x % PAGE] = bytes[i];
    }
}

static void mem_free(mmem *m) {
    for (int i = 0; i < P_PAGES; i++) free(m->page[i]);
    memset(m, 0, sizeof *m);
}

static uint32_t new_mem(world *w, uint32_t store, bool is64, uint64_t pages, uint64_t max_pages) {
    if (w->nmems == MAX_MODEL_MEMS) abort(); /* bounded by MAX_STEPS */
    mmem *m = &w->mems[w->nmems];
    *m = (mmem){.live = true, .is64 = is64, .store = store, .pages = pages,
                .max_pages = max_pages};
    return w->nmems++;
}

static uint32_t new_tab(world *w, uint32_t store, uint32_t size) {
    if (w->ntabs == MAX_MODEL_TABS) abort();
    w->tabs[w->ntabs] = (mtab){.live = true, .store = store, .size = size};
    return w->ntabs++;
}

static void note_addr(world *w, uint64_t a) {
    for (uint32_t i = 0; i < w->naddrs; i++)
        if (w->addrs[i] == a) return;
    if (w->naddrs < MAX_ADDRS) w->addrs[w->naddrs++] = a;
}

/* ---- Checks ----------------------------------------------------------------------------- */

/* Compares [lo, hi) (clipped to the memory) page by page, then finds the first difference. */
static void check_mem_range(const world *w, uint32_t id, uint64_t lo, uint64_t hi) {
    static const uint8_t zeros[PAGE];
    const mmem *m = &w->mems[id];
    const uint8_t *data = wafer_memory_data(m->handle);
    uint64_t size = m->pages * PAGE;
    if (hi > size) hi = size;
    bool same = true;
    for (uint64_t a = lo; a < hi && same;) {
        uint64_t end = (a / PAGE + 1) * PAGE < hi ? (a / PAGE + 1) * PAGE : hi;
        const uint8_t *page = m->page[a / PAGE];
        same = memcmp(data + a, page ? page + a % PAGE : zeros, end - a) == 0;
        a = end;
    }
    for (uint64_t a = lo; a < hi && !same; a++)
        if (data[a] != mem_byte(m, a)) {
            char detail[160];
            snprintf(detail, sizeof detail, "memory %u (store %u) byte 0x%llx is 0x%02x, the "
                     "model says 0x%02x", id, m->store, (unsigned long long)a, data[a],
                     mem_byte(m, a));
            mismatch(w, "memory contents differ from the model", detail);
        }
}

static void check_mem_size(const world *w, uint32_t id) {
    const mmem *m = &w->mems[id];
    if (wafer_memory_size_pages(m->handle) != m->pages ||
        wafer_memory_size_bytes(m->handle) != m->pages * PAGE) {
        char detail[96];
        snprintf(detail, sizeof detail, "memory %u has %llu pages, the model %llu", id,
                 (unsigned long long)wafer_memory_size_pages(m->handle),
                 (unsigned long long)m->pages);
        mismatch(w, "memory size differs from the model", detail);
    }
}

static void check_mem_whole(const world *w, uint32_t id) {
    check_mem_size(w, id);
    check_mem_range(w, id, 0, w->mems[id].pages * PAGE);
}

static void check_tab(const world *w, uint32_t id) {
    const mtab *t = &w->tabs[id];
    if (wafer_table_size(t->handle) != t->size) mismatch(w, "table size differs", NULL);
    for (uint32_t i = 0; i < t->size; i++) {
        wafer_value v;
        wafer_error *err = wafer_table_get(t->handle, i, &v);
        if (err) mismatch(w, "reading a table in bounds failed", wafer_error_message(err));
        if (v.type != WAFER_FUNCREF || v.of.funcref != t->elems[i]) {
            char detail[64];
            snprintf(detail, sizeof detail, "table %u element %u", id, i);
            mismatch(w, "table element differs from the model", detail);
        }
    }
}

static wafer_error *call_named(const world *w, const minst *x, const char *name,
                               const wafer_value *args, size_t nargs, wafer_value *results,
                               size_t nresults) {
    wafer_extern ext;
    if (!wafer_instance_export(x->inst, name, strlen(name), &ext) || ext.kind != WAFER_EXTERN_FUNC)
        mismatch(w, "an exported function is missing", name);
    return wafer_func_call(w->stores[x->store].store, ext.of.func, args, nargs, results,
                           nresults);
}

static wafer_value addr_value(bool is64, uint64_t v) {
    wafer_value x;
    memset(&x, 0, sizeof x);
    x.type = is64 ? WAFER_I64 : WAFER_I32;
    if (is64) x.of.i64 = (int64_t)v;
    else x.of.i32 = (int32_t)(uint32_t)v;
    return x;
}

static uint64_t addr_bits(bool is64, wafer_value v) {
    return is64 ? (uint64_t)v.of.i64 : (uint32_t)v.of.i32;
}

/* An 8-byte access at a lies within size bytes. */
static bool fits8(uint64_t a, uint64_t size) { return size >= 8 && a <= size - 8; }

static uint64_t model_load(const mmem *m, uint64_t a) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)mem_byte(m, a + i) << (8 * i);
    return v;
}

static void expect_ok(const world *w, wafer_error *err, const char *what) {
    if (!err) return;
    fuzz_check_error(err);
    mismatch(w, what, wafer_error_message(err));
}

static void expect_trap(const world *w, wafer_error *err, wafer_trap_kind kind, const char *what) {
    if (!err) mismatch(w, "no trap where the model says out of bounds", what);
    fuzz_check_error(err);
    if (wafer_error_trap_kind(err) != kind) mismatch(w, what, wafer_error_message(err));
    wafer_error_free(err);
}

/* The instance's view of its full index i: the same memory object as the model's, of the
 * model's size, holding the model's bytes at the address last written. */
static void check_view(const world *w, const minst *x, uint32_t i) {
    const mmem *m = &w->mems[x->mems[i]];
    char name[16];
    snprintf(name, sizeof name, "M%u", i);
    wafer_extern ext;
    if (!wafer_instance_export(x->inst, name, strlen(name), &ext) || ext.of.memory != m->handle)
        mismatch(w, "an instance exports another memory than its index maps", name);
    wafer_value r;
    snprintf(name, sizeof name, "sz%u", i);
    expect_ok(w, call_named(w, x, name, NULL, 0, &r, 1), "memory.size failed");
    if (addr_bits(m->is64, r) != m->pages) {
        char detail[96];
        snprintf(detail, sizeof detail, "%c's memory.size of index %u is %llu, the model %llu",
                 x->desc->tag, i, (unsigned long long)addr_bits(m->is64, r),
                 (unsigned long long)m->pages);
        mismatch(w, "memory.size differs from the model", detail);
    }
    if (w->naddrs == 0) return;
    uint64_t a = w->addrs[w->naddrs - 1];
    if (!fits8(a, m->pages * PAGE)) return;
    wafer_value arg = addr_value(m->is64, a);
    snprintf(name, sizeof name, "ld%u", i);
    expect_ok(w, call_named(w, x, name, &arg, 1, &r, 1), "a load in bounds trapped");
    if ((uint64_t)r.of.i64 != model_load(m, a)) {
        char detail[128];
        snprintf(detail, sizeof detail, "%c's index %u at 0x%llx loads 0x%llx, the model 0x%llx",
                 x->desc->tag, i, (unsigned long long)a, (unsigned long long)r.of.i64,
                 (unsigned long long)model_load(m, a));
        mismatch(w, "a load differs from the model", detail);
    }
}

/* After every step: every live memory at every address written, every table, every view. */
static void check_world(const world *w) {
    for (uint32_t id = 0; id < w->nmems; id++) {
        if (!w->mems[id].live || !w->mems[id].handle) continue;
        check_mem_size(w, id);
        for (uint32_t k = 0; k < w->naddrs; k++)
            check_mem_range(w, id, w->addrs[k], w->addrs[k] + 8);
    }
    for (uint32_t id = 0; id < w->ntabs; id++)
        if (w->tabs[id].live && w->tabs[id].handle) check_tab(w, id);
    for (uint32_t k = 0; k < w->ninsts; k++) {
        const minst *x = &w->insts[k];
        if (!x->live) continue;
        for (uint32_t i = 0; i < x->desc->nmems; i++) check_view(w, x, i);
    }
}

/* ---- Steps ------------------------------------------------------------------------------ */

static wafer_store *store_of(world *w, uint32_t s) {
    if (!w->stores[s].store) {
        w->stores[s].store = wafer_store_new(w->engine);
        if (!w->stores[s].store) abort();
    }
    return w->stores[s].store;
}

static void drop_store(world *w, uint32_t s) {
    mstore *st = &w->stores[s];
    if (!st->store) return;
    wafer_store_delete(st->store);
    for (uint32_t i = 0; i < w->nmems; i++)
        if (w->mems[i].live && w->mems[i].store == s) mem_free(&w->mems[i]);
    for (uint32_t i = 0; i < w->ntabs; i++)
        if (w->tabs[i].store == s) w->tabs[i].live = false;
    for (uint32_t i = 0; i < w->ninsts; i++)
        if (w->insts[i].store == s) w->insts[i].live = false;
    w->pooled -= st->pooled;
    *st = (mstore){.a = -1};
}

/* The imports of B in store s: A's exports, or memories and a table the host makes. */
static void importer_imports(world *w, uint32_t s, const mod_desc *b, wafer_extern *imports,
                             uint32_t *mem_ids, uint32_t *tab_ids) {
    mstore *st = &w->stores[s];
    const minst *a = st->a >= 0 ? &w->insts[st->a] : NULL;
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->imported_mems; i++) {
        uint32_t src = b->mems[i].source;
        imports[n].kind = WAFER_EXTERN_MEMORY;
        if (a) {
            mem_ids[i] = a->mems[src];
        } else {
            wafer_memorytype type = {.limits = {.min = 1, .max = P_PAGES, .has_max = true},
                                     .is64 = b->mems[i].is64};
            mem_ids[i] = new_mem(w, s, type.is64, 1, P_PAGES);
            expect_ok(w, wafer_memory_new(store_of(w, s), &type, &w->mems[mem_ids[i]].handle),
                      "the host could not make a memory");
        }
        imports[n++].of.memory = w->mems[mem_ids[i]].handle;
    }
    if (b->imported_tabs) {
        imports[n].kind = WAFER_EXTERN_TABLE;
        if (a) {
            tab_ids[0] = a->tabs[0];
        } else {
            wafer_tabletype type = {.elem = WAFER_FUNCREF,
                                    .limits = {.min = 2, .max = TABLE_CAP, .has_max = true}};
            wafer_value null = {.type = WAFER_FUNCREF};
            tab_ids[0] = new_tab(w, s, 2);
            expect_ok(w, wafer_table_new(store_of(w, s), &type, null, &w->tabs[tab_ids[0]].handle),
                      "the host could not make a table");
        }
        imports[n].of.table = w->tabs[tab_ids[0]].handle;
    }
}

static uint64_t effective_max(const mem_decl *m) {
    uint64_t max = m->has_max ? m->max : index_bound(m->is64);
    return max < P_PAGES ? max : P_PAGES;
}

static void instantiate(world *w, uint32_t s, uint32_t which) {
    mstore *st = &w->stores[s];
    if ((which == 0 && st->a >= 0) || (which == 1 && st->nb == MAX_B_PER_STORE) ||
        (which == 2 && st->has_c) || w->ninsts == MAX_MODEL_INSTS ||
        w->nmems + MAX_MEMS > MAX_MODEL_MEMS || w->ntabs + MAX_TABS > MAX_MODEL_TABS)
        return;
    const mod_desc *d = &w->mods[which];
    wafer_store *store = store_of(w, s);
    minst x = {.desc = d, .store = s};
    wafer_extern imports[MAX_MEMS + 1];
    importer_imports(w, s, d, imports, x.mems, x.tabs);
    uint32_t nimports = d->imported_mems + d->imported_tabs;
    bool full = w->pooled == TOTAL_INSTANCES;

    /* The model's instantiation: new memories and tables, element then data segments in
     * order, the first data segment out of bounds traps. */
    uint32_t first_mem = w->nmems, first_tab = w->ntabs;
    int trap_at = -1;
    if (!full) {
        for (uint32_t i = d->imported_mems; i < d->nmems; i++)
            x.mems[i] = new_mem(w, s, d->mems[i].is64, d->mems[i].min, effective_max(&d->mems[i]));
        for (uint32_t t = d->imported_tabs; t < d->ntabs; t++)
            x.tabs[t] = new_tab(w, s, d->tabs[t].min);
        for (uint32_t i = 0; i < d->ndatas && trap_at < 0; i++) {
            const data_decl *g = &d->datas[i];
            mmem *m = &w->mems[x.mems[g->mem]];
            if (g->offset + g->len > m->pages * PAGE) trap_at = (int)i;
            else mem_write(m, g->offset, g->bytes, g->len);
        }
    }
    wafer_instance *inst = NULL;
    wafer_error *err = wafer_instance_new(store, d->module, imports, nimports, &inst);
    if (full) {
        if (!err) mismatch(w, "instantiation succeeded with every pool slot in use", NULL);
        fuzz_check_error(err);
        if (wafer_error_kind_of(err) != WAFER_ERROR_RESOURCE)
            mismatch(w, "a full pool failed with another error", wafer_error_message(err));
        wafer_error_free(err);
        return;
    }
    w->pooled++;
    st->pooled++;
    /* what the data segments wrote into imported memories stays, trap or not */
    for (uint32_t i = 0; i < d->imported_mems; i++) check_mem_whole(w, x.mems[i]);
    if (trap_at >= 0) {
        char what[64];
        snprintf(what, sizeof what, "%c's data segment %d", d->tag, trap_at);
        expect_trap(w, err, WAFER_TRAP_MEMORY_OUT_OF_BOUNDS, what);
        /* the instance stays in the store, unseen: its own memories and tables with it */
        for (uint32_t i = first_mem; i < w->nmems; i++) w->mems[i].live = false;
        for (uint32_t i = first_tab; i < w->ntabs; i++) w->tabs[i].live = false;
        return;
    }
    expect_ok(w, err, "instantiation failed where the model says it succeeds");
    x.inst = inst;
    x.live = true;
    char name[16];
    for (uint32_t i = 0; i < d->nmems; i++) {
        wafer_extern ext;
        snprintf(name, sizeof name, "M%u", i);
        if (!wafer_instance_export(inst, name, strlen(name), &ext)) mismatch(w, "no export", name);
        if (i < d->imported_mems) continue; /* check_view compares it with the import */
        w->mems[x.mems[i]].handle = ext.of.memory;
        check_mem_whole(w, x.mems[i]);
    }
    for (uint32_t t = 0; t < d->ntabs; t++) {
        wafer_extern ext;
        snprintf(name, sizeof name, "T%u", t);
        if (!wafer_instance_export(inst, name, strlen(name), &ext)) mismatch(w, "no export", name);
        if (t < d->imported_tabs) {
            if (ext.of.table != w->tabs[x.tabs[t]].handle)
                mismatch(w, "an imported table is exported as another", name);
            continue;
        }
        w->tabs[x.tabs[t]].handle = ext.of.table;
    }
    for (uint32_t i = 0; i < d->nelems; i++) {
        const elem_decl *e = &d->elems[i];
        mtab *t = &w->tabs[x.tabs[e->table]];
        for (uint32_t k = 0; k < e->count; k++) {
            wafer_extern ext;
            func_name(d, e->funcs[k], name, sizeof name);
            if (!wafer_instance_export(inst, name, strlen(name), &ext))
                mismatch(w, "no export", name);
            t->elems[e->offset + k] = ext.of.func;
        }
    }
    for (uint32_t t = d->imported_tabs; t < d->ntabs; t++) check_tab(w, x.tabs[t]);
    w->insts[w->ninsts] = x;
    if (which == 0) st->a = (int)w->ninsts;
    if (which == 1) st->nb++;
    if (which == 2) st->has_c = true;
    w->ninsts++;
}

/* A live instance chosen by the input, or NULL. */
static minst *pick_inst(world *w, shape_input *in) {
    uint32_t live[MAX_MODEL_INSTS], n = 0;
    for (uint32_t i = 0; i < w->ninsts; i++)
        if (w->insts[i].live) live[n++] = i;
    return n ? &w->insts[live[shape_below(in, n)]] : NULL;
}

static uint64_t pick_addr_any(world *w, shape_input *in, const mmem *m) {
    uint8_t how = shape_u8(in);
    uint64_t size = m->pages * PAGE;
    switch (how % 8) {
    case 0: case 1:
        if (w->naddrs) return w->addrs[(how >> 3) % w->naddrs];
        return 0;
    case 2: return size - 8 + (how >> 3) % 3;   /* the last word, or just past it */
    case 3: return (how >> 3) % P_PAGES * PAGE + (how >> 5) % 2 * (PAGE - 8);
    case 4: return size;
    default: return shape_u16(in) % (P_PAGES * PAGE) & ~UINT64_C(7);
    }
}

/* An address for an access to m, in its index type. */
static uint64_t pick_addr(world *w, shape_input *in, const mmem *m) {
    uint64_t a = pick_addr_any(w, in, m);
    return m->is64 ? a : (uint32_t)a;
}

static void step_grow(world *w, shape_input *in) {
    minst *x = pick_inst(w, in);
    if (!x) return;
    uint32_t i = shape_u8(in) % x->desc->nmems;
    mmem *m = &w->mems[x->mems[i]];
    uint8_t how = shape_u8(in);
    uint64_t room = m->max_pages - m->pages;
    uint64_t delta = (how & 0x80) ? room + 1 + (how & 1) * (index_bound(m->is64) - 1)
                                  : (how & 3);
    if (!m->is64) delta &= UINT32_MAX;
    bool ok = delta <= room;
    uint64_t old = m->pages;
    if (how & 0x40) {
        uint64_t got = 0;
        wafer_error *err = wafer_memory_grow(m->handle, delta, &got);
        if (ok) expect_ok(w, err, "wafer_memory_grow refused within the maximum");
        else if (!err) mismatch(w, "wafer_memory_grow past the maximum succeeded", NULL);
        else wafer_error_free(err);
        if (ok && got != old) mismatch(w, "wafer_memory_grow returned a wrong old size", NULL);
    } else {
        char name[16];
        snprintf(name, sizeof name, "gr%u", i);
        wafer_value arg = addr_value(m->is64, delta), r;
        expect_ok(w, call_named(w, x, name, &arg, 1, &r, 1), "memory.grow trapped");
        uint64_t want = ok ? old : (m->is64 ? UINT64_MAX : UINT32_MAX);
        if (addr_bits(m->is64, r) != want) {
            char detail[128];
            snprintf(detail, sizeof detail, "%c's index %u from %llu by %llu (max %llu) gave %llu",
                     x->desc->tag, i, (unsigned long long)old, (unsigned long long)delta,
                     (unsigned long long)m->max_pages, (unsigned long long)addr_bits(m->is64, r));
            mismatch(w, "memory.grow differs from the model", detail);
        }
    }
    if (ok) m->pages += delta;
}

static void step_store(world *w, shape_input *in) {
    minst *x = pick_inst(w, in);
    if (!x) return;
    uint32_t i = shape_u8(in) % x->desc->nmems;
    mmem *m = &w->mems[x->mems[i]];
    uint64_t a = pick_addr(w, in, m), v = shape_u64(in);
    bool fits = fits8(a, m->pages * PAGE);
    uint8_t bytes[8];
    for (int k = 0; k < 8; k++) bytes[k] = (uint8_t)(v >> (8 * k));
    if (shape_bool(in)) {
        if (!fits) return;
        memcpy(wafer_memory_data(m->handle) + a, bytes, 8); /* the host writes */
    } else {
        char name[16];
        snprintf(name, sizeof name, "st%u", i);
        wafer_value args[2] = {addr_value(m->is64, a), {.type = WAFER_I64, .of.i64 = (int64_t)v}};
        wafer_error *err = call_named(w, x, name, args, 2, NULL, 0);
        if (!fits) {
            expect_trap(w, err, WAFER_TRAP_MEMORY_OUT_OF_BOUNDS, name);
            return;
        }
        expect_ok(w, err, "a store in bounds trapped");
    }
    mem_write(m, a, bytes, 8);
    note_addr(w, a);
}

/* memory.copy into index i from index i+1 (cyclically) of one instance. */
static void step_copy(world *w, shape_input *in) {
    minst *x = pick_inst(w, in);
    if (!x) return;
    uint32_t i = shape_u8(in) % x->desc->nmems, j = (i + 1) % x->desc->nmems;
    mmem *dst = &w->mems[x->mems[i]];
    const mmem *src = &w->mems[x->mems[j]];
    uint64_t d = pick_addr(w, in, dst), s = pick_addr(w, in, src);
    uint8_t how = shape_u8(in);
    uint64_t n = how % 64;
    if (how & 0x80) n = (how & 0x40 ? dst->pages * PAGE - d : src->pages * PAGE - s) + (how & 1);
    if (!(dst->is64 && src->is64)) n = (uint32_t)n;
    bool fits = d <= dst->pages * PAGE && n <= dst->pages * PAGE - d &&
                s <= src->pages * PAGE && n <= src->pages * PAGE - s;
    char name[16];
    snprintf(name, sizeof name, "cp%u", i);
    wafer_value args[3] = {addr_value(dst->is64, d), addr_value(src->is64, s),
                           addr_value(dst->is64 && src->is64, n)};
    wafer_error *err = call_named(w, x, name, args, 3, NULL, 0);
    if (!fits) {
        expect_trap(w, err, WAFER_TRAP_MEMORY_OUT_OF_BOUNDS, name);
        return;
    }
    expect_ok(w, err, "a copy in bounds trapped");
    uint8_t *bytes = malloc(n ? n : 1);
    if (!bytes) abort();
    for (uint64_t k = 0; k < n; k++) bytes[k] = mem_byte(src, s + k);
    mem_write(dst, d, bytes, (uint32_t)n);
    free(bytes);
    note_addr(w, d);
    if (n > 8) note_addr(w, d + n - 8);
}

static void step_load(world *w, shape_input *in) {
    minst *x = pick_inst(w, in);
    if (!x) return;
    uint32_t i = shape_u8(in) % x->desc->nmems;
    const mmem *m = &w->mems[x->mems[i]];
    uint64_t a = pick_addr(w, in, m);
    char name[16];
    snprintf(name, sizeof name, "ld%u", i);
    wafer_value arg = addr_value(m->is64, a), r;
    wafer_error *err = call_named(w, x, name, &arg, 1, &r, 1);
    if (!fits8(a, m->pages * PAGE)) {
        expect_trap(w, err, WAFER_TRAP_MEMORY_OUT_OF_BOUNDS, name);
        return;
    }
    expect_ok(w, err, "a load in bounds trapped");
    if ((uint64_t)r.of.i64 != model_load(m, a)) mismatch(w, "a load differs from the model", name);
}

/* A function of an instance in the same store, or null. */
static wafer_func *pick_func(world *w, shape_input *in, const minst *x) {
    uint8_t how = shape_u8(in);
    if (how % 4 == 0) return NULL;
    char name[16];
    func_name(x->desc, (how >> 2) % num_funcs(x->desc), name, sizeof name);
    wafer_extern ext;
    if (!wafer_instance_export(x->inst, name, strlen(name), &ext)) mismatch(w, "no export", name);
    return ext.of.func;
}

static void step_table(world *w, shape_input *in, bool set) {
    minst *x = pick_inst(w, in);
    if (!x) return;
    uint32_t ti = shape_u8(in) % x->desc->ntabs;
    mtab *t = &w->tabs[x->tabs[ti]];
    uint8_t how = shape_u8(in);
    uint32_t idx = how % (t->size + 2); /* sometimes one past the end, or more */
    bool fits = idx < t->size, host = how & 0x80;
    wafer_error *err;
    wafer_value v = {.type = WAFER_FUNCREF};
    char name[16];
    snprintf(name, sizeof name, set ? "ts%u" : "tg%u", ti);
    if (set) {
        v.of.funcref = pick_func(w, in, x);
        wafer_value args[2] = {{.type = WAFER_I32, .of.i32 = (int32_t)idx}, v};
        err = host ? wafer_table_set(t->handle, idx, v) : call_named(w, x, name, args, 2, NULL, 0);
    } else {
        wafer_value arg = {.type = WAFER_I32, .of.i32 = (int32_t)idx};
        err = host ? wafer_table_get(t->handle, idx, &v) : call_named(w, x, name, &arg, 1, &v, 1);
    }
    if (!fits) {
        expect_trap(w, err, WAFER_TRAP_TABLE_OUT_OF_BOUNDS, name);
        return;
    }
    expect_ok(w, err, "a table access in bounds failed");
    if (set) t->elems[idx] = v.of.funcref;
    else if (v.type != WAFER_FUNCREF || v.of.funcref != t->elems[idx])
        mismatch(w, "a table element differs from the model", name);
}

static void step(world *w, shape_input *in) {
    uint8_t op = shape_u8(in);
    uint32_t s = (op >> 4) % NSTORES;
    switch (op % 13) {
    case 0: case 1: instantiate(w, s, 0); break;
    case 2: case 3: instantiate(w, s, 1); break;
    case 4: instantiate(w, s, 2); break;
    case 5: drop_store(w, s); break;
    case 6: step_grow(w, in); break;
    case 7: case 8: step_store(w, in); break;
    case 9: step_load(w, in); break;
    case 10: step_table(w, in, true); break;
    case 11: step_table(w, in, false); break;
    default: step_copy(w, in); break;
    }
}

/* ---- The target ------------------------------------------------------------------------- */

static wafer_engine *new_engine(uint8_t choice) {
    wafer_config config;
    wafer_config_default(&config);
    config.allocator = WAFER_ALLOCATOR_POOLING;
    config.stack_slots = 4096; /* no deep calls here: small stacks are quick to make */
    config.max_call_depth = 64;
    config.pooling.total_instances = TOTAL_INSTANCES;
    config.pooling.max_memories_per_instance = MAX_DEFINED_MEMS;
    config.pooling.max_tables_per_instance = MAX_TABS;
    config.pooling.max_memory_pages = P_PAGES;
    config.pooling.max_table_elements = TABLE_CAP;
    config.memory_guard_size = PAGE;
    config.memory_images = choice & 1;
    config.memory_keep_resident = (choice & 2) ? PAGE : 0;
    wafer_engine *engine = wafer_engine_new(&config);
    if (!engine) fuzz_broken_invariant("wafer_engine_new failed", NULL);
    return engine;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    shape_input in;
    shape_input_init(&in, data, size);
    /* A fresh engine per input: the pool's slots and free lists start the same each time, so an
     * input reproduces on its own. */
    static world w;
    memset(&w, 0, sizeof w);
    w.engine = new_engine(shape_u8(&in));
    choose_exporter(&in, &w.mods[0], 'A', 1);
    choose_importer(&in, &w.mods[1], &w.mods[0]);
    choose_exporter(&in, &w.mods[2], 'C', 1);
    bool built = true;
    for (int k = 0; k < 3 && built; k++) {
        uint8_t *bytes;
        size_t len;
        if (!build_module(&w.mods[k], &bytes, &len)) {
            built = false;
            break;
        }
        wafer_error *err = wafer_module_new(w.engine, bytes, len, &w.mods[k].module);
        free(bytes);
        if (err) {
            fuzz_check_error(err);
            fuzz_broken_invariant("multi_memory_pool built an invalid module",
                                  wafer_error_message(err));
        }
    }
    for (uint32_t s = 0; s < NSTORES; s++) w.stores[s].a = -1;
    for (w.step = 0; built && w.step < MAX_STEPS && !shape_input_empty(&in); w.step++) {
        step(&w, &in);
        check_world(&w);
    }
    for (uint32_t id = 0; id < w.nmems; id++)
        if (w.mems[id].live && w.mems[id].handle) check_mem_whole(&w, id);
    for (uint32_t s = 0; s < NSTORES; s++) drop_store(&w, s);
    for (uint32_t id = 0; id < w.nmems; id++) mem_free(&w.mems[id]);
    for (int k = 0; k < 3; k++)
        if (w.mods[k].module) wafer_module_release(w.mods[k].module);
    wafer_engine_delete(w.engine);
    return 0;
}
