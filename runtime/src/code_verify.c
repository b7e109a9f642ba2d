/* Verification of loaded compiled code (code_verify.h).
 *
 * Three passes over the function. The first walks the instructions (known opcodes, operands
 * within the code) and marks where each starts. The second checks every instruction's static
 * operands, reachable or not: slots within the frame, indices within the module's index spaces,
 * branch targets on instruction starts. The third is an abstract interpretation of the reachable
 * code over slot kinds (below), to a fixpoint at branch targets, checking every use of a slot
 * against what the instruction needs of it.
 */
#include "code_verify.h"
#include "error.h"
#include "planted.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A slot's abstract contents: the set of kinds its value is valid as. A merge of paths
 * intersects the sets; 0 (K_NONE) is a slot nothing may be assumed of (never written, or
 * written differently on different paths), the constant 0 is valid as every kind (a null
 * reference reads as 0). */
enum {
    K_NONE = 0,
    K_NUM = 1,
    K_FUNC = 2,
    K_EXTERN = 4,
    K_REF = K_FUNC | K_EXTERN,
    K_ZERO = K_NUM | K_FUNC | K_EXTERN,
};

/* The layout of code.h that the memory and numeric cases below rely on. */
_Static_assert(OP_STORE64 + 1 == OP_LOAD8_U_M64, "32-bit memory ops precede the 64-bit ones");
_Static_assert(OP_STORE64_M64 + 1 == OP_I32_EQZ, "numeric ops follow the memory ops");
_Static_assert(OP_STORE8 - OP_LOAD8_U == 9, "nine loads precede the stores");

#define NOT_TARGET UINT32_MAX

/* The analysis costs a frame's worth of work per branch target (memory) and per merge into one
 * (time); a function that would need more than this many slot steps in all is refused as too
 * large (WAFER_ERROR_LIMIT) rather than verified slowly: a crafted file could otherwise make
 * loading take hours. The compiler's output for the spec suite stays far below it. */
#define WORK_LIMIT ((uint64_t)1 << 28)

typedef struct verifier {
    const wafer_module *m;
    const code_func *f;
    const uint32_t *code;
    uint32_t len;
    uint32_t frame;
    uint8_t *is_start;     /* per cell */
    uint32_t *target_of;   /* per cell: NOT_TARGET, or the index of the branch target there */
    uint32_t *target_pc;   /* per target index */
    uint32_t ntargets;
    bool typing;           /* third pass: cur holds the slot kinds before the instruction */
    uint8_t *cur;          /* frame slots */
    uint8_t *states;       /* ntargets * frame: the kinds on entry to each target */
    bool *visited, *queued; /* per target: reached; to be (re)run */
    uint32_t nqueued;
    uint64_t work;         /* slot steps so far, against WORK_LIMIT */
    bool too_large;
    uint32_t pc;           /* the instruction being checked */
    char msg[200];
} verifier;

static bool fail(verifier *v, const char *fmt, ...) WAFER_PRINTF(2, 3);
static bool fail(verifier *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof v->msg, fmt, ap);
    va_end(ap);
    return false;
}

static uint8_t kind_of(wafer_valtype t) {
    switch (t) {
    case WAFER_I32:
    case WAFER_I64:
    case WAFER_F32:
    case WAFER_F64: return K_NUM;
    case WAFER_FUNCREF: return K_FUNC;
    case WAFER_EXTERNREF: return K_EXTERN;
    default: return K_NONE; /* nothing satisfies it: v128 code never verifies */
    }
}

static const char *kind_name(uint8_t k) {
    switch (k) {
    case K_NUM: return "a number";
    case K_FUNC: return "a funcref";
    case K_EXTERN: return "an externref";
    case K_REF: return "a reference";
    default: return "a value of an unsupported type";
    }
}

static uint32_t cell(const verifier *v, uint32_t i) { return v->code[v->pc + 1 + i]; }

/* A slot the instruction reads, needing a value valid as one of the kinds in `need`. */
static bool read_slot(verifier *v, uint32_t slot, uint8_t need) {
    if (slot >= v->frame) return fail(v, "slot %u outside the frame of %u", slot, v->frame);
    if (v->typing && !(v->cur[slot] & need))
        return fail(v, "slot %u does not hold %s", slot, kind_name(need));
    return true;
}
static bool rd(verifier *v, uint32_t i, uint8_t need) { return read_slot(v, cell(v, i), need); }

/* The kinds of a slot operand the instruction moves without using (COPY, SELECT). */
static bool get(verifier *v, uint32_t i, uint8_t *kind) {
    uint32_t slot = cell(v, i);
    if (slot >= v->frame) return fail(v, "slot %u outside the frame of %u", slot, v->frame);
    *kind = v->typing ? v->cur[slot] : K_NONE;
    return true;
}

static bool wr(verifier *v, uint32_t i, uint8_t kind) {
    uint32_t slot = cell(v, i);
    if (slot >= v->frame && !PLANTED("deserialize"))
        return fail(v, "slot %u outside the frame of %u", slot, v->frame);
    if (v->typing) v->cur[slot] = kind;
    return true;
}

static bool idx(verifier *v, uint32_t i, uint32_t count, const char *what, uint32_t *out) {
    *out = cell(v, i);
    if (*out >= count) return fail(v, "%s index %u out of range (%u)", what, *out, count);
    return true;
}

/* The current kinds flow into target t: its entry kinds become their intersection with them,
 * and t is (re)queued when they change. */
static void merge(verifier *v, uint32_t t) {
    uint8_t *st = v->states + (size_t)t * v->frame;
    v->work += v->frame;
    bool changed = false;
    if (!v->visited[t]) {
        memcpy(st, v->cur, v->frame);
        v->visited[t] = changed = true;
    } else {
        for (uint32_t s = 0; s < v->frame; s++) {
            uint8_t k = st[s] & v->cur[s];
            if (k != st[s]) {
                st[s] = k;
                changed = true;
            }
        }
    }
    if (changed && !v->queued[t]) {
        v->queued[t] = true;
        v->nqueued++;
    }
}

static bool fuel_at(const verifier *v, uint32_t pc);

/* Branch operand i: its target must be an instruction start. No loop may escape the engine's
 * limits (code.h): for an epoch engine a backward branch is a _LOOP one, which checks the
 * deadline, and for a fuel engine it goes to a FUEL. When typing, the current kinds flow there. */
static bool branch(verifier *v, uint32_t i) {
    int64_t target = (int64_t)v->pc + (int32_t)cell(v, i);
    if (target < 0 || target >= v->len || !v->is_start[target])
        return fail(v, "branch to %lld, not an instruction start", (long long)target);
    const wafer_config *config = wafer_engine_config(v->m->engine);
    if (target <= v->pc && config->epoch_interruption && !code_is_loop_branch(v->code[v->pc]))
        return fail(v, "backward branch to %lld that does not check the epoch deadline",
                    (long long)target);
    if (target <= v->pc && config->consume_fuel && !fuel_at(v, (uint32_t)target))
        return fail(v, "backward branch to %lld, not a block's FUEL", (long long)target);
    if (!v->typing) {
        v->target_of[target] = 0; /* numbered once every branch is seen */
        return true;
    }
    merge(v, v->target_of[target]);
    return true;
}

/* The stack map of the safepoint at pc: its slots lie below base (a call's base, or a get's
 * destination) and hold externrefs, and every slot below base that certainly holds one is listed
 * (a collector walking the frame must find each live reference). */
static bool check_stack_map(verifier *v, uint32_t base) {
    const code_func *f = v->f;
    uint32_t lo = 0, hi = f->num_stack_maps;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (f->stack_maps[mid].pc < v->pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    const uint32_t *slots = NULL;
    uint32_t count = 0;
    if (lo < f->num_stack_maps && f->stack_maps[lo].pc == v->pc && f->stack_maps[lo].count) {
        slots = f->map_slots + f->stack_maps[lo].first;
        count = f->stack_maps[lo].count;
    }
    uint32_t k = 0;
    for (uint32_t s = 0; s < base; s++) {
        bool listed = k < count && slots[k] == s;
        if (listed) k++;
        if (listed && !(v->cur[s] & K_EXTERN))
            return fail(v, "stack map lists slot %u, which holds no externref", s);
        if (!listed && v->cur[s] == K_EXTERN)
            return fail(v, "stack map omits slot %u, which holds an externref", s);
    }
    if (k != count) return fail(v, "stack map lists slot %u, not below the call's base", slots[k]);
    return true;
}

/* TABLE_GET_EXTERN and GLOBAL_GET_EXTERN: a collection may run there, with the frame's
 * externrefs below the destination d. */
static bool safepoint(verifier *v, uint32_t d) {
    if (d >= v->frame) return fail(v, "slot %u outside the frame of %u", d, v->frame);
    if (!v->typing) return true;
    v->work += v->frame;
    if (v->work > WORK_LIMIT) {
        v->too_large = true;
        return fail(v, "function too large to verify");
    }
    return check_stack_map(v, d);
}

/* A call of `type` with its frame at operand `base_cell`: arguments in base.., results back in
 * base..; the callee's frame (its size checked against the stack when entered) or a host
 * function's arguments and results start at base, so everything from base up is clobbered. */
static bool call(verifier *v, const wafer_functype *type, uint32_t base_cell) {
    uint32_t base = cell(v, base_cell);
    uint32_t used = type->num_params > type->num_results ? type->num_params : type->num_results;
    if ((uint64_t)base + used > v->frame)
        return fail(v, "call frame at slot %u needs %u slots, past the frame of %u", base, used,
                    v->frame);
    if (!v->typing) return true;
    v->work += v->frame; /* the stack map walk below base and the clobbering from it */
    if (v->work > WORK_LIMIT) {
        v->too_large = true;
        return fail(v, "function too large to verify");
    }
    for (uint32_t j = 0; j < type->num_params; j++)
        if (!read_slot(v, base + j, kind_of(type->params[j]))) return false;
    if (!check_stack_map(v, base)) return false;
    memset(v->cur + base, K_NONE, v->frame - base);
    for (uint32_t j = 0; j < type->num_results; j++) v->cur[base + j] = kind_of(type->results[j]);
    return true;
}

static bool memory_op(verifier *v, code_op op) {
    const wafer_module *m = v->m;
    bool is64 = op >= OP_LOAD8_U_M64;
    code_op base_op = is64 ? (code_op)(op - (OP_LOAD8_U_M64 - OP_LOAD8_U)) : op;
    uint32_t mi;
    if (!idx(v, 2, m->num_memories, "memory", &mi)) return false;
    if (m->memories[mi].is64 != is64)
        return fail(v, "memory %u is %s-bit", mi, m->memories[mi].is64 ? "64" : "32");
    if (base_op >= OP_STORE8) return rd(v, 0, K_NUM) && rd(v, 1, K_NUM);
    return rd(v, 1, K_NUM) && wr(v, 0, K_NUM);
}

/* Checks the instruction at v->pc (and when typing, applies it to cur); *falls says whether
 * control may go on to the next instruction. */
static bool step(verifier *v, bool *falls) {
    const wafer_module *m = v->m;
    code_op op = code_plain_branch(v->code[v->pc]);
    uint32_t a, b;
    uint8_t ka, kb;
    *falls = true;
    if (code_is_cmp_branch(op)) { /* "a b off", or "a k off" for the _K ones */
        return rd(v, 0, K_NUM) && (code_is_k_branch(op) || rd(v, 1, K_NUM)) && branch(v, 2);
    }
    switch (op) {
    case OP_UNREACHABLE:
    case OP_RETURN:
        *falls = false;
        if (op == OP_RETURN)
            for (uint32_t j = 0; j < v->f->num_results; j++)
                if (!read_slot(v, j, kind_of(m->types[v->f->type_index].results[j]))) return false;
        return true;
    case OP_BR: *falls = false; return branch(v, 0);
    case OP_BR_IF:
    case OP_BR_UNLESS: return rd(v, 0, K_NUM) && branch(v, 1);
    case OP_BR_TABLE:
        *falls = false;
        if (!rd(v, 0, K_NUM)) return false;
        for (uint32_t i = 0; i <= cell(v, 1); i++)
            if (!branch(v, 2 + i)) return false;
        return true;
    case OP_CALL:
        return idx(v, 0, m->num_funcs, "function", &a) &&
               call(v, &m->types[m->func_type_indices[a]], 1);
    case OP_CALL_INDIRECT:
        if (!idx(v, 0, m->num_types, "type", &a) || !idx(v, 1, m->num_tables, "table", &b))
            return false;
        if (m->tables[b].elem != WAFER_FUNCREF)
            return fail(v, "table %u is not a funcref table", b);
        return rd(v, 2, K_NUM) && call(v, &m->types[a], 3);
    case OP_FUEL: return true;
    case OP_COPY: return get(v, 1, &ka) && wr(v, 0, ka);
    case OP_CONST32: return wr(v, 0, cell(v, 1) == 0 ? K_ZERO : K_NUM);
    case OP_CONST64: return wr(v, 0, (cell(v, 1) | cell(v, 2)) == 0 ? K_ZERO : K_NUM);
    case OP_SELECT: return rd(v, 3, K_NUM) && get(v, 1, &ka) && get(v, 2, &kb) && wr(v, 0, ka & kb);
    case OP_GLOBAL_GET:
        return idx(v, 1, m->num_globals, "global", &a) &&
               wr(v, 0, kind_of(m->globals[a].type.type));
    case OP_GLOBAL_SET:
    case OP_GLOBAL_SET_EXTERN:
        if (!idx(v, 0, m->num_globals, "global", &a)) return false;
        if (!m->globals[a].type.is_mutable) return fail(v, "global %u is immutable", a);
        if ((op == OP_GLOBAL_SET_EXTERN) != (m->globals[a].type.type == WAFER_EXTERNREF))
            return fail(v, "%s on a global of another type", code_op_name(op));
        return rd(v, 1, kind_of(m->globals[a].type.type));
    case OP_GLOBAL_GET_EXTERN:
        if (!idx(v, 1, m->num_globals, "global", &a)) return false;
        if (m->globals[a].type.type != WAFER_EXTERNREF)
            return fail(v, "global.get of externref on global %u of another type", a);
        return safepoint(v, cell(v, 0)) && wr(v, 0, K_EXTERN);
    case OP_REF_IS_NULL: return rd(v, 1, K_REF) && wr(v, 0, K_NUM);
    case OP_REF_FUNC:
        if (!idx(v, 1, m->num_funcs, "function", &a)) return false;
        if (!(m->declared_refs[a / 8] & (1u << (a % 8))))
            return fail(v, "function %u is not declared for ref.func", a);
        return wr(v, 0, K_FUNC);
    case OP_TABLE_GET:
        return idx(v, 1, m->num_tables, "table", &a) && rd(v, 2, K_NUM) &&
               wr(v, 0, kind_of(m->tables[a].elem));
    case OP_TABLE_GET_EXTERN:
        if (!idx(v, 1, m->num_tables, "table", &a)) return false;
        if (m->tables[a].elem != WAFER_EXTERNREF)
            return fail(v, "table.get of externref on table %u of another type", a);
        return rd(v, 2, K_NUM) && safepoint(v, cell(v, 0)) && wr(v, 0, K_EXTERN);
    case OP_TABLE_SET:
        return idx(v, 0, m->num_tables, "table", &a) && rd(v, 1, K_NUM) &&
               rd(v, 2, kind_of(m->tables[a].elem));
    case OP_TABLE_SIZE: return idx(v, 1, m->num_tables, "table", &a) && wr(v, 0, K_NUM);
    case OP_TABLE_GROW:
        return idx(v, 1, m->num_tables, "table", &a) && rd(v, 2, kind_of(m->tables[a].elem)) &&
               rd(v, 3, K_NUM) && wr(v, 0, K_NUM);
    case OP_TABLE_FILL:
        return idx(v, 0, m->num_tables, "table", &a) && rd(v, 1, K_NUM) &&
               rd(v, 2, kind_of(m->tables[a].elem)) && rd(v, 3, K_NUM);
    case OP_TABLE_COPY:
        if (!idx(v, 0, m->num_tables, "table", &a) || !idx(v, 1, m->num_tables, "table", &b))
            return false;
        if (m->tables[a].elem != m->tables[b].elem)
            return fail(v, "tables %u and %u differ in element type", a, b);
        return rd(v, 2, K_NUM) && rd(v, 3, K_NUM) && rd(v, 4, K_NUM);
    case OP_TABLE_INIT:
        if (!idx(v, 0, m->num_tables, "table", &a) ||
            !idx(v, 1, m->num_elems, "element segment", &b))
            return false;
        if (m->tables[a].elem != m->elems[b].type)
            return fail(v, "table %u and element segment %u differ in type", a, b);
        return rd(v, 2, K_NUM) && rd(v, 3, K_NUM) && rd(v, 4, K_NUM);
    case OP_ELEM_DROP: return idx(v, 0, m->num_elems, "element segment", &a);
    case OP_MEMORY_SIZE: return idx(v, 1, m->num_memories, "memory", &a) && wr(v, 0, K_NUM);
    case OP_MEMORY_GROW:
        return idx(v, 1, m->num_memories, "memory", &a) && rd(v, 2, K_NUM) && wr(v, 0, K_NUM);
    case OP_MEMORY_FILL:
        return idx(v, 0, m->num_memories, "memory", &a) && rd(v, 1, K_NUM) && rd(v, 2, K_NUM) &&
               rd(v, 3, K_NUM);
    case OP_MEMORY_COPY:
        return idx(v, 0, m->num_memories, "memory", &a) &&
               idx(v, 1, m->num_memories, "memory", &b) && rd(v, 2, K_NUM) && rd(v, 3, K_NUM) &&
               rd(v, 4, K_NUM);
    case OP_MEMORY_INIT:
        return idx(v, 0, m->num_memories, "memory", &a) &&
               idx(v, 1, m->num_datas, "data segment", &b) && rd(v, 2, K_NUM) &&
               rd(v, 3, K_NUM) && rd(v, 4, K_NUM);
    case OP_DATA_DROP: return idx(v, 0, m->num_datas, "data segment", &a);
#define K_CASE(X, NAME) case OP_##NAME##_K:
        CODE_I32_K_OPS(unused, K_CASE)
#undef K_CASE
        return rd(v, 1, K_NUM) && wr(v, 0, K_NUM); /* k is a constant, not a slot */
    default:
        if (op >= OP_LOAD8_U && op <= OP_STORE64_M64) return memory_op(v, op);
        /* numeric: "d a" or "d a b", numbers in and out */
        if (code_operand_cells(v->code, v->pc) == 3 && !rd(v, 2, K_NUM)) return false;
        return rd(v, 1, K_NUM) && wr(v, 0, K_NUM);
    }
}

static uint32_t next_pc(const verifier *v, uint32_t pc) {
    return pc + 1 + code_operand_cells(v->code, pc);
}

/* First pass: every opcode known, every instruction within the code, the last one not falling
 * through. */
static bool walk(verifier *v) {
    if (v->len == 0) return fail(v, "empty code");
    uint32_t last = 0;
    for (uint64_t pc = 0; pc < v->len;) {
        v->pc = (uint32_t)pc;
        uint32_t op = v->code[pc];
        if (op >= CODE_OP_COUNT) return fail(v, "unknown opcode %u", op);
        bool table = code_plain_branch(op) == OP_BR_TABLE;
        if (table && pc + 2 >= v->len) return fail(v, "instruction past the end");
        uint64_t cells = table ? (uint64_t)v->code[pc + 2] + 3
                                           : code_operand_cells(v->code, (uint32_t)pc);
        if (cells >= v->len - pc) return fail(v, "instruction past the end");
        v->is_start[pc] = 1;
        last = (uint32_t)pc;
        pc += 1 + cells;
    }
    v->pc = last;
    switch (code_plain_branch(v->code[last])) {
    case OP_UNREACHABLE:
    case OP_RETURN:
    case OP_BR:
    case OP_BR_TABLE: return true;
    default: return fail(v, "code falls off its end");
    }
}

/* Stack maps sorted by pc, each at a call, its slots ascending within the frame. */
static bool check_stack_maps_static(verifier *v) {
    const code_func *f = v->f;
    for (uint32_t i = 0; i < f->num_stack_maps; i++) {
        const code_stack_map *sm = &f->stack_maps[i];
        v->pc = sm->pc < v->len ? sm->pc : 0;
        if (i > 0 && sm->pc <= f->stack_maps[i - 1].pc) return fail(v, "stack maps not sorted");
        if (sm->pc >= v->len || !v->is_start[sm->pc] ||
            (v->code[sm->pc] != OP_CALL && v->code[sm->pc] != OP_CALL_INDIRECT &&
             v->code[sm->pc] != OP_TABLE_GET_EXTERN && v->code[sm->pc] != OP_GLOBAL_GET_EXTERN))
            return fail(v, "stack map at pc %u, not a safepoint", sm->pc);
        for (uint32_t k = 0; k < sm->count; k++) {
            uint32_t s = f->map_slots[sm->first + k];
            if (s >= v->frame) return fail(v, "stack map slot %u outside the frame", s);
            if (k > 0 && s <= f->map_slots[sm->first + k - 1])
                return fail(v, "stack map slots not ascending");
        }
    }
    return true;
}

/* Runs the reachable code from pc with cur holding the kinds there, to the end of its straight
 * line: a branch away, or the next branch target (merged into). */
static bool run_block(verifier *v, uint32_t pc) {
    for (;;) {
        v->pc = pc;
        bool falls;
        if (!step(v, &falls)) return false;
        if (!falls) return true;
        pc = next_pc(v, pc);
        if (pc >= v->len) return fail(v, "code falls off its end");
        if (v->target_of[pc] != NOT_TARGET) { /* falls into a branch target */
            merge(v, v->target_of[pc]);
            return true;
        }
    }
}

static bool analyse(verifier *v) {
    const wafer_functype *type = &v->m->types[v->f->type_index];
    /* entry: typed parameters, zeroed locals, the rest whatever earlier frames left */
    memset(v->cur, K_NONE, v->frame);
    for (uint32_t j = 0; j < type->num_params; j++) v->cur[j] = kind_of(type->params[j]);
    memset(v->cur + v->f->num_params, K_ZERO, v->f->num_locals - v->f->num_params);
    v->typing = true;
    if (v->target_of[0] != NOT_TARGET) {
        merge(v, v->target_of[0]);
    } else if (!run_block(v, 0)) {
        return false;
    }
    /* Sweeps in code order (targets are numbered so): forward edges settle in one sweep, each
     * loop nesting level costs about one more. */
    while (v->nqueued > 0) {
        for (uint32_t t = 0; t < v->ntargets; t++) {
            if (!v->queued[t]) continue;
            if (v->work > WORK_LIMIT) {
                v->too_large = true;
                return fail(v, "function too large to verify");
            }
            v->queued[t] = false;
            v->nqueued--;
            memcpy(v->cur, v->states + (size_t)t * v->frame, v->frame);
            if (!run_block(v, v->target_pc[t])) return false;
        }
    }
    return true;
}

/* The FUEL n of a block at pc (n >= 1): whether there is one. */
static bool fuel_at(const verifier *v, uint32_t pc) {
    return pc < v->len && v->code[pc] == OP_FUEL && pc + 1 < v->len && v->code[pc + 1] >= 1;
}

/* Code for a fuel engine pays at its entry and on every loop iteration (code.h): it starts with
 * FUEL, and every backward branch goes to a FUEL (branch()). Code without FUEL would run forever
 * under a fuel limit. */
static bool check_metering(verifier *v) {
    if (!wafer_engine_config(v->m->engine)->consume_fuel) return true;
    v->pc = 0;
    if (!fuel_at(v, 0)) return fail(v, "code for a fuel engine must start with FUEL");
    return true;
}

static bool verify(verifier *v) {
    const wafer_module *m = v->m;
    const code_func *f = v->f;
    v->pc = 0;
    if (f->type_index >= m->num_types) return fail(v, "type index %u out of range", f->type_index);
    const wafer_functype *type = &m->types[f->type_index];
    if (f->num_params != type->num_params || f->num_results != type->num_results)
        return fail(v, "parameter or result count differs from the type's");
    if (f->num_locals < f->num_params || f->frame_size < f->num_locals ||
        f->frame_size < f->num_results)
        return fail(v, "frame of %u slots too small for its locals or results", f->frame_size);
    if (!walk(v) || !check_stack_maps_static(v) || !check_metering(v)) return false;
    /* second pass: static operands, and which instructions are branch targets */
    for (uint32_t pc = 0; pc < v->len; pc = next_pc(v, pc)) {
        v->pc = pc;
        bool falls;
        if (!step(v, &falls)) return false;
    }
    for (uint32_t pc = 0; pc < v->len; pc++) {
        if (v->target_of[pc] == NOT_TARGET) continue;
        v->target_pc[v->ntargets] = pc;
        v->target_of[pc] = v->ntargets++;
    }
    return true;
}

wafer_error *code_verify(const wafer_module *m, const code_func *f) {
    verifier v = {.m = m, .f = f, .code = f->code, .len = f->code_len, .frame = f->frame_size};
    wafer_error *err = NULL;
    size_t len = f->code_len;
    v.is_start = calloc(len + 1, 1);
    v.target_of = malloc((len + 1) * sizeof *v.target_of);
    v.target_pc = malloc((len + 1) * sizeof *v.target_pc);
    v.cur = malloc((size_t)f->frame_size + 1);
    if (!v.is_start || !v.target_of || !v.target_pc || !v.cur) goto oom;
    for (size_t i = 0; i < len; i++) v.target_of[i] = NOT_TARGET;
    if (verify(&v)) {
        size_t n = v.ntargets;
        if ((uint64_t)n * f->frame_size > WORK_LIMIT) {
            err = error_new(WAFER_ERROR_LIMIT, "compiled function too large to verify: %zu "
                            "branch targets in a frame of %u slots", n, f->frame_size);
            goto done;
        }
        v.states = malloc(n * f->frame_size + 1);
        v.visited = calloc(n + 1, sizeof *v.visited);
        v.queued = calloc(n + 1, sizeof *v.queued);
        if (!v.states || !v.visited || !v.queued) goto oom;
        if (analyse(&v)) goto done;
    }
    err = error_new(v.too_large ? WAFER_ERROR_LIMIT : WAFER_ERROR_MALFORMED, "pc %u (%s): %s",
                    v.pc, v.pc < len ? code_op_name((code_op)f->code[v.pc]) : "end", v.msg);
    goto done;
oom:
    err = error_new(WAFER_ERROR_RESOURCE, "out of memory verifying compiled code");
done:
    free(v.is_start);
    free(v.target_of);
    free(v.target_pc);
    free(v.cur);
    free(v.states);
    free(v.visited);
    free(v.queued);
    return err;
}
