/* The non-control instructions of generated bodies: variables, parametric, numeric, memory,
 * table and reference instructions (gen_body.h). */
#include <string.h>

#include "gen_body.h"

static const uint8_t numeric_types[4] = {GEN_T_I32, GEN_T_I64, GEN_T_F32, GEN_T_F64};

/* ---- Variables and parametric instructions ------------------------------------------------ */

bool body_local(body *b, gen_instr id) {
    if (!b->nlocals) return false;
    uint32_t l = UINT32_MAX;
    if (id != GEN_I_LOCAL_GET && body_avail(b)) l = body_local_of_type(b, body_top_type(b));
    if (l == UINT32_MAX) l = body_pick(b, b->nlocals);
    uint8_t t = b->locals[l];
    if (id != GEN_I_LOCAL_GET) body_need(b, &t, 1);
    body_op(b, id);
    gen_uleb(&b->code, l);
    if (id == GEN_I_LOCAL_SET) body_pop(b, 1);
    if (id == GEN_I_LOCAL_GET) body_push(b, t);
    return true;
}

/* A global code may set: mutable, not the budget, of type t (any type when t is 0). */
static bool settable_global(const body *b, uint32_t g, unsigned t) {
    const gen_model *m = b->m;
    return m->globals[g].is_mutable && g != m->budget_global && (!t || m->globals[g].type == t);
}

bool body_global(body *b, gen_instr id) {
    const gen_model *m = b->m;
    if (id == GEN_I_GLOBAL_GET) {
        if (!m->nglobals) return false;
        uint32_t g = body_pick(b, m->nglobals);
        body_op(b, id);
        gen_uleb(&b->code, g);
        body_push(b, m->globals[g].type);
        return true;
    }
    uint8_t top = body_top_type(b);
    uint32_t g = top ? body_pick_where(b, m->nglobals, settable_global, top) : UINT32_MAX;
    if (g == UINT32_MAX) g = body_pick_where(b, m->nglobals, settable_global, 0);
    if (g == UINT32_MAX) return false;
    body_need(b, &m->globals[g].type, 1);
    body_op(b, id);
    gen_uleb(&b->code, g);
    body_pop(b, 1);
    return true;
}

bool body_select(body *b, gen_instr id) {
    uint8_t t;
    uint32_t have = body_avail(b);
    const uint8_t *s = &b->stack[b->sp - (have < 3 ? have : 3)];
    bool typed = id == GEN_I_SELECT_T;
    if (have >= 3 && s[2] == GEN_T_I32 && s[0] == s[1] && (typed || !gen_is_ref(s[0])))
        t = s[0];
    else
        t = id == GEN_I_SELECT ? numeric_types[body_pick(b, 4)] : gen_random_valtype(b->in, b->cfg);
    uint8_t types[3] = {t, t, GEN_T_I32};
    body_need(b, types, 3);
    body_op(b, id);
    if (id == GEN_I_SELECT_T) {
        gen_uleb(&b->code, 1);
        gen_byte(&b->code, t);
    }
    body_pop(b, 3);
    body_push(b, t);
    return true;
}

bool body_drop(body *b) {
    if (!body_avail(b)) body_leaf(b, gen_random_valtype(b->in, b->cfg));
    body_op(b, GEN_I_DROP);
    body_pop(b, 1);
    return true;
}

/* ---- Memory ------------------------------------------------------------------------------ */

static uint8_t addr_type(const gen_memory *mem) { return mem->is64 ? GEN_T_I64 : GEN_T_I32; }

static uint64_t random_offset(body *b, const gen_memory *mem) {
    uint64_t top = mem->is64 && !b->cfg->wabt_compatible ? UINT64_MAX : UINT32_MAX;
    uint64_t size = gen_pages_bytes(mem->limits.min);
    uint64_t offset;
    switch (body_pick(b, 16)) {
    case 9: case 10: offset = gen_below(b->in, 1u << 17); break;
    case 11: case 12: offset = size - (size < 16 ? size : gen_below(b->in, 16)); break;
    case 13: offset = UINT32_MAX - gen_below(b->in, 16); break;
    case 14: offset = top - gen_below(b->in, 16); break;
    case 15: offset = top > UINT32_MAX ? (UINT64_C(1) << 32) + gen_below(b->in, 16) : top; break;
    default: offset = gen_below(b->in, 64); break;
    }
    if (offset > top) offset = top;
    if (offset >= UINT32_MAX - 0xFFFF) b->m->summary->num_large_offsets++;
    return offset;
}

static void memarg(body *b, uint8_t natural, uint32_t mem, uint64_t offset) {
    uint32_t align = gen_chance(b->in, 1, 4) ? body_pick(b, natural + 1u) : natural;
    /* Multi-memory: bit 6 of the alignment field says a memory index follows. */
    gen_uleb(&b->code, align | (mem ? 0x40u : 0));
    if (mem) gen_uleb(&b->code, mem);
    gen_uleb(&b->code, offset);
}

/* Without traps an access goes through address & mask, with mask + offset + size within the
 * memory's minimum (memories never shrink). False when the memory is too small. */
static bool safe_address(body *b, const gen_memory *mem, uint8_t natural, uint64_t *offset) {
    uint64_t size = gen_pages_bytes(mem->limits.min), access = 1u << natural;
    if (size < access) return false;
    uint64_t room = size - access, mask = 0;
    while (mask * 2 + 1 <= room && mask < (UINT64_C(1) << 40)) mask = mask * 2 + 1;
    *offset = gen_below(b->in, room - mask + 1 < 64 ? room - mask + 1 : 64);
    uint8_t at = addr_type(mem);
    body_need(b, &at, 1);
    b->scaffold = true;
    if (mem->is64) {
        body_op(b, GEN_I_I64_CONST);
        gen_sleb(&b->code, (int64_t)mask);
        body_op(b, GEN_I_I64_AND);
    } else {
        body_op(b, GEN_I_I32_CONST);
        gen_sleb(&b->code, (int32_t)(uint32_t)mask);
        body_op(b, GEN_I_I32_AND);
    }
    b->scaffold = false;
    return true;
}

static bool is_div_rem(gen_instr id) {
    return (id >= GEN_I_I32_DIV_S && id <= GEN_I_I32_REM_U) ||
           (id >= GEN_I_I64_DIV_S && id <= GEN_I_I64_REM_U);
}

static bool is_trapping_trunc(gen_instr id) {
    return id >= GEN_I_I32_TRUNC_F32_S && id <= GEN_I_I64_TRUNC_F64_U &&
           id != GEN_I_I64_EXTEND_I32_S && id != GEN_I_I64_EXTEND_I32_U;
}

/* Without traps, a divisor made positive and nonzero: (x & INT_MAX) | 1. */
static void safe_divisor(body *b, uint8_t t) {
    b->scaffold = true;
    if (t == GEN_T_I32) {
        body_op(b, GEN_I_I32_CONST);
        gen_sleb(&b->code, INT32_MAX);
        body_op(b, GEN_I_I32_AND);
        body_op(b, GEN_I_I32_CONST);
        gen_sleb(&b->code, 1);
        body_op(b, GEN_I_I32_OR);
    } else {
        body_op(b, GEN_I_I64_CONST);
        gen_sleb(&b->code, INT64_MAX);
        body_op(b, GEN_I_I64_AND);
        body_op(b, GEN_I_I64_CONST);
        gen_sleb(&b->code, 1);
        body_op(b, GEN_I_I64_OR);
    }
    b->scaffold = false;
}

uint8_t body_sig_type(char c, uint8_t addr) {
    switch (c) {
    case 'i': return GEN_T_I32;
    case 'I': return GEN_T_I64;
    case 'f': return GEN_T_F32;
    case 'F': return GEN_T_F64;
    default: return addr;
    }
}

/* Instructions with a SIG in gen_instrs.h: numeric ones, loads, stores, memory.size/grow. */
bool body_fixed(body *b, gen_instr id) {
    const instr_info *info = &gen_instr_info_table[id];
    const gen_model *m = b->m;
    bool uses_memory = strchr(info->sig, 'a') != NULL;
    bool access = id >= GEN_I_I32_LOAD && id <= GEN_I_I64_STORE32;
    uint32_t mem = 0;
    uint8_t addr = 0;
    if (uses_memory) {
        if (!m->nmemories) return false;
        mem = body_pick(b, m->nmemories);
        addr = addr_type(&m->memories[mem]);
    }
    if (!b->cfg->allow_traps && is_trapping_trunc(id)) return false;
    if (b->cfg->nan_free_bits && (id == GEN_I_F32_STORE || id == GEN_I_F64_STORE ||
                                  id == GEN_I_I32_REINTERPRET_F32 ||
                                  id == GEN_I_I64_REINTERPRET_F64))
        return false;
    uint8_t params[4], results[2];
    uint32_t np = 0, nr = 0;
    const char *c = info->sig;
    for (; *c != ':'; c++) params[np++] = body_sig_type(*c, addr);
    for (c++; *c; c++) results[nr++] = body_sig_type(*c, addr);
    uint64_t offset = 0;
    if (access && !b->cfg->allow_traps) {
        if (!safe_address(b, &m->memories[mem], info->align, &offset)) return false;
        if (np == 2) body_leaf(b, params[1]); /* a store's value, above the masked address */
    } else {
        body_need(b, params, np);
        if (access) offset = random_offset(b, &m->memories[mem]);
        if (!b->cfg->allow_traps && is_div_rem(id)) safe_divisor(b, params[1]);
    }
    body_op(b, id);
    if (access)
        memarg(b, info->align, mem, offset);
    else if (uses_memory)
        gen_uleb(&b->code, mem);
    body_pop(b, np);
    for (uint32_t i = 0; i < nr; i++) body_push(b, results[i]);
    return true;
}

bool body_const(body *b, gen_instr id) {
    static const uint8_t types[4] = {GEN_T_I32, GEN_T_I64, GEN_T_F32, GEN_T_F64};
    body_push_const(b, types[id - GEN_I_I32_CONST], false);
    return true;
}

static void pick_memory_pair(body *b, uint32_t *dst, uint32_t *src, uint8_t *len) {
    const gen_model *m = b->m;
    *dst = b->cfg->multi_memory ? body_pick(b, m->nmemories) : 0;
    *src = b->cfg->multi_memory ? body_pick(b, m->nmemories) : 0;
    /* memory.copy between an i32 and an i64 memory takes an i32 length. */
    *len = m->memories[*dst].is64 && m->memories[*src].is64 ? GEN_T_I64 : GEN_T_I32;
}

bool body_bulk_memory(body *b, gen_instr id) {
    const gen_model *m = b->m;
    if (!m->nmemories && id != GEN_I_DATA_DROP) return false;
    if (!b->cfg->allow_traps && id != GEN_I_DATA_DROP) return false;
    uint32_t mem = m->nmemories ? body_pick(b, m->nmemories) : 0;
    uint8_t types[3];
    switch (id) {
    case GEN_I_MEMORY_INIT:
    case GEN_I_DATA_DROP: {
        if (!m->ndatas || !m->has_datacount) return false;
        uint32_t data = body_pick(b, m->ndatas);
        if (id == GEN_I_MEMORY_INIT) {
            types[0] = addr_type(&m->memories[mem]);
            types[1] = types[2] = GEN_T_I32;
            body_need(b, types, 3);
        }
        body_op(b, id);
        gen_uleb(&b->code, data);
        if (id == GEN_I_MEMORY_INIT) {
            gen_uleb(&b->code, mem);
            body_pop(b, 3);
        }
        return true;
    }
    case GEN_I_MEMORY_COPY: {
        uint32_t dst, src;
        pick_memory_pair(b, &dst, &src, &types[2]);
        types[0] = addr_type(&m->memories[dst]);
        types[1] = addr_type(&m->memories[src]);
        body_need(b, types, 3);
        body_op(b, id);
        gen_uleb(&b->code, dst);
        gen_uleb(&b->code, src);
        body_pop(b, 3);
        return true;
    }
    default: /* memory.fill */
        types[0] = types[2] = addr_type(&m->memories[mem]);
        types[1] = GEN_T_I32;
        body_need(b, types, 3);
        body_op(b, id);
        gen_uleb(&b->code, mem);
        body_pop(b, 3);
        return true;
    }
}

/* ---- Tables and references ----------------------------------------------------------------- */

static bool elem_has_type(const body *b, uint32_t i, unsigned t) {
    return b->m->elems[i].type == t;
}

bool body_table(body *b, gen_instr id) {
    const gen_model *m = b->m;
    if (id == GEN_I_ELEM_DROP) {
        if (!m->nelems) return false;
        body_op(b, id);
        gen_uleb(&b->code, body_pick(b, m->nelems));
        return true;
    }
    if (!m->ntables) return false;
    bool traps = id != GEN_I_TABLE_SIZE && id != GEN_I_TABLE_GROW && id != GEN_I_ELEM_DROP;
    if (traps && !b->cfg->allow_traps) return false;
    uint32_t t = body_pick(b, m->ntables);
    uint8_t elem = m->tables[t].elem, types[3];
    switch (id) {
    case GEN_I_TABLE_GET:
        types[0] = GEN_T_I32;
        body_need(b, types, 1);
        body_op(b, id);
        gen_uleb(&b->code, t);
        body_pop(b, 1);
        body_push(b, elem);
        return true;
    case GEN_I_TABLE_SET:
        types[0] = GEN_T_I32;
        types[1] = elem;
        body_need(b, types, 2);
        body_op(b, id);
        gen_uleb(&b->code, t);
        body_pop(b, 2);
        return true;
    case GEN_I_TABLE_SIZE:
        body_op(b, id);
        gen_uleb(&b->code, t);
        body_push(b, GEN_T_I32);
        return true;
    case GEN_I_TABLE_GROW:
        types[0] = elem;
        types[1] = GEN_T_I32;
        body_need(b, types, 2);
        body_op(b, id);
        gen_uleb(&b->code, t);
        body_pop(b, 2);
        body_push(b, GEN_T_I32);
        return true;
    case GEN_I_TABLE_FILL:
        types[0] = GEN_T_I32;
        types[1] = elem;
        types[2] = GEN_T_I32;
        body_need(b, types, 3);
        body_op(b, id);
        gen_uleb(&b->code, t);
        body_pop(b, 3);
        return true;
    case GEN_I_TABLE_COPY: {
        uint32_t src = body_table_of_type(b, elem);
        types[0] = types[1] = types[2] = GEN_T_I32;
        body_need(b, types, 3);
        body_op(b, id);
        gen_uleb(&b->code, t);
        gen_uleb(&b->code, src);
        body_pop(b, 3);
        return true;
    }
    default: /* table.init */
        break;
    }
    uint32_t e = body_pick_where(b, m->nelems, elem_has_type, elem);
    if (e == UINT32_MAX) return false;
    types[0] = types[1] = types[2] = GEN_T_I32;
    body_need(b, types, 3);
    body_op(b, id);
    gen_uleb(&b->code, e);
    gen_uleb(&b->code, t);
    body_pop(b, 3);
    return true;
}

bool body_ref(body *b, gen_instr id) {
    if (id == GEN_I_REF_NULL) {
        body_push_const(b, gen_chance(b->in, 1, 2) ? GEN_T_EXTERNREF : GEN_T_FUNCREF, false);
        return true;
    }
    if (id == GEN_I_REF_FUNC) {
        uint32_t f = body_declared_func(b);
        if (f == UINT32_MAX) return false;
        body_op(b, id);
        gen_uleb(&b->code, f);
        body_push(b, GEN_T_FUNCREF);
        return true;
    }
    uint8_t t = body_top_type(b);
    if (!gen_is_ref(t)) t = gen_chance(b->in, 1, 2) ? GEN_T_EXTERNREF : GEN_T_FUNCREF;
    body_need(b, &t, 1);
    body_op(b, id);
    body_pop(b, 1);
    body_push(b, GEN_T_I32);
    return true;
}
