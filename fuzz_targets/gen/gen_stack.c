/* The body generator's operand stack: leaves, making operands available, reshaping the stack
 * for a frame's end (gen_body.h). */
#include <string.h>

#include "gen_body.h"

static unsigned type_slot(uint8_t t) {
    switch (t) {
    case GEN_T_I32: return 0;
    case GEN_T_I64: return 1;
    case GEN_T_F32: return 2;
    case GEN_T_F64: return 3;
    case GEN_T_FUNCREF: return 4;
    default: return 5;
    }
}

frame *body_top_frame(body *b) { return &b->frames[b->nframes - 1]; }
uint32_t body_avail(const body *b) { return b->sp - b->frames[b->nframes - 1].height; }

void body_push(body *b, uint8_t t) {
    if (b->sp < MAX_STACK) b->stack[b->sp++] = t;
}

void body_pop(body *b, uint32_t n) { b->sp -= n; }

bool body_top_is(const body *b, const uint8_t *types, uint32_t n) {
    if (body_avail(b) < n) return false;
    return n == 0 || memcmp(&b->stack[b->sp - n], types, n) == 0;
}

void body_op(body *b, gen_instr id) {
    const instr_info *info = &gen_instr_info_table[id];
    if (info->prefix) {
        gen_byte(&b->code, info->prefix);
        gen_uleb(&b->code, info->code);
    } else {
        gen_byte(&b->code, info->code);
    }
    if (b->scaffold) {
        b->m->summary->num_scaffold_instrs++;
    } else {
        b->m->summary->opcode_counts[id]++;
        b->emitted++;
    }
}

uint32_t body_pick(body *b, uint32_t n) { return (uint32_t)gen_below(b->in, n); }

/* ---- Leaves: instructions that push one value of a given type and consume nothing ---- */

void body_push_const(body *b, uint8_t t, bool zero) {
    if (gen_is_ref(t)) {
        body_op(b, GEN_I_REF_NULL);
        gen_byte(&b->code, t);
        body_push(b, t);
        return;
    }
    uint64_t bits = zero ? 0 : gen_random_bits(b->in, t);
    switch (t) {
    case GEN_T_I32: body_op(b, GEN_I_I32_CONST); gen_sleb(&b->code, (int32_t)(uint32_t)bits); break;
    case GEN_T_I64: body_op(b, GEN_I_I64_CONST); gen_sleb(&b->code, (int64_t)bits); break;
    case GEN_T_F32: body_op(b, GEN_I_F32_CONST); gen_f32_bits(&b->code, (uint32_t)bits); break;
    default: body_op(b, GEN_I_F64_CONST); gen_f64_bits(&b->code, bits); break;
    }
    body_push(b, t);
}

/* A random index in [0, count) that accept takes; UINT32_MAX when it takes none. */
uint32_t body_pick_where(body *b, uint32_t count, accept_fn accept, unsigned arg) {
    uint32_t found = 0;
    for (uint32_t i = 0; i < count; i++) found += accept(b, i, arg);
    if (!found) return UINT32_MAX;
    uint32_t k = body_pick(b, found);
    for (uint32_t i = 0;; i++)
        if (accept(b, i, arg) && k-- == 0) return i;
}

static bool local_has_type(const body *b, uint32_t i, unsigned t) { return b->locals[i] == t; }
static bool global_has_type(const body *b, uint32_t i, unsigned t) {
    return b->m->globals[i].type == t;
}
static bool func_declared(const body *b, uint32_t i, unsigned unused) {
    (void)unused;
    return b->m->funcs[i].declared;
}

uint32_t body_local_of_type(body *b, uint8_t t) {
    return body_pick_where(b, b->nlocals, local_has_type, t);
}
uint32_t body_global_of_type(body *b, uint8_t t) {
    return body_pick_where(b, b->m->nglobals, global_has_type, t);
}
uint32_t body_declared_func(body *b) { return body_pick_where(b, b->m->nfuncs, func_declared, 0); }

static bool table_has_type(const body *b, uint32_t i, unsigned t) {
    return b->m->tables[i].elem == t;
}
uint32_t body_table_of_type(body *b, uint8_t t) {
    return body_pick_where(b, b->m->ntables, table_has_type, t);
}

uint8_t body_top_type(body *b) { return body_avail(b) ? b->stack[b->sp - 1] : 0; }

void body_leaf(body *b, uint8_t t) {
    unsigned r = body_pick(b, 8);
    uint32_t index;
    if (r >= 5 && (index = body_local_of_type(b, t)) != UINT32_MAX) {
        body_op(b, GEN_I_LOCAL_GET);
        gen_uleb(&b->code, index);
        body_push(b, t);
    } else if (r >= 3 && r < 5 && (index = body_global_of_type(b, t)) != UINT32_MAX) {
        body_op(b, GEN_I_GLOBAL_GET);
        gen_uleb(&b->code, index);
        body_push(b, t);
    } else if (r == 2 && t == GEN_T_FUNCREF && (index = body_declared_func(b)) != UINT32_MAX) {
        body_op(b, GEN_I_REF_FUNC);
        gen_uleb(&b->code, index);
        body_push(b, t);
    } else {
        body_push_const(b, t, false);
    }
}

/* ---- Rearranging operands ---------------------------------------------------------------- */

/* The k-th scratch local of type t, declared on first use; UINT32_MAX when all are taken. */
static uint32_t scratch_local(body *b, uint8_t t, uint32_t k) {
    if (k >= SCRATCH_PER_TYPE) return UINT32_MAX;
    uint32_t *slot = &b->scratch[type_slot(t)][k];
    if (!*slot) {
        b->locals[b->nlocals] = t;
        *slot = ++b->nlocals;
    }
    return *slot - 1;
}

/* Moves the top k values into scratch locals (idx[0] holds the top); false, with nothing
 * emitted, when there are not enough scratch locals. */
static bool spill(body *b, uint32_t k, uint32_t *idx) {
    uint32_t per_type[6] = {0};
    for (uint32_t i = 0; i < k; i++) {
        uint8_t t = b->stack[b->sp - 1 - i];
        idx[i] = scratch_local(b, t, per_type[type_slot(t)]++);
        if (idx[i] == UINT32_MAX) return false;
    }
    for (uint32_t i = 0; i < k; i++) {
        body_op(b, GEN_I_LOCAL_SET);
        gen_uleb(&b->code, idx[i]);
        body_pop(b, 1);
    }
    return true;
}

static void restore(body *b, uint32_t k, const uint32_t *idx) {
    for (uint32_t i = k; i-- > 0;) {
        body_op(b, GEN_I_LOCAL_GET);
        gen_uleb(&b->code, idx[i]);
        body_push(b, b->locals[idx[i]]);
    }
}

/* Makes types[0..n) the top n values: keeps them if they are there, keeps the longest matching
 * tail (moving it aside while the missing operands are pushed below it), else pushes leaves. */
void body_need(body *b, const uint8_t *types, uint32_t n) {
    if (body_top_is(b, types, n)) return;
    uint32_t have = body_avail(b), idx[MAX_NEED];
    for (uint32_t k = (n - 1 < have ? n - 1 : have); k > 0; k--) {
        if (!body_top_is(b, types + n - k, k)) continue;
        if (!spill(b, k, idx)) break;
        for (uint32_t i = 0; i < n - k; i++) body_leaf(b, types[i]);
        restore(b, k, idx);
        return;
    }
    for (uint32_t i = 0; i < n; i++) body_leaf(b, types[i]);
}

static void drop_all(body *b) {
    while (body_avail(b)) {
        body_op(b, GEN_I_DROP);
        body_pop(b, 1);
    }
}

/* Makes the stack above the frame's height exactly types[0..n). */
void body_reshape(body *b, const uint8_t *types, uint32_t n) {
    frame *f = body_top_frame(b);
    if (f->unreachable) {
        b->sp = f->height; /* the stack is polymorphic: the validator supplies the rest */
        return;
    }
    uint32_t have = body_avail(b), idx[MAX_NEED];
    if (have == n && body_top_is(b, types, n)) return;
    if (have > n && body_top_is(b, types, n) && spill(b, n, idx)) {
        drop_all(b);
        restore(b, n, idx);
        return;
    }
    drop_all(b);
    for (uint32_t i = 0; i < n; i++) body_leaf(b, types[i]);
}
