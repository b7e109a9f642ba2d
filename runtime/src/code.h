/* The interpreter's internal code: what compile.c emits and interp.c executes.
 *
 * Register-style code over typed frame slots. A function's frame is an array of 8-byte slots:
 *   slot 0 .. num_params-1          parameters
 *   slot num_params .. num_locals-1 declared locals (zeroed on entry)
 *   slot num_locals ..              the operand stack: the value at operand-stack depth d lives in
 *                                   slot num_locals + d
 * Every operand is a slot number relative to the frame, decoded once at compile time; nothing is
 * pushed or popped at run time, no LEB128 is decoded, no label is searched.
 *
 * Slot contents: i32 and f32 in the low 32 bits (handlers read only those bits; writers store the
 * value zero-extended), i64 and f64 in all 64 bits, floats as bit patterns, references as the
 * pointer value (wafer_func * or wafer_externref *, 0 for null).
 *
 * Calls place arguments in consecutive slots `base .. base+nparams-1` of the caller; the callee's
 * frame starts at the caller's slot `base`, so arguments are passed without copying, and the
 * callee's results, left in its slots 0..nresults-1 by RETURN, appear at the caller's `base ..`.
 *
 * An instruction is an opcode cell followed by its operand cells, all uint32_t. Operand names:
 *   d: destination slot, a b c: source slots, i32: immediate, lo hi: 64-bit immediate in two cells
 *   (low half first), off: branch offset, a signed int32 added to the index of the branch
 *   instruction's opcode cell.
 */
#ifndef WAFER_CODE_H
#define WAFER_CODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* X(NAME, number of operand cells, operand layout). Variable-length: BR_TABLE. */
#define CODE_OPS(X)                                                                               \
    /* control */                                                                                 \
    X(UNREACHABLE, 0, "")                                                                         \
    CODE_BRANCH_OPS(X, )                                                                          \
    CODE_BRANCH_OPS(X, _LOOP)                                                                     \
    X(RETURN, 0, "             (results already moved to slots 0..nresults-1)")                 \
    X(CALL, 2, "funcidx base   (funcidx in the instance's full function index space)")         \
    X(CALL_INDIRECT, 4, "typeidx tableidx a base   (a: the i32 element index)")               \
    X(FUEL, 1, "n      (fuel engines only: starts each basic block; n = its wasm instructions)") \
    /* data movement */                                                                           \
    X(COPY, 2, "d a")                                                                             \
    X(CONST32, 2, "d i32")                                                                        \
    X(CONST64, 3, "d lo hi")                                                                      \
    X(SELECT, 4, "d a b c       (d = c ? a : b, c an i32)")                                      \
    /* variables */                                                                               \
    X(GLOBAL_GET, 2, "d globalidx")                                                               \
    X(GLOBAL_SET, 2, "globalidx a")                                                               \
    X(GLOBAL_GET_EXTERN, 2, "d globalidx   (an externref global: a safepoint, see stack maps)")  \
    X(GLOBAL_SET_EXTERN, 2, "globalidx a   (an externref global: counts kept)")                  \
    /* references */                                                                              \
    X(REF_IS_NULL, 2, "d a")                                                                      \
    X(REF_FUNC, 2, "d funcidx")                                                                   \
    /* tables (index operands are i32) */                                                         \
    X(TABLE_GET, 3, "d tableidx a")                                                               \
    X(TABLE_GET_EXTERN, 3, "d tableidx a   (an externref table: a safepoint, see stack maps)")   \
    X(TABLE_SET, 3, "tableidx a b      (a: index, b: value)")                                    \
    X(TABLE_SIZE, 2, "d tableidx")                                                                \
    X(TABLE_GROW, 4, "d tableidx a b   (a: init value, b: delta)")                               \
    X(TABLE_FILL, 4, "tableidx a b c   (a: index, b: value, c: count)")                          \
    X(TABLE_COPY, 5, "dsttable srctable a b c   (a: dst, b: src, c: count)")                     \
    X(TABLE_INIT, 5, "tableidx elemidx a b c    (a: dst, b: src, c: count)")                     \
    X(ELEM_DROP, 1, "elemidx")                                                                    \
    /* memories: address and size operands are i32 or i64 as the memory's index type says */    \
    X(MEMORY_SIZE, 2, "d memidx")                                                                 \
    X(MEMORY_GROW, 3, "d memidx a")                                                               \
    X(MEMORY_FILL, 4, "memidx a b c      (a: dst, b: byte value, c: count)")                     \
    X(MEMORY_COPY, 5, "dstmem srcmem a b c   (a: dst, b: src, c: count)")                        \
    X(MEMORY_INIT, 5, "memidx dataidx a b c  (a: dst, b: src, c: count)")                       \
    X(DATA_DROP, 1, "dataidx")                                                                    \
    /* loads and stores on a 32-bit memory: effective address = u32(a) + offset */                \
    CODE_MEMORY_OPS(X, , 4, "memidx offset")                                                      \
    /* loads and stores on a 64-bit memory: effective address = u64(a) + offset, overflow traps */ \
    CODE_MEMORY_OPS(X, _M64, 5, "memidx lo hi")                                                   \
    /* numeric */                                                                                 \
    CODE_NUMERIC_OPS(X)                                                                           \
    /* i32 operators with a constant right operand */                                             \
    CODE_I32_K_OPS(X, CODE_K_OP)

/* Branches. Each has a variant NAME_LOOP that first checks the epoch deadline when it is taken:
 * code for an epoch engine takes its loops' back edges through those (see "How compile.c reads").
 * The two lists are in the same order, so OP_X_LOOP - OP_BR_LOOP == OP_X - OP_BR. The BR_I32_*
 * and BR_I64_* branches are comparisons fused with the branch on their result: "a b off" is taken
 * if `a CMP b`, and "a k off" (the BR_I32_*_K ones) if `a CMP k`, k the constant right operand
 * itself. */
#define CODE_BRANCH_OPS(X, S)                                                                     \
    X(BR##S, 1, "off")                                                                            \
    X(BR_IF##S, 2, "a off          (taken if the i32 in a is nonzero)")                          \
    X(BR_UNLESS##S, 2, "a off      (taken if the i32 in a is zero)")                             \
    X(BR_TABLE##S, 2, "a n off_0 .. off_{n-1} off_default   (n+3 operand cells in all)")        \
    CODE_BRANCH_CMPS(X, S, CODE_BRANCH_CMP) CODE_BRANCH_CMPS(X, S, CODE_BRANCH_CMP64)
#define CODE_BRANCH_CMPS(X, S, Y)                                                                 \
    Y(X, S, EQ) Y(X, S, NE) Y(X, S, LT_S) Y(X, S, LT_U) Y(X, S, GT_S) Y(X, S, GT_U)                \
    Y(X, S, LE_S) Y(X, S, LE_U) Y(X, S, GE_S) Y(X, S, GE_U)
#define CODE_BRANCH_CMP(X, S, CMP)                                                                \
    X(BR_I32_##CMP##S, 3, "a b off") X(BR_I32_##CMP##_K##S, 3, "a k off")
#define CODE_BRANCH_CMP64(X, S, CMP) X(BR_I64_##CMP##S, 3, "a b off")

/* Loads: "d a <mem>" write the loaded value to d (the _U loads and LOAD32_U zero-extend to 64
 * bits, so they serve i32 and i64 alike; f32 and f64 loads are LOAD32_U and LOAD64).
 * Stores: "a b <mem>" store the low bits of b at address a. */
#define CODE_MEMORY_OPS(X, SUFFIX, CELLS, MEM)                                                    \
    X(LOAD8_U##SUFFIX, CELLS, "d a " MEM)                                                         \
    X(LOAD16_U##SUFFIX, CELLS, "d a " MEM)                                                        \
    X(LOAD32_U##SUFFIX, CELLS, "d a " MEM)                                                        \
    X(LOAD64##SUFFIX, CELLS, "d a " MEM)                                                          \
    X(I32_LOAD8_S##SUFFIX, CELLS, "d a " MEM)                                                     \
    X(I32_LOAD16_S##SUFFIX, CELLS, "d a " MEM)                                                    \
    X(I64_LOAD8_S##SUFFIX, CELLS, "d a " MEM)                                                     \
    X(I64_LOAD16_S##SUFFIX, CELLS, "d a " MEM)                                                    \
    X(I64_LOAD32_S##SUFFIX, CELLS, "d a " MEM)                                                    \
    X(STORE8##SUFFIX, CELLS, "a b " MEM)                                                          \
    X(STORE16##SUFFIX, CELLS, "a b " MEM)                                                         \
    X(STORE32##SUFFIX, CELLS, "a b " MEM)                                                         \
    X(STORE64##SUFFIX, CELLS, "a b " MEM)

/* Numeric instructions keep the wasm name. Unary: "d a"; binary: "d a b". The reinterpret
 * instructions and i64.extend_i32_u need no instruction of their own (COPY does, as slots hold
 * bits; LOAD-style zero extension is not assumed: I64_EXTEND_I32_U exists). */
#define CODE_UNARY(X, NAME) X(NAME, 2, "d a")
#define CODE_BINARY(X, NAME) X(NAME, 3, "d a b")
#define CODE_NUMERIC_OPS(X)                                                                       \
    CODE_UNARY(X, I32_EQZ) CODE_BINARY(X, I32_EQ) CODE_BINARY(X, I32_NE)                          \
    CODE_BINARY(X, I32_LT_S) CODE_BINARY(X, I32_LT_U) CODE_BINARY(X, I32_GT_S)                    \
    CODE_BINARY(X, I32_GT_U) CODE_BINARY(X, I32_LE_S) CODE_BINARY(X, I32_LE_U)                    \
    CODE_BINARY(X, I32_GE_S) CODE_BINARY(X, I32_GE_U)                                             \
    CODE_UNARY(X, I64_EQZ) CODE_BINARY(X, I64_EQ) CODE_BINARY(X, I64_NE)                          \
    CODE_BINARY(X, I64_LT_S) CODE_BINARY(X, I64_LT_U) CODE_BINARY(X, I64_GT_S)                    \
    CODE_BINARY(X, I64_GT_U) CODE_BINARY(X, I64_LE_S) CODE_BINARY(X, I64_LE_U)                    \
    CODE_BINARY(X, I64_GE_S) CODE_BINARY(X, I64_GE_U)                                             \
    CODE_BINARY(X, F32_EQ) CODE_BINARY(X, F32_NE) CODE_BINARY(X, F32_LT) CODE_BINARY(X, F32_GT)   \
    CODE_BINARY(X, F32_LE) CODE_BINARY(X, F32_GE)                                                 \
    CODE_BINARY(X, F64_EQ) CODE_BINARY(X, F64_NE) CODE_BINARY(X, F64_LT) CODE_BINARY(X, F64_GT)   \
    CODE_BINARY(X, F64_LE) CODE_BINARY(X, F64_GE)                                                 \
    CODE_UNARY(X, I32_CLZ) CODE_UNARY(X, I32_CTZ) CODE_UNARY(X, I32_POPCNT)                       \
    CODE_BINARY(X, I32_ADD) CODE_BINARY(X, I32_SUB) CODE_BINARY(X, I32_MUL)                       \
    CODE_BINARY(X, I32_DIV_S) CODE_BINARY(X, I32_DIV_U) CODE_BINARY(X, I32_REM_S)                 \
    CODE_BINARY(X, I32_REM_U) CODE_BINARY(X, I32_AND) CODE_BINARY(X, I32_OR)                      \
    CODE_BINARY(X, I32_XOR) CODE_BINARY(X, I32_SHL) CODE_BINARY(X, I32_SHR_S)                     \
    CODE_BINARY(X, I32_SHR_U) CODE_BINARY(X, I32_ROTL) CODE_BINARY(X, I32_ROTR)                   \
    CODE_UNARY(X, I64_CLZ) CODE_UNARY(X, I64_CTZ) CODE_UNARY(X, I64_POPCNT)                       \
    CODE_BINARY(X, I64_ADD) CODE_BINARY(X, I64_SUB) CODE_BINARY(X, I64_MUL)                       \
    CODE_BINARY(X, I64_DIV_S) CODE_BINARY(X, I64_DIV_U) CODE_BINARY(X, I64_REM_S)                 \
    CODE_BINARY(X, I64_REM_U) CODE_BINARY(X, I64_AND) CODE_BINARY(X, I64_OR)                      \
    CODE_BINARY(X, I64_XOR) CODE_BINARY(X, I64_SHL) CODE_BINARY(X, I64_SHR_S)                     \
    CODE_BINARY(X, I64_SHR_U) CODE_BINARY(X, I64_ROTL) CODE_BINARY(X, I64_ROTR)                   \
    CODE_UNARY(X, F32_ABS) CODE_UNARY(X, F32_NEG) CODE_UNARY(X, F32_CEIL)                         \
    CODE_UNARY(X, F32_FLOOR) CODE_UNARY(X, F32_TRUNC) CODE_UNARY(X, F32_NEAREST)                  \
    CODE_UNARY(X, F32_SQRT) CODE_BINARY(X, F32_ADD) CODE_BINARY(X, F32_SUB)                       \
    CODE_BINARY(X, F32_MUL) CODE_BINARY(X, F32_DIV) CODE_BINARY(X, F32_MIN)                       \
    CODE_BINARY(X, F32_MAX) CODE_BINARY(X, F32_COPYSIGN)                                          \
    CODE_UNARY(X, F64_ABS) CODE_UNARY(X, F64_NEG) CODE_UNARY(X, F64_CEIL)                         \
    CODE_UNARY(X, F64_FLOOR) CODE_UNARY(X, F64_TRUNC) CODE_UNARY(X, F64_NEAREST)                  \
    CODE_UNARY(X, F64_SQRT) CODE_BINARY(X, F64_ADD) CODE_BINARY(X, F64_SUB)                       \
    CODE_BINARY(X, F64_MUL) CODE_BINARY(X, F64_DIV) CODE_BINARY(X, F64_MIN)                       \
    CODE_BINARY(X, F64_MAX) CODE_BINARY(X, F64_COPYSIGN)                                          \
    CODE_UNARY(X, I32_WRAP_I64) CODE_UNARY(X, I32_TRUNC_F32_S) CODE_UNARY(X, I32_TRUNC_F32_U)     \
    CODE_UNARY(X, I32_TRUNC_F64_S) CODE_UNARY(X, I32_TRUNC_F64_U)                                 \
    CODE_UNARY(X, I64_EXTEND_I32_S) CODE_UNARY(X, I64_EXTEND_I32_U)                               \
    CODE_UNARY(X, I64_TRUNC_F32_S) CODE_UNARY(X, I64_TRUNC_F32_U)                                 \
    CODE_UNARY(X, I64_TRUNC_F64_S) CODE_UNARY(X, I64_TRUNC_F64_U)                                 \
    CODE_UNARY(X, F32_CONVERT_I32_S) CODE_UNARY(X, F32_CONVERT_I32_U)                             \
    CODE_UNARY(X, F32_CONVERT_I64_S) CODE_UNARY(X, F32_CONVERT_I64_U)                             \
    CODE_UNARY(X, F32_DEMOTE_F64)                                                                 \
    CODE_UNARY(X, F64_CONVERT_I32_S) CODE_UNARY(X, F64_CONVERT_I32_U)                             \
    CODE_UNARY(X, F64_CONVERT_I64_S) CODE_UNARY(X, F64_CONVERT_I64_U)                             \
    CODE_UNARY(X, F64_PROMOTE_F32)                                                                \
    CODE_UNARY(X, I32_EXTEND8_S) CODE_UNARY(X, I32_EXTEND16_S) CODE_UNARY(X, I64_EXTEND8_S)       \
    CODE_UNARY(X, I64_EXTEND16_S) CODE_UNARY(X, I64_EXTEND32_S)                                   \
    CODE_UNARY(X, I32_TRUNC_SAT_F32_S) CODE_UNARY(X, I32_TRUNC_SAT_F32_U)                         \
    CODE_UNARY(X, I32_TRUNC_SAT_F64_S) CODE_UNARY(X, I32_TRUNC_SAT_F64_U)                         \
    CODE_UNARY(X, I64_TRUNC_SAT_F32_S) CODE_UNARY(X, I64_TRUNC_SAT_F32_U)                         \
    CODE_UNARY(X, I64_TRUNC_SAT_F64_S) CODE_UNARY(X, I64_TRUNC_SAT_F64_U)

/* The i32 binary operators that have a variant NAME_K, "d a k": the right operand is the constant
 * k, an operand cell of its own, where NAME reads it from a slot (compile.c uses it for an
 * i32.const right operand). */
#define CODE_I32_K_OPS(X, K)                                                                      \
    K(X, I32_EQ) K(X, I32_NE) K(X, I32_LT_S) K(X, I32_LT_U) K(X, I32_GT_S) K(X, I32_GT_U)         \
    K(X, I32_LE_S) K(X, I32_LE_U) K(X, I32_GE_S) K(X, I32_GE_U) K(X, I32_ADD) K(X, I32_SUB)       \
    K(X, I32_MUL) K(X, I32_AND) K(X, I32_OR) K(X, I32_XOR) K(X, I32_SHL) K(X, I32_SHR_S)          \
    K(X, I32_SHR_U) K(X, I32_ROTL) K(X, I32_ROTR)
#define CODE_K_OP(X, NAME) X(NAME##_K, 3, "d a k     (k: the i32 right operand itself)")

typedef enum code_op {
#define CODE_ENUM(name, cells, layout) OP_##name,
    CODE_OPS(CODE_ENUM)
#undef CODE_ENUM
    CODE_OP_COUNT
} code_op;

/* Whether op is a _LOOP branch, and the plain branch it checks the deadline for. */
static inline bool code_is_loop_branch(uint32_t op) {
    return op >= OP_BR_LOOP && op <= OP_BR_I64_GE_U_LOOP;
}
static inline code_op code_plain_branch(uint32_t op) {
    return (code_op)(code_is_loop_branch(op) ? op - (OP_BR_LOOP - OP_BR) : op);
}
/* Whether op is a comparison branch (plain), and whether it is a BR_I32_*_K one. */
static inline bool code_is_cmp_branch(code_op op) {
    return op >= OP_BR_I32_EQ && op <= OP_BR_I64_GE_U;
}
static inline bool code_is_k_branch(code_op op) {
    return op >= OP_BR_I32_EQ && op <= OP_BR_I32_GE_U_K && (op - OP_BR_I32_EQ) % 2 == 1;
}

/* Which frame slots hold externrefs at a safepoint: for the externref GC, which walks frames
 * stopped at one (DESIGN.md invariant 7; funcrefs need no collection and are not listed). One
 * entry per safepoint, sorted by pc: CALL and CALL_INDIRECT (the slots below the call's `base`),
 * TABLE_GET_EXTERN and GLOBAL_GET_EXTERN (the slots below d). */
typedef struct code_stack_map {
    uint32_t pc;    /* index of the safepoint's opcode cell */
    uint32_t first; /* into code_func.map_slots */
    uint32_t count;
} code_stack_map;

/* A compiled function body. */
typedef struct code_func {
    uint32_t *code;
    uint32_t code_len;
    uint32_t type_index;
    uint32_t num_params;
    uint32_t num_results;
    uint32_t num_locals; /* params included */
    uint32_t frame_size; /* slots: >= num_locals + max operand depth, >= num_results */
    uint32_t num_stack_maps;
    code_stack_map *stack_maps;
    uint32_t *map_slots;
} code_func;

/* Number of operand cells of the instruction at code[pc] (BR_TABLE's depends on its n). */
uint32_t code_operand_cells(const uint32_t *code, uint32_t pc);
/* The instruction's name, for disassembly and error messages. */
const char *code_op_name(code_op op);
/* Writes a listing of func's code to out, one instruction per line: "pc: NAME operands...", with
 * branch offsets shown as their targets ("->pc"). For tests and debugging. */
void code_dump(const code_func *func, FILE *out);

/* How compile.c reads the conventions above (where they leave a choice):
 * - BR_TABLE's offsets, like every branch offset, are relative to the BR_TABLE's opcode cell.
 * - Loads and stores on a 32-bit memory carry a 32-bit offset (one cell): validation bounds the
 *   offset of a memarg for a 32-bit memory to u32.
 * - ref.null is CONST64 d 0 0; the reinterpretations emit nothing (the slot already holds the
 *   bits); drop and nop emit nothing.
 * - Epoch engines: every backward branch is a _LOOP variant, so every loop iteration checks the
 *   deadline where it branches back, and straight-line code and forward branches pay nothing;
 *   the interpreter checks at function entry itself. Other engines' code has no _LOOP branch.
 * - br_if and if on an i32 comparison just computed (or on i32.eqz) branch on the comparison
 *   itself: BR_I32_* (with the opposite comparison where the branch is taken when it is false),
 *   or BR_UNLESS / BR_IF for eqz; the comparison's result is never written.
 * - A function's code never falls off its end: it ends with RETURN, BR, BR_TABLE or UNREACHABLE.
 * - Stack map slots are ascending: reference-typed params and locals first, then operands.
 * - Fuel (DESIGN.md invariant 8): code compiled for an engine with consume_fuel starts every
 *   basic block with FUEL n, n being the number of wasm instructions of the block (up to and
 *   including the control instruction that ends it: block, loop, if, else, end, br, br_if,
 *   br_table, return, unreachable). A block is paid for in full on entry, and a run traps when
 *   the fuel left is less than the block's cost. Loop labels point at the body's first FUEL, so
 *   every iteration pays. Code for other engines has no FUEL. */
#endif
