/* The body generator's shared state and steps (gen_body.c drives them; gen_stack.c keeps the
 * operand stack, gen_control.c the control instructions, gen_ops.c the others).
 *
 * The generator keeps the validator's own state (spec appendix A.3): the operand stack of value
 * types and the control stack of frames. Each step picks an instruction, makes its operands
 * available on top of the stack (reusing what is there, else pushing fresh leaves: constants,
 * local.get, global.get, ref.null, ref.func), emits it and applies its type. After an
 * unconditional branch the frame is closed at once, so the stack is never polymorphic except
 * between that branch and the frame's end. Closing a frame first reshapes the stack to the
 * frame's results. The instruction steps (body_block ... body_ref) return false, having emitted
 * nothing, when the module or the configuration rules the instruction out.
 */
#ifndef WAFER_GEN_BODY_H
#define WAFER_GEN_BODY_H

#include "gen_model.h"

enum { GEN_FEAT_MVP, GEN_FEAT_SIGN_EXT, GEN_FEAT_SAT, GEN_FEAT_BULK, GEN_FEAT_REF };

typedef struct instr_info {
    uint8_t prefix, code;
    const char *sig;
    uint8_t align, feature;
} instr_info;

/* Rows of gen_instrs.h, by gen_instr. */
extern const instr_info gen_instr_info_table[GEN_INSTR_COUNT];

enum {
    MAX_STACK = 4096,
    STACK_SOFT_LIMIT = 24, /* above the frame's height: consume before pushing more */
    MAX_FRAMES = 64,
    MAX_DECLARED = 64,
    SCRATCH_PER_TYPE = 8, /* locals added to hold values while operands are rearranged */
    MAX_LOCALS = GEN_MAX_PARAMS + MAX_DECLARED + 6 * SCRATCH_PER_TYPE,
    MAX_NEED = 2 * GEN_MAX_PARAMS + 4,
};

typedef enum frame_kind { FRAME_FUNC, FRAME_BLOCK, FRAME_LOOP, FRAME_IF, FRAME_ELSE } frame_kind;

typedef struct frame {
    frame_kind kind;
    gen_functype type; /* the block type; a function's frame has no params (they are locals) */
    uint32_t height;   /* operand stack height below the block's params */
    bool unreachable;  /* after br, br_table, return or unreachable */
} frame;

typedef struct body {
    const gen_model *m;
    const gen_config *cfg;
    gen_input *in;
    gen_buf code;
    const gen_functype *ftype;
    uint8_t locals[MAX_LOCALS];
    uint32_t nlocals;
    uint32_t scratch[6][SCRATCH_PER_TYPE]; /* local index + 1, by type slot */
    uint8_t stack[MAX_STACK];
    uint32_t sp;
    frame frames[MAX_FRAMES];
    uint32_t nframes, max_frames;
    uint32_t emitted, target; /* instructions, scaffolding left out */
    bool scaffold; /* emitting budget checks or trap guards, which statistics leave out */
    gen_instr enabled[GEN_INSTR_COUNT];
    uint32_t nenabled;
} body;

typedef bool (*accept_fn)(const body *b, uint32_t i, unsigned arg);

/* gen_stack.c: the operand stack and leaves. */
frame *body_top_frame(body *b);
uint32_t body_avail(const body *b); /* values above the top frame's height */
void body_push(body *b, uint8_t t);
void body_pop(body *b, uint32_t n);
bool body_top_is(const body *b, const uint8_t *types, uint32_t n);
uint8_t body_top_type(body *b); /* 0 when nothing is above the frame's height */
/* Emits the instruction's opcode and counts it (unless scaffolding). */
void body_op(body *b, gen_instr id);
uint32_t body_pick(body *b, uint32_t n);
/* A random index in [0, count) that accept takes; UINT32_MAX when it takes none. */
uint32_t body_pick_where(body *b, uint32_t count, accept_fn accept, unsigned arg);
uint32_t body_local_of_type(body *b, uint8_t t);
uint32_t body_global_of_type(body *b, uint8_t t);
uint32_t body_table_of_type(body *b, uint8_t t);
uint32_t body_declared_func(body *b);
void body_push_const(body *b, uint8_t t, bool zero);
void body_leaf(body *b, uint8_t t);
void body_need(body *b, const uint8_t *types, uint32_t n);
void body_reshape(body *b, const uint8_t *types, uint32_t n);

/* gen_control.c */
void body_set_unreachable(body *b);
void body_spend_budget(body *b);
void body_close_frame(body *b);
bool body_block(body *b, gen_instr id);
bool body_branch(body *b, gen_instr id);
bool body_call(body *b);
bool body_call_indirect(body *b);
bool body_return(body *b);

/* gen_ops.c */
uint8_t body_sig_type(char c, uint8_t addr); /* a gen_instrs.h SIG letter's type */
bool body_local(body *b, gen_instr id);
bool body_global(body *b, gen_instr id);
bool body_select(body *b, gen_instr id);
bool body_drop(body *b);
bool body_fixed(body *b, gen_instr id);
bool body_const(body *b, gen_instr id);
bool body_bulk_memory(body *b, gen_instr id);
bool body_table(body *b, gen_instr id);
bool body_ref(body *b, gen_instr id);

#endif
