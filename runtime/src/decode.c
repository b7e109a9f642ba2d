/* Decoding the binary format (spec 5, "Binary Format") into a module: see module.h.
 *
 * Everything outside function bodies is decoded here; bodies are only delimited (their locals
 * read) and left for validation, which reads their instructions once while checking types.
 * Malformed input yields the spec test suite's text, then " at offset N". As in the reference
 * interpreter, a section is read from the whole module rather than from a window of its declared
 * size, and its size is checked afterwards ("section size mismatch"): the suite's texts for
 * sections whose content overruns their size depend on that. A vector's count is
 * checked against the bytes left (every element takes at least one byte) and against the engine's
 * limits before anything is allocated for it, so no count can make the decoder allocate more than
 * a small multiple of the input's size.
 */
#include "module.h"
#include "error.h"
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference interpreter's text for running out of bytes inside a section. */
#define END_OF_SECTION "unexpected end of section or function"

enum {
    SECTION_CUSTOM = 0,
    SECTION_TYPE = 1,
    SECTION_IMPORT = 2,
    SECTION_FUNCTION = 3,
    SECTION_TABLE = 4,
    SECTION_MEMORY = 5,
    SECTION_GLOBAL = 6,
    SECTION_EXPORT = 7,
    SECTION_START = 8,
    SECTION_ELEMENT = 9,
    SECTION_CODE = 10,
    SECTION_DATA = 11,
    SECTION_DATA_COUNT = 12,
};

/* Position of each section id in the required order (spec 5.5.2): data count comes before code. */
static const uint8_t section_rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};

typedef struct instr_buf {
    const_instr *v;
    uint32_t len, cap;
} instr_buf;

typedef struct decoder {
    wafer_module *m;
    uint32_t features;
    const wafer_limits_config *limits;
    reader r;          /* spans the whole module, except within a function body */
    const uint8_t *section_end;
    bool in_sections;  /* past the preamble: running out of bytes is END_OF_SECTION */
    wafer_error *err;  /* a failure that is not malformation (limit, unsupported, out of memory) */
    bool has_code_section, has_data_section;
    uint32_t num_declared_funcs; /* entries of the function section */
    uint32_t cap_funcs, cap_tables, cap_memories, cap_globals;
} decoder;

/* ---- Failures -------------------------------------------------------------------------------- */

static bool fail(decoder *d, const char *message) { return reader_fail(&d->r, message); }

/* Keeps the first failure only, and stops the reader so that decoding unwinds. */
static bool fail_with(decoder *d, wafer_error *err) {
    if (!d->err && !d->r.error)
        d->err = err;
    else
        wafer_error_free(err);
    return reader_fail(&d->r, "");
}

static bool fail_unsupported(decoder *d, const char *feature) {
    return fail_with(d, error_new(WAFER_ERROR_UNSUPPORTED, "unsupported feature: %s", feature));
}

/* A post-MVP construct whose feature the engine's configuration switched off. */
static bool fail_disabled(decoder *d, const char *feature) {
    return fail_with(d, error_new(WAFER_ERROR_UNSUPPORTED,
                                  "unsupported feature: %s (disabled) at offset %zu", feature,
                                  reader_offset(&d->r)));
}

static bool fail_limit(decoder *d, const char *fmt, ...) WAFER_PRINTF(2, 3);
static bool fail_limit(decoder *d, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fail_with(d, error_new(WAFER_ERROR_LIMIT, "%s at offset %zu", what,
                                  reader_offset(&d->r)));
}

static bool fail_out_of_memory(decoder *d) {
    return fail_with(d, error_new(WAFER_ERROR_RESOURCE, "out of memory while decoding"));
}

/* Byte-sized fields that the reference interpreter reads as one-byte LEB128 numbers: a set top
 * bit is a longer number than the field allows. */
static bool fail_byte(decoder *d, uint8_t byte, const char *message) {
    return fail(d, byte & 0x80 ? "integer representation too long" : message);
}

static bool has_feature(const decoder *d, uint32_t feature) { return (d->features & feature) != 0; }

/* ---- Allocation ------------------------------------------------------------------------------ */

static void *alloc_array(decoder *d, size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size);
    if (!p) fail_out_of_memory(d);
    return p;
}

/* Grows an array indexed by a full index space to hold `need` entries (new ones zeroed); *out
 * gets the array, moved or not. On failure the old array stays valid. */
static bool grow(decoder *d, void **out, void *array, uint32_t *cap, uint32_t need,
                 size_t size) {
    *out = array;
    if (need <= *cap) return true;
    uint64_t new_cap = (uint64_t)*cap * 2;
    if (new_cap < need) new_cap = need;
    if (new_cap > UINT32_MAX) new_cap = UINT32_MAX;
    void *p = new_cap > SIZE_MAX / size ? NULL : realloc(array, (size_t)new_cap * size);
    if (!p) return fail_out_of_memory(d);
    memset((char *)p + (size_t)*cap * size, 0, (size_t)(new_cap - *cap) * size);
    *cap = (uint32_t)new_cap;
    *out = p;
    return true;
}

/* Room for `need` entries in each full index space (imports first, then definitions). */
static bool grow_funcs(decoder *d, uint32_t need) {
    void *p;
    if (!grow(d, &p, d->m->func_type_indices, &d->cap_funcs, need, sizeof(uint32_t)))
        return false;
    d->m->func_type_indices = p;
    return true;
}

static bool grow_tables(decoder *d, uint32_t need) {
    void *p;
    if (!grow(d, &p, d->m->tables, &d->cap_tables, need, sizeof(wafer_tabletype))) return false;
    d->m->tables = p;
    return true;
}

static bool grow_memories(decoder *d, uint32_t need) {
    void *p;
    if (!grow(d, &p, d->m->memories, &d->cap_memories, need, sizeof(wafer_memorytype)))
        return false;
    d->m->memories = p;
    return true;
}

static bool grow_globals(decoder *d, uint32_t need) {
    void *p;
    if (!grow(d, &p, d->m->globals, &d->cap_globals, need, sizeof(module_global))) return false;
    d->m->globals = p;
    return true;
}

static bool instr_push(decoder *d, instr_buf *buf, const_instr instr) {
    if (buf->len == buf->cap) {
        if (buf->cap > UINT32_MAX / 2 || (size_t)buf->cap * 2 > SIZE_MAX / sizeof *buf->v)
            return fail_out_of_memory(d);
        uint32_t cap = buf->cap ? buf->cap * 2 : 2;
        const_instr *v = realloc(buf->v, (size_t)cap * sizeof *v);
        if (!v) return fail_out_of_memory(d);
        buf->v = v;
        buf->cap = cap;
    }
    buf->v[buf->len++] = instr;
    return true;
}

/* ---- Numbers, lengths, types ----------------------------------------------------------------- */

/* A vector's element count (spec 5.1.3); `already` entries of the same index space exist. */
static bool read_count(decoder *d, uint32_t *count, uint64_t already, uint32_t limit,
                       const char *what) {
    if (!reader_u32(&d->r, count)) return false;
    if (*count > reader_remaining(&d->r)) return fail(d, END_OF_SECTION);
    if (already + *count > limit)
        return fail_limit(d, "too many %s: %llu exceeds the limit of %u", what,
                          (unsigned long long)(already + *count), limit);
    return true;
}

/* A byte length. The reference interpreter compares it with the bytes left counted from the
 * length's own first byte, so a length overrunning by no more than its own encoding runs out of
 * bytes ("unexpected end ...") rather than being "out of bounds"; the suite expects both. */
static bool read_length(decoder *d, uint32_t *len) {
    size_t before = reader_remaining(&d->r);
    if (!reader_u32(&d->r, len)) return false;
    if (*len > before) return fail(d, "length out of bounds");
    if (*len > reader_remaining(&d->r)) return fail(d, END_OF_SECTION);
    return true;
}

static bool read_name(decoder *d, wafer_name *name) {
    return reader_name(&d->r, &name->bytes, &name->len);
}

static bool read_valtype(decoder *d, wafer_valtype *out) {
    uint8_t b;
    if (!reader_u8(&d->r, &b)) return false;
    switch (b) {
    case WAFER_I32:
    case WAFER_I64:
    case WAFER_F32:
    case WAFER_F64: break;
    case WAFER_FUNCREF:
    case WAFER_EXTERNREF:
        if (!has_feature(d, WAFER_FEATURE_REFERENCE_TYPES))
            return fail_disabled(d, "reference types");
        break;
    case WAFER_V128: return fail_unsupported(d, "simd");
    default: return fail_byte(d, b, "malformed value type");
    }
    *out = (wafer_valtype)b;
    return true;
}

static bool read_reftype(decoder *d, wafer_valtype *out) {
    uint8_t b;
    if (!reader_u8(&d->r, &b)) return false;
    if (b == WAFER_FUNCREF) {
        *out = WAFER_FUNCREF;
        return true;
    }
    if (b == WAFER_EXTERNREF) {
        if (!has_feature(d, WAFER_FEATURE_REFERENCE_TYPES))
            return fail_disabled(d, "reference types");
        *out = WAFER_EXTERNREF;
        return true;
    }
    return fail_byte(d, b, "malformed reference type");
}

/* Limits flags (spec 5.3.6 and the memory64 proposal). The suite of each proposal words a bad flag
 * its own way: the core suite reads the flag as a one-bit number ("integer too large"), the
 * memory64 suite says "malformed limits flags". Shared memories (threads) are not supported. */
static bool fail_limits_flags(decoder *d, uint8_t flags) {
    if (has_feature(d, WAFER_FEATURE_MEMORY64)) return fail(d, "malformed limits flags");
    return fail_byte(d, flags, "integer too large");
}

static bool read_table_type(decoder *d, wafer_tabletype *t) {
    uint8_t flags;
    uint32_t min, max = 0;
    if (!read_reftype(d, &t->elem) || !reader_u8(&d->r, &flags)) return false;
    if (flags > 1) return fail_limits_flags(d, flags);
    if (!reader_u32(&d->r, &min)) return false;
    if (flags == 1 && !reader_u32(&d->r, &max)) return false;
    t->limits = (wafer_limits){min, max, flags == 1};
    return true;
}

/* With memory64 on, every memory's limits are u64 (the proposal's binary format); the validator
 * bounds a 32-bit memory's to 65536 pages. */
static bool read_memory_type(decoder *d, wafer_memorytype *t) {
    uint8_t flags;
    if (!reader_u8(&d->r, &flags)) return false;
    bool memory64 = has_feature(d, WAFER_FEATURE_MEMORY64);
    if ((flags == 4 || flags == 5) && !memory64) return fail_disabled(d, "memory64");
    if (flags != 0 && flags != 1 && flags != 4 && flags != 5) return fail_limits_flags(d, flags);
    bool has_max = flags & 1;
    uint64_t min, max = 0;
    if (memory64) {
        if (!reader_u64(&d->r, &min)) return false;
        if (has_max && !reader_u64(&d->r, &max)) return false;
    } else {
        uint32_t min32, max32 = 0;
        if (!reader_u32(&d->r, &min32)) return false;
        if (has_max && !reader_u32(&d->r, &max32)) return false;
        min = min32;
        max = max32;
    }
    t->limits = (wafer_limits){min, max, has_max};
    t->is64 = flags & 4;
    t->shared = false;
    return true;
}

static bool read_global_type(decoder *d, wafer_globaltype *t) {
    uint8_t mut;
    if (!read_valtype(d, &t->type) || !reader_u8(&d->r, &mut)) return false;
    if (mut > 1) return fail(d, "malformed mutability");
    t->is_mutable = mut == 1;
    return true;
}

/* ---- Constant expressions -------------------------------------------------------------------- */

/* Skips a memarg: alignment (whose bit 6 announces a memory index, multi-memory) and offset. */
static bool skip_memarg(decoder *d) {
    uint32_t align, memory;
    uint64_t offset;
    if (!reader_u32(&d->r, &align)) return false;
    if ((align & 0x40) && !reader_u32(&d->r, &memory)) return false;
    return reader_u64(&d->r, &offset);
}

static bool skip_u32s(decoder *d, uint32_t n) {
    uint32_t x;
    for (uint32_t i = 0; i < n; i++)
        if (!reader_u32(&d->r, &x)) return false;
    return true;
}

/* The 0xFC-prefixed instructions (saturating truncation, bulk memory, tables): records the
 * sub-opcode as 0xFC00 | sub after skipping the immediates. */
static bool read_prefixed_fc(decoder *d, const_instr *instr) {
    static const uint8_t immediates[] = {0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1};
    uint32_t sub;
    if (!reader_u32(&d->r, &sub)) return false;
    if (sub >= sizeof immediates) return fail(d, "illegal opcode");
    instr->opcode = (uint16_t)(0xFC00 | sub);
    return skip_u32s(d, immediates[sub]);
}

/* Reads one instruction of a constant expression. Constant instructions (spec 3.3.10) keep their
 * immediates. Other instructions whose immediates are easy to skip are kept by opcode alone, so
 * that the validator reports "constant expression required" as the suite expects. */
static bool read_instr(decoder *d, const_instr *instr) {
    uint8_t op;
    if (!reader_u8(&d->r, &op)) return false;
    *instr = (const_instr){.opcode = op};
    switch (op) {
    case 0x41: return reader_s32(&d->r, &instr->imm.i32);
    case 0x42: return reader_s64(&d->r, &instr->imm.i64);
    case 0x43: return reader_f32(&d->r, &instr->imm.f32_bits);
    case 0x44: return reader_f64(&d->r, &instr->imm.f64_bits);
    case 0x23: /* global.get */
    case 0xD2: /* ref.func */ return reader_u32(&d->r, &instr->imm.index);
    case 0xD0: /* ref.null */ return read_reftype(d, &instr->imm.reftype);
    case 0x00: case 0x01: case 0x05: case 0x0B: case 0x0F: case 0x1A: case 0x1B: case 0xD1:
        return true;
    case 0x02: case 0x03: case 0x04: {
        int64_t blocktype;
        return reader_s33(&d->r, &blocktype);
    }
    case 0x0C: case 0x0D: case 0x10: case 0x3F: case 0x40:
    case 0x20: case 0x21: case 0x22: case 0x24: case 0x25: case 0x26: return skip_u32s(d, 1);
    case 0x11: return skip_u32s(d, 2);
    case 0x0E: { /* br_table: targets, then the default */
        uint32_t n;
        return read_count(d, &n, 0, UINT32_MAX, "branch targets") && skip_u32s(d, n) &&
               skip_u32s(d, 1);
    }
    case 0x1C: { /* select with types */
        uint32_t n;
        wafer_valtype t;
        if (!read_count(d, &n, 0, UINT32_MAX, "select types")) return false;
        for (uint32_t i = 0; i < n; i++)
            if (!read_valtype(d, &t)) return false;
        return true;
    }
    case 0xFC: return read_prefixed_fc(d, instr);
    case 0xFD: return fail_unsupported(d, "simd");
    default:
        if (op >= 0x28 && op <= 0x3E) return skip_memarg(d);
        if (op >= 0x45 && op <= 0xC4) return true; /* numeric instructions have no immediates */
        return fail(d, "illegal opcode");
    }
}

/* Reads instructions up to the `end` closing the expression into buf, counting them in *count.
 * block, loop and if nest, so only the `end` at depth 0 closes the expression. */
static bool read_expr_into(decoder *d, instr_buf *buf, uint32_t *count) {
    uint32_t depth = 0, start = buf->len;
    for (;;) {
        const_instr instr;
        if (!read_instr(d, &instr)) return false;
        if (instr.opcode == 0x0B) {
            if (depth == 0) break;
            depth--;
        } else if (instr.opcode >= 0x02 && instr.opcode <= 0x04) {
            depth++;
        }
        if (!instr_push(d, buf, instr)) return false;
    }
    *count = buf->len - start;
    return true;
}

static bool read_const_expr(decoder *d, const_expr *out) {
    instr_buf buf = {0};
    uint32_t count = 0;
    bool ok = read_expr_into(d, &buf, &count);
    out->instrs = buf.v; /* freed with the module even when reading failed */
    out->count = count;
    return ok;
}

/* ---- Sections -------------------------------------------------------------------------------- */

static bool read_functype(decoder *d, wafer_functype *t) {
    uint8_t form;
    uint32_t np, nr;
    wafer_valtype *params, *results;
    if (!reader_u8(&d->r, &form)) return false;
    if (form != 0x60) return fail_byte(d, form, "malformed function type");
    if (!read_count(d, &np, 0, d->limits->max_params, "parameters")) return false;
    if (!(params = alloc_array(d, np, sizeof *params))) return false;
    t->params = params;
    t->num_params = np;
    for (uint32_t i = 0; i < np; i++)
        if (!read_valtype(d, &params[i])) return false;
    if (!read_count(d, &nr, 0, d->limits->max_params, "results")) return false;
    if (!(results = alloc_array(d, nr, sizeof *results))) return false;
    t->results = results;
    t->num_results = nr;
    for (uint32_t i = 0; i < nr; i++)
        if (!read_valtype(d, &results[i])) return false;
    return true;
}

static bool decode_types(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, 0, d->limits->max_types, "types")) return false;
    if (!(m->types = alloc_array(d, n, sizeof *m->types))) return false;
    m->num_types = n;
    for (uint32_t i = 0; i < n; i++)
        if (!read_functype(d, &m->types[i])) return false;
    return true;
}

/* Imports take the first indices of their kind's index space (spec 2.5.10). */
static bool decode_import(decoder *d, module_import *imp) {
    wafer_module *m = d->m;
    const wafer_limits_config *lim = d->limits;
    uint8_t kind;
    if (!read_name(d, &imp->module) || !read_name(d, &imp->name) || !reader_u8(&d->r, &kind))
        return false;
    switch (kind) {
    case WAFER_EXTERN_FUNC:
        if (m->num_funcs + 1ull > lim->max_functions)
            return fail_limit(d, "too many functions: more than %u", lim->max_functions);
        if (!grow_funcs(d, m->num_funcs + 1) || !reader_u32(&d->r, &imp->type_index))
            return false;
        m->func_type_indices[m->num_funcs] = imp->type_index;
        imp->kind_index = m->num_imported_funcs++;
        m->num_funcs++;
        break;
    case WAFER_EXTERN_TABLE:
        if (m->num_tables + 1ull > lim->max_tables)
            return fail_limit(d, "too many tables: more than %u", lim->max_tables);
        if (!grow_tables(d, m->num_tables + 1) ||
            !read_table_type(d, &m->tables[m->num_tables]))
            return false;
        imp->kind_index = m->num_imported_tables++;
        m->num_tables++;
        break;
    case WAFER_EXTERN_MEMORY:
        if (m->num_memories + 1ull > lim->max_memories)
            return fail_limit(d, "too many memories: more than %u", lim->max_memories);
        if (!grow_memories(d, m->num_memories + 1) ||
            !read_memory_type(d, &m->memories[m->num_memories]))
            return false;
        imp->kind_index = m->num_imported_memories++;
        m->num_memories++;
        break;
    case WAFER_EXTERN_GLOBAL:
        if (m->num_globals + 1ull > lim->max_globals)
            return fail_limit(d, "too many globals: more than %u", lim->max_globals);
        if (!grow_globals(d, m->num_globals + 1) ||
            !read_global_type(d, &m->globals[m->num_globals].type))
            return false;
        imp->kind_index = m->num_imported_globals++;
        m->num_globals++;
        break;
    default: return fail(d, "malformed import kind");
    }
    imp->kind = (wafer_extern_kind)kind;
    return true;
}

static bool decode_imports(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, 0, d->limits->max_imports, "imports")) return false;
    if (!(m->imports = alloc_array(d, n, sizeof *m->imports))) return false;
    m->num_imports = n;
    for (uint32_t i = 0; i < n; i++)
        if (!decode_import(d, &m->imports[i])) return false;
    return true;
}

static bool decode_functions(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, m->num_funcs, d->limits->max_functions, "functions") ||
        !grow_funcs(d, m->num_funcs + n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!reader_u32(&d->r, &m->func_type_indices[m->num_funcs + i])) return false;
    m->num_funcs += n;
    d->num_declared_funcs = n;
    return true;
}

static bool decode_tables(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, m->num_tables, d->limits->max_tables, "tables") ||
        !grow_tables(d, m->num_tables + n))
        return false;
    for (uint32_t i = 0; i < n; i++, m->num_tables++)
        if (!read_table_type(d, &m->tables[m->num_tables])) return false;
    return true;
}

static bool decode_memories(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, m->num_memories, d->limits->max_memories, "memories") ||
        !grow_memories(d, m->num_memories + n))
        return false;
    for (uint32_t i = 0; i < n; i++, m->num_memories++)
        if (!read_memory_type(d, &m->memories[m->num_memories])) return false;
    return true;
}

static bool decode_globals(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, m->num_globals, d->limits->max_globals, "globals") ||
        !grow_globals(d, m->num_globals + n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        module_global *g = &m->globals[m->num_globals++];
        if (!read_global_type(d, &g->type) || !read_const_expr(d, &g->init)) return false;
    }
    return true;
}

static bool decode_exports(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, 0, d->limits->max_exports, "exports")) return false;
    if (!(m->exports = alloc_array(d, n, sizeof *m->exports))) return false;
    m->num_exports = n;
    for (uint32_t i = 0; i < n; i++) {
        module_export *e = &m->exports[i];
        uint8_t kind;
        if (!read_name(d, &e->name) || !reader_u8(&d->r, &kind)) return false;
        if (kind > WAFER_EXTERN_GLOBAL) return fail(d, "malformed export kind");
        e->kind = (wafer_extern_kind)kind;
        if (!reader_u32(&d->r, &e->index)) return false;
    }
    return true;
}

static bool decode_start(decoder *d) {
    d->m->has_start = true;
    return reader_u32(&d->r, &d->m->start_func);
}

/* The items of an element segment: function indices become ref.func x. All items' instructions
 * share one allocation, e->item_instrs. */
static bool read_elem_items(decoder *d, module_elem *e, bool as_exprs) {
    uint32_t n;
    if (!read_count(d, &n, 0, UINT32_MAX, "elements")) return false;
    if (!(e->items = alloc_array(d, n, sizeof *e->items))) return false;
    e->count = n;
    if (!as_exprs) {
        if (!(e->item_instrs = alloc_array(d, n, sizeof *e->item_instrs))) return false;
        for (uint32_t i = 0; i < n; i++) {
            e->item_instrs[i].opcode = 0xD2;
            if (!reader_u32(&d->r, &e->item_instrs[i].imm.index)) return false;
            e->items[i] = (const_expr){1, &e->item_instrs[i]};
        }
        return true;
    }
    instr_buf buf = {0};
    bool ok = true;
    for (uint32_t i = 0; ok && i < n; i++) ok = read_expr_into(d, &buf, &e->items[i].count);
    e->item_instrs = buf.v;
    if (!ok) return false;
    if (buf.v) /* else every item is empty: an `end` alone */
        for (uint32_t i = 0, at = 0; i < n; at += e->items[i].count, i++)
            e->items[i].instrs = buf.v + at;
    return true;
}

/* Element segments (spec 5.5.12): bit 0 passive or declarative, bit 1 an explicit table index
 * (active) or declarative (otherwise), bit 2 items as expressions. */
static bool decode_elem(decoder *d, module_elem *e) {
    uint32_t flags;
    if (!reader_u32(&d->r, &flags)) return false;
    if (flags > 7) return fail(d, "malformed elements segment kind");
    if (flags != 0 && !has_feature(d, WAFER_FEATURE_BULK_MEMORY))
        return fail_disabled(d, "bulk memory");
    bool passive_or_declarative = flags & 1, explicit_or_declarative = flags & 2,
         as_exprs = flags & 4;
    e->type = WAFER_FUNCREF;
    if (passive_or_declarative) {
        e->mode = explicit_or_declarative ? SEGMENT_DECLARATIVE : SEGMENT_PASSIVE;
    } else {
        e->mode = SEGMENT_ACTIVE;
        if (explicit_or_declarative && !reader_u32(&d->r, &e->table_index)) return false;
        if (!read_const_expr(d, &e->offset)) return false;
    }
    if (passive_or_declarative || explicit_or_declarative) {
        if (as_exprs) {
            if (!read_reftype(d, &e->type)) return false;
        } else {
            uint8_t elemkind;
            if (!reader_u8(&d->r, &elemkind)) return false;
            if (elemkind != 0) return fail(d, "malformed elements segment kind");
        }
    }
    return read_elem_items(d, e, as_exprs);
}

static bool decode_elems(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, 0, d->limits->max_element_segments, "element segments")) return false;
    if (!(m->elems = alloc_array(d, n, sizeof *m->elems))) return false;
    m->num_elems = n;
    for (uint32_t i = 0; i < n; i++)
        if (!decode_elem(d, &m->elems[i])) return false;
    return true;
}

static bool decode_data_count(decoder *d) {
    wafer_module *m = d->m;
    if (!has_feature(d, WAFER_FEATURE_BULK_MEMORY)) return fail_disabled(d, "bulk memory");
    if (!reader_u32(&d->r, &m->data_count)) return false;
    if (m->data_count > d->limits->max_data_segments)
        return fail_limit(d, "too many data segments: %u exceeds the limit of %u",
                          m->data_count, d->limits->max_data_segments);
    m->has_data_count = true;
    return true;
}

/* A function body (spec 5.5.13): its local declarations are read; its instructions are left for
 * validation, which reads them while checking types. */
static bool decode_body(decoder *d, module_body *b, bool is_last) {
    wafer_module *m = d->m;
    uint32_t size, runs;
    if (!read_length(d, &size)) return false;
    if (size > d->limits->max_function_size)
        return fail_limit(d, "function body of %u bytes exceeds the limit of %u bytes", size,
                          d->limits->max_function_size);
    const uint8_t *module_end = d->r.end, *body_end = d->r.p + size;
    d->r.end = body_end;
    if (!read_count(d, &runs, 0, UINT32_MAX, "local declarations")) return false;
    if (runs && !(b->local_runs = alloc_array(d, runs, sizeof *b->local_runs))) return false;
    b->num_local_runs = runs;
    uint64_t total = 0;
    for (uint32_t i = 0; i < runs; i++) {
        if (!reader_u32(&d->r, &b->local_runs[i].count) ||
            !read_valtype(d, &b->local_runs[i].type))
            return false;
        total += b->local_runs[i].count;
    }
    if (total > UINT32_MAX) return fail(d, "too many locals");
    uint32_t type_index = m->func_type_indices[m->num_imported_funcs + (b - m->bodies)];
    uint64_t params = type_index < m->num_types ? m->types[type_index].num_params : 0;
    if (params + total > d->limits->max_locals)
        return fail_limit(d, "too many locals: %llu exceeds the limit of %u",
                          (unsigned long long)(params + total), d->limits->max_locals);
    b->num_locals = (uint32_t)total;
    b->code = d->r.p;
    b->code_len = (uint32_t)(body_end - d->r.p);
    b->code_offset = (uint32_t)reader_offset(&d->r);
    d->r.p = body_end;
    if (b->code_len == 0 || body_end[-1] != 0x0B) {
        /* The reference interpreter reads on past a body that lacks its `end`, so its text
         * depends on what follows: another body, another section, or nothing. */
        if (!is_last) return fail(d, "END opcode expected");
        if (d->section_end < module_end) return fail(d, "section size mismatch");
        return fail(d, END_OF_SECTION);
    }
    d->r.end = module_end;
    return true;
}

static bool decode_code(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, 0, d->limits->max_functions, "function bodies")) return false;
    if (n != d->num_declared_funcs)
        return fail(d, "function and code section have inconsistent lengths");
    if (!(m->bodies = alloc_array(d, n, sizeof *m->bodies))) return false;
    m->num_bodies = n;
    for (uint32_t i = 0; i < n; i++)
        if (!decode_body(d, &m->bodies[i], i + 1 == n)) return false;
    d->has_code_section = true;
    return true;
}

/* Data segments (spec 5.5.14): 0 active in memory 0, 1 passive, 2 active with a memory index. */
static bool decode_data(decoder *d, module_data *seg) {
    uint32_t flags, len;
    if (!reader_u32(&d->r, &flags)) return false;
    if (flags > 2) return fail(d, "malformed data segment kind");
    if (flags != 0 && !has_feature(d, WAFER_FEATURE_BULK_MEMORY))
        return fail_disabled(d, "bulk memory");
    seg->mode = flags == 1 ? SEGMENT_PASSIVE : SEGMENT_ACTIVE;
    if (flags == 2 && !reader_u32(&d->r, &seg->memory_index)) return false;
    if (flags != 1 && !read_const_expr(d, &seg->offset)) return false;
    if (!read_length(d, &len) || !reader_bytes(&d->r, len, &seg->bytes)) return false;
    seg->len = len;
    return true;
}

static bool decode_datas(decoder *d) {
    wafer_module *m = d->m;
    uint32_t n;
    if (!read_count(d, &n, 0, d->limits->max_data_segments, "data segments")) return false;
    if (m->has_data_count && n != m->data_count)
        return fail(d, "data count and data section have inconsistent lengths");
    if (!(m->datas = alloc_array(d, n, sizeof *m->datas))) return false;
    m->num_datas = n;
    for (uint32_t i = 0; i < n; i++)
        if (!decode_data(d, &m->datas[i])) return false;
    /* instantiation marks the active segments dropped all at once with this mask */
    if (!(m->active_datas = alloc_array(d, (n + 63) / 64, sizeof *m->active_datas))) return false;
    for (uint32_t i = 0; i < n; i++)
        if (m->datas[i].mode == SEGMENT_ACTIVE) m->active_datas[i / 64] |= UINT64_C(1) << (i % 64);
    d->has_data_section = true;
    return true;
}

/* Custom sections (spec 5.5.3): the name, read within the section, must be valid UTF-8; the
 * contents are not interpreted. */
static bool decode_custom(decoder *d) {
    const uint8_t *module_end = d->r.end;
    wafer_name name;
    d->r.end = d->section_end;
    bool ok = read_name(d, &name);
    d->r.end = module_end;
    d->r.p = d->section_end;
    return ok;
}

static bool decode_section(decoder *d, uint8_t id) {
    switch (id) {
    case SECTION_CUSTOM: return decode_custom(d);
    case SECTION_TYPE: return decode_types(d);
    case SECTION_IMPORT: return decode_imports(d);
    case SECTION_FUNCTION: return decode_functions(d);
    case SECTION_TABLE: return decode_tables(d);
    case SECTION_MEMORY: return decode_memories(d);
    case SECTION_GLOBAL: return decode_globals(d);
    case SECTION_EXPORT: return decode_exports(d);
    case SECTION_START: return decode_start(d);
    case SECTION_ELEMENT: return decode_elems(d);
    case SECTION_CODE: return decode_code(d);
    case SECTION_DATA: return decode_datas(d);
    default: return decode_data_count(d);
    }
}

/* The preamble, then sections in the order of spec 5.5.2, each at most once; custom sections may
 * appear anywhere. The reference interpreter reads sections in that order, so a section out of
 * order or repeated is "unexpected content after last section". */
static bool decode_module(decoder *d) {
    wafer_module *m = d->m;
    const uint8_t *magic, *version;
    if (!reader_bytes(&d->r, 4, &magic)) return false;
    if (memcmp(magic, "\0asm", 4) != 0) return fail(d, "magic header not detected");
    if (!reader_bytes(&d->r, 4, &version)) return false;
    if (memcmp(version, "\1\0\0\0", 4) != 0) return fail(d, "unknown binary version");
    d->in_sections = true;
    uint8_t last_rank = 0;
    while (!reader_at_end(&d->r)) {
        uint8_t id;
        uint32_t size;
        if (!reader_u8(&d->r, &id)) return false;
        if (id > SECTION_DATA_COUNT) return fail(d, "malformed section id");
        if (!read_length(d, &size)) return false;
        if (id != SECTION_CUSTOM) {
            if (section_rank[id] <= last_rank)
                return fail(d, "unexpected content after last section");
            last_rank = section_rank[id];
        }
        d->section_end = d->r.p + size;
        if (!decode_section(d, id)) return false;
        if (d->r.p != d->section_end) return fail(d, "section size mismatch");
    }
    if (!d->has_code_section && d->num_declared_funcs != 0)
        return fail(d, "function and code section have inconsistent lengths");
    if (m->has_data_count && !d->has_data_section && m->data_count != 0)
        return fail(d, "data count and data section have inconsistent lengths");
    return true;
}

wafer_error *module_decode(wafer_engine *engine, const uint8_t *bytes, size_t len,
                           wafer_module **out) {
    const wafer_config *config = wafer_engine_config(engine);
    *out = NULL;
    wafer_module *m = aligned_alloc(MODULE_LINE, sizeof *m);
    if (m) memset(m, 0, sizeof *m);
    if (!m) return error_new(WAFER_ERROR_RESOURCE, "out of memory while decoding");
    m->refcount = 1;
    m->engine = engine;
    m->bytes = malloc(len ? len : 1);
    if (!m->bytes) {
        free(m);
        return error_new(WAFER_ERROR_RESOURCE, "out of memory while decoding");
    }
    if (len) memcpy(m->bytes, bytes, len);
    m->len = len;
    decoder d = {
        .m = m,
        .features = config->features,
        .limits = &config->limits,
        .r = reader_make(m->bytes, m->bytes, m->bytes + len),
    };
    if (decode_module(&d)) {
        *out = m;
        return NULL;
    }
    wafer_error *err = d.err;
    if (!err) {
        const char *text = d.r.error;
        if (d.in_sections && strcmp(text, "unexpected end") == 0) text = END_OF_SECTION;
        err = error_new(WAFER_ERROR_MALFORMED, "%s at offset %zu", text, d.r.error_offset);
    }
    module_free(m);
    return err;
}
