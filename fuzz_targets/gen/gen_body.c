/* Function bodies, type-correct by construction (gen_model.h, gen_body.h): choosing each next
 * instruction, and the body's frame of locals around the code. */
#include <string.h>

#include "gen_body.h"

const instr_info gen_instr_info_table[GEN_INSTR_COUNT] = {
#define GEN_INSTR_INFO(ID, NAME, PREFIX, CODE, SIG, ALIGN, FEATURE)                                \
    {PREFIX, CODE, SIG, ALIGN, GEN_FEAT_##FEATURE},
    GEN_INSTR_LIST(GEN_INSTR_INFO)
#undef GEN_INSTR_INFO
};

static bool gen_instr_at(body *b, gen_instr id) {
    if (gen_instr_info_table[id].sig[0] != '-') return body_fixed(b, id);
    switch (id) {
    case GEN_I_UNREACHABLE:
        if (!b->cfg->allow_traps) return false;
        body_op(b, id);
        body_set_unreachable(b);
        return true;
    case GEN_I_NOP: body_op(b, id); return true;
    case GEN_I_BLOCK:
    case GEN_I_LOOP:
    case GEN_I_IF: return body_block(b, id);
    case GEN_I_ELSE:
        if (body_top_frame(b)->kind != FRAME_IF) return false;
        body_close_frame(b);
        return true;
    case GEN_I_BR:
    case GEN_I_BR_IF:
    case GEN_I_BR_TABLE: return body_branch(b, id);
    case GEN_I_RETURN: return body_return(b);
    case GEN_I_CALL: return body_call(b);
    case GEN_I_CALL_INDIRECT: return body_call_indirect(b);
    case GEN_I_DROP: return body_drop(b);
    case GEN_I_SELECT:
    case GEN_I_SELECT_T: return body_select(b, id);
    case GEN_I_LOCAL_GET:
    case GEN_I_LOCAL_SET:
    case GEN_I_LOCAL_TEE: return body_local(b, id);
    case GEN_I_GLOBAL_GET:
    case GEN_I_GLOBAL_SET: return body_global(b, id);
    case GEN_I_I32_CONST:
    case GEN_I_I64_CONST:
    case GEN_I_F32_CONST:
    case GEN_I_F64_CONST: return body_const(b, id);
    case GEN_I_REF_NULL:
    case GEN_I_REF_IS_NULL:
    case GEN_I_REF_FUNC: return body_ref(b, id);
    case GEN_I_MEMORY_INIT:
    case GEN_I_DATA_DROP:
    case GEN_I_MEMORY_COPY:
    case GEN_I_MEMORY_FILL: return body_bulk_memory(b, id);
    default: return body_table(b, id);
    }
}

static bool feature_on(const gen_config *cfg, uint8_t feature) {
    switch (feature) {
    case GEN_FEAT_SIGN_EXT: return cfg->sign_ext;
    case GEN_FEAT_SAT: return cfg->sat_float_to_int;
    case GEN_FEAT_BULK: return cfg->bulk_memory;
    case GEN_FEAT_REF: return cfg->reference_types;
    default: return true;
    }
}

/* Whether id takes a value of type t from the top of the stack, for steps that consume what the
 * last ones produced. */
static bool consumes(gen_instr id, uint8_t t) {
    const char *sig = gen_instr_info_table[id].sig;
    if (sig[0] != '-') {
        const char *colon = strchr(sig, ':');
        if (colon == sig) return false;
        char last = colon[-1];
        if (last == 'a') return t == GEN_T_I32 || t == GEN_T_I64;
        return body_sig_type(last, 0) == t;
    }
    switch (id) {
    case GEN_I_DROP:
    case GEN_I_LOCAL_SET:
    case GEN_I_LOCAL_TEE:
    case GEN_I_GLOBAL_SET:
    case GEN_I_SELECT_T: return true;
    case GEN_I_SELECT:
    case GEN_I_BR_IF:
    case GEN_I_BR_TABLE:
    case GEN_I_IF:
    case GEN_I_CALL_INDIRECT: return t == GEN_T_I32;
    case GEN_I_REF_IS_NULL:
    case GEN_I_TABLE_SET: return gen_is_ref(t);
    default: return false;
    }
}

static bool enabled_consumes(const body *b, uint32_t i, unsigned t) {
    return consumes(b->enabled[i], (uint8_t)t);
}

/* Memory and table instructions beyond plain loads and stores: rare in a uniform pick among
 * some two hundred, and what the bounds and pooling targets are after. */
static bool enabled_bulk_or_table(const body *b, uint32_t i, unsigned unused) {
    (void)unused;
    gen_instr id = b->enabled[i];
    return id == GEN_I_MEMORY_SIZE || id == GEN_I_MEMORY_GROW || id == GEN_I_TABLE_GET ||
           id == GEN_I_TABLE_SET || id >= GEN_I_MEMORY_INIT;
}

static void step(body *b) {
    static const gen_instr control[] = {GEN_I_BLOCK, GEN_I_LOOP,   GEN_I_IF,
                                        GEN_I_BR,    GEN_I_BR_IF,  GEN_I_BR_TABLE,
                                        GEN_I_CALL,  GEN_I_RETURN, GEN_I_CALL_INDIRECT};
    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned r = body_pick(b, 100);
        uint32_t k;
        gen_instr id;
        bool crowded = body_avail(b) > STACK_SOFT_LIMIT || b->sp > MAX_STACK - 64;
        if (body_avail(b) && (r < 45 || crowded)) {
            uint8_t t = body_top_type(b);
            k = body_pick_where(b, b->nenabled, enabled_consumes, t);
            id = k == UINT32_MAX ? GEN_I_DROP : b->enabled[k];
            if (b->sp > MAX_STACK - 64) id = GEN_I_DROP;
        } else if (r < 58) {
            id = control[body_pick(b, sizeof control / sizeof control[0])];
        } else if (r < 64) {
            k = body_pick_where(b, b->nenabled, enabled_bulk_or_table, 0);
            id = k == UINT32_MAX ? GEN_I_NOP : b->enabled[k];
        } else {
            id = b->enabled[body_pick(b, b->nenabled)];
        }
        if (gen_instr_at(b, id)) return;
    }
    body_op(b, GEN_I_NOP);
}

static void write_locals(gen_buf *out, const body *b, uint32_t first) {
    uint32_t groups = 0;
    for (uint32_t i = first; i < b->nlocals; i++)
        groups += i == first || b->locals[i] != b->locals[i - 1];
    gen_uleb(out, groups);
    for (uint32_t i = first; i < b->nlocals;) {
        uint32_t j = i;
        while (j < b->nlocals && b->locals[j] == b->locals[i]) j++;
        gen_uleb(out, j - i);
        gen_byte(out, b->locals[i]);
        i = j;
    }
}

void gen_body(const gen_model *m, uint32_t func, gen_input *in, gen_buf *out) {
    body storage = {0};
    body *b = &storage;
    b->m = m;
    b->cfg = m->cfg;
    b->in = in;
    b->ftype = &m->types[m->funcs[func].type];
    for (uint32_t i = 0; i < b->ftype->nparams; i++) b->locals[b->nlocals++] = b->ftype->params[i];
    uint32_t max_declared = m->cfg->max_locals < MAX_DECLARED ? m->cfg->max_locals : MAX_DECLARED;
    uint32_t declared = body_pick(b, max_declared + 1u);
    for (uint32_t i = 0; i < declared; i++)
        b->locals[b->nlocals++] = gen_random_valtype(in, m->cfg);
    for (unsigned id = 0; id < GEN_INSTR_COUNT; id++)
        if (feature_on(m->cfg, gen_instr_info_table[id].feature))
            b->enabled[b->nenabled++] = (gen_instr)id;
    b->max_frames = m->cfg->max_nesting + 1u < MAX_FRAMES ? m->cfg->max_nesting + 1u : MAX_FRAMES;
    b->target = body_pick(b, m->cfg->max_body_size + 1u);
    b->frames[b->nframes++] = (frame){.kind = FRAME_FUNC,
                                      .type = {.nresults = b->ftype->nresults}};
    memcpy(b->frames[0].type.results, b->ftype->results, b->ftype->nresults);
    body_spend_budget(b);
    while (b->nframes) {
        frame *f = body_top_frame(b);
        if (!in->left) b->target = 0; /* zeros from here on would only repeat one choice */
        if (f->unreachable || b->emitted >= b->target ||
            (b->nframes > 1 && gen_chance(in, 1, 16)))
            body_close_frame(b);
        else
            step(b);
    }
    write_locals(out, b, b->ftype->nparams);
    gen_bytes(out, b->code.bytes, b->code.len);
    if (b->code.failed) out->failed = true;
    gen_buf_free(&b->code);
}
