/* Fuzz target memory64_bounds (issue 6): the spec's bounds rule for memories of both index types,
 * checked against an exact model computed in 128-bit arithmetic.
 *
 * From the input bytes: one or two memories (mostly memory64, some i32 for contrast; minimum
 * sizes from 0 pages to 2^48, around 4 GiB, some imported from the host), active and passive data
 * segments whose offsets lie near the memory's end, 2^32 and 2^64, and exported functions that
 * load and store every width with static offsets up to 2^64-1, fill, copy, init, drop, size and
 * grow. Then calls with addresses and lengths chosen near the same edges. The engine allocates on
 * demand or from a pool whose memory slots hold just over 4 GiB, with memory images on or off.
 *
 * The oracle (model_*): an access of n bytes at address a with static offset o is in bounds iff
 * a + o + n <= pages * 65536, all in unsigned __int128, so nothing wraps. Instantiation traps
 * with "out of bounds memory access" exactly at the first active segment out of bounds, after the
 * earlier ones were written (seen through an imported memory). Memory contents are modelled as a
 * log of writes over zeros, so a 4 GiB memory costs only the bytes written; loads must return the
 * modelled bytes and, at the end, every written range (with its surroundings) must hold them.
 * Memories of more than 4 pages may be refused with WAFER_ERROR_RESOURCE, cleanly; those of 2^40
 * pages or more must be (2^56 bytes exceed any address space; 2^48 pages are 2^64 bytes, which no
 * uint64_t holds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/fuzz_check.h"
#include "support/shape_input.h"
#include "support/shape_wasm.h"
#include "wafer.h"

__extension__ typedef unsigned __int128 u128; /* exact bounds arithmetic */

#define PAGE UINT64_C(65536)
#define MAX_PAGES32 (UINT64_C(1) << 16)
#define MAX_PAGES64 (UINT64_C(1) << 48)
/* Sizes from here up can never be reserved (2^56 bytes and more exceed any address space). */
#define NEVER_PAGES (UINT64_C(1) << 40)
/* A memory larger than this is "big": the OS may refuse it, and it is never grown (a dynamic
 * memory that grows copies all its bytes). */
#define SMALL_PAGES 4
/* Growth that would pass this many pages is not attempted, unless the model says it must fail. */
#define GROW_LIMIT_PAGES (MAX_PAGES32 + 2)

enum {
    MAX_MEMS = 2,
    MAX_SEGS = 4,
    MAX_SEG_LEN = 48,
    MAX_FUNCS = 12,
    MAX_CALLS = 48,
    BULK_CAP = 4096, /* in-bounds fill, copy and init lengths are kept to this many bytes */
    MAX_WRITES = MAX_SEGS + MAX_CALLS,
};

/* ---- The module's description ----------------------------------------------------------- */

typedef struct mem_desc {
    bool is64, imported;
    uint64_t min, max;
    bool has_max;
} mem_desc;

typedef struct seg_desc {
    bool active;
    uint32_t mem;
    uint64_t offset; /* already reduced to u32 for an i32 memory */
    uint32_t len;
    uint8_t bytes[MAX_SEG_LEN];
} seg_desc;

typedef struct access_op {
    uint8_t opcode;
    uint8_t width;   /* bytes */
    uint8_t type;    /* of the value loaded or stored */
    bool store;
    bool sign;       /* loads: sign-extend from width*8 bits */
} access_op;

static const access_op access_ops[] = {
    {0x28, 4, SHAPE_I32, false, false}, {0x29, 8, SHAPE_I64, false, false},
    {0x2A, 4, SHAPE_F32, false, false}, {0x2B, 8, SHAPE_F64, false, false},
    {0x2C, 1, SHAPE_I32, false, true},  {0x2D, 1, SHAPE_I32, false, false},
    {0x2E, 2, SHAPE_I32, false, true},  {0x2F, 2, SHAPE_I32, false, false},
    {0x30, 1, SHAPE_I64, false, true},  {0x31, 1, SHAPE_I64, false, false},
    {0x32, 2, SHAPE_I64, false, true},  {0x33, 2, SHAPE_I64, false, false},
    {0x34, 4, SHAPE_I64, false, true},  {0x35, 4, SHAPE_I64, false, false},
    {0x36, 4, SHAPE_I32, true, false},  {0x37, 8, SHAPE_I64, true, false},
    {0x38, 4, SHAPE_F32, true, false},  {0x39, 8, SHAPE_F64, true, false},
    {0x3A, 1, SHAPE_I32, true, false},  {0x3B, 2, SHAPE_I32, true, false},
    {0x3C, 1, SHAPE_I64, true, false},  {0x3D, 2, SHAPE_I64, true, false},
    {0x3E, 4, SHAPE_I64, true, false},
};
#define NUM_ACCESS_OPS (sizeof access_ops / sizeof access_ops[0])

typedef enum func_kind { F_ACCESS, F_FILL, F_COPY, F_INIT, F_DROP, F_SIZE, F_GROW } func_kind;

typedef struct func_desc {
    func_kind kind;
    uint32_t mem, mem2; /* mem2: the source of a copy */
    const access_op *op;
    uint32_t align;
    uint64_t offset;    /* static offset of an access */
    uint32_t seg;       /* init, drop */
} func_desc;

typedef struct shape {
    uint32_t nmems, nsegs, nfuncs;
    mem_desc mems[MAX_MEMS];
    seg_desc segs[MAX_SEGS];
    func_desc funcs[MAX_FUNCS];
} shape;

/* ---- Choosing values near the edges ------------------------------------------------------- */

static uint64_t index_bound(bool is64) { return is64 ? MAX_PAGES64 : MAX_PAGES32; }
static uint64_t addr_mask(bool is64) { return is64 ? UINT64_MAX : UINT32_MAX; }

/* A value near `end` (the first address past something), near 2^32 or 2^64, or anywhere. */
static uint64_t edge_value(shape_input *in, uint64_t end) {
    uint8_t k = shape_u8(in);
    int64_t delta = (int64_t)(k % 5) - 2;
    switch ((k >> 3) % 8) {
    case 0: return shape_u8(in);
    case 1: case 2: return end + (uint64_t)delta;
    case 3: return (UINT64_C(1) << 32) + (uint64_t)delta;
    case 4: return UINT64_MAX - (k % 4);
    case 5: return (UINT64_C(1) << 63) + (uint64_t)delta;
    case 6: return shape_u64(in);
    default: return shape_u16(in);
    }
}

static uint64_t choose_pages(shape_input *in, bool is64) {
    uint8_t r = shape_u8(in) % 16;
    if (r < 10) return r % SMALL_PAGES;
    if (r < 13 || !is64) {
        uint64_t p = MAX_PAGES32 - 1 + (r % 3);
        return p > index_bound(is64) ? index_bound(is64) : p;
    }
    static const uint64_t huge[] = {MAX_PAGES64, MAX_PAGES64 - 1, NEVER_PAGES,
                                    (UINT64_C(1) << 33) + 1};
    return huge[r % 4];
}

static void choose_memory(shape_input *in, mem_desc *m, bool may_import) {
    uint8_t flags = shape_u8(in);
    m->is64 = (flags & 3) != 0;
    m->imported = may_import && (flags & 0x0C) == 0;
    m->min = choose_pages(in, m->is64);
    m->has_max = flags & 0x10;
    if (m->has_max) {
        uint64_t bound = index_bound(m->is64), extra = (flags & 0x20) ? bound - m->min : flags >> 6;
        m->max = extra > bound - m->min ? bound : m->min + extra;
    }
}

static uint64_t min_bytes_wrapped(const mem_desc *m) { return m->min * PAGE; /* mod 2^64 */ }

static void choose_shape(shape_input *in, shape *s) {
    s->nmems = 1 + shape_u8(in) % MAX_MEMS;
    for (uint32_t i = 0; i < s->nmems; i++) choose_memory(in, &s->mems[i], i == 0);
    s->nsegs = shape_u8(in) % (MAX_SEGS + 1);
    for (uint32_t i = 0; i < s->nsegs; i++) {
        seg_desc *g = &s->segs[i];
        uint8_t flags = shape_u8(in);
        g->active = (flags & 3) != 0;
        g->mem = (flags >> 2) % s->nmems;
        g->len = (flags & 0x80) ? 0 : shape_u8(in) % (MAX_SEG_LEN + 1);
        shape_fill(in, g->bytes, g->len);
        const mem_desc *m = &s->mems[g->mem];
        g->offset = edge_value(in, min_bytes_wrapped(m) - g->len) & addr_mask(m->is64);
    }
    s->nfuncs = 1 + shape_u8(in) % MAX_FUNCS;
    for (uint32_t i = 0; i < s->nfuncs; i++) {
        func_desc *f = &s->funcs[i];
        uint8_t r = shape_u8(in);
        f->mem = (r >> 4) % s->nmems;
        f->mem2 = (r >> 5) % s->nmems;
        switch (r % 12) {
        case 5: f->kind = F_FILL; break;
        case 6: f->kind = F_COPY; break;
        case 7: case 8: f->kind = s->nsegs ? F_INIT : F_ACCESS; break;
        case 9: f->kind = s->nsegs ? F_DROP : F_SIZE; break;
        case 10: f->kind = F_SIZE; break;
        case 11: f->kind = F_GROW; break;
        default: f->kind = F_ACCESS;
        }
        if (f->kind == F_INIT || f->kind == F_DROP) f->seg = shape_u8(in) % s->nsegs;
        if (f->kind == F_ACCESS) {
            const mem_desc *m = &s->mems[f->mem];
            f->op = &access_ops[shape_u8(in) % NUM_ACCESS_OPS];
            uint32_t natural = f->op->width == 8 ? 3 : f->op->width == 4 ? 2 : f->op->width == 2;
            f->align = shape_u8(in) % (natural + 1);
            f->offset = edge_value(in, min_bytes_wrapped(m) - f->op->width) & addr_mask(m->is64);
        }
    }
}

/* ---- Building the module ---------------------------------------------------------------- */

static shape_limits limits_of(const mem_desc *m) {
    return (shape_limits){.min = m->min, .max = m->max, .has_max = m->has_max, .is64 = m->is64};
}

static void local_gets(wasm_buf *body, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        wasm_byte(body, SHAPE_OP_LOCAL_GET);
        wasm_uleb(body, i);
    }
}

/* The function's type and body; see func_kind for what each does with its parameters. */
static uint32_t build_func(shape_module *mod, const shape *s, const func_desc *f) {
    const mem_desc *m = &s->mems[f->mem], *m2 = &s->mems[f->mem2];
    uint8_t at = shape_addr_type(m->is64), params[3], results[1];
    uint32_t np = 0, nr = 0;
    wasm_buf body = {0};
    wasm_uleb(&body, 0); /* no locals */
    switch (f->kind) {
    case F_ACCESS:
        params[np++] = at;
        if (f->op->store) params[np++] = f->op->type;
        else results[nr++] = f->op->type;
        local_gets(&body, np);
        shape_op_memarg(&body, f->op->opcode, f->align, f->mem, f->offset);
        break;
    case F_FILL:
        params[0] = at, params[1] = SHAPE_I32, params[2] = at, np = 3;
        local_gets(&body, np);
        shape_op_memory_fill(&body, f->mem);
        break;
    case F_COPY:
        params[0] = at, params[1] = shape_addr_type(m2->is64);
        params[2] = shape_addr_type(m->is64 && m2->is64), np = 3;
        local_gets(&body, np);
        shape_op_memory_copy(&body, f->mem, f->mem2);
        break;
    case F_INIT:
        params[0] = at, params[1] = SHAPE_I32, params[2] = SHAPE_I32, np = 3;
        local_gets(&body, np);
        shape_op_memory_init(&body, f->seg, f->mem);
        break;
    case F_DROP:
        shape_op_data_drop(&body, f->seg);
        break;
    case F_SIZE:
        results[nr++] = at;
        shape_op_memory(&body, SHAPE_OP_MEMORY_SIZE, f->mem);
        break;
    case F_GROW:
        params[np++] = at;
        results[nr++] = at;
        local_gets(&body, np);
        shape_op_memory(&body, SHAPE_OP_MEMORY_GROW, f->mem);
        break;
    }
    wasm_byte(&body, SHAPE_OP_END);
    uint32_t index = shape_func(mod, shape_type(mod, np, params, nr, results), &body);
    wasm_buf_free(&body);
    return index;
}

static bool build_module(const shape *s, uint8_t **bytes, size_t *len) {
    shape_module mod;
    shape_module_init(&mod);
    for (uint32_t i = 0; i < s->nmems; i++) {
        const mem_desc *m = &s->mems[i];
        if (m->imported) shape_import_memory(&mod, "env", "memory", limits_of(m));
        else shape_memory(&mod, limits_of(m));
        shape_export(&mod, i ? "m1" : "m0", SHAPE_KIND_MEMORY, i);
    }
    for (uint32_t i = 0; i < s->nsegs; i++) {
        const seg_desc *g = &s->segs[i];
        if (g->active)
            shape_data_active(&mod, g->mem, s->mems[g->mem].is64, g->offset, g->bytes, g->len);
        else
            shape_data_passive(&mod, g->bytes, g->len);
    }
    for (uint32_t i = 0; i < s->nfuncs; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%u", i);
        shape_export(&mod, name, SHAPE_KIND_FUNC, build_func(&mod, s, &s->funcs[i]));
    }
    bool ok = shape_module_finish(&mod, bytes, len);
    shape_module_free(&mod);
    return ok;
}

/* ---- The model -------------------------------------------------------------------------- */

typedef struct model_write {
    uint32_t mem;
    uint64_t addr;
    uint32_t len;
    uint8_t *bytes;
} model_write;

typedef struct model {
    uint64_t pages[MAX_MEMS];
    bool dropped[MAX_SEGS];
    model_write writes[MAX_WRITES];
    uint32_t nwrites;
} model;

static u128 model_size(const model *md, uint32_t mem) { return (u128)md->pages[mem] * PAGE; }

/* [start, start + n) within the memory, in exact arithmetic. */
static bool model_fits(const model *md, uint32_t mem, u128 start, u128 n) {
    return start + n <= model_size(md, mem);
}

static uint8_t model_byte(const model *md, uint32_t mem, uint64_t addr) {
    for (uint32_t i = md->nwrites; i-- > 0;) {
        const model_write *w = &md->writes[i];
        if (w->mem == mem && addr >= w->addr && addr - w->addr < w->len)
            return w->bytes[addr - w->addr];
    }
    return 0;
}

static void model_read(const model *md, uint32_t mem, uint64_t addr, uint8_t *out, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) out[i] = model_byte(md, mem, addr + i);
}

static void model_write_bytes(model *md, uint32_t mem, uint64_t addr, const uint8_t *bytes,
                              uint32_t n) {
    if (n == 0) return;
    if (md->nwrites == MAX_WRITES) fuzz_broken_invariant("memory64_bounds: write log full", NULL);
    uint8_t *copy = malloc(n);
    if (!copy) abort();
    memcpy(copy, bytes, n);
    md->writes[md->nwrites++] = (model_write){mem, addr, n, copy};
}

static void model_free(model *md) {
    for (uint32_t i = 0; i < md->nwrites; i++) free(md->writes[i].bytes);
}

/* Compares the memory with the model around everything written, and at both ends. */
static void check_contents(const model *md, uint32_t mem, wafer_memory *memory, const char *when) {
    uint64_t pages = wafer_memory_size_pages(memory);
    if (pages != md->pages[mem] || (u128)wafer_memory_size_bytes(memory) != model_size(md, mem)) {
        char detail[128];
        snprintf(detail, sizeof detail, "%s: memory %u has %llu pages, the model %llu", when, mem,
                 (unsigned long long)pages, (unsigned long long)md->pages[mem]);
        fuzz_broken_invariant("memory size differs from the model", detail);
    }
    uint64_t size = wafer_memory_size_bytes(memory);
    if (size == 0) return;
    const uint8_t *data = wafer_memory_data(memory);
    uint64_t ranges[MAX_WRITES + 2][2];
    uint32_t n = 0;
    ranges[n][0] = 0, ranges[n++][1] = 64;
    ranges[n][0] = size > 64 ? size - 64 : 0, ranges[n++][1] = size;
    for (uint32_t i = 0; i < md->nwrites; i++) {
        const model_write *w = &md->writes[i];
        if (w->mem != mem) continue;
        ranges[n][0] = w->addr > 16 ? w->addr - 16 : 0;
        ranges[n++][1] = w->addr + w->len + 16;
    }
    for (uint32_t r = 0; r < n; r++) {
        uint64_t hi = ranges[r][1] < size ? ranges[r][1] : size;
        for (uint64_t a = ranges[r][0]; a < hi; a++) {
            uint8_t want = model_byte(md, mem, a);
            if (data[a] != want) {
                char detail[160];
                snprintf(detail, sizeof detail, "%s: memory %u byte 0x%llx is 0x%02x, the model "
                         "says 0x%02x", when, mem, (unsigned long long)a, data[a], want);
                fuzz_broken_invariant("memory contents differ from the model", detail);
            }
        }
    }
}

/* ---- Instantiation ---------------------------------------------------------------------- */

/* The first active segment out of bounds (nsegs if none); writes the earlier ones to the model. */
static uint32_t model_instantiate(const shape *s, model *md) {
    for (uint32_t i = 0; i < s->nmems; i++) md->pages[i] = s->mems[i].min;
    for (uint32_t i = 0; i < s->nsegs; i++) {
        const seg_desc *g = &s->segs[i];
        md->dropped[i] = g->active; /* active segments are dropped once applied */
        if (!g->active) continue;
        if (!model_fits(md, g->mem, g->offset, g->len)) return i;
    }
    for (uint32_t i = 0; i < s->nsegs; i++) {
        const seg_desc *g = &s->segs[i];
        if (g->active) model_write_bytes(md, g->mem, g->offset, g->bytes, g->len);
    }
    return s->nsegs;
}

static void model_segments_before(const shape *s, model *md, uint32_t failed) {
    for (uint32_t i = 0; i < failed; i++) {
        const seg_desc *g = &s->segs[i];
        if (g->active) model_write_bytes(md, g->mem, g->offset, g->bytes, g->len);
    }
}

static wafer_memorytype memtype_of(const mem_desc *m) {
    return (wafer_memorytype){
        .limits = {.min = m->min, .max = m->max, .has_max = m->has_max}, .is64 = m->is64};
}

static void expect_trap(wafer_error *err, bool trap, const char *what) {
    if (!trap) {
        if (err) {
            fuzz_check_error(err);
            fuzz_broken_invariant("error where the bounds rule says in bounds",
                                  wafer_error_message(err));
        }
        return;
    }
    if (!err) fuzz_broken_invariant("no trap where the bounds rule says out of bounds", what);
    fuzz_check_error(err);
    if (wafer_error_trap_kind(err) != WAFER_TRAP_MEMORY_OUT_OF_BOUNDS)
        fuzz_broken_invariant("out of bounds access trapped with another error",
                              wafer_error_message(err));
    wafer_error_free(err);
}

/* ---- Calls ------------------------------------------------------------------------------ */

static wafer_value addr_value(bool is64, uint64_t v) {
    wafer_value x;
    memset(&x, 0, sizeof x);
    x.type = is64 ? WAFER_I64 : WAFER_I32;
    if (is64) x.of.i64 = (int64_t)v;
    else x.of.i32 = (int32_t)(uint32_t)v;
    return x;
}

static uint64_t value_bits(wafer_value v) {
    switch (v.type) {
    case WAFER_I32: return (uint32_t)v.of.i32;
    case WAFER_I64: return (uint64_t)v.of.i64;
    case WAFER_F32: return v.of.f32_bits;
    case WAFER_F64: return v.of.f64_bits;
    default: return 0;
    }
}

static wafer_value typed_value(uint8_t type, uint64_t bits) {
    wafer_value x;
    memset(&x, 0, sizeof x);
    x.type = (wafer_valtype)type;
    switch (type) {
    case SHAPE_I32: x.of.i32 = (int32_t)(uint32_t)bits; break;
    case SHAPE_I64: x.of.i64 = (int64_t)bits; break;
    case SHAPE_F32: x.of.f32_bits = (uint32_t)bits; break;
    case SHAPE_F64: x.of.f64_bits = bits; break;
    }
    return x;
}

/* What a load of the modelled bytes gives, as the result type's bits. */
static uint64_t loaded_bits(const access_op *op, const uint8_t *bytes) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < op->width; i++) v |= (uint64_t)bytes[i] << (8 * i);
    if (op->sign && op->width < 8) {
        uint64_t sign = UINT64_C(1) << (8 * op->width - 1);
        v = (v ^ sign) - sign;
    }
    return op->type == SHAPE_I32 || op->type == SHAPE_F32 ? (uint32_t)v : v;
}

typedef struct call_ctx {
    const shape *s;
    model *md;
    wafer_store *store;
    wafer_func *func;
    char what[200];
} call_ctx;

static wafer_error *call(call_ctx *c, const wafer_value *args, size_t nargs, wafer_value *results,
                         size_t nresults) {
    return wafer_func_call(c->store, c->func, args, nargs, results, nresults);
}

/* A length for a bulk operation at d: near what is left of the memory, or an edge value; kept
 * to BULK_CAP bytes when in bounds. */
static uint64_t bulk_length(shape_input *in, const model *md, uint32_t mem, uint64_t d,
                            uint64_t mask) {
    uint64_t left = (uint64_t)(model_size(md, mem) - (model_size(md, mem) < d ? 0 : d));
    uint64_t n = edge_value(in, left) & mask;
    if (model_fits(md, mem, d, n) && n > BULK_CAP) n %= BULK_CAP + 1;
    return n;
}

static void run_access(call_ctx *c, shape_input *in, const func_desc *f) {
    const mem_desc *m = &c->s->mems[f->mem];
    const access_op *op = f->op;
    uint64_t end = (uint64_t)model_size(c->md, f->mem) - f->offset - op->width;
    uint8_t how = shape_u8(in);
    uint64_t addr = (how & 0x80) ? (uint64_t)0 - f->offset + (how & 7) /* wraps past 2^64 */
                                 : edge_value(in, end);
    addr &= addr_mask(m->is64);
    bool fits = model_fits(c->md, f->mem, (u128)addr + f->offset, op->width);
    snprintf(c->what, sizeof c->what, "op 0x%02x memory %u (%llu pages) address 0x%llx offset "
             "0x%llx", op->opcode, f->mem, (unsigned long long)c->md->pages[f->mem],
             (unsigned long long)addr, (unsigned long long)f->offset);
    wafer_value args[2] = {addr_value(m->is64, addr)}, result;
    if (op->store) {
        uint64_t v = shape_u64(in);
        args[1] = typed_value(op->type, v);
        expect_trap(call(c, args, 2, NULL, 0), !fits, c->what);
        if (fits) {
            uint8_t bytes[8];
            for (uint32_t i = 0; i < op->width; i++) bytes[i] = (uint8_t)(v >> (8 * i));
            model_write_bytes(c->md, f->mem, addr + f->offset, bytes, op->width);
        }
        return;
    }
    expect_trap(call(c, args, 1, &result, 1), !fits, c->what);
    if (!fits) return;
    uint8_t bytes[8];
    model_read(c->md, f->mem, addr + f->offset, bytes, op->width);
    uint64_t want = loaded_bits(op, bytes), got = value_bits(result);
    if (result.type != (wafer_valtype)op->type || got != want) {
        char detail[300];
        snprintf(detail, sizeof detail, "%s: loaded 0x%llx, the model says 0x%llx", c->what,
                 (unsigned long long)got, (unsigned long long)want);
        fuzz_broken_invariant("load differs from the model", detail);
    }
}

static void run_fill(call_ctx *c, shape_input *in, const func_desc *f) {
    const mem_desc *m = &c->s->mems[f->mem];
    uint64_t mask = addr_mask(m->is64);
    uint64_t d = edge_value(in, (uint64_t)model_size(c->md, f->mem)) & mask;
    uint32_t val = shape_u32(in);
    uint64_t n = bulk_length(in, c->md, f->mem, d, mask);
    bool fits = model_fits(c->md, f->mem, d, n);
    snprintf(c->what, sizeof c->what, "memory.fill memory %u (%llu pages) d 0x%llx n 0x%llx",
             f->mem, (unsigned long long)c->md->pages[f->mem], (unsigned long long)d,
             (unsigned long long)n);
    wafer_value args[3] = {addr_value(m->is64, d), addr_value(false, val), addr_value(m->is64, n)};
    expect_trap(call(c, args, 3, NULL, 0), !fits, c->what);
    if (fits && n) {
        uint8_t bytes[BULK_CAP];
        memset(bytes, (uint8_t)val, n);
        model_write_bytes(c->md, f->mem, d, bytes, (uint32_t)n);
    }
}

static void run_copy(call_ctx *c, shape_input *in, const func_desc *f) {
    const mem_desc *m = &c->s->mems[f->mem], *m2 = &c->s->mems[f->mem2];
    bool n64 = m->is64 && m2->is64;
    uint64_t d = edge_value(in, (uint64_t)model_size(c->md, f->mem)) & addr_mask(m->is64);
    uint64_t s = edge_value(in, (uint64_t)model_size(c->md, f->mem2)) & addr_mask(m2->is64);
    uint64_t n = bulk_length(in, c->md, shape_bool(in) ? f->mem : f->mem2,
                             shape_bool(in) ? d : s, addr_mask(n64));
    bool fits = model_fits(c->md, f->mem, d, n) && model_fits(c->md, f->mem2, s, n);
    if (fits && n > BULK_CAP) n %= BULK_CAP + 1; /* a shorter copy, in bounds for both */
    snprintf(c->what, sizeof c->what, "memory.copy %u <- %u d 0x%llx s 0x%llx n 0x%llx", f->mem,
             f->mem2, (unsigned long long)d, (unsigned long long)s, (unsigned long long)n);
    wafer_value args[3] = {addr_value(m->is64, d), addr_value(m2->is64, s), addr_value(n64, n)};
    expect_trap(call(c, args, 3, NULL, 0), !fits, c->what);
    if (fits && n) {
        uint8_t bytes[BULK_CAP];
        model_read(c->md, f->mem2, s, bytes, (uint32_t)n);
        model_write_bytes(c->md, f->mem, d, bytes, (uint32_t)n);
    }
}

static void run_init(call_ctx *c, shape_input *in, const func_desc *f) {
    const mem_desc *m = &c->s->mems[f->mem];
    const seg_desc *g = &c->s->segs[f->seg];
    uint32_t seg_len = c->md->dropped[f->seg] ? 0 : g->len;
    uint64_t d = edge_value(in, (uint64_t)model_size(c->md, f->mem)) & addr_mask(m->is64);
    uint32_t s = (uint32_t)edge_value(in, seg_len);
    uint32_t n = (uint32_t)edge_value(in, seg_len - s);
    bool fits = model_fits(c->md, f->mem, d, n) && (u128)s + n <= seg_len;
    snprintf(c->what, sizeof c->what, "memory.init segment %u (%u bytes) memory %u d 0x%llx s %u "
             "n %u", f->seg, seg_len, f->mem, (unsigned long long)d, s, n);
    wafer_value args[3] = {addr_value(m->is64, d), addr_value(false, s), addr_value(false, n)};
    expect_trap(call(c, args, 3, NULL, 0), !fits, c->what);
    if (fits) model_write_bytes(c->md, f->mem, d, g->bytes + s, n);
}

static void run_grow(call_ctx *c, shape_input *in, const func_desc *f) {
    const mem_desc *m = &c->s->mems[f->mem];
    uint64_t old = c->md->pages[f->mem];
    uint64_t bound = m->has_max ? m->max : index_bound(m->is64);
    uint64_t delta = edge_value(in, bound - old) & addr_mask(m->is64);
    bool must_fail = delta > bound - old;
    /* Growing a big dynamic memory copies all of it: not what this target measures. */
    if (!must_fail && (old > SMALL_PAGES || old + delta > GROW_LIMIT_PAGES)) return;
    snprintf(c->what, sizeof c->what, "memory.grow memory %u from %llu by %llu pages (bound %llu)",
             f->mem, (unsigned long long)old, (unsigned long long)delta,
             (unsigned long long)bound);
    wafer_value arg = addr_value(m->is64, delta), result;
    wafer_error *err = call(c, &arg, 1, &result, 1);
    if (err) {
        fuzz_check_error(err);
        fuzz_broken_invariant("memory.grow trapped", wafer_error_message(err));
    }
    uint64_t got = value_bits(result), failed = addr_mask(m->is64);
    if (got == failed && delta != 0) return; /* refused: always allowed when not forced */
    if (must_fail || got != old)
        fuzz_broken_invariant(must_fail ? "memory.grow past the maximum succeeded"
                                        : "memory.grow returned a wrong old size", c->what);
    c->md->pages[f->mem] = old + delta;
}

static void run_call(call_ctx *c, shape_input *in, const func_desc *f) {
    switch (f->kind) {
    case F_ACCESS: run_access(c, in, f); break;
    case F_FILL: run_fill(c, in, f); break;
    case F_COPY: run_copy(c, in, f); break;
    case F_INIT: run_init(c, in, f); break;
    case F_DROP:
        expect_trap(call(c, NULL, 0, NULL, 0), false, "data.drop");
        c->md->dropped[f->seg] = true;
        break;
    case F_SIZE: {
        wafer_value result;
        expect_trap(call(c, NULL, 0, &result, 1), false, "memory.size");
        if (value_bits(result) != c->md->pages[f->mem])
            fuzz_broken_invariant("memory.size differs from the model", NULL);
        break;
    }
    case F_GROW: run_grow(c, in, f); break;
    }
}

/* ---- The target ------------------------------------------------------------------------- */

/* The engine the input's first byte chooses: bit 0 memory images, bit 1 the pooling allocator
 * with memory slots of just over 4 GiB (static memories bounded by the slot, not their type). */
static wafer_engine *new_engine(uint8_t choice) {
    wafer_config config;
    wafer_config_default(&config);
    config.memory_images = choice & 1;
    config.stack_slots = 4096; /* no deep calls here: small stacks are quick to make */
    config.max_call_depth = 64;
    config.limits.max_memory_pages = MAX_PAGES64; /* the spec's own bound, no lower */
    if (choice & 2) {
        config.allocator = WAFER_ALLOCATOR_POOLING;
        config.pooling.total_instances = 1;
        config.pooling.max_memories_per_instance = MAX_MEMS;
        config.pooling.max_memory_pages = MAX_PAGES32 + 2;
    }
    wafer_engine *engine = wafer_engine_new(&config);
    if (!engine) fuzz_broken_invariant("wafer_engine_new failed", NULL);
    return engine;
}

/* On-demand engines are kept; a pooling engine is made for each input, so that its pool starts
 * empty and the input reproduces on its own. */
static wafer_engine *engine_for(uint8_t choice) {
    static wafer_engine *on_demand[2];
    if (choice & 2) return new_engine(choice);
    if (!on_demand[choice & 1]) on_demand[choice & 1] = new_engine(choice & 1);
    return on_demand[choice & 1];
}

static void run(wafer_engine *engine, wafer_module *module, const shape *s, shape_input *in) {
    wafer_store *store = wafer_store_new(engine);
    if (!store) abort();
    model md = {0};
    wafer_extern import = {.kind = WAFER_EXTERN_MEMORY};
    bool big = false, never = false;
    for (uint32_t i = 0; i < s->nmems; i++) {
        if (s->mems[i].min > SMALL_PAGES) big = true;
        if (s->mems[i].min >= NEVER_PAGES) never = true;
    }
    if (s->mems[0].imported) {
        wafer_memorytype type = memtype_of(&s->mems[0]);
        wafer_error *err = wafer_memory_new(store, &type, &import.of.memory);
        if (err) {
            fuzz_check_error(err);
            if (wafer_error_kind_of(err) != WAFER_ERROR_RESOURCE || !big)
                fuzz_broken_invariant("the host could not make a memory", wafer_error_message(err));
            wafer_error_free(err);
            goto done;
        }
        if (s->mems[0].min >= NEVER_PAGES)
            fuzz_broken_invariant("a memory of 2^56 bytes or more was made", NULL);
    }
    uint32_t failing = model_instantiate(s, &md);
    wafer_instance *instance = NULL;
    wafer_error *err = wafer_instance_new(store, module, &import, s->mems[0].imported, &instance);
    if (err) {
        fuzz_check_error(err);
        wafer_error_kind kind = wafer_error_kind_of(err);
        if (kind == WAFER_ERROR_RESOURCE && big) {
            wafer_error_free(err);
            goto done;
        }
        if (kind != WAFER_ERROR_TRAP || failing == s->nsegs || never)
            fuzz_broken_invariant("instantiation failed where the model says it succeeds",
                                  wafer_error_message(err));
        char what[64];
        snprintf(what, sizeof what, "active segment %u", failing);
        expect_trap(err, true, what);
        if (s->mems[0].imported) { /* the segments before the failing one stay written */
            model_segments_before(s, &md, failing);
            check_contents(&md, 0, import.of.memory, "after a failed instantiation");
        }
        goto done;
    }
    if (never) fuzz_broken_invariant("a memory of 2^56 bytes or more was instantiated", NULL);
    if (failing != s->nsegs) {
        char what[64];
        snprintf(what, sizeof what, "active segment %u", failing);
        fuzz_broken_invariant("instantiation succeeded though a segment is out of bounds", what);
    }
    call_ctx c = {.s = s, .md = &md, .store = store};
    for (uint32_t k = 0; k < MAX_CALLS && !shape_input_empty(in); k++) {
        uint32_t fi = shape_u8(in) % s->nfuncs;
        char name[16];
        snprintf(name, sizeof name, "f%u", fi);
        wafer_extern ext;
        if (!wafer_instance_export(instance, name, strlen(name), &ext))
            fuzz_broken_invariant("an export is missing", name);
        c.func = ext.of.func;
        run_call(&c, in, &s->funcs[fi]);
    }
    for (uint32_t i = 0; i < s->nmems; i++) {
        wafer_extern ext;
        if (!wafer_instance_export(instance, i ? "m1" : "m0", 2, &ext))
            fuzz_broken_invariant("a memory export is missing", NULL);
        check_contents(&md, i, ext.of.memory, "after the calls");
    }
done:
    model_free(&md);
    wafer_store_delete(store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    shape_input in;
    shape_input_init(&in, data, size);
    uint8_t choice = shape_u8(&in) & 3;
    wafer_engine *engine = engine_for(choice);
    shape s;
    memset(&s, 0, sizeof s);
    choose_shape(&in, &s);
    uint8_t *bytes;
    size_t len;
    wafer_module *module = NULL;
    if (build_module(&s, &bytes, &len)) {
        wafer_error *err = wafer_module_new(engine, bytes, len, &module);
        free(bytes);
        /* an image too large to build is refused cleanly; anything else is a generator bug */
        if (err) {
            fuzz_check_error(err);
            if (wafer_error_kind_of(err) != WAFER_ERROR_RESOURCE)
                fuzz_broken_invariant("memory64_bounds built an invalid module",
                                      wafer_error_message(err));
            wafer_error_free(err);
        }
    }
    if (module) {
        run(engine, module, &s, &in);
        wafer_module_release(module);
    }
    if (choice & 2) wafer_engine_delete(engine);
    return 0;
}
