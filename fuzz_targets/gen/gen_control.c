/* Control instructions of generated bodies: blocks, loops, ifs, branches, calls, returns, and
 * the budget checks that make code terminate (gen_body.h). */
#include <string.h>

#include "gen_body.h"

static const uint8_t *label_types(const frame *f, uint32_t *n) {
    if (f->kind == FRAME_LOOP) {
        *n = f->type.nparams;
        return f->type.params;
    }
    *n = f->type.nresults;
    return f->type.results;
}

void body_set_unreachable(body *b) {
    frame *f = body_top_frame(b);
    f->unreachable = true;
    b->sp = f->height;
}

/* With config.terminating, at function entry and at each loop iteration: spend one unit of the
 * budget global, or return zeros when it is spent (gen.h). Leaves the modelled stack as it is. */
void body_spend_budget(body *b) {
    uint32_t g = b->m->budget_global;
    if (g == UINT32_MAX) return;
    b->scaffold = true;
    body_op(b, GEN_I_GLOBAL_GET);
    gen_uleb(&b->code, g);
    body_op(b, GEN_I_I32_EQZ);
    body_op(b, GEN_I_IF);
    gen_byte(&b->code, 0x40);
    for (uint32_t i = 0; i < b->ftype->nresults; i++) {
        body_push_const(b, b->ftype->results[i], true);
        body_pop(b, 1);
    }
    body_op(b, GEN_I_RETURN);
    gen_byte(&b->code, 0x0B);
    body_op(b, GEN_I_GLOBAL_GET);
    gen_uleb(&b->code, g);
    body_op(b, GEN_I_I32_CONST);
    gen_sleb(&b->code, 1);
    body_op(b, GEN_I_I32_SUB);
    body_op(b, GEN_I_GLOBAL_SET);
    gen_uleb(&b->code, g);
    b->scaffold = false;
}

static bool same_types(const gen_functype *t) {
    return t->nparams == t->nresults && memcmp(t->params, t->results, t->nparams) == 0;
}

/* Ends the top frame: an if whose type needs one (or sometimes another) gets an else first. */
void body_close_frame(body *b) {
    frame *f = body_top_frame(b);
    if (f->kind == FRAME_IF && (!same_types(&f->type) || gen_chance(b->in, 1, 2))) {
        body_reshape(b, f->type.results, f->type.nresults);
        body_op(b, GEN_I_ELSE);
        b->sp = f->height;
        for (uint32_t i = 0; i < f->type.nparams; i++) body_push(b, f->type.params[i]);
        f->kind = FRAME_ELSE;
        f->unreachable = false;
        if (b->emitted < b->target) return;
    }
    body_reshape(b, f->type.results, f->type.nresults);
    gen_byte(&b->code, 0x0B);
    b->sp = f->height;
    gen_functype results = f->type;
    b->nframes--;
    if (b->nframes)
        for (uint32_t i = 0; i < results.nresults; i++) body_push(b, results.results[i]);
}

static bool params_on_stack(const body *b, uint32_t i, unsigned unused) {
    (void)unused;
    return body_top_is(b, b->m->types[i].params, b->m->types[i].nparams);
}

/* A block type: empty, one result, or (with multi-value) a type index, preferring types whose
 * params are already on the stack. *encoded is what to write: -64 (0x40), a value type's code
 * as a negative s33, or the type index. */
static void choose_blocktype(body *b, gen_functype *bt, int64_t *encoded) {
    *bt = (gen_functype){0};
    *encoded = -64;
    unsigned r = body_pick(b, 4);
    if (r == 1) {
        bt->nresults = 1;
        bt->results[0] = gen_random_valtype(b->in, b->cfg);
        *encoded = (int64_t)bt->results[0] - 0x80;
    } else if (r >= 2 && b->cfg->multi_value && b->m->ntypes) {
        const gen_model *m = b->m;
        uint32_t t = body_pick_where(b, m->ntypes, params_on_stack, 0);
        if (t == UINT32_MAX || r == 3) t = body_pick(b, m->ntypes);
        *bt = m->types[t];
        *encoded = t;
    }
}

bool body_block(body *b, gen_instr id) {
    if (b->nframes >= b->max_frames) return false;
    gen_functype bt;
    int64_t encoded;
    choose_blocktype(b, &bt, &encoded);
    uint8_t types[MAX_NEED];
    memcpy(types, bt.params, bt.nparams);
    uint32_t n = bt.nparams;
    if (id == GEN_I_IF) types[n++] = GEN_T_I32;
    body_need(b, types, n);
    body_op(b, id);
    gen_sleb(&b->code, encoded);
    body_pop(b, n);
    frame *f = &b->frames[b->nframes++];
    *f = (frame){.kind = id == GEN_I_BLOCK  ? FRAME_BLOCK
                         : id == GEN_I_LOOP ? FRAME_LOOP
                                            : FRAME_IF,
                 .type = bt,
                 .height = b->sp};
    for (uint32_t i = 0; i < bt.nparams; i++) body_push(b, bt.params[i]);
    if (id == GEN_I_LOOP) body_spend_budget(b);
    return true;
}

/* Whether the label at depth i has the types of the label at depth arg. */
static bool same_label(const body *b, uint32_t i, unsigned arg) {
    uint32_t n1, n2;
    const uint8_t *t1 = label_types(&b->frames[b->nframes - 1 - i], &n1);
    const uint8_t *t2 = label_types(&b->frames[b->nframes - 1 - arg], &n2);
    return n1 == n2 && memcmp(t1, t2, n1) == 0;
}

bool body_branch(body *b, gen_instr id) {
    uint32_t depth = body_pick(b, b->nframes), n;
    const uint8_t *lt = label_types(&b->frames[b->nframes - 1 - depth], &n);
    uint8_t types[MAX_NEED];
    memcpy(types, lt, n);
    if (id == GEN_I_BR) {
        body_need(b, types, n);
        body_op(b, id);
        gen_uleb(&b->code, depth);
        body_set_unreachable(b);
        return true;
    }
    types[n] = GEN_T_I32;
    body_need(b, types, n + 1);
    body_op(b, id);
    if (id == GEN_I_BR_IF) {
        gen_uleb(&b->code, depth);
        body_pop(b, 1);
        return true;
    }
    /* br_table: every target's label has the default's types. */
    uint32_t count = body_pick(b, 5);
    gen_uleb(&b->code, count);
    for (uint32_t k = 0; k < count; k++) {
        gen_uleb(&b->code, body_pick_where(b, b->nframes, same_label, depth));
    }
    gen_uleb(&b->code, depth);
    body_set_unreachable(b);
    return true;
}

bool body_call(body *b) {
    if (!b->m->nfuncs) return false;
    uint32_t f = body_pick(b, b->m->nfuncs);
    const gen_functype *t = &b->m->types[b->m->funcs[f].type];
    uint8_t types[MAX_NEED];
    memcpy(types, t->params, t->nparams);
    body_need(b, types, t->nparams);
    body_op(b, GEN_I_CALL);
    gen_uleb(&b->code, f);
    body_pop(b, t->nparams);
    for (uint32_t i = 0; i < t->nresults; i++) body_push(b, t->results[i]);
    return true;
}

bool body_call_indirect(body *b) {
    const gen_model *m = b->m;
    uint32_t table = body_table_of_type(b, GEN_T_FUNCREF);
    if (table == UINT32_MAX || !m->ntypes || !b->cfg->allow_traps) return false;
    uint32_t type = body_pick(b, m->ntypes);
    const gen_functype *t = &m->types[type];
    uint8_t types[MAX_NEED];
    memcpy(types, t->params, t->nparams);
    types[t->nparams] = GEN_T_I32;
    body_need(b, types, t->nparams + 1);
    body_op(b, GEN_I_CALL_INDIRECT);
    gen_uleb(&b->code, type);
    gen_uleb(&b->code, table);
    body_pop(b, t->nparams + 1);
    for (uint32_t i = 0; i < t->nresults; i++) body_push(b, t->results[i]);
    return true;
}

bool body_return(body *b) {
    body_need(b, b->ftype->results, b->ftype->nresults);
    body_op(b, GEN_I_RETURN);
    body_set_unreachable(b);
    return true;
}
