/* Function bodies: their encoding, their typing, and their translation into code.h instructions
 * (see compile.h).
 *
 * Typing follows the spec's validation algorithm (Appendix "Validation Algorithm"): an operand
 * stack of value types, where Unknown stands for any type below a polymorphic point, and a stack of
 * control frames. Compilation rides along: the value at operand depth d lives in frame slot
 * num_locals + d, so every instruction's slots follow from the heights the typing computes. A
 * label's values live at the label's base (the height at block entry, below the block's params); a
 * branch moves the top values there, then jumps. Code after an unconditional branch is typed but
 * not emitted, up to the end of its block.
 */
#include "compile.h"
#include "error.h"
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The wasm opcodes that need a name here; numeric and memory opcodes go by ranges. */
enum {
    WASM_UNREACHABLE = 0x00,
    WASM_NOP = 0x01,
    WASM_BLOCK = 0x02,
    WASM_LOOP = 0x03,
    WASM_IF = 0x04,
    WASM_ELSE = 0x05,
    WASM_END = 0x0B,
    WASM_BR = 0x0C,
    WASM_BR_IF = 0x0D,
    WASM_BR_TABLE = 0x0E,
    WASM_RETURN = 0x0F,
    WASM_CALL = 0x10,
    WASM_CALL_INDIRECT = 0x11,
    WASM_DROP = 0x1A,
    WASM_SELECT = 0x1B,
    WASM_SELECT_T = 0x1C,
    WASM_LOCAL_GET = 0x20,
    WASM_LOCAL_SET = 0x21,
    WASM_LOCAL_TEE = 0x22,
    WASM_GLOBAL_GET = 0x23,
    WASM_GLOBAL_SET = 0x24,
    WASM_TABLE_GET = 0x25,
    WASM_TABLE_SET = 0x26,
    WASM_FIRST_MEMORY_ACCESS = 0x28, /* i32.load */
    WASM_LAST_MEMORY_ACCESS = 0x3E,  /* i64.store32 */
    WASM_MEMORY_SIZE = 0x3F,
    WASM_MEMORY_GROW = 0x40,
    WASM_I32_CONST = 0x41,
    WASM_I64_CONST = 0x42,
    WASM_F32_CONST = 0x43,
    WASM_F64_CONST = 0x44,
    WASM_FIRST_NUMERIC = 0x45,     /* i32.eqz */
    WASM_LAST_PLAIN_NUMERIC = 0xBF, /* f64.reinterpret_i64 */
    WASM_FIRST_SIGN_EXTENSION = 0xC0,
    WASM_LAST_SIGN_EXTENSION = 0xC4,
    WASM_REF_NULL = 0xD0,
    WASM_REF_IS_NULL = 0xD1,
    WASM_REF_FUNC = 0xD2,
    WASM_PREFIX_FC = 0xFC,
    WASM_PREFIX_SIMD = 0xFD,
};

/* Sub-opcodes of the 0xFC prefix. */
enum {
    FC_LAST_TRUNC_SAT = 7,
    FC_MEMORY_INIT = 8,
    FC_DATA_DROP = 9,
    FC_MEMORY_COPY = 10,
    FC_MEMORY_FILL = 11,
    FC_TABLE_INIT = 12,
    FC_ELEM_DROP = 13,
    FC_TABLE_COPY = 14,
    FC_TABLE_GROW = 15,
    FC_TABLE_SIZE = 16,
    FC_TABLE_FILL = 17,
};

/* The encoding check and the compiler read immediates the same way: both rely on these facts
 * about code.h's numbering. */
_Static_assert(OP_F64_PROMOTE_F32 - OP_I32_EQZ == 0xBB - WASM_FIRST_NUMERIC,
               "numeric code ops follow the wasm opcode order");
_Static_assert(OP_I64_EXTEND32_S - OP_I32_EXTEND8_S == 4, "sign extension ops are contiguous");
_Static_assert(OP_I64_TRUNC_SAT_F64_U - OP_I32_TRUNC_SAT_F32_S == FC_LAST_TRUNC_SAT,
               "saturating truncations are contiguous");
_Static_assert(OP_STORE64_M64 - OP_LOAD8_U_M64 == OP_STORE64 - OP_LOAD8_U,
               "64-bit memory ops mirror the 32-bit ones");

#define NONE UINT32_MAX

/* ---- Reading bodies ------------------------------------------------------------------------- */

/* A reader over one body, with the failures the reader itself cannot express. */
typedef struct body_reader {
    reader r;
    const wafer_module *m;
    uint32_t features;
    wafer_error *err; /* unsupported or disabled features; r.error holds malformations */
} body_reader;

static body_reader body_reader_make(const wafer_module *m, uint32_t defined_index) {
    const module_body *b = &m->bodies[defined_index];
    body_reader br = {reader_make(m->bytes, b->code, b->code + b->code_len), m,
                      wafer_engine_config(m->engine)->features, NULL};
    return br;
}

static bool has_feature(const body_reader *br, uint32_t feature) {
    return (br->features & feature) != 0;
}

static bool fail_feature(body_reader *br, const char *feature, bool disabled) {
    if (!br->err && !br->r.error)
        br->err = error_new(WAFER_ERROR_UNSUPPORTED, "unsupported feature: %s%s at offset %zu",
                            feature, disabled ? " (disabled)" : "", reader_offset(&br->r));
    return reader_fail(&br->r, "");
}

/* Requires a feature for the construct just read. */
static bool need_feature(body_reader *br, uint32_t feature, const char *name) {
    return has_feature(br, feature) || fail_feature(br, name, true);
}

/* The error a failed read left: a malformation at its offset, or a feature error. Running out of
 * the body's bytes is running out of a sized region: the reference interpreter's text for that. */
static wafer_error *body_reader_error(body_reader *br) {
    if (br->err) {
        wafer_error *err = br->err;
        br->err = NULL;
        return err;
    }
    const char *text = br->r.error;
    if (strcmp(text, "unexpected end") == 0) text = "unexpected end of section or function";
    return error_new(WAFER_ERROR_MALFORMED, "%s at offset %zu", text, br->r.error_offset);
}

static bool read_u32(body_reader *br, uint32_t *out) { return reader_u32(&br->r, out); }

/* A value type byte, as in typed select and block types. */
static bool read_valtype(body_reader *br, uint8_t byte, wafer_valtype *out) {
    switch (byte) {
    case WAFER_I32:
    case WAFER_I64:
    case WAFER_F32:
    case WAFER_F64: break;
    case WAFER_FUNCREF:
    case WAFER_EXTERNREF:
        if (!need_feature(br, WAFER_FEATURE_REFERENCE_TYPES, "reference types")) return false;
        break;
    case WAFER_V128: return fail_feature(br, "simd", false);
    default: return reader_fail(&br->r, "malformed value type");
    }
    *out = (wafer_valtype)byte;
    return true;
}

/* Block types (spec 5.4.1): 0x40, a value type, or a type index as a positive s33. */
typedef struct blocktype {
    bool has_index;
    int64_t index;        /* has_index */
    uint32_t nresults;    /* !has_index: 0 or 1 */
    wafer_valtype result; /* nresults == 1 */
} blocktype;

static bool read_blocktype(body_reader *br, blocktype *bt) {
    *bt = (blocktype){0};
    if (reader_at_end(&br->r)) return reader_fail(&br->r, "unexpected end");
    uint8_t first = *br->r.p;
    if (first == 0x40) return reader_u8(&br->r, &first);
    if ((first & 0xC0) == 0x40) { /* a one-byte negative s33: a value type */
        bt->nresults = 1;
        return reader_u8(&br->r, &first) && read_valtype(br, first, &bt->result);
    }
    bt->has_index = true;
    return reader_s33(&br->r, &bt->index) &&
           need_feature(br, WAFER_FEATURE_MULTI_VALUE, "multi-value");
}

/* A memory or table index that the feature's absence shrinks to a reserved zero byte (spec 5.4.5,
 * 5.4.6; multi-memory and reference types widen it to an index). */
static bool read_index_or_zero(body_reader *br, uint32_t feature, uint32_t *out) {
    if (has_feature(br, feature)) return read_u32(br, out);
    uint8_t byte;
    if (!reader_u8(&br->r, &byte)) return false;
    /* the memory64 proposal's suite words it its own way (as for limits flags in decode.c) */
    if (byte != 0)
        return reader_fail(&br->r, has_feature(br, WAFER_FEATURE_MEMORY64) ? "zero flag expected"
                                                                         : "zero byte expected");
    *out = 0;
    return true;
}

/* memarg (spec 5.4.6): alignment flags, where bit 6 announces a memory index (multi-memory), then
 * the offset, a u64 with memory64 (validation bounds it for 32-bit memories). Without
 * multi-memory the flags are the alignment alone, so bit 6 makes an alignment that validation
 * refuses. */
typedef struct memarg {
    uint32_t align; /* log2 */
    uint32_t memory;
    uint64_t offset;
} memarg;

static bool read_memarg(body_reader *br, memarg *a) {
    uint32_t flags;
    if (!read_u32(br, &flags)) return false;
    a->memory = 0;
    if (has_feature(br, WAFER_FEATURE_MULTI_MEMORY)) {
        if (flags >= 0x80) return reader_fail(&br->r, "malformed memop flags");
        if ((flags & 0x40) && !read_u32(br, &a->memory)) return false;
        flags &= ~UINT32_C(0x40);
    }
    a->align = flags;
    if (has_feature(br, WAFER_FEATURE_MEMORY64)) return reader_u64(&br->r, &a->offset);
    uint32_t offset;
    if (!read_u32(br, &offset)) return false;
    a->offset = offset;
    return true;
}

/* The other immediates of a 0xFC instruction, and its feature. */
static bool read_fc_immediates(body_reader *br, uint32_t sub, uint32_t imm[2]) {
    imm[0] = imm[1] = 0;
    if (sub <= FC_LAST_TRUNC_SAT)
        return need_feature(br, WAFER_FEATURE_SAT_FLOAT_TO_INT, "saturating float-to-int");
    if (sub <= FC_TABLE_COPY) {
        if (!need_feature(br, WAFER_FEATURE_BULK_MEMORY, "bulk memory")) return false;
    } else if (sub <= FC_TABLE_FILL) {
        if (!need_feature(br, WAFER_FEATURE_REFERENCE_TYPES, "reference types")) return false;
    } else {
        return reader_fail(&br->r, "illegal opcode");
    }
    switch (sub) {
    case FC_MEMORY_INIT: /* dataidx, memidx */
        return read_u32(br, &imm[0]) &&
               read_index_or_zero(br, WAFER_FEATURE_MULTI_MEMORY, &imm[1]);
    case FC_MEMORY_COPY: /* dst, src */
        return read_index_or_zero(br, WAFER_FEATURE_MULTI_MEMORY, &imm[0]) &&
               read_index_or_zero(br, WAFER_FEATURE_MULTI_MEMORY, &imm[1]);
    case FC_MEMORY_FILL: return read_index_or_zero(br, WAFER_FEATURE_MULTI_MEMORY, &imm[0]);
    case FC_TABLE_INIT: /* elemidx, tableidx */
        return read_u32(br, &imm[0]) &&
               read_index_or_zero(br, WAFER_FEATURE_REFERENCE_TYPES, &imm[1]);
    case FC_TABLE_COPY: /* dst, src */
        return read_index_or_zero(br, WAFER_FEATURE_REFERENCE_TYPES, &imm[0]) &&
               read_index_or_zero(br, WAFER_FEATURE_REFERENCE_TYPES, &imm[1]);
    default: /* data.drop, elem.drop, table.grow, table.size, table.fill: one index */
        return read_u32(br, &imm[0]);
    }
}

/* ---- The encoding check --------------------------------------------------------------------- */

/* Open constructs while checking the structure (spec 5.4.1): `else` belongs to an `if` that has
 * none yet, and the function's own `end` must be the body's last byte. */
enum { OPEN_FUNCTION, OPEN_BLOCK, OPEN_IF, OPEN_ELSE };

typedef struct open_stack {
    uint8_t *v;
    uint32_t len, cap;
} open_stack;

static bool open_push(open_stack *s, uint8_t kind) {
    if (s->len == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        uint8_t *v = realloc(s->v, cap);
        if (!v) return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->len++] = kind;
    return true;
}

/* Reads one instruction's immediates. Returns false on failure (left in br). */
static bool check_instruction(body_reader *br, uint8_t op, open_stack *open, bool *oom) {
    reader *r = &br->r;
    uint32_t x;
    switch (op) {
    case WASM_UNREACHABLE:
    case WASM_NOP:
    case WASM_RETURN:
    case WASM_DROP:
    case WASM_SELECT: return true;
    case WASM_BLOCK:
    case WASM_LOOP:
    case WASM_IF: {
        blocktype bt;
        if (!read_blocktype(br, &bt)) return false;
        if (!open_push(open, op == WASM_IF ? OPEN_IF : OPEN_BLOCK)) {
            *oom = true;
            return false;
        }
        return true;
    }
    case WASM_ELSE:
        if (open->v[open->len - 1] != OPEN_IF) return reader_fail(r, "END opcode expected");
        open->v[open->len - 1] = OPEN_ELSE;
        return true;
    case WASM_END:
        if (--open->len == 0 && !reader_at_end(r)) return reader_fail(r, "section size mismatch");
        return true;
    case WASM_BR:
    case WASM_BR_IF:
    case WASM_CALL:
    case WASM_LOCAL_GET:
    case WASM_LOCAL_SET:
    case WASM_LOCAL_TEE:
    case WASM_GLOBAL_GET:
    case WASM_GLOBAL_SET: return read_u32(br, &x);
    case WASM_BR_TABLE: {
        uint32_t n;
        if (!read_u32(br, &n)) return false;
        for (uint64_t i = 0; i <= n; i++) /* the targets, then the default */
            if (!read_u32(br, &x)) return false;
        return true;
    }
    case WASM_CALL_INDIRECT:
        return read_u32(br, &x) && read_index_or_zero(br, WAFER_FEATURE_REFERENCE_TYPES, &x);
    case WASM_SELECT_T: {
        uint32_t n;
        uint8_t byte;
        wafer_valtype t;
        if (!need_feature(br, WAFER_FEATURE_REFERENCE_TYPES, "reference types") ||
            !read_u32(br, &n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!reader_u8(r, &byte) || !read_valtype(br, byte, &t)) return false;
        return true;
    }
    case WASM_TABLE_GET:
    case WASM_TABLE_SET:
    case WASM_REF_FUNC:
        return need_feature(br, WAFER_FEATURE_REFERENCE_TYPES, "reference types") &&
               read_u32(br, &x);
    case WASM_REF_IS_NULL:
        return need_feature(br, WAFER_FEATURE_REFERENCE_TYPES, "reference types");
    case WASM_REF_NULL: {
        uint8_t byte;
        if (!need_feature(br, WAFER_FEATURE_REFERENCE_TYPES, "reference types") ||
            !reader_u8(r, &byte))
            return false;
        if (byte != WAFER_FUNCREF && byte != WAFER_EXTERNREF)
            return reader_fail(r, "malformed reference type");
        return true;
    }
    case WASM_MEMORY_SIZE:
    case WASM_MEMORY_GROW: return read_index_or_zero(br, WAFER_FEATURE_MULTI_MEMORY, &x);
    case WASM_I32_CONST: {
        int32_t v;
        return reader_s32(r, &v);
    }
    case WASM_I64_CONST: {
        int64_t v;
        return reader_s64(r, &v);
    }
    case WASM_F32_CONST: {
        uint32_t bits;
        return reader_f32(r, &bits);
    }
    case WASM_F64_CONST: {
        uint64_t bits;
        return reader_f64(r, &bits);
    }
    case WASM_PREFIX_FC: {
        uint32_t sub, imm[2];
        return read_u32(br, &sub) && read_fc_immediates(br, sub, imm);
    }
    case WASM_PREFIX_SIMD: return fail_feature(br, "simd", false);
    default:
        if (op >= WASM_FIRST_MEMORY_ACCESS && op <= WASM_LAST_MEMORY_ACCESS) {
            memarg a;
            return read_memarg(br, &a);
        }
        if (op >= WASM_FIRST_NUMERIC && op <= WASM_LAST_PLAIN_NUMERIC) return true;
        if (op >= WASM_FIRST_SIGN_EXTENSION && op <= WASM_LAST_SIGN_EXTENSION)
            return need_feature(br, WAFER_FEATURE_SIGN_EXTENSION, "sign extension");
        return reader_fail(r, "illegal opcode");
    }
}

wafer_error *body_check_encoding(const wafer_module *m, uint32_t defined_index) {
    body_reader br = body_reader_make(m, defined_index);
    open_stack open = {0};
    bool oom = false;
    if (!open_push(&open, OPEN_FUNCTION)) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    while (open.len > 0) {
        uint8_t op;
        /* The reference interpreter reads on past a body's end; what it finds there decides its
         * text. Its verdicts in the suite: the function's own `end` missing is "END opcode
         * expected", a body cut inside a block runs out of bytes. */
        if (reader_at_end(&br.r)) {
            reader_fail(&br.r, open.len == 1 ? "END opcode expected" : "unexpected end");
            break;
        }
        if (!reader_u8(&br.r, &op) || !check_instruction(&br, op, &open, &oom)) break;
    }
    free(open.v);
    if (oom) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    if (br.err || br.r.error) return body_reader_error(&br);
    return NULL;
}

/* ---- The compiler's state ------------------------------------------------------------------- */

/* An operand type: a wafer_valtype byte, or Unknown (the algorithm's bottom type). */
typedef uint8_t vtype;
#define VT_UNKNOWN 0

static bool is_reftype(vtype t) { return t == WAFER_FUNCREF || t == WAFER_EXTERNREF; }
/* What stack maps list: the references a collection must find (code.h). */
static bool is_collected(vtype t) { return t == WAFER_EXTERNREF; }
static bool is_num_or_unknown(vtype t) {
    return t == WAFER_I32 || t == WAFER_I64 || t == WAFER_F32 || t == WAFER_F64 || t == VT_UNKNOWN;
}

static const char *vtype_name(vtype t) {
    switch (t) {
    case WAFER_I32: return "i32";
    case WAFER_I64: return "i64";
    case WAFER_F32: return "f32";
    case WAFER_F64: return "f64";
    case WAFER_FUNCREF: return "funcref";
    case WAFER_EXTERNREF: return "externref";
    default: return "nothing";
    }
}

/* One-value block types point here, so every frame's types outlive the frame. */
static const wafer_valtype single_types[] = {WAFER_I32,     WAFER_I64,      WAFER_F32,
                                             WAFER_F64,     WAFER_FUNCREF,  WAFER_EXTERNREF};

static const wafer_valtype *single_type(wafer_valtype t) {
    for (size_t i = 0; i < sizeof single_types / sizeof single_types[0]; i++)
        if (single_types[i] == t) return &single_types[i];
    return NULL;
}

enum { FRAME_FUNCTION, FRAME_BLOCK, FRAME_LOOP, FRAME_IF, FRAME_ELSE };

typedef struct ctrl {
    uint8_t kind;       /* FRAME_* */
    bool unreachable;   /* after an unconditional branch: the stack below is polymorphic */
    bool dead;          /* entered in unreachable code: nothing inside is emitted */
    uint32_t nparams, nresults;
    const wafer_valtype *params, *results;
    uint32_t height;    /* operand height at entry, params excluded: where label values go */
    uint32_t start_pc;  /* loop: where its branches go (its first instruction) */
    uint32_t patches;   /* head of the forward branches waiting for this frame's end */
    uint32_t else_site; /* if: the BR_UNLESS that skips the then-part, or NONE */
    uint32_t stub_key;  /* 1 + pc of the br_table that last made a stub to this label */
    uint32_t stub_pc;   /* that stub */
} ctrl;

/* A forward branch: code[cell] becomes (target pc - op_pc) when the target frame ends. */
typedef struct patch {
    uint32_t op_pc, cell, next;
} patch;

typedef struct compiler {
    body_reader in;
    const wafer_module *m;
    const wafer_limits_config *limits;
    const wafer_functype *type;
    uint32_t func_index; /* full index, for messages */
    size_t instr_offset; /* of the instruction being compiled, for messages */

    uint32_t num_locals; /* params included */
    vtype *local_types;
    uint32_t *ref_locals; /* slots of externref locals, for stack maps */
    uint32_t num_ref_locals;

    vtype *vals;
    uint32_t nvals, vals_cap;
    /* Where each operand is: NONE for its own slot (slot(c, depth)), the local whose value it
     * is, for a local.get not copied yet, or LOC_CONST for a constant not written yet, whose bits
     * are in kvals (see "Deferred operands"). */
    uint32_t *locs;
    uint32_t locs_cap;
    uint64_t *kvals;
    uint32_t kvals_cap;
    uint32_t ndeferred; /* operands with a local as location */
    /* The last instruction emitted wrote one operand's slot and nothing else: its destination
     * cell, the operand's depth, and c->len right after it, so local.set can retarget it. */
    uint32_t fwd_cell, fwd_depth, fwd_len;
    uint32_t *ref_depths; /* depths of the externref operands, ascending (for stack maps) */
    uint32_t nrefs, refs_cap;
    ctrl *ctrls;
    uint32_t nctrls, ctrls_cap;

    bool emit; /* compiling, not just validating */
    uint32_t *code;
    uint32_t len, code_cap;
    patch *patches;
    uint32_t npatches, patches_cap;
    code_stack_map *maps;
    uint32_t nmaps, maps_cap;
    uint32_t *map_slots;
    uint32_t nslots, slots_cap;
    uint32_t max_height; /* of the operand stack where code is emitted */
    /* Fuel metering (code.h): on for fuel engines; the open basic block's FUEL instruction
     * (NONE when none is open) and the instructions counted into it so far. */
    bool metered;
    /* Epoch interruption: on for epoch engines, whose back edges are _LOOP branches (code.h). */
    bool epoch_checked;
    uint32_t fuel_pc;
    uint32_t fuel_count;
    uint64_t budget, spent; /* cells of code and stack maps; also bounds the operand stack */

    wafer_error *err;
} compiler;

/* ---- Failures ------------------------------------------------------------------------------- */

static bool fail(compiler *c, wafer_error_kind kind, const char *fmt, ...) WAFER_PRINTF(3, 4);
static bool fail(compiler *c, wafer_error_kind kind, const char *fmt, ...) {
    if (c->err) return false;
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    c->err = error_new(kind, "%s at offset %zu (function %u)", text, c->instr_offset,
                       c->func_index);
    return false;
}

#define INVALID(c, ...) fail(c, WAFER_ERROR_INVALID, __VA_ARGS__)

static bool out_of_memory(compiler *c) {
    if (!c->err) c->err = error_new(WAFER_ERROR_RESOURCE, "out of memory while compiling");
    return false;
}

/* A failed read inside a body that passed the encoding check: kept as the reader's error. */
static bool read_failed(compiler *c) {
    if (!c->err) c->err = body_reader_error(&c->in);
    return false;
}

static bool type_mismatch(compiler *c, vtype expected, vtype found) {
    return INVALID(c, "type mismatch: expected %s, found %s", vtype_name(expected),
                   vtype_name(found));
}

/* Counts cells (code and stack maps) against the function's budget, which is
 * proportional to its size: no body makes the compiler allocate without bound. */
static bool spend(compiler *c, uint64_t cells) {
    c->spent += cells;
    if (c->spent <= c->budget) return true;
    return fail(c, WAFER_ERROR_LIMIT, "function too large to compile: more than %llu code cells",
                (unsigned long long)c->budget);
}

/* Returns array grown to hold `need` entries of `size` bytes, or array itself, unchanged, after
 * recording a failure. Use through RESERVE. */
static void *grow(compiler *c, void *array, uint32_t *cap, uint64_t need, size_t size) {
    if (need <= *cap) return array;
    uint64_t new_cap = *cap ? (uint64_t)*cap * 2 : 16;
    if (new_cap < need) new_cap = need;
    if (new_cap > UINT32_MAX) new_cap = UINT32_MAX;
    if (need > new_cap) {
        fail(c, WAFER_ERROR_LIMIT, "function too large to compile");
        return array;
    }
    void *p = realloc(array, (size_t)new_cap * size);
    if (!p) {
        out_of_memory(c);
        return array;
    }
    *cap = (uint32_t)new_cap;
    return p;
}

/* Makes room for `need` entries in array (capacity cap); false after a failure. */
#define RESERVE(c, array, cap, need)                                                               \
    ((array) = grow(c, array, &(cap), (uint64_t)(need), sizeof *(array)), (c)->err == NULL)

/* ---- Emitting ------------------------------------------------------------------------------- */

static ctrl *top(compiler *c) { return &c->ctrls[c->nctrls - 1]; }

/* Whether the instruction being compiled can run: code is emitted only then. */
static bool live(compiler *c) {
    const ctrl *f = top(c);
    return c->emit && !f->unreachable && !f->dead;
}

static uint32_t slot(const compiler *c, uint32_t depth) { return c->num_locals + depth; }

static bool emit_cells(compiler *c, const uint32_t *cells, uint32_t n) {
    if (!spend(c, n) || !RESERVE(c, c->code, c->code_cap, (uint64_t)c->len + n))
        return false;
    memcpy(c->code + c->len, cells, n * sizeof *cells);
    c->len += n;
    return true;
}

#define CELLS(...) ((const uint32_t[]){__VA_ARGS__})
#define EMIT(c, ...)                                                                               \
    emit_cells(c, CELLS(__VA_ARGS__), (uint32_t)(sizeof CELLS(__VA_ARGS__) / sizeof(uint32_t)))

/* A branch offset: relative to the branch's opcode cell, as a two's complement cell. */
static uint32_t branch_offset(uint32_t from_pc, uint32_t to_pc) { return to_pc - from_pc; }

static bool add_patch(compiler *c, ctrl *target, uint32_t op_pc, uint32_t cell) {
    if (!RESERVE(c, c->patches, c->patches_cap, (uint64_t)c->npatches + 1))
        return false;
    c->patches[c->npatches] = (patch){op_pc, cell, target->patches};
    target->patches = c->npatches++;
    return true;
}

/* Points the frame's forward branches at the current pc. */
static void resolve_patches(compiler *c, ctrl *f) {
    for (uint32_t i = f->patches; i != NONE; i = c->patches[i].next)
        c->code[c->patches[i].cell] = branch_offset(c->patches[i].op_pc, c->len);
    f->patches = NONE;
}

/* Copies n slots down from `from` to `to` (to <= from). Ascending order is right even when the
 * ranges overlap, since each source is read before anything at or above it is written. */
static bool emit_moves(compiler *c, uint32_t from, uint32_t to, uint32_t n) {
    if (from == to) return true;
    for (uint32_t i = 0; i < n; i++)
        if (!EMIT(c, OP_COPY, to + i, from + i)) return false;
    return true;
}

/* The branch op's variant for a branch to target: a loop's label is behind, and for an epoch
 * engine a branch back checks the deadline (code.h). */
static code_op branch_variant(const compiler *c, code_op op, const ctrl *target) {
    return c->epoch_checked && target->kind == FRAME_LOOP ? (code_op)(op + (OP_BR_LOOP - OP_BR))
                                                          : op;
}

/* The instruction `op [a [b]] off` jumping to target's label (op is BR, with `operands` 0, BR_IF
 * or BR_UNLESS, with 1, or a BR_I32_*, with 2), or, with target NULL, to a pc that patch_to_here
 * sets later. */
static bool emit_jump_on(compiler *c, code_op op, uint32_t operands, uint32_t a, uint32_t b,
                         ctrl *target) {
    uint32_t pc = c->len;
    bool back = target && target->kind == FRAME_LOOP;
    uint32_t off = back ? branch_offset(pc, target->start_pc) : 0;
    if (target) op = branch_variant(c, op, target);
    bool ok = operands == 0   ? EMIT(c, op, off)
              : operands == 1 ? EMIT(c, op, a, off)
                              : EMIT(c, op, a, b, off);
    if (!ok) return false;
    if (back || !target) return true;
    return add_patch(c, target, pc, c->len - 1);
}

static bool emit_jump(compiler *c, code_op op, uint32_t cond, ctrl *target) {
    return emit_jump_on(c, op, op == OP_BR ? 0 : 1, cond, 0, target);
}

/* Points the forward branch at pc (emitted with no target) here. */
static void patch_to_here(compiler *c, uint32_t pc) {
    c->code[pc + code_operand_cells(c->code, pc)] = branch_offset(pc, c->len);
}

/* The comparison that just wrote the i32 operand at depth, and nothing after it (code.h: fused
 * branches): its opcode's pc, or NONE. */
static uint32_t comparison_just_made(const compiler *c, uint32_t depth) {
    if (c->fwd_len != c->len || c->fwd_depth != depth || c->locs[depth] != NONE ||
        c->fwd_cell == 0)
        return NONE;
    uint32_t pc = c->fwd_cell - 1, op = c->code[pc];
    bool cmp = (op >= OP_I32_EQ && op <= OP_I32_GE_U) || (op >= OP_I32_EQ_K && op <= OP_I32_GE_U_K) ||
               (op >= OP_I64_EQ && op <= OP_I64_GE_U) || op == OP_I32_EQZ;
    if (!cmp || pc + 1 + code_operand_cells(c->code, pc) != c->len ||
        c->code[c->fwd_cell] != slot(c, depth))
        return NONE;
    return pc;
}

/* The comparison opposite to cmp (an index among CODE_BRANCH_CMPS): a CMP b is false exactly
 * when a OPPOSITE b is true, for integers. */
static uint32_t opposite_comparison(uint32_t cmp) {
    static const uint8_t opposite[] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3}; /* eq ne lt_s lt_u gt_s .. */
    return opposite[cmp];
}

/* A branch taken when the i32 operand at depth (popped already) is nonzero (`when`) or zero:
 * to target's label, or, with target NULL, forward to what patch_to_here sets; *at (may be
 * NULL) gets its pc. When that i32 was just made by a comparison, the comparison goes and the
 * branch makes it itself (code.h), at the comparison's pc. */
static bool emit_conditional(compiler *c, uint32_t depth, bool when, ctrl *target, uint32_t *at) {
    uint32_t cmp_pc = comparison_just_made(c, depth);
    if (at) *at = cmp_pc == NONE ? c->len : cmp_pc;
    if (cmp_pc == NONE)
        return emit_jump_on(c, when ? OP_BR_IF : OP_BR_UNLESS, 1, slot(c, depth), 0, target);
    uint32_t op = c->code[cmp_pc], a = c->code[cmp_pc + 2], b = 0;
    c->len = cmp_pc;
    c->fwd_len = NONE;
    if (op == OP_I32_EQZ) /* branch when a == 0 is branch unless a */
        return emit_jump_on(c, when ? OP_BR_UNLESS : OP_BR_IF, 1, a, 0, target);
    b = c->code[cmp_pc + 3];
    bool k = op >= OP_I32_EQ_K, wide = op >= OP_I64_EQ && op <= OP_I64_GE_U;
    uint32_t index = op - (k ? OP_I32_EQ_K : wide ? OP_I64_EQ : OP_I32_EQ);
    if (!when) index = opposite_comparison(index);
    code_op branch = wide ? (code_op)(OP_BR_I64_EQ + index)
                          : (code_op)(OP_BR_I32_EQ + 2 * index + (k ? 1 : 0));
    return emit_jump_on(c, branch, 2, a, b, target);
}

static void label_types(const ctrl *f, const wafer_valtype **types, uint32_t *n) {
    if (f->kind == FRAME_LOOP) {
        *types = f->params;
        *n = f->nparams;
    } else {
        *types = f->results;
        *n = f->nresults;
    }
}

/* Whether a branch to target, with its values at the top of the operand stack, needs more than a
 * jump: moves to the label's base, or the return of the function's label. */
static bool branch_needs_moves(compiler *c, const ctrl *target) {
    if (target == &c->ctrls[0]) return true;
    const wafer_valtype *types;
    uint32_t n;
    label_types(target, &types, &n);
    return c->nvals - n != target->height;
}

/* Results to slots 0.. and RETURN (spec 4.4.8 return, and the function's own label). */
static bool emit_return(compiler *c, uint32_t from_depth) {
    uint32_t n = c->type->num_results;
    return emit_moves(c, slot(c, from_depth), 0, n) && EMIT(c, OP_RETURN);
}

/* An unconditional branch to target with its values at the top of the operand stack. */
static bool emit_branch(compiler *c, ctrl *target) {
    const wafer_valtype *types;
    uint32_t n;
    label_types(target, &types, &n);
    if (target == &c->ctrls[0]) return emit_return(c, c->nvals - n);
    return emit_moves(c, slot(c, c->nvals - n), slot(c, target->height), n) &&
           emit_jump(c, OP_BR, 0, target);
}

/* A stack map for the safepoint whose opcode cell comes next: externref locals, and the externref
 * operands below the call's arguments or the get's result (already popped, not yet pushed). */
static bool record_stack_map(compiler *c) {
    uint32_t count = c->num_ref_locals + c->nrefs;
    if (!spend(c, (uint64_t)count + 3) ||
        !RESERVE(c, c->maps, c->maps_cap, (uint64_t)c->nmaps + 1) ||
        !RESERVE(c, c->map_slots, c->slots_cap, (uint64_t)c->nslots + count))
        return false;
    c->maps[c->nmaps++] = (code_stack_map){c->len, c->nslots, count};
    if (c->num_ref_locals > 0) {
        memcpy(c->map_slots + c->nslots, c->ref_locals, c->num_ref_locals * sizeof(uint32_t));
        c->nslots += c->num_ref_locals;
    }
    for (uint32_t i = 0; i < c->nrefs; i++) c->map_slots[c->nslots++] = slot(c, c->ref_depths[i]);
    return true;
}

/* ---- The operand and control stacks (the appendix's algorithm) ----------------------------- */

static bool push(compiler *c, vtype t) {
    if (c->nvals >= c->budget)
        return fail(c, WAFER_ERROR_LIMIT, "operand stack deeper than %llu values",
                    (unsigned long long)c->budget);
    if (!RESERVE(c, c->vals, c->vals_cap, (uint64_t)c->nvals + 1) ||
        !RESERVE(c, c->locs, c->locs_cap, (uint64_t)c->nvals + 1) ||
        !RESERVE(c, c->kvals, c->kvals_cap, (uint64_t)c->nvals + 1))
        return false;
    c->locs[c->nvals] = NONE;
    if (is_collected(t)) {
        if (!RESERVE(c, c->ref_depths, c->refs_cap, (uint64_t)c->nrefs + 1))
            return false;
        c->ref_depths[c->nrefs++] = c->nvals;
    }
    c->vals[c->nvals++] = t;
    if (live(c) && c->nvals > c->max_height) c->max_height = c->nvals;
    return true;
}

static bool pop_any(compiler *c, vtype *out) {
    ctrl *f = top(c);
    if (c->nvals == f->height) {
        if (!f->unreachable) return INVALID(c, "type mismatch: expected a value, found nothing");
        *out = VT_UNKNOWN;
        return true;
    }
    *out = c->vals[--c->nvals];
    if (is_collected(*out)) c->nrefs--;
    if (c->locs[c->nvals] != NONE) c->ndeferred--;
    return true;
}

static bool pop_expect(compiler *c, vtype expect, vtype *out) {
    ctrl *f = top(c);
    if (c->nvals == f->height && !f->unreachable) return type_mismatch(c, expect, VT_UNKNOWN);
    vtype actual;
    if (!pop_any(c, &actual)) return false;
    if (actual != expect && actual != VT_UNKNOWN && expect != VT_UNKNOWN)
        return type_mismatch(c, expect, actual);
    if (out) *out = actual;
    return true;
}

static bool pop(compiler *c, vtype expect) { return pop_expect(c, expect, NULL); }

static bool pop_vals(compiler *c, const wafer_valtype *types, uint32_t n) {
    for (uint32_t i = n; i-- > 0;)
        if (!pop(c, (vtype)types[i])) return false;
    return true;
}

static bool push_vals(compiler *c, const wafer_valtype *types, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (!push(c, (vtype)types[i])) return false;
    return true;
}

/* Checks that the top n operands have the given types without popping them: the same verdict
 * as popping and pushing back what was popped (br_table, br_if). */
static bool peek_vals(compiler *c, const wafer_valtype *types, uint32_t n) {
    ctrl *f = top(c);
    uint32_t avail = c->nvals - f->height;
    for (uint32_t i = 0; i < n; i++) {
        vtype expect = (vtype)types[n - 1 - i];
        if (i >= avail) {
            if (!f->unreachable) return type_mismatch(c, expect, VT_UNKNOWN);
            continue;
        }
        vtype actual = c->vals[c->nvals - 1 - i];
        if (actual != expect && actual != VT_UNKNOWN) return type_mismatch(c, expect, actual);
    }
    return true;
}

/* The rest of the block cannot run: drop to the frame's height, and let pops make up values. */
static void set_unreachable(compiler *c) {
    ctrl *f = top(c);
    for (uint32_t d = f->height; d < c->nvals; d++)
        if (c->locs[d] != NONE) c->ndeferred--;
    c->nvals = f->height;
    while (c->nrefs > 0 && c->ref_depths[c->nrefs - 1] >= c->nvals) c->nrefs--;
    f->unreachable = true;
}

/* ---- Deferred operands ---------------------------------------------------------------------
 * local.get and the constants emit nothing: the operand a local.get pushes reads the local's slot
 * directly, and a constant stays in the compiler, until something could change the local or needs
 * the value in the operand's own slot (an i32 operator with a constant right operand takes it as
 * an operand cell: the _K instructions). Deferral lives only within straight-line code: every
 * control instruction, call and safepoint first writes deferred operands to their slots
 * (materialize), so block boundaries, branches, calls and stack maps see the plain layout.
 * local.set and local.tee of a local copy the operands that read it first. */

#define LOC_CONST (NONE - 1)

/* Writes the deferred operand at depth to its own slot. */
static bool write_deferred(compiler *c, uint32_t depth) {
    uint32_t l = c->locs[depth];
    uint64_t k = c->kvals[depth];
    bool wide = c->vals[depth] == WAFER_I64 || c->vals[depth] == WAFER_F64;
    c->locs[depth] = NONE;
    c->ndeferred--;
    if (!live(c)) return true;
    if (l != LOC_CONST) return EMIT(c, OP_COPY, slot(c, depth), l);
    return wide ? EMIT(c, OP_CONST64, slot(c, depth), (uint32_t)k, (uint32_t)(k >> 32))
                : EMIT(c, OP_CONST32, slot(c, depth), (uint32_t)k);
}

/* The slot an operand's value is read from: a local's for a deferred local.get; a constant is
 * written to the operand's own slot first (an EMIT failure is left in c->err). */
static uint32_t src(compiler *c, uint32_t depth) {
    if (depth >= c->nvals || c->locs[depth] == NONE) return slot(c, depth);
    if (c->locs[depth] != LOC_CONST) return c->locs[depth];
    write_deferred(c, depth);
    return slot(c, depth);
}

static bool is_const(const compiler *c, uint32_t depth) {
    return depth < c->nvals && c->locs[depth] == LOC_CONST;
}

/* Writes deferred operands at or above the current block's height to their own slots: all of
 * them, or only the local.gets of local x (x != NONE). */
static bool materialize(compiler *c, uint32_t x) {
    if (c->ndeferred == 0) return true;
    for (uint32_t d = top(c)->height; d < c->nvals; d++) {
        uint32_t l = c->locs[d];
        if (l == NONE || (x != NONE && l != x)) continue;
        if (!write_deferred(c, d)) return false;
    }
    return true;
}

static bool materialize_all(compiler *c) { return materialize(c, NONE); }

/* Notes that the instruction just emitted wrote only the top operand, through cell `cell`. */
static void note_result(compiler *c, uint32_t cell) {
    c->fwd_cell = cell;
    c->fwd_depth = c->nvals - 1;
    c->fwd_len = c->len;
}

static bool push_ctrl(compiler *c, uint8_t kind, const wafer_valtype *params, uint32_t nparams,
                      const wafer_valtype *results, uint32_t nresults) {
    if (c->nctrls > c->limits->max_nesting)
        return fail(c, WAFER_ERROR_LIMIT, "blocks nested deeper than the limit of %u",
                    c->limits->max_nesting);
    bool dead = c->nctrls > 0 && (top(c)->dead || top(c)->unreachable);
    if (!RESERVE(c, c->ctrls, c->ctrls_cap, (uint64_t)c->nctrls + 1))
        return false;
    c->ctrls[c->nctrls++] = (ctrl){
        .kind = kind,
        .dead = dead,
        .nparams = nparams,
        .nresults = nresults,
        .params = params,
        .results = results,
        .height = c->nvals,
        .start_pc = NONE,
        .patches = NONE,
        .else_site = NONE,
    };
    return push_vals(c, params, nparams);
}

/* pop_ctrl's checks: the block's results and nothing else above its height. */
static bool check_frame_end(compiler *c) {
    ctrl *f = top(c);
    if (!pop_vals(c, f->results, f->nresults)) return false;
    if (c->nvals != f->height)
        return INVALID(c, "type mismatch: %u values left at the end of a block",
                       c->nvals - f->height);
    return true;
}

/* ---- Instructions --------------------------------------------------------------------------- */

static bool read_index(compiler *c, uint32_t *out) {
    return read_u32(&c->in, out) || read_failed(c);
}

static bool resolve_blocktype(compiler *c, const blocktype *bt, const wafer_valtype **params,
                              uint32_t *np, const wafer_valtype **results, uint32_t *nr) {
    if (bt->has_index) {
        if (bt->index < 0 || (uint64_t)bt->index >= c->m->num_types)
            return INVALID(c, "unknown type %lld", (long long)bt->index);
        const wafer_functype *t = &c->m->types[bt->index];
        *params = t->params;
        *np = t->num_params;
        *results = t->results;
        *nr = t->num_results;
    } else {
        *params = NULL;
        *np = 0;
        *results = bt->nresults ? single_type(bt->result) : NULL;
        *nr = bt->nresults;
    }
    return true;
}

static bool compile_block(compiler *c, uint8_t op) {
    blocktype bt;
    const wafer_valtype *params = NULL, *results = NULL;
    uint32_t np = 0, nr = 0;
    if (!read_blocktype(&c->in, &bt)) return read_failed(c);
    if (!resolve_blocktype(c, &bt, &params, &np, &results, &nr)) return false;
    uint32_t h = c->nvals;
    if (op == WASM_IF && !pop(c, WAFER_I32)) return false;
    if (!pop_vals(c, params, np)) return false;
    uint32_t else_site = NONE;
    if (op == WASM_IF && live(c)) {
        if (!emit_conditional(c, h - 1, false, NULL, &else_site)) return false;
    }
    uint8_t kind = op == WASM_BLOCK ? FRAME_BLOCK : op == WASM_LOOP ? FRAME_LOOP : FRAME_IF;
    if (!push_ctrl(c, kind, params, np, results, nr)) return false;
    top(c)->else_site = else_site;
    if (op == WASM_LOOP && live(c)) top(c)->start_pc = c->len;
    return true;
}

static bool compile_else(compiler *c) {
    ctrl *f = top(c);
    if (f->kind != FRAME_IF) return INVALID(c, "else without if");
    bool was_live = live(c);
    if (!check_frame_end(c)) return false;
    if (was_live && !emit_jump(c, OP_BR, 0, f)) return false;
    if (f->else_site != NONE) {
        patch_to_here(c, f->else_site);
        f->else_site = NONE;
    }
    f->kind = FRAME_ELSE;
    f->unreachable = false;
    return push_vals(c, f->params, f->nparams);
}

/* Returns true at the function's end. */
static bool compile_end(compiler *c, bool *function_done) {
    ctrl *f = top(c);
    bool was_live = live(c);
    if (!check_frame_end(c)) return false;
    if (f->kind == FRAME_IF) { /* no else: the params must pass for the results */
        bool same = f->nparams == f->nresults;
        for (uint32_t i = 0; same && i < f->nparams; i++) same = f->params[i] == f->results[i];
        if (!same) return INVALID(c, "type mismatch: if without else must not change types");
    }
    if (c->nctrls == 1) {
        *function_done = true;
        return !was_live || emit_return(c, f->height);
    }
    if (f->else_site != NONE) patch_to_here(c, f->else_site);
    resolve_patches(c, f);
    const wafer_valtype *results = f->results;
    uint32_t nr = f->nresults;
    c->nctrls--;
    return push_vals(c, results, nr);
}

static ctrl *label(compiler *c, uint32_t depth) {
    if (depth >= c->nctrls) {
        INVALID(c, "unknown label %u", depth);
        return NULL;
    }
    return &c->ctrls[c->nctrls - 1 - depth];
}

static bool compile_br(compiler *c) {
    uint32_t depth;
    if (!read_index(c, &depth)) return false;
    ctrl *target = label(c, depth);
    if (!target) return false;
    const wafer_valtype *types;
    uint32_t n;
    label_types(target, &types, &n);
    if (!peek_vals(c, types, n)) return false;
    if (live(c) && !emit_branch(c, target)) return false;
    set_unreachable(c);
    return true;
}

static bool compile_br_if(compiler *c) {
    uint32_t depth;
    if (!read_index(c, &depth)) return false;
    ctrl *target = label(c, depth);
    if (!target) return false;
    const wafer_valtype *types;
    uint32_t n;
    label_types(target, &types, &n);
    uint32_t h = c->nvals;
    if (!pop(c, WAFER_I32) || !pop_vals(c, types, n) || !push_vals(c, types, n)) return false;
    if (!live(c)) return true;
    if (!branch_needs_moves(c, target)) return emit_conditional(c, h - 1, true, target, NULL);
    uint32_t skip;
    if (!emit_conditional(c, h - 1, false, NULL, &skip) || !emit_branch(c, target)) return false;
    patch_to_here(c, skip);
    return true;
}

/* br_table (spec 3.3.5): every label has the default's arity and accepts the operands. Entries
 * whose label needs moves point to a stub after the table (one per label), others at the label. */
static bool compile_br_table(compiler *c) {
    uint32_t n, depth;
    if (!read_index(c, &n)) return false;
    reader entries = c->in.r;
    for (uint64_t i = 0; i < n; i++)
        if (!read_index(c, &depth)) return false;
    uint32_t default_depth;
    if (!read_index(c, &default_depth)) return false;
    reader after = c->in.r;

    uint32_t h = c->nvals;
    if (!pop(c, WAFER_I32)) return false;
    ctrl *deflt = label(c, default_depth);
    if (!deflt) return false;
    const wafer_valtype *types;
    uint32_t arity, entry_arity;
    label_types(deflt, &types, &arity);
    c->in.r = entries;
    for (uint64_t i = 0; i < n; i++) {
        if (!read_index(c, &depth)) return false;
        ctrl *target = label(c, depth);
        if (!target) return false;
        label_types(target, &types, &entry_arity);
        if (entry_arity != arity)
            return INVALID(c, "type mismatch: br_table labels of arity %u and %u", arity,
                           entry_arity);
        if (!peek_vals(c, types, entry_arity)) return false;
    }
    label_types(deflt, &types, &arity);
    if (!peek_vals(c, types, arity)) return false;

    if (live(c)) {
        uint32_t table_pc = c->len, key = table_pc + 1;
        if (!EMIT(c, OP_BR_TABLE, slot(c, h - 1), n) ||
            !spend(c, (uint64_t)n + 1) ||
            !RESERVE(c, c->code, c->code_cap, (uint64_t)c->len + n + 1))
            return false;
        c->len += n + 1;
        c->in.r = entries;
        for (uint64_t i = 0; i <= n; i++) {
            if (i < n && !read_index(c, &depth)) return false;
            ctrl *target = label(c, i < n ? depth : default_depth);
            uint32_t cell = table_pc + 3 + (uint32_t)i;
            if (branch_needs_moves(c, target)) {
                if (target->stub_key != key) {
                    target->stub_key = key;
                    target->stub_pc = c->len;
                    if (!emit_branch(c, target)) return false;
                }
                c->code[cell] = branch_offset(table_pc, target->stub_pc);
            } else if (target->kind == FRAME_LOOP) { /* a direct entry back: the table checks */
                c->code[cell] = branch_offset(table_pc, target->start_pc);
                c->code[table_pc] = branch_variant(c, OP_BR_TABLE, target);
            } else if (!add_patch(c, target, table_pc, cell)) {
                return false;
            }
        }
    }
    c->in.r = after;
    set_unreachable(c);
    return true;
}

static bool compile_return(compiler *c) {
    uint32_t n = c->type->num_results;
    if (!peek_vals(c, c->type->results, n)) return false;
    if (live(c) && !emit_return(c, c->nvals - n)) return false;
    set_unreachable(c);
    return true;
}

/* CALL and CALL_INDIRECT: the arguments are popped, the stack map taken, the results pushed. */
static bool compile_call_with(compiler *c, const wafer_functype *t, code_op op, uint32_t imm0,
                              uint32_t imm1, bool indirect) {
    uint32_t h = c->nvals;
    if (indirect && !pop(c, WAFER_I32)) return false;
    if (!pop_vals(c, t->params, t->num_params)) return false;
    if (live(c)) {
        uint32_t index_slot = slot(c, h - 1);
        uint32_t base = slot(c, h - (indirect ? 1 : 0) - t->num_params);
        if (!record_stack_map(c)) return false;
        bool ok = indirect ? EMIT(c, op, imm0, imm1, index_slot, base) : EMIT(c, op, imm0, base);
        if (!ok) return false;
    }
    return push_vals(c, t->results, t->num_results);
}

static bool compile_call(compiler *c) {
    uint32_t f;
    if (!read_index(c, &f)) return false;
    if (f >= c->m->num_funcs) return INVALID(c, "unknown function %u", f);
    const wafer_functype *t = &c->m->types[c->m->func_type_indices[f]];
    return compile_call_with(c, t, OP_CALL, f, 0, false);
}

static bool compile_call_indirect(compiler *c) {
    uint32_t type_index, table;
    if (!read_index(c, &type_index)) return false;
    if (!read_index_or_zero(&c->in, WAFER_FEATURE_REFERENCE_TYPES, &table)) return read_failed(c);
    if (table >= c->m->num_tables) return INVALID(c, "unknown table %u", table);
    if (type_index >= c->m->num_types) return INVALID(c, "unknown type %u", type_index);
    if (c->m->tables[table].elem != WAFER_FUNCREF)
        return INVALID(c, "type mismatch: call_indirect on a table of %s",
                       vtype_name((vtype)c->m->tables[table].elem));
    return compile_call_with(c, &c->m->types[type_index], OP_CALL_INDIRECT, type_index, table,
                             true);
}

static bool compile_select(compiler *c, bool typed) {
    vtype t = VT_UNKNOWN, t1 = VT_UNKNOWN, t2 = VT_UNKNOWN;
    if (typed) {
        uint32_t n;
        uint8_t byte;
        wafer_valtype vt = WAFER_I32;
        if (!read_index(c, &n)) return false;
        for (uint32_t i = 0; i < n; i++)
            if (!reader_u8(&c->in.r, &byte) || !read_valtype(&c->in, byte, &vt))
                return read_failed(c);
        if (n != 1) return INVALID(c, "invalid result arity %u for select", n);
        t = (vtype)vt;
    }
    uint32_t h = c->nvals;
    uint32_t a = src(c, h - 3), b = src(c, h - 2), cond = src(c, h - 1);
    if (!pop(c, WAFER_I32)) return false;
    if (typed) {
        if (!pop(c, t) || !pop(c, t)) return false;
    } else {
        if (!pop_any(c, &t1) || !pop_any(c, &t2)) return false;
        if (!is_num_or_unknown(t1) || !is_num_or_unknown(t2))
            return INVALID(c, "type mismatch: select without types on %s",
                           vtype_name(is_num_or_unknown(t1) ? t2 : t1));
        if (t1 != t2 && t1 != VT_UNKNOWN && t2 != VT_UNKNOWN) return type_mismatch(c, t1, t2);
        t = t1 == VT_UNKNOWN ? t2 : t1;
    }
    if (live(c) && !EMIT(c, OP_SELECT, slot(c, h - 3), a, b, cond)) return false;
    if (!push(c, t)) return false;
    if (live(c)) note_result(c, c->len - 4);
    return true;
}

static bool compile_local(compiler *c, uint8_t op) {
    uint32_t x;
    if (!read_index(c, &x)) return false;
    if (x >= c->num_locals) return INVALID(c, "unknown local %u", x);
    vtype t = c->local_types[x];
    if (op == WASM_LOCAL_GET) {
        if (!push(c, t)) return false;
        if (live(c)) { /* deferred: read from the local until something needs a copy */
            c->locs[c->nvals - 1] = x;
            c->ndeferred++;
        }
        return true;
    }
    /* set and tee: operands still reading the local's old value get their copies first */
    if (!materialize(c, x)) return false;
    uint32_t h = c->nvals;
    if (is_const(c, h - 1) && h > top(c)->height) { /* the constant goes straight to the local */
        uint64_t k = c->kvals[h - 1];
        bool wide = t == WAFER_I64 || t == WAFER_F64;
        if (!pop(c, t)) return false;
        if (live(c) && !(wide ? EMIT(c, OP_CONST64, x, (uint32_t)k, (uint32_t)(k >> 32))
                              : EMIT(c, OP_CONST32, x, (uint32_t)k)))
            return false;
        if (op == WASM_LOCAL_SET) return true;
        if (!push(c, t)) return false;
        if (live(c)) {
            c->locs[c->nvals - 1] = x;
            c->ndeferred++;
        }
        return true;
    }
    uint32_t from = src(c, h - 1);
    /* the value was just computed into its own slot: compute it into the local instead */
    bool retarget = live(c) && h > top(c)->height && c->fwd_len == c->len &&
                    c->fwd_depth == h - 1 && c->locs[h - 1] == NONE;
    if (!pop(c, t)) return false;
    if (live(c)) {
        if (retarget) {
            c->code[c->fwd_cell] = x;
            c->fwd_len = NONE; /* it writes no operand now */
        }
        else if (!EMIT(c, OP_COPY, x, from))
            return false;
    }
    if (op == WASM_LOCAL_SET) return true;
    if (!push(c, t)) return false; /* tee: the value stays, read from the local */
    if (live(c)) {
        c->locs[c->nvals - 1] = x;
        c->ndeferred++;
    }
    return true;
}

static bool compile_global(compiler *c, uint8_t op) {
    uint32_t x;
    if (!read_index(c, &x)) return false;
    if (x >= c->m->num_globals) return INVALID(c, "unknown global %u", x);
    const wafer_globaltype *g = &c->m->globals[x].type;
    uint32_t h = c->nvals;
    bool counted = g->type == WAFER_EXTERNREF;
    if (op == WASM_GLOBAL_GET) {
        if (live(c) && counted && (!materialize_all(c) || !record_stack_map(c))) return false;
        if (live(c) && !EMIT(c, counted ? OP_GLOBAL_GET_EXTERN : OP_GLOBAL_GET, slot(c, h), x))
            return false;
        if (!push(c, (vtype)g->type)) return false;
        if (live(c) && !counted) note_result(c, c->len - 2);
        return true;
    }
    if (!g->is_mutable) return INVALID(c, "global is immutable: global %u", x);
    uint32_t from = src(c, h - 1);
    if (!pop(c, (vtype)g->type)) return false;
    return !live(c) || EMIT(c, counted ? OP_GLOBAL_SET_EXTERN : OP_GLOBAL_SET, x, from);
}

static const wafer_tabletype *table_at(compiler *c, uint32_t x) {
    if (x < c->m->num_tables) return &c->m->tables[x];
    INVALID(c, "unknown table %u", x);
    return NULL;
}

static const wafer_memorytype *memory_at(compiler *c, uint32_t x) {
    if (x < c->m->num_memories) return &c->m->memories[x];
    INVALID(c, "unknown memory %u", x);
    return NULL;
}

/* The index type of a memory: i64 for memory64's 64-bit memories. */
static vtype index_type(const wafer_memorytype *mt) { return mt->is64 ? WAFER_I64 : WAFER_I32; }

static bool compile_table_access(compiler *c, uint8_t op) {
    uint32_t x;
    if (!read_index(c, &x)) return false;
    const wafer_tabletype *t = table_at(c, x);
    if (!t) return false;
    uint32_t h = c->nvals;
    if (op == WASM_TABLE_GET) {
        bool counted = t->elem == WAFER_EXTERNREF;
        if (live(c) && counted && !materialize_all(c)) return false;
        uint32_t index = src(c, h - 1);
        if (!pop(c, WAFER_I32)) return false;
        if (live(c) && counted && !record_stack_map(c)) return false;
        if (live(c) && !EMIT(c, counted ? OP_TABLE_GET_EXTERN : OP_TABLE_GET, slot(c, h - 1), x,
                             index))
            return false;
        return push(c, (vtype)t->elem);
    }
    uint32_t index = src(c, h - 2), value = src(c, h - 1);
    if (!pop(c, (vtype)t->elem) || !pop(c, WAFER_I32)) return false;
    return !live(c) || EMIT(c, OP_TABLE_SET, x, index, value);
}

/* Loads and stores (spec 3.3.7): natural alignment in log2 bytes, the value type, the op. */
typedef struct memory_access {
    uint8_t natural_align;
    vtype type;
    bool store;
    code_op op;
} memory_access;

static const memory_access memory_accesses[] = {
    {2, WAFER_I32, false, OP_LOAD32_U},     {3, WAFER_I64, false, OP_LOAD64},
    {2, WAFER_F32, false, OP_LOAD32_U},     {3, WAFER_F64, false, OP_LOAD64},
    {0, WAFER_I32, false, OP_I32_LOAD8_S},  {0, WAFER_I32, false, OP_LOAD8_U},
    {1, WAFER_I32, false, OP_I32_LOAD16_S}, {1, WAFER_I32, false, OP_LOAD16_U},
    {0, WAFER_I64, false, OP_I64_LOAD8_S},  {0, WAFER_I64, false, OP_LOAD8_U},
    {1, WAFER_I64, false, OP_I64_LOAD16_S}, {1, WAFER_I64, false, OP_LOAD16_U},
    {2, WAFER_I64, false, OP_I64_LOAD32_S}, {2, WAFER_I64, false, OP_LOAD32_U},
    {2, WAFER_I32, true, OP_STORE32},       {3, WAFER_I64, true, OP_STORE64},
    {2, WAFER_F32, true, OP_STORE32},       {3, WAFER_F64, true, OP_STORE64},
    {0, WAFER_I32, true, OP_STORE8},        {1, WAFER_I32, true, OP_STORE16},
    {0, WAFER_I64, true, OP_STORE8},        {1, WAFER_I64, true, OP_STORE16},
    {2, WAFER_I64, true, OP_STORE32},
};
_Static_assert(sizeof memory_accesses / sizeof memory_accesses[0] ==
                   WASM_LAST_MEMORY_ACCESS - WASM_FIRST_MEMORY_ACCESS + 1,
               "one entry per load and store opcode");

static bool compile_memory_access(compiler *c, uint8_t op) {
    const memory_access *acc = &memory_accesses[op - WASM_FIRST_MEMORY_ACCESS];
    memarg a;
    if (!read_memarg(&c->in, &a)) return read_failed(c);
    const wafer_memorytype *mt = memory_at(c, a.memory);
    if (!mt) return false;
    if (a.align > acc->natural_align)
        return INVALID(c, "alignment must not be larger than natural (2^%u > 2^%u)", a.align,
                       acc->natural_align);
    if (!mt->is64 && a.offset > UINT32_MAX)
        return INVALID(c, "offset out of range: %llu for a 32-bit memory",
                       (unsigned long long)a.offset);
    uint32_t h = c->nvals;
    /* loads: d a mem; stores: a b mem (address, value) */
    uint32_t first = acc->store ? src(c, h - 2) : slot(c, h - 1);
    uint32_t second = src(c, h - 1);
    if (acc->store) {
        if (!pop(c, acc->type) || !pop(c, index_type(mt))) return false;
    } else {
        if (!pop(c, index_type(mt)) || !push(c, acc->type)) return false;
    }
    if (!live(c)) return true;
    uint32_t at = c->len + 1;
    bool ok = mt->is64 ? EMIT(c, acc->op - OP_LOAD8_U + OP_LOAD8_U_M64, first, second, a.memory,
                              (uint32_t)a.offset, (uint32_t)(a.offset >> 32))
                       : EMIT(c, acc->op, first, second, a.memory, (uint32_t)a.offset);
    if (ok && !acc->store) note_result(c, at);
    return ok;
}

static bool compile_memory_size_grow(compiler *c, uint8_t op) {
    uint32_t x;
    if (!read_index_or_zero(&c->in, WAFER_FEATURE_MULTI_MEMORY, &x)) return read_failed(c);
    const wafer_memorytype *mt = memory_at(c, x);
    if (!mt) return false;
    uint32_t h = c->nvals;
    if (op == WASM_MEMORY_SIZE) {
        if (live(c) && !EMIT(c, OP_MEMORY_SIZE, slot(c, h), x)) return false;
        return push(c, index_type(mt));
    }
    uint32_t delta = src(c, h - 1);
    if (!pop(c, index_type(mt))) return false;
    if (live(c) && !EMIT(c, OP_MEMORY_GROW, slot(c, h - 1), x, delta)) return false;
    return push(c, index_type(mt));
}

/* Numeric instructions (spec 3.3.1): operand and result types by opcode range. */
typedef struct numeric_sig {
    vtype in1, in2, out; /* in2 is VT_UNKNOWN for unary instructions */
} numeric_sig;

/* 0xA7 i32.wrap_i64 .. 0xBF f64.reinterpret_i64: conversions, unary. */
static const vtype conversion_types[][2] = {
    {WAFER_I64, WAFER_I32}, {WAFER_F32, WAFER_I32}, {WAFER_F32, WAFER_I32}, {WAFER_F64, WAFER_I32},
    {WAFER_F64, WAFER_I32}, {WAFER_I32, WAFER_I64}, {WAFER_I32, WAFER_I64}, {WAFER_F32, WAFER_I64},
    {WAFER_F32, WAFER_I64}, {WAFER_F64, WAFER_I64}, {WAFER_F64, WAFER_I64}, {WAFER_I32, WAFER_F32},
    {WAFER_I32, WAFER_F32}, {WAFER_I64, WAFER_F32}, {WAFER_I64, WAFER_F32}, {WAFER_F64, WAFER_F32},
    {WAFER_I32, WAFER_F64}, {WAFER_I32, WAFER_F64}, {WAFER_I64, WAFER_F64}, {WAFER_I64, WAFER_F64},
    {WAFER_F32, WAFER_F64}, {WAFER_F32, WAFER_I32}, {WAFER_F64, WAFER_I64}, {WAFER_I32, WAFER_F32},
    {WAFER_I64, WAFER_F64},
};
_Static_assert(sizeof conversion_types / sizeof conversion_types[0] == 0xBF - 0xA7 + 1,
               "one entry per conversion opcode");

static numeric_sig numeric_signature(uint8_t op) {
    const vtype i32 = WAFER_I32, i64 = WAFER_I64, f32 = WAFER_F32, f64 = WAFER_F64;
    if (op == 0x45) return (numeric_sig){i32, 0, i32};
    if (op <= 0x4F) return (numeric_sig){i32, i32, i32};
    if (op == 0x50) return (numeric_sig){i64, 0, i32};
    if (op <= 0x5A) return (numeric_sig){i64, i64, i32};
    if (op <= 0x60) return (numeric_sig){f32, f32, i32};
    if (op <= 0x66) return (numeric_sig){f64, f64, i32};
    if (op <= 0x69) return (numeric_sig){i32, 0, i32};
    if (op <= 0x78) return (numeric_sig){i32, i32, i32};
    if (op <= 0x7B) return (numeric_sig){i64, 0, i64};
    if (op <= 0x8A) return (numeric_sig){i64, i64, i64};
    if (op <= 0x91) return (numeric_sig){f32, 0, f32};
    if (op <= 0x98) return (numeric_sig){f32, f32, f32};
    if (op <= 0x9F) return (numeric_sig){f64, 0, f64};
    if (op <= 0xA6) return (numeric_sig){f64, f64, f64};
    if (op <= 0xBF) return (numeric_sig){conversion_types[op - 0xA7][0], 0,
                                         conversion_types[op - 0xA7][1]};
    if (op <= 0xC1) return (numeric_sig){i32, 0, i32}; /* i32.extend8_s, i32.extend16_s */
    return (numeric_sig){i64, 0, i64};                 /* i64.extend8_s .. extend32_s */
}

/* A unary or binary numeric instruction; op CODE_OP_COUNT emits nothing (reinterpretations: a
 * slot holds bits, so the value is already what the other type reads). */
/* The _K variant of an i32 operator (code.h), or CODE_OP_COUNT. */
static code_op k_variant(code_op op) {
    switch (op) {
#define K_CASE(X, NAME)                                                                           \
    case OP_##NAME: return OP_##NAME##_K;
        CODE_I32_K_OPS(unused, K_CASE)
#undef K_CASE
    default: return CODE_OP_COUNT;
    }
}

/* Operators whose operands may be swapped, so a constant on the left goes right. */
static bool commutes(code_op op) {
    return op == OP_I32_ADD || op == OP_I32_MUL || op == OP_I32_AND || op == OP_I32_OR ||
           op == OP_I32_XOR || op == OP_I32_EQ || op == OP_I32_NE;
}

static bool compile_numeric(compiler *c, numeric_sig sig, code_op op) {
    uint32_t h = c->nvals;
    bool binary = sig.in2 != VT_UNKNOWN;
    code_op kop = binary && op != CODE_OP_COUNT ? k_variant(op) : CODE_OP_COUNT;
    if (kop != CODE_OP_COUNT && live(c) && h >= top(c)->height + 2) {
        uint32_t kd = is_const(c, h - 1) ? h - 1 : commutes(op) && is_const(c, h - 2) ? h - 2 : NONE;
        if (kd != NONE) { /* an i32 operator with a constant operand: the constant is a cell */
            uint32_t k = (uint32_t)c->kvals[kd];
            uint32_t a = src(c, kd == h - 1 ? h - 2 : h - 1);
            if (!pop(c, sig.in2) || !pop(c, sig.in1) || !push(c, sig.out)) return false;
            if (!EMIT(c, kop, slot(c, c->nvals - 1), a, k)) return false;
            note_result(c, c->len - 3);
            return true;
        }
    }
    uint32_t a = src(c, binary ? h - 2 : h - 1), b = src(c, h - 1);
    /* a reinterpretation leaves the bits where they are, deferred or not */
    uint32_t kept = !binary && h > top(c)->height ? c->locs[h - 1] : NONE;
    if (binary && !pop(c, sig.in2)) return false;
    if (!pop(c, sig.in1) || !push(c, sig.out)) return false;
    if (!live(c)) return true;
    if (op == CODE_OP_COUNT) {
        if (kept != NONE) {
            c->locs[c->nvals - 1] = kept;
            c->ndeferred++;
        }
        return true;
    }
    uint32_t d = slot(c, c->nvals - 1);
    if (!(binary ? EMIT(c, op, d, a, b) : EMIT(c, op, d, a))) return false;
    note_result(c, c->len - (binary ? 3 : 2));
    return true;
}

static bool compile_plain_numeric(compiler *c, uint8_t op) {
    code_op cop = CODE_OP_COUNT;
    if (op <= 0xBB)
        cop = (code_op)(OP_I32_EQZ + (op - WASM_FIRST_NUMERIC));
    else if (op >= WASM_FIRST_SIGN_EXTENSION)
        cop = (code_op)(OP_I32_EXTEND8_S + (op - WASM_FIRST_SIGN_EXTENSION));
    return compile_numeric(c, numeric_signature(op), cop);
}

/* Constants are deferred operands (see there): nothing is emitted here. */
static bool compile_const(compiler *c, uint8_t op) {
    uint64_t bits = 0;
    bool ok;
    switch (op) {
    case WASM_I32_CONST: {
        int32_t v;
        ok = reader_s32(&c->in.r, &v);
        bits = (uint32_t)v;
        break;
    }
    case WASM_I64_CONST: {
        int64_t v;
        ok = reader_s64(&c->in.r, &v);
        bits = (uint64_t)v;
        break;
    }
    case WASM_F32_CONST: {
        uint32_t v;
        ok = reader_f32(&c->in.r, &v);
        bits = v;
        break;
    }
    default: ok = reader_f64(&c->in.r, &bits); break;
    }
    if (!ok) return read_failed(c);
    static const vtype types[] = {WAFER_I32, WAFER_I64, WAFER_F32, WAFER_F64};
    if (!push(c, types[op - WASM_I32_CONST])) return false;
    if (!live(c)) return true;
    c->locs[c->nvals - 1] = LOC_CONST;
    c->kvals[c->nvals - 1] = bits;
    c->ndeferred++;
    return true;
}

static bool compile_ref(compiler *c, uint8_t op) {
    uint32_t h = c->nvals;
    switch (op) {
    case WASM_REF_NULL: {
        uint8_t byte;
        if (!reader_u8(&c->in.r, &byte)) return read_failed(c);
        if (live(c) && !EMIT(c, OP_CONST64, slot(c, h), 0, 0)) return false;
        return push(c, byte);
    }
    case WASM_REF_IS_NULL: {
        vtype t = VT_UNKNOWN;
        uint32_t ref = src(c, h - 1);
        if (!pop_any(c, &t)) return false;
        if (t != VT_UNKNOWN && !is_reftype(t))
            return INVALID(c, "type mismatch: ref.is_null on %s", vtype_name(t));
        if (live(c) && !EMIT(c, OP_REF_IS_NULL, slot(c, h - 1), ref)) return false;
        return push(c, WAFER_I32);
    }
    default: { /* ref.func */
        uint32_t f;
        if (!read_index(c, &f)) return false;
        if (f >= c->m->num_funcs) return INVALID(c, "unknown function %u", f);
        if (!(c->m->declared_refs[f / 8] & (1u << (f % 8))))
            return INVALID(c, "undeclared function reference %u", f);
        if (live(c) && !EMIT(c, OP_REF_FUNC, slot(c, h), f)) return false;
        return push(c, WAFER_FUNCREF);
    }
    }
}

/* Saturating truncations (0xFC 0..7). */
static const vtype trunc_sat_types[][2] = {
    {WAFER_F32, WAFER_I32}, {WAFER_F32, WAFER_I32}, {WAFER_F64, WAFER_I32}, {WAFER_F64, WAFER_I32},
    {WAFER_F32, WAFER_I64}, {WAFER_F32, WAFER_I64}, {WAFER_F64, WAFER_I64}, {WAFER_F64, WAFER_I64},
};

/* memory.init and data.drop name data segments before the data section, so they need the data
 * count section (spec 5.5.13), a decoding rule. It is checked here, after the memory and only for
 * an index the data section has: the suite's text modules that name no data segment at all are
 * invalid ("unknown data segment"), and wast2json writes them without a data count section. */
static bool check_data_index(compiler *c, uint32_t x) {
    if (!c->m->has_data_count && x < c->m->num_datas)
        return fail(c, WAFER_ERROR_MALFORMED, "data count section required");
    uint32_t count = c->m->has_data_count ? c->m->data_count : 0;
    return x < count || INVALID(c, "unknown data segment %u", x);
}

static bool check_elem_index(compiler *c, uint32_t x) {
    return x < c->m->num_elems || INVALID(c, "unknown elem segment %u", x);
}

/* Pops the three operands of a bulk instruction, of the given types. */
static bool pop3(compiler *c, vtype a, vtype b, vtype n) {
    return pop(c, n) && pop(c, b) && pop(c, a);
}

static bool compile_prefixed(compiler *c) {
    uint32_t sub, imm[2];
    if (!read_index(c, &sub)) return false;
    if (!read_fc_immediates(&c->in, sub, imm)) return read_failed(c);
    if (sub <= FC_LAST_TRUNC_SAT)
        return compile_numeric(c, (numeric_sig){trunc_sat_types[sub][0], 0, trunc_sat_types[sub][1]},
                               (code_op)(OP_I32_TRUNC_SAT_F32_S + sub));
    uint32_t h = c->nvals;
    uint32_t a = src(c, h - 3), b = src(c, h - 2), n = src(c, h - 1);
    const vtype i32 = WAFER_I32;
    const wafer_memorytype *m0, *m1;
    const wafer_tabletype *t0, *t1;
    switch (sub) {
    case FC_MEMORY_INIT:
        if (!(m0 = memory_at(c, imm[1])) || !check_data_index(c, imm[0]) ||
            !pop3(c, index_type(m0), i32, i32))
            return false;
        return !live(c) || EMIT(c, OP_MEMORY_INIT, imm[1], imm[0], a, b, n);
    case FC_DATA_DROP:
        if (!check_data_index(c, imm[0])) return false;
        return !live(c) || EMIT(c, OP_DATA_DROP, imm[0]);
    case FC_MEMORY_COPY: {
        if (!(m0 = memory_at(c, imm[0])) || !(m1 = memory_at(c, imm[1]))) return false;
        /* memory64: the count is i64 only when both memories are 64-bit */
        vtype count = m0->is64 && m1->is64 ? WAFER_I64 : WAFER_I32;
        if (!pop3(c, index_type(m0), index_type(m1), count)) return false;
        return !live(c) || EMIT(c, OP_MEMORY_COPY, imm[0], imm[1], a, b, n);
    }
    case FC_MEMORY_FILL:
        if (!(m0 = memory_at(c, imm[0])) || !pop3(c, index_type(m0), i32, index_type(m0)))
            return false;
        return !live(c) || EMIT(c, OP_MEMORY_FILL, imm[0], a, b, n);
    case FC_TABLE_INIT:
        if (!(t0 = table_at(c, imm[1])) || !check_elem_index(c, imm[0])) return false;
        if (c->m->elems[imm[0]].type != t0->elem)
            return INVALID(c, "type mismatch: table.init of %s into a table of %s",
                           vtype_name((vtype)c->m->elems[imm[0]].type), vtype_name((vtype)t0->elem));
        if (!pop3(c, i32, i32, i32)) return false;
        return !live(c) || EMIT(c, OP_TABLE_INIT, imm[1], imm[0], a, b, n);
    case FC_ELEM_DROP:
        if (!check_elem_index(c, imm[0])) return false;
        return !live(c) || EMIT(c, OP_ELEM_DROP, imm[0]);
    case FC_TABLE_COPY:
        if (!(t0 = table_at(c, imm[0])) || !(t1 = table_at(c, imm[1]))) return false;
        if (t0->elem != t1->elem)
            return INVALID(c, "type mismatch: table.copy from %s to %s",
                           vtype_name((vtype)t1->elem), vtype_name((vtype)t0->elem));
        if (!pop3(c, i32, i32, i32)) return false;
        return !live(c) || EMIT(c, OP_TABLE_COPY, imm[0], imm[1], a, b, n);
    case FC_TABLE_GROW:
        if (!(t0 = table_at(c, imm[0])) || !pop(c, i32) || !pop(c, (vtype)t0->elem) ||
            !push(c, i32))
            return false;
        return !live(c) || EMIT(c, OP_TABLE_GROW, slot(c, h - 2), imm[0], b, n);
    case FC_TABLE_SIZE:
        if (!table_at(c, imm[0])) return false;
        if (live(c) && !EMIT(c, OP_TABLE_SIZE, slot(c, h), imm[0])) return false;
        return push(c, i32);
    default: /* table.fill */
        if (!(t0 = table_at(c, imm[0])) || !pop3(c, i32, (vtype)t0->elem, i32)) return false;
        return !live(c) || EMIT(c, OP_TABLE_FILL, imm[0], a, b, n);
    }
}

/* Counts a live instruction into the open basic block, opening one (a FUEL whose count is filled
 * in as the block grows) if there is none. */
static bool meter(compiler *c) {
    if (c->fuel_pc == NONE) {
        c->fuel_pc = c->len;
        c->fuel_count = 0;
        if (!EMIT(c, OP_FUEL, 0)) return false;
    }
    c->code[c->fuel_pc + 1] = ++c->fuel_count;
    return true;
}

/* Instructions that end a basic block: branches, and those that place labels. */
static bool ends_basic_block(uint8_t op) {
    return op == WASM_UNREACHABLE || (op >= WASM_BLOCK && op <= WASM_RETURN);
}

static bool compile_opcode(compiler *c, uint8_t op, bool *function_done);

static bool compile_instruction(compiler *c, bool *function_done) {
    uint8_t op;
    c->instr_offset = reader_offset(&c->in.r);
    if (!reader_u8(&c->in.r, &op)) return read_failed(c);
    if (c->metered && live(c) && !meter(c)) return false;
    if ((ends_basic_block(op) || op == WASM_CALL || op == WASM_CALL_INDIRECT) &&
        !materialize_all(c))
        return false;
    if (!compile_opcode(c, op, function_done)) return false;
    if (ends_basic_block(op)) {
        c->fuel_pc = NONE;
        c->fwd_len = NONE; /* a label may follow: other paths reach the next pc too */
    }
    return true;
}

static bool compile_opcode(compiler *c, uint8_t op, bool *function_done) {
    switch (op) {
    case WASM_UNREACHABLE:
        if (live(c) && !EMIT(c, OP_UNREACHABLE)) return false;
        set_unreachable(c);
        return true;
    case WASM_NOP: return true;
    case WASM_BLOCK:
    case WASM_LOOP:
    case WASM_IF: return compile_block(c, op);
    case WASM_ELSE: return compile_else(c);
    case WASM_END: return compile_end(c, function_done);
    case WASM_BR: return compile_br(c);
    case WASM_BR_IF: return compile_br_if(c);
    case WASM_BR_TABLE: return compile_br_table(c);
    case WASM_RETURN: return compile_return(c);
    case WASM_CALL: return compile_call(c);
    case WASM_CALL_INDIRECT: return compile_call_indirect(c);
    case WASM_DROP: {
        vtype t = VT_UNKNOWN;
        return pop_any(c, &t);
    }
    case WASM_SELECT: return compile_select(c, false);
    case WASM_SELECT_T: return compile_select(c, true);
    case WASM_LOCAL_GET:
    case WASM_LOCAL_SET:
    case WASM_LOCAL_TEE: return compile_local(c, op);
    case WASM_GLOBAL_GET:
    case WASM_GLOBAL_SET: return compile_global(c, op);
    case WASM_TABLE_GET:
    case WASM_TABLE_SET: return compile_table_access(c, op);
    case WASM_MEMORY_SIZE:
    case WASM_MEMORY_GROW: return compile_memory_size_grow(c, op);
    case WASM_I32_CONST:
    case WASM_I64_CONST:
    case WASM_F32_CONST:
    case WASM_F64_CONST: return compile_const(c, op);
    case WASM_REF_NULL:
    case WASM_REF_IS_NULL:
    case WASM_REF_FUNC: return compile_ref(c, op);
    case WASM_PREFIX_FC: return compile_prefixed(c);
    default:
        if (op >= WASM_FIRST_MEMORY_ACCESS && op <= WASM_LAST_MEMORY_ACCESS)
            return compile_memory_access(c, op);
        if (op >= WASM_FIRST_NUMERIC && op <= WASM_LAST_SIGN_EXTENSION)
            return compile_plain_numeric(c, op);
        /* the encoding check let nothing else through */
        return fail(c, WAFER_ERROR_MALFORMED, "illegal opcode 0x%02x", op);
    }
}

/* ---- Functions ------------------------------------------------------------------------------ */

/* Types of params and locals, and which of them hold references. */
static bool setup_locals(compiler *c, const module_body *body) {
    uint64_t total = c->type->num_params;
    for (uint32_t i = 0; i < body->num_local_runs; i++) total += body->local_runs[i].count;
    if (total > c->limits->max_locals)
        return fail(c, WAFER_ERROR_LIMIT, "too many locals: %llu exceeds the limit of %u",
                    (unsigned long long)total, c->limits->max_locals);
    c->num_locals = (uint32_t)total;
    c->local_types = malloc(total ? total : 1);
    c->ref_locals = malloc((total ? total : 1) * sizeof(uint32_t));
    if (!c->local_types || !c->ref_locals) return out_of_memory(c);
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->type->num_params; i++) c->local_types[n++] = c->type->params[i];
    for (uint32_t i = 0; i < body->num_local_runs; i++)
        for (uint32_t k = 0; k < body->local_runs[i].count; k++)
            c->local_types[n++] = body->local_runs[i].type;
    for (uint32_t i = 0; i < n; i++)
        if (is_collected(c->local_types[i])) c->ref_locals[c->num_ref_locals++] = i;
    return true;
}

static void compiler_free(compiler *c) {
    free(c->local_types);
    free(c->ref_locals);
    free(c->vals);
    free(c->locs);
    free(c->kvals);
    free(c->ref_depths);
    free(c->ctrls);
    free(c->code);
    free(c->patches);
    free(c->maps);
    free(c->map_slots);
}

/* Cells a body may compile to: about 4 per byte for ordinary code; multi-value branches and
 * br_table stubs may take more, pathological ones are refused rather than allocated. */
static uint64_t code_budget(uint32_t code_len) { return 16 * (uint64_t)code_len + 65536; }

static bool compile_function(compiler *c, const module_body *body) {
    if (!setup_locals(c, body) ||
        !push_ctrl(c, FRAME_FUNCTION, NULL, 0, c->type->results, c->type->num_results))
        return false;
    bool done = false;
    while (!done)
        if (!compile_instruction(c, &done)) return false;
    if (!reader_at_end(&c->in.r)) /* the encoding check saw to this */
        return fail(c, WAFER_ERROR_MALFORMED, "section size mismatch");
    return true;
}

wafer_error *body_compile(const wafer_module *m, uint32_t defined_index, code_func *out) {
    const module_body *body = &m->bodies[defined_index];
    uint32_t func_index = m->num_imported_funcs + defined_index;
    uint32_t type_index = m->func_type_indices[func_index];
    compiler c = {
        .in = body_reader_make(m, defined_index),
        .m = m,
        .limits = &wafer_engine_config(m->engine)->limits,
        .type = &m->types[type_index],
        .func_index = func_index,
        .instr_offset = body->code_offset,
        .emit = out != NULL,
        .budget = code_budget(body->code_len),
        .metered = out != NULL && wafer_engine_config(m->engine)->consume_fuel,
        .epoch_checked = out != NULL && wafer_engine_config(m->engine)->epoch_interruption,
        .fuel_pc = NONE,
        .fwd_len = NONE,
    };
    if (c.budget > UINT32_MAX / 2) c.budget = UINT32_MAX / 2;
    if (!compile_function(&c, body)) {
        wafer_error *err = c.err;
        compiler_free(&c);
        return err;
    }
    if (out) {
        uint64_t frame = (uint64_t)c.num_locals + c.max_height;
        if (frame < c.type->num_results) frame = c.type->num_results;
        *out = (code_func){
            .code = c.code,
            .code_len = c.len,
            .type_index = type_index,
            .num_params = c.type->num_params,
            .num_results = c.type->num_results,
            .num_locals = c.num_locals,
            .frame_size = (uint32_t)frame,
            .num_stack_maps = c.nmaps,
            .stack_maps = c.maps,
            .map_slots = c.map_slots,
        };
        c.code = NULL;
        c.maps = NULL;
        c.map_slots = NULL;
    }
    compiler_free(&c);
    return NULL;
}

void code_func_clear(code_func *f) {
    free(f->code);
    free(f->stack_maps);
    free(f->map_slots);
    *f = (code_func){0};
}
