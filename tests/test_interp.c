/* Unit tests of the interpreter (interp.c, numeric.h) on hand-assembled code (code.h).
 *
 * A `rig` is a minimal hand-built engine, store, module and instance; each test assembles the
 * functions it needs as arrays of code cells and runs them with interp_call, the way
 * wafer_func_call does. Memories and tables come from memory.c and table.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "numeric.h"
#include "runtime.h"

#define MAX_FUNCS 16
#define STACK_SLOTS 4096
#define MAX_DEPTH 200

static const wafer_valtype i32x2[] = {WAFER_I32, WAFER_I32};
static const wafer_valtype i32x20[20] = {
    WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32,
    WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32,
    WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32, WAFER_I32};
static const wafer_valtype i64x3[] = {WAFER_I64, WAFER_I64, WAFER_I64};

/* The module's types, by index. */
enum { TYPE_I32_I32_TO_I32, TYPE_VOID, TYPE_SCRATCH, TYPE_I32_TO_I32, NUM_TYPES };

typedef struct rig {
    wafer_engine engine;
    wafer_store store;
    wafer_module module;
    wafer_instance instance;
    wafer_functype types[NUM_TYPES];
    wafer_func funcs[MAX_FUNCS];
    code_func codes[MAX_FUNCS];
    wafer_func *func_space[MAX_FUNCS];
    uint32_t num_funcs;
    wafer_memory *memory_space[2];
    wafer_table *table_space[2];
    wafer_global global_storage[2];
    wafer_global *global_space[2];
    instance_elem elems[1];
    module_data datas[1];
    uint64_t data_dropped[1];
    /* run_instr's function: one instruction, then RETURN */
    wafer_func scratch;
    code_func scratch_code;
    uint32_t scratch_cells[16];
} rig;

static int rig_setup(void **state) {
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    wafer_config_default(&r->engine.config);
    r->engine.config.stack_slots = STACK_SLOTS;
    r->engine.config.max_call_depth = MAX_DEPTH;
    r->store.engine = &r->engine;
    r->store.stack = calloc(STACK_SLOTS + 1, sizeof *r->store.stack);
    r->store.frames = calloc(MAX_DEPTH + 1, sizeof *r->store.frames);
    assert_non_null(r->store.stack);
    assert_non_null(r->store.frames);
    r->store.stack_top = r->store.stack;
    r->store.epoch_deadline = UINT64_MAX;

    r->types[TYPE_I32_I32_TO_I32] = (wafer_functype){2, 1, i32x2, i32x2};
    r->types[TYPE_VOID] = (wafer_functype){0, 0, NULL, NULL};
    r->types[TYPE_SCRATCH] = (wafer_functype){3, 1, i64x3, i64x3};
    r->types[TYPE_I32_TO_I32] = (wafer_functype){1, 1, i32x2, i32x2};
    r->module.num_types = NUM_TYPES;
    r->module.types = r->types;
    r->module.num_datas = 1;
    r->module.datas = r->datas;
    r->datas[0] = (module_data){.mode = SEGMENT_PASSIVE, .bytes = (const uint8_t *)"hello", .len = 5};

    for (int i = 0; i < 2; i++) r->global_space[i] = &r->global_storage[i];
    r->instance.module = &r->module;
    r->instance.store = &r->store;
    /* Every function of the rig is reached through the instance's import entries, which the
     * interpreter calls as function objects, so host and wasm functions can share the space. */
    r->module.num_imported_funcs = MAX_FUNCS;
    r->instance.imported_funcs = r->func_space;
    r->instance.tables = r->table_space;
    r->instance.memories = r->memory_space;
    r->instance.globals = r->global_space;
    r->instance.elems = r->elems;
    r->instance.data_dropped = r->data_dropped;

    r->scratch_code = (code_func){.code = r->scratch_cells, .num_params = 3, .num_results = 1,
                                  .num_locals = 3, .frame_size = 4};
    r->scratch = (wafer_func){.type = &r->types[TYPE_SCRATCH], .instance = &r->instance,
                              .code = &r->scratch_code};
    *state = r;
    return 0;
}

static int rig_teardown(void **state) {
    rig *r = *state;
    for (int i = 0; i < 2; i++) {
        if (r->memory_space[i]) memory_destroy(r->memory_space[i]);
        if (r->table_space[i]) table_destroy(r->table_space[i]);
    }
    free(r->elems[0].refs);
    for (wafer_func *f = r->store.funcs, *next; f; f = next) {
        next = f->next_in_store;
        host_func_destroy(f);
    }
    free(r->store.stack);
    free(r->store.frames);
    free(r);
    return 0;
}

/* Adds a wasm function to the instance's function space; code must outlive the test. */
static uint32_t add_wasm(rig *r, uint32_t type_index, uint32_t num_locals, uint32_t frame_size,
                         uint32_t *code, size_t cells) {
    assert_true(r->num_funcs < MAX_FUNCS);
    uint32_t index = r->num_funcs++;
    const wafer_functype *type = &r->types[type_index];
    r->codes[index] = (code_func){.code = code,
                                  .code_len = (uint32_t)cells,
                                  .type_index = type_index,
                                  .num_params = type->num_params,
                                  .num_results = type->num_results,
                                  .num_locals = num_locals,
                                  .frame_size = frame_size};
    r->funcs[index] = (wafer_func){.type = type, .instance = &r->instance, .code = &r->codes[index]};
    r->func_space[index] = &r->funcs[index];
    return index;
}

static uint32_t add_host(rig *r, const wafer_functype *type, wafer_host_callback cb, void *env) {
    assert_true(r->num_funcs < MAX_FUNCS);
    wafer_func *f = wafer_func_new_host(&r->store, type, cb, env, NULL);
    assert_non_null(f);
    r->func_space[r->num_funcs] = f;
    return r->num_funcs++;
}

/* Runs func with args at the stack top, as wafer_func_call does, and checks that the store is
 * back where it was, trap or not. Results land in out. */
static wafer_error *invoke(rig *r, wafer_func *func, const uint64_t *args, size_t nargs,
                           uint64_t *out, size_t nout) {
    uint64_t *slots = r->store.stack_top;
    for (size_t i = 0; i < nargs; i++) slots[i] = args[i];
    wafer_error *err = interp_call(&r->store, func, slots);
    assert_int_equal(r->store.depth, 0);
    assert_ptr_equal(r->store.stack_top, r->store.stack);
    if (!err)
        for (size_t i = 0; i < nout; i++) out[i] = slots[i];
    return err;
}

static uint64_t invoke_ok(rig *r, uint32_t func_index, const uint64_t *args, size_t nargs) {
    uint64_t result = 0;
    wafer_error *err = invoke(r, r->func_space[func_index], args, nargs, &result, 1);
    if (err) fail_msg("unexpected error: %s", wafer_error_message(err));
    return result;
}

static void expect_trap_error(wafer_error *err, wafer_trap_kind kind, int line) {
    if (!err) fail_msg("line %d: expected trap %s, got none", line, wafer_trap_kind_message(kind));
    if (wafer_error_kind_of(err) != WAFER_ERROR_TRAP || wafer_error_trap_kind(err) != kind)
        fail_msg("line %d: expected trap \"%s\", got \"%s\"", line, wafer_trap_kind_message(kind),
                 wafer_error_message(err));
    assert_string_equal(wafer_error_message(err), wafer_trap_kind_message(kind));
    wafer_error_free(err);
}

/* Runs one instruction (cells, operand slots 0..3; a b c are the values of slots 0 1 2) and
 * returns slot 0, or the trap. */
static wafer_trap_kind run_instr(rig *r, const uint32_t *cells, size_t n, uint64_t a, uint64_t b,
                                 uint64_t c, uint64_t *out) {
    assert_true(n < 15);
    memcpy(r->scratch_cells, cells, n * sizeof *cells);
    r->scratch_cells[n] = OP_RETURN;
    r->scratch_code.code_len = (uint32_t)n + 1;
    uint64_t args[3] = {a, b, c};
    wafer_error *err = invoke(r, &r->scratch, args, 3, out, 1);
    if (!err) return WAFER_TRAP_NONE;
    wafer_trap_kind kind = wafer_error_trap_kind(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_TRAP);
    assert_string_equal(wafer_error_message(err), wafer_trap_kind_message(kind));
    wafer_error_free(err);
    return kind;
}

/* "d a" and "d a b" numeric instructions with d = slot 0, a = slot 0, b = slot 1. */
static void check_op(rig *r, code_op op, int arity, uint64_t a, uint64_t b, uint64_t want,
                     wafer_trap_kind want_trap, int line) {
    uint32_t cells[4] = {op, 0, 0, 1};
    uint64_t got = 0;
    wafer_trap_kind trap = run_instr(r, cells, arity == 1 ? 3 : 4, a, b, 0, &got);
    if (trap != want_trap)
        fail_msg("line %d: %s: trap \"%s\", expected \"%s\"", line, code_op_name(op),
                 wafer_trap_kind_message(trap), wafer_trap_kind_message(want_trap));
    if (trap == WAFER_TRAP_NONE && got != want)
        fail_msg("line %d: %s: got 0x%llx, expected 0x%llx", line, code_op_name(op),
                 (unsigned long long)got, (unsigned long long)want);
}

#define UN(op, a, want) check_op(r, OP_##op, 1, a, 0, want, WAFER_TRAP_NONE, __LINE__)
#define BIN(op, a, b, want) check_op(r, OP_##op, 2, a, b, want, WAFER_TRAP_NONE, __LINE__)
#define UN_TRAP(op, a, kind) check_op(r, OP_##op, 1, a, 0, 0, WAFER_TRAP_##kind, __LINE__)
#define BIN_TRAP(op, a, b, kind) check_op(r, OP_##op, 2, a, b, 0, WAFER_TRAP_##kind, __LINE__)

static uint64_t f32b(float f) { return f32_to_bits(f); }
static uint64_t f64b(double f) { return f64_to_bits(f); }
#define HI_JUNK UINT64_C(0xDEADBEEF00000000)
#define CELL(x) ((uint32_t)(x))

/* ---- Integer arithmetic ------------------------------------------------------------------ */

static void test_i32_arithmetic(void **state) {
    rig *r = *state;
    /* 32-bit operators read only the low half and write their result zero-extended */
    BIN(I32_ADD, HI_JUNK | 0xFFFFFFFF, 2, 1);
    BIN(I32_SUB, 0, 1, 0xFFFFFFFF);
    BIN(I32_MUL, 0x10000, 0x10000, 0);
    BIN(I32_MUL, 0xFFFFFFFF, 0xFFFFFFFF, 1);
    BIN(I32_DIV_S, (uint32_t)-7, 2, (uint32_t)-3);
    BIN(I32_DIV_U, (uint32_t)-7, 2, 0x7FFFFFFC);
    BIN(I32_REM_S, (uint32_t)-7, 2, (uint32_t)-1);
    BIN(I32_REM_U, 7, 3, 1);
    BIN(I32_REM_S, 0x80000000, 0xFFFFFFFF, 0);
    BIN(I32_DIV_S, 0x80000000, 1, 0x80000000);
    BIN_TRAP(I32_DIV_S, 0x80000000, 0xFFFFFFFF, INTEGER_OVERFLOW);
    BIN_TRAP(I32_DIV_S, 1, HI_JUNK, INTEGER_DIVIDE_BY_ZERO);
    BIN_TRAP(I32_DIV_U, 1, 0, INTEGER_DIVIDE_BY_ZERO);
    BIN_TRAP(I32_REM_S, 0x80000000, 0, INTEGER_DIVIDE_BY_ZERO);
    BIN_TRAP(I32_REM_U, 1, 0, INTEGER_DIVIDE_BY_ZERO);
    BIN(I32_AND, 0xF0F0, 0xFF00, 0xF000);
    BIN(I32_OR, 0xF0F0, 0xFF00, 0xFFF0);
    BIN(I32_XOR, 0xF0F0, 0xFF00, 0x0FF0);
    BIN(I32_SHL, 1, 33, 2);
    BIN(I32_SHL, 0xFFFFFFFF, 31, 0x80000000);
    BIN(I32_SHR_S, 0x80000000, 31, 0xFFFFFFFF);
    BIN(I32_SHR_S, 0x80000000, 32, 0x80000000);
    BIN(I32_SHR_S, 0x40000000, 30, 1);
    BIN(I32_SHR_U, 0x80000000, 63, 1);
    BIN(I32_ROTL, 0x80000001, 1, 3);
    BIN(I32_ROTL, 0x12345678, 32, 0x12345678);
    BIN(I32_ROTR, 1, 1, 0x80000000);
    BIN(I32_ROTR, 0x12345678, 36, 0x81234567);
    UN(I32_CLZ, 0, 32);
    UN(I32_CLZ, 1, 31);
    UN(I32_CLZ, HI_JUNK | 0x80000000, 0);
    UN(I32_CTZ, 0, 32);
    UN(I32_CTZ, 0x80000000, 31);
    UN(I32_POPCNT, HI_JUNK | 0xFFFFFFFF, 32);
    UN(I32_EQZ, HI_JUNK, 1);
    UN(I32_EQZ, 5, 0);
    BIN(I32_LT_S, 0xFFFFFFFF, 0, 1);
    BIN(I32_LT_U, 0xFFFFFFFF, 0, 0);
    BIN(I32_GT_S, 0xFFFFFFFF, 0, 0);
    BIN(I32_GT_U, 0xFFFFFFFF, 0, 1);
    BIN(I32_LE_S, 5, 5, 1);
    BIN(I32_LE_U, 6, 5, 0);
    BIN(I32_GE_S, 0x80000000, 0x7FFFFFFF, 0);
    BIN(I32_GE_U, 0x80000000, 0x7FFFFFFF, 1);
    BIN(I32_EQ, HI_JUNK | 4, 4, 1);
    BIN(I32_NE, 4, 4, 0);
    UN(I32_EXTEND8_S, 0x80, 0xFFFFFF80);
    UN(I32_EXTEND8_S, 0x17F, 0x7F);
    UN(I32_EXTEND16_S, 0x8000, 0xFFFF8000);
    UN(I32_EXTEND16_S, 0x7FFF, 0x7FFF);
    UN(I32_WRAP_I64, 0x123456789, 0x23456789);
}

static void test_i64_arithmetic(void **state) {
    rig *r = *state;
    const uint64_t min = UINT64_C(0x8000000000000000);
    BIN(I64_ADD, UINT64_MAX, 2, 1);
    BIN(I64_SUB, 0, 1, UINT64_MAX);
    BIN(I64_MUL, UINT64_C(0x100000000), UINT64_C(0x100000000), 0);
    BIN(I64_DIV_S, (uint64_t)-7, 2, (uint64_t)-3);
    BIN(I64_DIV_U, (uint64_t)-7, 2, UINT64_C(0x7FFFFFFFFFFFFFFC));
    BIN(I64_REM_S, (uint64_t)-7, 2, (uint64_t)-1);
    BIN(I64_REM_S, min, UINT64_MAX, 0);
    BIN(I64_REM_U, 7, 3, 1);
    BIN_TRAP(I64_DIV_S, min, UINT64_MAX, INTEGER_OVERFLOW);
    BIN_TRAP(I64_DIV_S, 1, 0, INTEGER_DIVIDE_BY_ZERO);
    BIN_TRAP(I64_DIV_U, 1, 0, INTEGER_DIVIDE_BY_ZERO);
    BIN_TRAP(I64_REM_S, min, 0, INTEGER_DIVIDE_BY_ZERO);
    BIN_TRAP(I64_REM_U, 1, 0, INTEGER_DIVIDE_BY_ZERO);
    /* a divisor with only high bits set is not zero for i64 */
    BIN(I64_DIV_U, HI_JUNK, HI_JUNK, 1);
    BIN(I64_SHL, 1, 65, 2);
    BIN(I64_SHR_S, min, 63, UINT64_MAX);
    BIN(I64_SHR_S, min, 64, min);
    BIN(I64_SHR_U, min, 127, 1);
    BIN(I64_ROTL, min | 1, 1, 3);
    BIN(I64_ROTR, 1, 1, min);
    BIN(I64_ROTR, 1, 64, 1);
    UN(I64_CLZ, 0, 64);
    UN(I64_CLZ, 1, 63);
    UN(I64_CTZ, 0, 64);
    UN(I64_CTZ, min, 63);
    UN(I64_POPCNT, UINT64_MAX, 64);
    UN(I64_EQZ, HI_JUNK, 0);
    UN(I64_EQZ, 0, 1);
    BIN(I64_LT_S, UINT64_MAX, 0, 1);
    BIN(I64_LT_U, UINT64_MAX, 0, 0);
    BIN(I64_GT_S, min, 1, 0);
    BIN(I64_GT_U, min, 1, 1);
    BIN(I64_LE_S, 3, 3, 1);
    BIN(I64_LE_U, 4, 3, 0);
    BIN(I64_GE_S, UINT64_MAX, 0, 0);
    BIN(I64_GE_U, UINT64_MAX, 0, 1);
    BIN(I64_EQ, HI_JUNK, 0, 0);
    BIN(I64_NE, HI_JUNK, 0, 1);
    UN(I64_EXTEND8_S, 0x80, UINT64_C(0xFFFFFFFFFFFFFF80));
    UN(I64_EXTEND16_S, 0x18000, UINT64_C(0xFFFFFFFFFFFF8000));
    UN(I64_EXTEND32_S, 0x80000000, UINT64_C(0xFFFFFFFF80000000));
    UN(I64_EXTEND32_S, HI_JUNK | 0x7FFFFFFF, 0x7FFFFFFF);
    UN(I64_EXTEND_I32_S, HI_JUNK | 0xFFFFFFFF, UINT64_MAX);
    UN(I64_EXTEND_I32_U, HI_JUNK | 0xFFFFFFFF, 0xFFFFFFFF);
}

/* ---- Floats -------------------------------------------------------------------------------- */

static void test_float_bits(void **state) {
    rig *r = *state;
    /* abs, neg, copysign never touch a NaN's payload, signalling or not */
    UN(F32_NEG, 0x7FA00001, 0xFFA00001);
    UN(F32_ABS, 0xFFC00123, 0x7FC00123);
    BIN(F32_COPYSIGN, 0x7F800001, 0x80000000, 0xFF800001);
    BIN(F32_COPYSIGN, 0xFF800001, 0x7FFFFFFF, 0x7F800001);
    UN(F64_NEG, UINT64_C(0x7FF0000000000001), UINT64_C(0xFFF0000000000001));
    UN(F64_ABS, UINT64_C(0xFFF4000000000005), UINT64_C(0x7FF4000000000005));
    BIN(F64_COPYSIGN, UINT64_C(0x7FF0000000000001), UINT64_C(0x8000000000000000),
        UINT64_C(0xFFF0000000000001));
    UN(F32_NEG, 0, 0x80000000);
    UN(F64_NEG, 0, UINT64_C(0x8000000000000000));
}

static void test_float_min_max(void **state) {
    rig *r = *state;
    const uint32_t pz = 0, nz = 0x80000000;
    const uint64_t pz64 = 0, nz64 = UINT64_C(0x8000000000000000);
    BIN(F32_MIN, nz, pz, nz);
    BIN(F32_MIN, pz, nz, nz);
    BIN(F32_MAX, nz, pz, pz);
    BIN(F32_MAX, pz, nz, pz);
    BIN(F64_MIN, nz64, pz64, nz64);
    BIN(F64_MIN, pz64, nz64, nz64);
    BIN(F64_MAX, nz64, pz64, pz64);
    BIN(F64_MAX, pz64, nz64, pz64);
    BIN(F32_MIN, f32b(1.0f), f32b(-2.0f), f32b(-2.0f));
    BIN(F32_MAX, f32b(1.0f), f32b(-2.0f), f32b(1.0f));
    BIN(F64_MIN, f64b(-INFINITY), f64b(3.0), f64b(-INFINITY));
    BIN(F64_MAX, f64b(-INFINITY), f64b(3.0), f64b(3.0));
    /* a NaN operand wins, quieted: canonical stays canonical, a signalling one becomes arithmetic */
    BIN(F32_MIN, 0x7FC00000, f32b(1.0f), 0x7FC00000);
    BIN(F32_MAX, f32b(1.0f), 0xFFC00000, 0xFFC00000);
    BIN(F32_MIN, f32b(1.0f), 0x7FA00000, 0x7FE00000);
    BIN(F64_MAX, UINT64_C(0x7FF4000000000000), f64b(1.0), UINT64_C(0x7FFC000000000000));
    BIN(F64_MIN, f64b(1.0), UINT64_C(0x7FF8000000000000), UINT64_C(0x7FF8000000000000));
}

static void test_float_rounding(void **state) {
    rig *r = *state;
    /* nearest: ties go to even, and the sign of zero survives */
    UN(F32_NEAREST, f32b(0.5f), f32b(0.0f));
    UN(F32_NEAREST, f32b(1.5f), f32b(2.0f));
    UN(F32_NEAREST, f32b(2.5f), f32b(2.0f));
    UN(F32_NEAREST, f32b(-0.5f), 0x80000000);
    UN(F32_NEAREST, f32b(-3.5f), f32b(-4.0f));
    UN(F64_NEAREST, f64b(2.5), f64b(2.0));
    UN(F64_NEAREST, f64b(-1.5), f64b(-2.0));
    UN(F64_NEAREST, f64b(4503599627370495.5), f64b(4503599627370496.0));
    UN(F64_NEAREST, f64b(-0.25), UINT64_C(0x8000000000000000));
    UN(F32_CEIL, f32b(-0.5f), 0x80000000);
    UN(F32_FLOOR, f32b(-0.5f), f32b(-1.0f));
    UN(F32_TRUNC, f32b(-1.9f), f32b(-1.0f));
    UN(F64_CEIL, f64b(1.1), f64b(2.0));
    UN(F64_FLOOR, f64b(-1.1), f64b(-2.0));
    UN(F64_TRUNC, f64b(-0.9), UINT64_C(0x8000000000000000));
    /* a signalling NaN comes out quiet (an arithmetic NaN), sign and payload kept */
    UN(F32_FLOOR, 0xFFA00000, 0xFFE00000);
    UN(F32_CEIL, 0x7FA00000, 0x7FE00000);
    UN(F32_TRUNC, 0x7F800001, 0x7FC00001);
    UN(F32_NEAREST, 0x7FA00000, 0x7FE00000);
    UN(F64_FLOOR, UINT64_C(0x7FF4000000000000), UINT64_C(0x7FFC000000000000));
    UN(F64_CEIL, UINT64_C(0xFFF4000000000000), UINT64_C(0xFFFC000000000000));
    UN(F64_TRUNC, UINT64_C(0x7FF8000000000000), UINT64_C(0x7FF8000000000000));
    UN(F64_NEAREST, UINT64_C(0x7FF0000000000001), UINT64_C(0x7FF8000000000001));
    UN(F32_SQRT, f32b(4.0f), f32b(2.0f));
    UN(F64_SQRT, f64b(2.25), f64b(1.5));
    UN(F64_SQRT, UINT64_C(0x8000000000000000), UINT64_C(0x8000000000000000));
    BIN(F32_ADD, f32b(1.5f), f32b(2.25f), f32b(3.75f));
    BIN(F32_SUB, f32b(1.0f), f32b(0x1p-24f), f32b(0x1.fffffep-1f));
    BIN(F32_MUL, f32b(3.0f), f32b(-0.5f), f32b(-1.5f));
    BIN(F32_DIV, f32b(1.0f), f32b(0.0f), f32b(INFINITY));
    BIN(F64_ADD, f64b(0.1), f64b(0.2), f64b(0.1 + 0.2));
    BIN(F64_SUB, f64b(1.0), f64b(1.0), 0);
    BIN(F64_MUL, f64b(1e300), f64b(1e300), f64b(INFINITY));
    BIN(F64_DIV, f64b(-1.0), f64b(4.0), f64b(-0.25));
}

static void test_float_compare(void **state) {
    rig *r = *state;
    const uint32_t nan = 0x7FC00000;
    const uint64_t nan64 = UINT64_C(0x7FF8000000000000);
    BIN(F32_EQ, nan, nan, 0);
    BIN(F32_NE, nan, nan, 1);
    BIN(F32_LT, nan, f32b(1.0f), 0);
    BIN(F32_GE, f32b(1.0f), nan, 0);
    BIN(F32_EQ, 0x80000000, 0, 1);
    BIN(F32_LT, f32b(-1.0f), f32b(1.0f), 1);
    BIN(F32_GT, f32b(-1.0f), f32b(1.0f), 0);
    BIN(F32_LE, f32b(1.0f), f32b(1.0f), 1);
    BIN(F64_EQ, nan64, nan64, 0);
    BIN(F64_NE, nan64, f64b(1.0), 1);
    BIN(F64_LT, f64b(-INFINITY), f64b(0.0), 1);
    BIN(F64_GT, nan64, f64b(0.0), 0);
    BIN(F64_LE, f64b(2.0), f64b(1.0), 0);
    BIN(F64_GE, UINT64_C(0x8000000000000000), 0, 1);
}

static void test_float_to_int(void **state) {
    rig *r = *state;
    UN_TRAP(I32_TRUNC_F32_S, 0x7FC00000, INVALID_CONVERSION);
    UN_TRAP(I32_TRUNC_F64_U, UINT64_C(0xFFF8000000000000), INVALID_CONVERSION);
    UN_TRAP(I64_TRUNC_F32_U, 0x7FA00000, INVALID_CONVERSION);
    UN_TRAP(I64_TRUNC_F64_S, UINT64_C(0x7FF0000000000001), INVALID_CONVERSION);
    /* 2147483647.5f rounds to 2^31 as a float: out of range */
    UN_TRAP(I32_TRUNC_F32_S, f32b(2147483647.5f), INTEGER_OVERFLOW);
    UN(I32_TRUNC_F32_S, f32b(-2147483648.0f), 0x80000000);
    UN_TRAP(I32_TRUNC_F32_S, f32b(-2147483904.0f), INTEGER_OVERFLOW);
    UN(I32_TRUNC_F32_S, f32b(-1.9f), 0xFFFFFFFF);
    UN_TRAP(I32_TRUNC_F32_S, f32b(INFINITY), INTEGER_OVERFLOW);
    UN(I32_TRUNC_F32_U, f32b(-0.9f), 0);
    UN(I32_TRUNC_F32_U, f32b(4294967040.0f), 0xFFFFFF00);
    UN_TRAP(I32_TRUNC_F32_U, f32b(4294967296.0f), INTEGER_OVERFLOW);
    UN_TRAP(I32_TRUNC_F32_U, f32b(-1.0f), INTEGER_OVERFLOW);
    UN(I32_TRUNC_F64_S, f64b(-2147483648.9), 0x80000000);
    UN_TRAP(I32_TRUNC_F64_S, f64b(-2147483649.0), INTEGER_OVERFLOW);
    UN(I32_TRUNC_F64_S, f64b(2147483647.9), 0x7FFFFFFF);
    UN_TRAP(I32_TRUNC_F64_S, f64b(2147483648.0), INTEGER_OVERFLOW);
    UN(I32_TRUNC_F64_U, f64b(-0.9), 0);
    UN(I32_TRUNC_F64_U, f64b(4294967295.9), 0xFFFFFFFF);
    UN_TRAP(I32_TRUNC_F64_U, f64b(4294967296.0), INTEGER_OVERFLOW);
    UN_TRAP(I32_TRUNC_F64_U, f64b(-1.0), INTEGER_OVERFLOW);
    UN(I64_TRUNC_F32_S, f32b(-9223372036854775808.0f), UINT64_C(0x8000000000000000));
    UN_TRAP(I64_TRUNC_F32_S, f32b(9223372036854775808.0f), INTEGER_OVERFLOW);
    UN(I64_TRUNC_F32_U, f32b(-0.99f), 0);
    UN(I64_TRUNC_F32_U, f32b(18446742974197923840.0f), UINT64_C(0xFFFFFF0000000000));
    UN_TRAP(I64_TRUNC_F32_U, f32b(18446744073709551616.0f), INTEGER_OVERFLOW);
    UN(I64_TRUNC_F64_S, f64b(-9223372036854775808.0), UINT64_C(0x8000000000000000));
    UN(I64_TRUNC_F64_S, f64b(9223372036854774784.0), UINT64_C(0x7FFFFFFFFFFFFC00));
    UN_TRAP(I64_TRUNC_F64_S, f64b(9223372036854775808.0), INTEGER_OVERFLOW);
    UN_TRAP(I64_TRUNC_F64_S, f64b(-9223372036854777856.0), INTEGER_OVERFLOW);
    UN(I64_TRUNC_F64_U, f64b(18446744073709549568.0), UINT64_C(0xFFFFFFFFFFFFF800));
    UN_TRAP(I64_TRUNC_F64_U, f64b(18446744073709551616.0), INTEGER_OVERFLOW);
    UN_TRAP(I64_TRUNC_F64_U, f64b(-1.0), INTEGER_OVERFLOW);

    /* saturating: NaN is 0, out of range clamps */
    UN(I32_TRUNC_SAT_F32_S, 0x7FC00000, 0);
    UN(I32_TRUNC_SAT_F32_S, f32b(3e9f), 0x7FFFFFFF);
    UN(I32_TRUNC_SAT_F32_S, f32b(-3e9f), 0x80000000);
    UN(I32_TRUNC_SAT_F32_S, f32b(-2147483648.0f), 0x80000000);
    UN(I32_TRUNC_SAT_F32_U, f32b(-5.0f), 0);
    UN(I32_TRUNC_SAT_F32_U, f32b(5e9f), 0xFFFFFFFF);
    UN(I32_TRUNC_SAT_F64_S, f64b(-2147483648.9), 0x80000000);
    UN(I32_TRUNC_SAT_F64_S, f64b(2147483647.9), 0x7FFFFFFF);
    UN(I32_TRUNC_SAT_F64_S, f64b(-INFINITY), 0x80000000);
    UN(I32_TRUNC_SAT_F64_U, f64b(-0.9), 0);
    UN(I32_TRUNC_SAT_F64_U, f64b(4294967296.0), 0xFFFFFFFF);
    UN(I64_TRUNC_SAT_F32_S, f32b(-1e30f), UINT64_C(0x8000000000000000));
    UN(I64_TRUNC_SAT_F32_U, f32b(1e20f), UINT64_MAX);
    UN(I64_TRUNC_SAT_F64_S, f64b(1e19), UINT64_C(0x7FFFFFFFFFFFFFFF));
    UN(I64_TRUNC_SAT_F64_S, UINT64_C(0xFFF8000000000000), 0);
    UN(I64_TRUNC_SAT_F64_U, f64b(-1.0), 0);
    UN(I64_TRUNC_SAT_F64_U, f64b(18446744073709549568.0), UINT64_C(0xFFFFFFFFFFFFF800));
}

static void test_int_to_float(void **state) {
    rig *r = *state;
    UN(F32_CONVERT_I32_S, 0xFFFFFFFF, f32b(-1.0f));
    UN(F32_CONVERT_I32_S, 16777217, f32b(16777216.0f));
    UN(F32_CONVERT_I32_U, 0xFFFFFFFF, f32b(4294967296.0f));
    UN(F32_CONVERT_I32_U, HI_JUNK | 1, f32b(1.0f));
    UN(F32_CONVERT_I64_S, UINT64_C(0x7FFFFF4000000001), 0x5EFFFFFF);
    UN(F32_CONVERT_I64_S, UINT64_C(0x8000000000000000), f32b(-0x1p63f));
    /* correctly rounded from 64 bits: a detour through f64 would round twice and give 0x5F000000 */
    UN(F32_CONVERT_I64_U, UINT64_C(0x8000008000000001), 0x5F000001);
    UN(F32_CONVERT_I64_U, UINT64_MAX, f32b(0x1p64f));
    UN(F64_CONVERT_I32_S, 0x80000000, f64b(-2147483648.0));
    UN(F64_CONVERT_I32_U, 0x80000000, f64b(2147483648.0));
    UN(F64_CONVERT_I64_S, UINT64_MAX, f64b(-1.0));
    UN(F64_CONVERT_I64_U, UINT64_C(0x8000000000000401), UINT64_C(0x43E0000000000001));
    UN(F64_CONVERT_I64_U, UINT64_MAX, UINT64_C(0x43F0000000000000));
    /* demote rounds ties to even; NaNs stay NaNs */
    UN(F32_DEMOTE_F64, f64b(0x1.000001p+0), f32b(1.0f));
    UN(F32_DEMOTE_F64, f64b(0x1.000003p+0), f32b(0x1.000004p+0f));
    UN(F32_DEMOTE_F64, f64b(1e300), f32b(INFINITY));
    UN(F32_DEMOTE_F64, UINT64_C(0x7FF8000000000000), 0x7FC00000);
    UN(F32_DEMOTE_F64, UINT64_C(0x8000000000000000), 0x80000000);
    UN(F64_PROMOTE_F32, 0x7FC00000, UINT64_C(0x7FF8000000000000));
    UN(F64_PROMOTE_F32, f32b(0x1p-149f), f64b(0x1p-149));
}

/* ---- Data movement and variables ------------------------------------------------------------ */

static void test_data_movement(void **state) {
    rig *r = *state;
    uint64_t out;
    uint32_t copy[] = {OP_COPY, 0, 2};
    assert_int_equal(run_instr(r, copy, 3, 1, 2, HI_JUNK | 3, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, HI_JUNK | 3);
    uint32_t c32[] = {OP_CONST32, 0, 0xFFFFFFFF};
    assert_int_equal(run_instr(r, c32, 3, HI_JUNK, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0xFFFFFFFF);
    uint32_t c64[] = {OP_CONST64, 0, 0x89ABCDEF, 0x01234567};
    assert_int_equal(run_instr(r, c64, 4, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, UINT64_C(0x0123456789ABCDEF));
    uint32_t select[] = {OP_SELECT, 0, 0, 1, 2};
    assert_int_equal(run_instr(r, select, 5, 10, 20, HI_JUNK, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 20); /* the condition is the low 32 bits only */
    assert_int_equal(run_instr(r, select, 5, 10, 20, 7, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 10);

    r->global_storage[1].bits = 42;
    uint32_t gget[] = {OP_GLOBAL_GET, 0, 1};
    assert_int_equal(run_instr(r, gget, 3, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 42);
    uint32_t gset[] = {OP_GLOBAL_SET, 0, 1};
    assert_int_equal(run_instr(r, gset, 3, 0, 77, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(r->global_storage[0].bits, 77);

    uint32_t void_code[] = {OP_RETURN};
    uint32_t f = add_wasm(r, TYPE_VOID, 0, 0, void_code, 1);
    uint32_t ref_func[] = {OP_REF_FUNC, 0, f};
    assert_int_equal(run_instr(r, ref_func, 3, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, (uint64_t)(uintptr_t)&r->funcs[f]);
    uint32_t is_null[] = {OP_REF_IS_NULL, 0, 1};
    assert_int_equal(run_instr(r, is_null, 3, 5, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 1);
    assert_int_equal(run_instr(r, is_null, 3, 5, out, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0);
}

/* ---- Control ------------------------------------------------------------------------------ */

static void test_unreachable(void **state) {
    rig *r = *state;
    uint32_t code[] = {OP_UNREACHABLE};
    uint64_t out;
    assert_int_equal(run_instr(r, code, 1, 0, 0, 0, &out), WAFER_TRAP_UNREACHABLE);
}

/* (i32 n) -> i32: sum of n, n-1, .., 1; the back edge at 11 is BR_IF, or BR_IF_LOOP in
 * sum_loop_checked. */
#define SUM_LOOP(BRANCH)                                                                          \
    {                                                                                             \
        /* 0  */ OP_I32_ADD, 1, 1, 0,                                                             \
        /* 4  */ OP_CONST32, 2, 1,                                                                \
        /* 7  */ OP_I32_SUB, 0, 0, 2,                                                             \
        /* 11 */ BRANCH, 0, CELL(-11),                                                            \
        /* 14 */ OP_COPY, 0, 1,                                                                   \
        /* 17 */ OP_RETURN,                                                                       \
    }
static uint32_t sum_loop[] = SUM_LOOP(OP_BR_IF);
static uint32_t sum_loop_checked[] = SUM_LOOP(OP_BR_IF_LOOP);

static void test_branches(void **state) {
    rig *r = *state;
    uint32_t sum = add_wasm(r, TYPE_I32_TO_I32, 2, 3, sum_loop, sizeof sum_loop / 4);
    assert_int_equal(invoke_ok(r, sum, (uint64_t[]){100}, 1), 5050);
    assert_int_equal(invoke_ok(r, sum, (uint64_t[]){1}, 1), 1);

    uint32_t table[] = {
        /* 0  */ OP_BR_TABLE, 0, 2, 6, 10, 14,
        /* 6  */ OP_CONST32, 0, 100,
        /* 9  */ OP_RETURN,
        /* 10 */ OP_CONST32, 0, 200,
        /* 13 */ OP_RETURN,
        /* 14 */ OP_CONST32, 0, 300,
        /* 17 */ OP_RETURN,
    };
    uint32_t bt = add_wasm(r, TYPE_I32_TO_I32, 1, 1, table, sizeof table / 4);
    assert_int_equal(invoke_ok(r, bt, (uint64_t[]){0}, 1), 100);
    assert_int_equal(invoke_ok(r, bt, (uint64_t[]){1}, 1), 200);
    assert_int_equal(invoke_ok(r, bt, (uint64_t[]){2}, 1), 300);
    assert_int_equal(invoke_ok(r, bt, (uint64_t[]){0xFFFFFFFF}, 1), 300);
    assert_int_equal(invoke_ok(r, bt, (uint64_t[]){HI_JUNK | 1}, 1), 200);

    uint32_t unless[] = {
        /* 0  */ OP_BR_UNLESS, 0, 8,
        /* 3  */ OP_CONST32, 0, 7,
        /* 6  */ OP_BR, 5,
        /* 8  */ OP_CONST32, 0, 9,
        /* 11 */ OP_RETURN,
    };
    uint32_t bu = add_wasm(r, TYPE_I32_TO_I32, 1, 1, unless, sizeof unless / 4);
    assert_int_equal(invoke_ok(r, bu, (uint64_t[]){0}, 1), 9);
    assert_int_equal(invoke_ok(r, bu, (uint64_t[]){HI_JUNK}, 1), 9);
    assert_int_equal(invoke_ok(r, bu, (uint64_t[]){5}, 1), 7);
}

/* The fused comparison branches (code.h), every one, slot against slot and against a constant,
 * on operands that tell signed from unsigned and whose slots carry junk above their low bits:
 * (i32 a, i32 b) -> 1 if the branch is taken, else 0. */
static void test_comparison_branches(void **state) {
    rig *r = *state;
    uint32_t two[] = {OP_BR_I32_EQ, 0, 1, 8, OP_CONST32, 0, 0, OP_RETURN, OP_CONST32, 0, 1,
                      OP_RETURN};
    uint32_t one[] = {OP_BR_I32_EQ_K, 0, 0, 8, OP_CONST32, 0, 0, OP_RETURN, OP_CONST32, 0, 1,
                      OP_RETURN};
    uint32_t f2 = add_wasm(r, TYPE_I32_I32_TO_I32, 2, 2, two, sizeof two / 4);
    uint32_t f1 = add_wasm(r, TYPE_I32_TO_I32, 1, 1, one, sizeof one / 4);
    static const uint32_t values[] = {0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF};
    enum { NV = sizeof values / sizeof values[0] };
    for (uint32_t cmp = 0; cmp < 10; cmp++) {
        for (uint32_t i = 0; i < NV; i++) {
            for (uint32_t j = 0; j < NV; j++) {
                uint32_t a = values[i], b = values[j];
                int32_t sa = (int32_t)a, sb = (int32_t)b;
                bool expect[10] = {a == b, a != b, sa < sb, a < b, sa > sb,
                                   a > b,  sa <= sb, a <= b, sa >= sb, a >= b};
                two[0] = OP_BR_I32_EQ + 2 * cmp;
                one[0] = OP_BR_I32_EQ_K + 2 * cmp;
                one[2] = b;
                uint64_t args[2] = {HI_JUNK | a, HI_JUNK | b};
                if (invoke_ok(r, f2, args, 2) != expect[cmp] ||
                    invoke_ok(r, f1, args, 1) != expect[cmp])
                    fail_msg("%s on %#x, %#x", code_op_name((code_op)two[0]), a, b);
            }
        }
    }
    /* the i64 ones, on values that differ only above bit 31 as well */
    static const uint64_t wide[] = {0, 1, UINT64_C(0x100000000), UINT64_C(0x7FFFFFFFFFFFFFFF),
                                    UINT64_C(0x8000000000000000), UINT64_MAX};
    enum { NW = sizeof wide / sizeof wide[0] };
    for (uint32_t cmp = 0; cmp < 10; cmp++) {
        for (uint32_t i = 0; i < NW; i++) {
            for (uint32_t j = 0; j < NW; j++) {
                uint64_t a = wide[i], b = wide[j];
                int64_t sa = (int64_t)a, sb = (int64_t)b;
                bool expect[10] = {a == b, a != b, sa < sb, a < b, sa > sb,
                                   a > b,  sa <= sb, a <= b, sa >= sb, a >= b};
                two[0] = OP_BR_I64_EQ + cmp;
                if (invoke_ok(r, f2, (uint64_t[]){a, b}, 2) != expect[cmp])
                    fail_msg("%s on %#llx, %#llx", code_op_name((code_op)two[0]),
                             (unsigned long long)a, (unsigned long long)b);
            }
        }
    }
}

/* ---- Calls ------------------------------------------------------------------------------- */

static void test_calls(void **state) {
    rig *r = *state;
    uint32_t add_code[] = {OP_I32_ADD, 0, 0, 1, OP_RETURN};
    uint32_t add = add_wasm(r, TYPE_I32_I32_TO_I32, 2, 2, add_code, 5);
    /* (x) -> add(x, 10) * 2 */
    uint32_t main_code[] = {
        /* 0  */ OP_COPY, 1, 0,
        /* 3  */ OP_CONST32, 2, 10,
        /* 6  */ OP_CALL, add, 1,
        /* 9  */ OP_CONST32, 2, 2,
        /* 12 */ OP_I32_MUL, 0, 1, 2,
        /* 16 */ OP_RETURN,
    };
    uint32_t main_f = add_wasm(r, TYPE_I32_TO_I32, 1, 3, main_code, sizeof main_code / 4);
    assert_int_equal(invoke_ok(r, main_f, (uint64_t[]){5}, 1), 30);

    /* A callee's declared locals start at zero whatever the caller left in those slots. */
    uint32_t locals_code[] = {OP_I32_ADD, 0, 0, 1, OP_I32_ADD, 0, 0, 2, OP_RETURN};
    uint32_t locals = add_wasm(r, TYPE_I32_TO_I32, 3, 3, locals_code, 9);
    uint32_t dirty_code[] = {
        OP_CONST32, 1, 5, OP_CONST32, 2, 999, OP_CONST32, 3, 999, OP_CALL, locals, 1,
        OP_COPY, 0, 1, OP_RETURN,
    };
    uint32_t dirty = add_wasm(r, TYPE_I32_TO_I32, 1, 4, dirty_code, sizeof dirty_code / 4);
    assert_int_equal(invoke_ok(r, dirty, (uint64_t[]){0}, 1), 5);
}

static void test_recursion(void **state) {
    rig *r = *state;
    /* (i64 n) -> n <= 1 ? 1 : n * fact(n - 1) */
    uint32_t fact_code[] = {
        /* 0  */ OP_CONST64, 1, 1, 0,
        /* 4  */ OP_I64_LE_U, 2, 0, 1,
        /* 8  */ OP_BR_UNLESS, 2, 7,
        /* 11 */ OP_COPY, 0, 1,
        /* 14 */ OP_RETURN,
        /* 15 */ OP_I64_SUB, 2, 0, 1,
        /* 19 */ OP_CALL, 0, 2,
        /* 22 */ OP_I64_MUL, 0, 0, 2,
        /* 26 */ OP_RETURN,
    };
    uint32_t fact = add_wasm(r, TYPE_I32_TO_I32, 1, 3, fact_code, sizeof fact_code / 4);
    assert_int_equal(fact, 0);
    assert_int_equal(invoke_ok(r, fact, (uint64_t[]){20}, 1), UINT64_C(2432902008176640000));

    /* Endless recursion: the depth limit traps, and the store is usable afterwards. */
    uint32_t forever_code[] = {OP_CALL, 1, 0, OP_RETURN};
    uint32_t forever = add_wasm(r, TYPE_VOID, 0, 1, forever_code, 4);
    assert_int_equal(forever, 1);
    expect_trap_error(invoke(r, r->func_space[forever], NULL, 0, NULL, 0),
                      WAFER_TRAP_CALL_STACK_EXHAUSTED, __LINE__);
    assert_int_equal(invoke_ok(r, fact, (uint64_t[]){5}, 1), 120);

    /* Frames too large for the value stack: exhaustion long before the depth limit. */
    uint32_t big_code[] = {OP_CALL, 2, 400, OP_RETURN};
    uint32_t big = add_wasm(r, TYPE_VOID, 0, 500, big_code, 4);
    assert_int_equal(big, 2);
    expect_trap_error(invoke(r, r->func_space[big], NULL, 0, NULL, 0),
                      WAFER_TRAP_CALL_STACK_EXHAUSTED, __LINE__);
    /* An entry frame that does not fit at all. */
    r->codes[big].frame_size = STACK_SLOTS + 1;
    expect_trap_error(invoke(r, r->func_space[big], NULL, 0, NULL, 0),
                      WAFER_TRAP_CALL_STACK_EXHAUSTED, __LINE__);
}

static void test_call_indirect(void **state) {
    rig *r = *state;
    uint32_t add_code[] = {OP_I32_ADD, 0, 0, 1, OP_RETURN};
    uint32_t add = add_wasm(r, TYPE_I32_I32_TO_I32, 2, 2, add_code, 5);
    /* the callee's type is equal to the expected one, not the same object */
    static const wafer_functype add_type_copy = {2, 1, i32x2, i32x2};
    r->funcs[add].type = &add_type_copy;
    uint32_t void_code[] = {OP_RETURN};
    uint32_t other = add_wasm(r, TYPE_VOID, 0, 0, void_code, 1);

    wafer_tabletype tt = {WAFER_FUNCREF, {3, 0, false}};
    assert_null(table_create(&r->store, &tt, NULL, &r->table_space[0]));
    table_ref_set(r->table_space[0], 0, &r->funcs[add]);
    table_ref_set(r->table_space[0], 2, &r->funcs[other]);

    uint32_t main_code[] = {
        /* 0  */ OP_CONST32, 1, 3,
        /* 3  */ OP_CONST32, 2, 4,
        /* 6  */ OP_CALL_INDIRECT, TYPE_I32_I32_TO_I32, 0, 0, 1,
        /* 11 */ OP_COPY, 0, 1,
        /* 14 */ OP_RETURN,
    };
    uint32_t m = add_wasm(r, TYPE_I32_TO_I32, 1, 3, main_code, sizeof main_code / 4);
    wafer_func *mf = r->func_space[m];
    assert_int_equal(invoke_ok(r, m, (uint64_t[]){0}, 1), 7);
    assert_int_equal(invoke_ok(r, m, (uint64_t[]){HI_JUNK}, 1), 7);
    expect_trap_error(invoke(r, mf, (uint64_t[]){1}, 1, NULL, 0),
                      WAFER_TRAP_UNINITIALIZED_ELEMENT, __LINE__);
    expect_trap_error(invoke(r, mf, (uint64_t[]){2}, 1, NULL, 0),
                      WAFER_TRAP_INDIRECT_CALL_MISMATCH, __LINE__);
    expect_trap_error(invoke(r, mf, (uint64_t[]){3}, 1, NULL, 0), WAFER_TRAP_UNDEFINED_ELEMENT,
                      __LINE__);
    expect_trap_error(invoke(r, mf, (uint64_t[]){0xFFFFFFFF}, 1, NULL, 0),
                      WAFER_TRAP_UNDEFINED_ELEMENT, __LINE__);
}

/* ---- Fuel and epochs ------------------------------------------------------------------------ */

static void test_fuel(void **state) {
    rig *r = *state;
    /* FUEL pays for its basic block on entry (code.h): the whole cost, or a trap */
    uint32_t block_code[] = {OP_FUEL, 3, OP_RETURN};
    uint32_t block = add_wasm(r, TYPE_VOID, 0, 0, block_code, 3);
    r->store.fuel = 3;
    assert_null(invoke(r, r->func_space[block], NULL, 0, NULL, 0));
    assert_int_equal(r->store.fuel, 0);
    r->store.fuel = 2;
    expect_trap_error(invoke(r, r->func_space[block], NULL, 0, NULL, 0), WAFER_TRAP_OUT_OF_FUEL,
                      __LINE__);
    assert_int_equal(r->store.fuel, 2);
    /* an endless loop ends too: its header's block is paid on every iteration */
    uint32_t spin_code[] = {OP_FUEL, 1, OP_BR, CELL(-2)};
    uint32_t spin = add_wasm(r, TYPE_VOID, 0, 0, spin_code, 4);
    r->store.fuel = 100000;
    expect_trap_error(invoke(r, r->func_space[spin], NULL, 0, NULL, 0), WAFER_TRAP_OUT_OF_FUEL,
                      __LINE__);
    assert_int_equal(r->store.fuel, 0);
}

/* The deadline is checked at function entry (for epoch engines) and by _LOOP branches when they
 * are taken, and nowhere else. */
static void test_epoch(void **state) {
    rig *r = *state;
    uint32_t sum = add_wasm(r, TYPE_I32_TO_I32, 2, 3, sum_loop, sizeof sum_loop / 4);
    uint32_t checked =
        add_wasm(r, TYPE_I32_TO_I32, 2, 3, sum_loop_checked, sizeof sum_loop_checked / 4);
    r->engine.config.epoch_interruption = true;
    r->engine.epoch = 4;
    r->store.epoch_deadline = 5;
    assert_int_equal(invoke_ok(r, checked, (uint64_t[]){10}, 1), 55);
    r->engine.epoch = 5;
    expect_trap_error(invoke(r, r->func_space[sum], (uint64_t[]){10}, 1, NULL, 0),
                      WAFER_TRAP_INTERRUPTED, __LINE__); /* at entry */
    /* with the entry check off, only the back edge can see the deadline passed */
    r->engine.config.epoch_interruption = false;
    assert_int_equal(invoke_ok(r, sum, (uint64_t[]){10}, 1), 55);
    assert_int_equal(invoke_ok(r, checked, (uint64_t[]){1}, 1), 1); /* never branches back */
    expect_trap_error(invoke(r, r->func_space[checked], (uint64_t[]){10}, 1, NULL, 0),
                      WAFER_TRAP_INTERRUPTED, __LINE__);
}

/* ---- Host functions ------------------------------------------------------------------------- */

typedef struct host_probe {
    rig *rig;
    wafer_instance *seen_instance;
    uint64_t *seen_stack_top;
    uint32_t callback_func; /* host_reenter: the wasm function to call back */
    int calls;
} host_probe;

static wafer_error *host_add(void *env, wafer_caller *caller, const wafer_value *args,
                             wafer_value *results) {
    host_probe *p = env;
    p->calls++;
    p->seen_instance = caller->instance;
    p->seen_stack_top = caller->store->stack_top;
    assert_int_equal(args[0].type, WAFER_I32);
    results[0].of.i32 = (int32_t)((uint32_t)args[0].of.i32 + (uint32_t)args[1].of.i32);
    return NULL;
}

static wafer_error *host_sum20(void *env, wafer_caller *caller, const wafer_value *args,
                               wafer_value *results) {
    (void)env;
    (void)caller;
    int32_t sum = 0;
    for (int i = 0; i < 20; i++) sum += args[i].of.i32;
    results[0].of.i32 = sum;
    return NULL;
}

static wafer_error *host_usage_error(void *env, wafer_caller *caller, const wafer_value *args,
                                     wafer_value *results) {
    (void)env, (void)caller, (void)args, (void)results;
    return error_new(WAFER_ERROR_USAGE, "bad thing %d", 7);
}

static wafer_error *host_own_trap(void *env, wafer_caller *caller, const wafer_value *args,
                                  wafer_value *results) {
    (void)env, (void)caller, (void)args, (void)results;
    return wafer_error_new_trap("boom");
}

/* Calls back into wasm: callback_func(args[0], args[1]). */
static wafer_error *host_reenter(void *env, wafer_caller *caller, const wafer_value *args,
                                 wafer_value *results) {
    host_probe *p = env;
    p->calls++;
    p->seen_stack_top = caller->store->stack_top;
    return wafer_func_call(caller->store, p->rig->func_space[p->callback_func], args, 2, results,
                           1);
}

/* (x, y) -> host(x, y) + 1, with the host at function index `host` */
static uint32_t add_host_caller(rig *r, uint32_t host, uint32_t **code_out) {
    static uint32_t code[4][17];
    static int next;
    uint32_t *c = code[next++ % 4];
    uint32_t cells[] = {
        /* 0  */ OP_COPY, 2, 0,
        /* 3  */ OP_COPY, 3, 1,
        /* 6  */ OP_CALL, host, 2,
        /* 9  */ OP_CONST32, 3, 1,
        /* 12 */ OP_I32_ADD, 0, 2, 3,
        /* 16 */ OP_RETURN,
    };
    memcpy(c, cells, sizeof cells);
    if (code_out) *code_out = c;
    return add_wasm(r, TYPE_I32_I32_TO_I32, 2, 4, c, 17);
}

static void test_host_calls(void **state) {
    rig *r = *state;
    host_probe probe = {.rig = r};
    uint32_t h = add_host(r, &r->types[TYPE_I32_I32_TO_I32], host_add, &probe);
    uint32_t caller = add_host_caller(r, h, NULL);
    assert_int_equal(invoke_ok(r, caller, (uint64_t[]){40, 1}, 2), 42);
    assert_int_equal(probe.calls, 1);
    assert_ptr_equal(probe.seen_instance, &r->instance);
    /* the caller's frame (4 slots at the stack's start) is protected from re-entry */
    assert_ptr_equal(probe.seen_stack_top, r->store.stack + 4);

    /* a host function as the entry: no calling instance */
    uint64_t out = 0;
    assert_null(invoke(r, r->func_space[h], (uint64_t[]){2, 3}, 2, &out, 1));
    assert_int_equal(out, 5);
    assert_null(probe.seen_instance);

    /* more values than the on-stack buffer holds */
    static const wafer_functype sum20_type = {20, 1, i32x20, i32x20};
    uint32_t s20 = add_host(r, &sum20_type, host_sum20, NULL);
    uint32_t s20_code[20 * 3 + 7];
    size_t n = 0;
    for (uint32_t i = 0; i < 20; i++) {
        s20_code[n++] = OP_CONST32;
        s20_code[n++] = 1 + i;
        s20_code[n++] = i + 1;
    }
    uint32_t tail[] = {OP_CALL, s20, 1, OP_COPY, 0, 1, OP_RETURN};
    memcpy(s20_code + n, tail, sizeof tail);
    n += 7;
    assert_true(n <= sizeof s20_code / 4);
    uint32_t s20_caller = add_wasm(r, TYPE_I32_TO_I32, 1, 21, s20_code, n);
    assert_int_equal(invoke_ok(r, s20_caller, (uint64_t[]){0}, 1), 210);
}

static void test_host_errors(void **state) {
    rig *r = *state;
    uint32_t usage = add_host(r, &r->types[TYPE_I32_I32_TO_I32], host_usage_error, NULL);
    uint32_t usage_caller = add_host_caller(r, usage, NULL);
    wafer_error *err = invoke(r, r->func_space[usage_caller], (uint64_t[]){1, 2}, 2, NULL, 0);
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_TRAP);
    assert_int_equal(wafer_error_trap_kind(err), WAFER_TRAP_HOST);
    assert_string_equal(wafer_error_message(err), "bad thing 7");
    wafer_error_free(err);

    uint32_t own = add_host(r, &r->types[TYPE_I32_I32_TO_I32], host_own_trap, NULL);
    uint32_t own_caller = add_host_caller(r, own, NULL);
    err = invoke(r, r->func_space[own_caller], (uint64_t[]){1, 2}, 2, NULL, 0);
    assert_non_null(err);
    assert_int_equal(wafer_error_trap_kind(err), WAFER_TRAP_HOST);
    assert_string_equal(wafer_error_message(err), "boom");
    wafer_error_free(err);
}

static void test_host_reentry(void **state) {
    rig *r = *state;
    /* wasm -> host -> wasm: the inner call fills its whole frame; the outer caller keeps a value
     * in its top slot across the call and returns it. */
    uint32_t fill_code[] = {
        OP_CONST32, 2, 0xAAAA, OP_CONST32, 3, 0xAAAA, OP_CONST32, 4, 0xAAAA,
        OP_I32_ADD, 0, 0, 1,   OP_RETURN,
    };
    uint32_t fill = add_wasm(r, TYPE_I32_I32_TO_I32, 2, 5, fill_code, sizeof fill_code / 4);
    host_probe probe = {.rig = r, .callback_func = fill};
    uint32_t h = add_host(r, &r->types[TYPE_I32_I32_TO_I32], host_reenter, &probe);
    uint32_t outer_code[] = {
        /* 0  */ OP_CONST32, 4, 1234,
        /* 3  */ OP_COPY, 2, 0,
        /* 6  */ OP_COPY, 3, 1,
        /* 9  */ OP_CALL, h, 2,
        /* 12 */ OP_I32_ADD, 0, 2, 4,
        /* 16 */ OP_RETURN,
    };
    uint32_t outer = add_wasm(r, TYPE_I32_I32_TO_I32, 2, 5, outer_code, sizeof outer_code / 4);
    assert_int_equal(invoke_ok(r, outer, (uint64_t[]){3, 4}, 2), 1234 + 7);
    assert_ptr_equal(probe.seen_stack_top, r->store.stack + 5);

    /* A trap in the inner wasm passes through the host unchanged and unwinds everything. */
    fill_code[sizeof fill_code / 4 - 1] = OP_UNREACHABLE;
    expect_trap_error(invoke(r, r->func_space[outer], (uint64_t[]){3, 4}, 2, NULL, 0),
                      WAFER_TRAP_UNREACHABLE, __LINE__);
    fill_code[sizeof fill_code / 4 - 1] = OP_RETURN;

    /* Recursion through the host counts every wasm frame against the depth limit. */
    uint32_t *loop_code;
    uint32_t loop = add_host_caller(r, h, &loop_code);
    probe.callback_func = loop;
    probe.calls = 0;
    expect_trap_error(invoke(r, r->func_space[loop], (uint64_t[]){1, 2}, 2, NULL, 0),
                      WAFER_TRAP_CALL_STACK_EXHAUSTED, __LINE__);
    assert_int_equal(probe.calls, MAX_DEPTH);
    probe.callback_func = fill;
    assert_int_equal(invoke_ok(r, outer, (uint64_t[]){3, 4}, 2), 1234 + 7);
}

/* ---- Memory -------------------------------------------------------------------------------- */

static void make_memory(rig *r, int index, bool is64, uint64_t min, uint64_t max) {
    wafer_memorytype type = {{min, max, true}, is64, false};
    assert_null(memory_create(&r->store, &type, &r->memory_space[index]));
}

static wafer_trap_kind mem_instr(rig *r, code_op op, bool is64, uint64_t offset, uint64_t addr,
                                 uint64_t value, uint64_t *out) {
    /* loads "d a mem": d = 0, a = 0; stores "a b mem": a = 0, b = 1 */
    bool store = op == OP_STORE8 || op == OP_STORE16 || op == OP_STORE32 || op == OP_STORE64 ||
                 op == OP_STORE8_M64 || op == OP_STORE16_M64 || op == OP_STORE32_M64 ||
                 op == OP_STORE64_M64;
    uint32_t cells[6] = {op, 0, store ? 1 : 0, 0, (uint32_t)offset, (uint32_t)(offset >> 32)};
    return run_instr(r, cells, is64 ? 6 : 5, addr, value, 0, out);
}

static void test_memory32_bounds(void **state) {
    rig *r = *state;
    make_memory(r, 0, false, 1, 2);
    uint8_t *data = r->memory_space[0]->data;
    uint64_t out;
    assert_int_equal(mem_instr(r, OP_STORE32, false, 0, 65532, 0x11223344, &out),
                     WAFER_TRAP_NONE);
    assert_int_equal(data[65532], 0x44); /* little-endian */
    assert_int_equal(mem_instr(r, OP_LOAD32_U, false, 0, 65532, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0x11223344);
    assert_int_equal(mem_instr(r, OP_LOAD8_U, false, 3, 65532, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0x11);
    assert_int_equal(mem_instr(r, OP_LOAD32_U, false, 0, 65533, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(mem_instr(r, OP_LOAD8_U, false, 0, 65536, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(mem_instr(r, OP_LOAD8_U, false, 65536, 0, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* address + offset does not wrap at 2^32 */
    assert_int_equal(mem_instr(r, OP_LOAD8_U, false, 1, 0xFFFFFFFF, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(mem_instr(r, OP_LOAD64, false, 0xFFFFFFFF, 0xFFFFFFFF, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* only the low 32 bits of the address count */
    assert_int_equal(mem_instr(r, OP_LOAD32_U, false, 0, HI_JUNK | 65532, 0, &out),
                     WAFER_TRAP_NONE);
    assert_int_equal(out, 0x11223344);
    /* a store that does not fit writes nothing */
    assert_int_equal(mem_instr(r, OP_STORE64, false, 0, 65529, UINT64_MAX, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(data[65529], 0);
    assert_int_equal(data[65532], 0x44);
    /* unaligned 64-bit access */
    assert_int_equal(mem_instr(r, OP_STORE64, false, 1, 2, UINT64_C(0x0102030405060708), &out),
                     WAFER_TRAP_NONE);
    assert_int_equal(mem_instr(r, OP_LOAD64, false, 0, 3, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, UINT64_C(0x0102030405060708));
    assert_int_equal(mem_instr(r, OP_LOAD16_U, false, 0, 3, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0x0708);
    /* sign extension, and narrow stores */
    assert_int_equal(mem_instr(r, OP_STORE16, false, 0, 100, 0xABCD8180, &out), WAFER_TRAP_NONE);
    assert_int_equal(mem_instr(r, OP_LOAD32_U, false, 0, 100, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0x8180);
    assert_int_equal(mem_instr(r, OP_I32_LOAD8_S, false, 0, 100, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0xFFFFFF80);
    assert_int_equal(mem_instr(r, OP_I32_LOAD16_S, false, 0, 100, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0xFFFF8180);
    assert_int_equal(mem_instr(r, OP_I64_LOAD8_S, false, 0, 100, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, UINT64_C(0xFFFFFFFFFFFFFF80));
    assert_int_equal(mem_instr(r, OP_I64_LOAD16_S, false, 0, 100, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, UINT64_C(0xFFFFFFFFFFFF8180));
    assert_int_equal(mem_instr(r, OP_STORE32, false, 0, 200, 0x80000000, &out), WAFER_TRAP_NONE);
    assert_int_equal(mem_instr(r, OP_I64_LOAD32_S, false, 0, 200, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, UINT64_C(0xFFFFFFFF80000000));
    assert_int_equal(mem_instr(r, OP_STORE8, false, 0, 65535, 0x1FF, &out), WAFER_TRAP_NONE);
    assert_int_equal(data[65535], 0xFF);
    assert_int_equal(mem_instr(r, OP_STORE8, false, 0, 65536, 0x1FF, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
}

static void test_memory64_bounds(void **state) {
    rig *r = *state;
    make_memory(r, 0, true, 1, 3);
    uint64_t out;
    assert_int_equal(mem_instr(r, OP_STORE32_M64, true, 0, 65532, 0xCAFEBABE, &out),
                     WAFER_TRAP_NONE);
    assert_int_equal(mem_instr(r, OP_LOAD32_U_M64, true, 65532, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0xCAFEBABE);
    assert_int_equal(mem_instr(r, OP_LOAD32_U_M64, true, 0, 65533, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* the whole 64-bit address counts */
    assert_int_equal(mem_instr(r, OP_LOAD8_U_M64, true, 0, UINT64_C(0x100000000), 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(mem_instr(r, OP_LOAD8_U_M64, true, UINT64_C(0x100000000), 0, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* address + offset overflowing 64 bits traps rather than wrapping to a small address */
    assert_int_equal(mem_instr(r, OP_LOAD8_U_M64, true, UINT64_MAX, 1, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(mem_instr(r, OP_LOAD64_M64, true, 8, UINT64_MAX - 7, 0, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(mem_instr(r, OP_STORE8_M64, true, UINT64_MAX, 0, 1, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(mem_instr(r, OP_I64_LOAD32_S_M64, true, 0, 65532, 0, &out),
                     WAFER_TRAP_NONE);
    assert_int_equal(out, UINT64_C(0xFFFFFFFFCAFEBABE));
    assert_int_equal(mem_instr(r, OP_I32_LOAD16_S_M64, true, 0, 65534, 0, &out),
                     WAFER_TRAP_NONE);
    assert_int_equal(out, 0xFFFFCAFE);
    assert_int_equal(mem_instr(r, OP_STORE64_M64, true, 0, 65528, 1, &out), WAFER_TRAP_NONE);
    assert_int_equal(mem_instr(r, OP_STORE16_M64, true, 0, 65535, 1, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
}

static void test_memory_size_grow(void **state) {
    rig *r = *state;
    make_memory(r, 0, false, 1, 2);
    make_memory(r, 1, true, 0, 1);
    uint64_t out;
    uint32_t size0[] = {OP_MEMORY_SIZE, 0, 0};
    uint32_t grow0[] = {OP_MEMORY_GROW, 0, 0, 1};
    uint32_t grow1[] = {OP_MEMORY_GROW, 0, 1, 1};
    assert_int_equal(run_instr(r, size0, 3, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 1);
    /* the i32 delta reads only the low bits */
    assert_int_equal(run_instr(r, grow0, 4, 0, HI_JUNK | 1, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 1);
    assert_int_equal(r->memory_space[0]->pages, 2);
    assert_int_equal(run_instr(r, grow0, 4, 0, 1, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0xFFFFFFFF); /* i32 -1 */
    /* the new page is usable: memory data is reloaded after growth */
    assert_int_equal(mem_instr(r, OP_STORE32, false, 65536, 65532, 9, &out), WAFER_TRAP_NONE);
    /* 64-bit memory: i64 delta and i64 -1 */
    assert_int_equal(run_instr(r, grow1, 4, 0, HI_JUNK | 1, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, UINT64_MAX);
    assert_int_equal(run_instr(r, grow1, 4, 0, 1, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0);
    uint32_t size1[] = {OP_MEMORY_SIZE, 0, 1};
    assert_int_equal(run_instr(r, size1, 3, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 1);
}

static void test_memory_bulk(void **state) {
    rig *r = *state;
    make_memory(r, 0, false, 1, 1);
    make_memory(r, 1, true, 1, 1);
    uint8_t *d0 = r->memory_space[0]->data, *d1 = r->memory_space[1]->data;
    uint64_t out;

    uint32_t fill[] = {OP_MEMORY_FILL, 0, 0, 1, 2};
    assert_int_equal(run_instr(r, fill, 5, 10, 0x1AB, 4, &out), WAFER_TRAP_NONE);
    assert_memory_equal(d0 + 10, "\xAB\xAB\xAB\xAB", 4);
    assert_int_equal(d0[14], 0);
    /* out of bounds: nothing written */
    assert_int_equal(run_instr(r, fill, 5, 65530, 0xCD, 7, &out), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(d0[65530], 0);
    assert_int_equal(run_instr(r, fill, 5, 65536, 0xCD, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(run_instr(r, fill, 5, 65537, 0xCD, 0, &out), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);

    /* overlapping copy within one memory */
    uint32_t copy00[] = {OP_MEMORY_COPY, 0, 0, 0, 1, 2};
    memcpy(d0 + 100, "abcdefgh", 8);
    assert_int_equal(run_instr(r, copy00, 6, 101, 100, 8, &out), WAFER_TRAP_NONE);
    assert_memory_equal(d0 + 100, "aabcdefgh", 9);
    assert_int_equal(run_instr(r, copy00, 6, 100, 101, 8, &out), WAFER_TRAP_NONE);
    assert_memory_equal(d0 + 100, "abcdefghh", 9);
    assert_int_equal(run_instr(r, copy00, 6, 65535, 0, 2, &out), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(d0[65535], 0);

    /* from the 32-bit memory into the 64-bit one: the count is i32 */
    uint32_t copy10[] = {OP_MEMORY_COPY, 1, 0, 0, 1, 2};
    assert_int_equal(run_instr(r, copy10, 6, 7, 100, HI_JUNK | 3, &out), WAFER_TRAP_NONE);
    assert_memory_equal(d1 + 7, "abc", 3);
    /* the 64-bit destination address is i64 */
    assert_int_equal(run_instr(r, copy10, 6, UINT64_C(0x100000000), 100, 1, &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* between two 64-bit memories the count is i64 */
    uint32_t copy11[] = {OP_MEMORY_COPY, 1, 1, 0, 1, 2};
    assert_int_equal(run_instr(r, copy11, 6, 0, 7, UINT64_C(0x100000001), &out),
                     WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(run_instr(r, copy11, 6, 0, 7, 3, &out), WAFER_TRAP_NONE);
    assert_memory_equal(d1, "abc", 3);

    /* memory.init from the passive segment "hello", then data.drop */
    uint32_t init[] = {OP_MEMORY_INIT, 0, 0, 0, 1, 2};
    assert_int_equal(run_instr(r, init, 6, 300, 1, 3, &out), WAFER_TRAP_NONE);
    assert_memory_equal(d0 + 300, "ell", 3);
    assert_int_equal(run_instr(r, init, 6, 400, 3, 3, &out), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(d0[400], 0);
    assert_int_equal(run_instr(r, init, 6, 65535, 0, 2, &out), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(run_instr(r, init, 6, 0, 5, 0, &out), WAFER_TRAP_NONE);
    uint32_t drop[] = {OP_DATA_DROP, 0};
    assert_int_equal(run_instr(r, drop, 2, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_true(r->data_dropped[0]);
    assert_int_equal(run_instr(r, init, 6, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(run_instr(r, init, 6, 0, 1, 0, &out), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(run_instr(r, init, 6, 0, 0, 1, &out), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
}

/* ---- Tables -------------------------------------------------------------------------------- */

static void test_tables(void **state) {
    rig *r = *state;
    wafer_tabletype tt = {WAFER_FUNCREF, {3, 5, true}};
    assert_null(table_create(&r->store, &tt, NULL, &r->table_space[0]));
    assert_null(table_create(&r->store, &tt, NULL, &r->table_space[1]));
    wafer_table *t = r->table_space[0];
    uint32_t void_code[] = {OP_RETURN};
    uint32_t f = add_wasm(r, TYPE_VOID, 0, 0, void_code, 1);
    uint32_t g = add_wasm(r, TYPE_VOID, 0, 0, void_code, 1);
    uint64_t fref = (uint64_t)(uintptr_t)&r->funcs[f], gref = (uint64_t)(uintptr_t)&r->funcs[g];
    uint64_t out;

    uint32_t set[] = {OP_TABLE_SET, 0, 0, 1};
    uint32_t get[] = {OP_TABLE_GET, 0, 0, 0};
    assert_int_equal(run_instr(r, set, 4, 2, fref, 0, &out), WAFER_TRAP_NONE);
    assert_ptr_equal(table_ref_get(t, 2), &r->funcs[f]);
    assert_int_equal(run_instr(r, get, 4, HI_JUNK | 2, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, fref);
    assert_int_equal(run_instr(r, get, 4, 3, 0, 0, &out), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    assert_int_equal(run_instr(r, set, 4, 3, fref, 0, &out), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);

    uint32_t size[] = {OP_TABLE_SIZE, 0, 0};
    uint32_t grow[] = {OP_TABLE_GROW, 0, 0, 0, 1};
    assert_int_equal(run_instr(r, grow, 5, gref, 2, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 3);
    assert_ptr_equal(table_ref_get(t, 4), &r->funcs[g]);
    assert_int_equal(run_instr(r, grow, 5, gref, 1, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 0xFFFFFFFF);
    assert_int_equal(run_instr(r, size, 3, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(out, 5);

    /* fill [1, 4) with g; out of bounds writes nothing */
    uint32_t fill[] = {OP_TABLE_FILL, 0, 0, 1, 2};
    assert_int_equal(run_instr(r, fill, 5, 1, gref, 3, &out), WAFER_TRAP_NONE);
    assert_null(table_ref_get(t, 0));
    assert_ptr_equal(table_ref_get(t, 1), &r->funcs[g]);
    assert_ptr_equal(table_ref_get(t, 3), &r->funcs[g]);
    assert_int_equal(run_instr(r, fill, 5, 4, 0, 2, &out), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    assert_ptr_equal(table_ref_get(t, 4), &r->funcs[g]);
    assert_int_equal(run_instr(r, fill, 5, 5, 0, 0, &out), WAFER_TRAP_NONE);

    /* copy, overlapping and across tables */
    table_ref_set(t, 0, &r->funcs[f]);
    uint32_t copy00[] = {OP_TABLE_COPY, 0, 0, 0, 1, 2};
    assert_int_equal(run_instr(r, copy00, 6, 1, 0, 4, &out), WAFER_TRAP_NONE);
    assert_ptr_equal(table_ref_get(t, 0), &r->funcs[f]);
    assert_ptr_equal(table_ref_get(t, 1), &r->funcs[f]);
    assert_ptr_equal(table_ref_get(t, 2), &r->funcs[g]);
    assert_int_equal(run_instr(r, copy00, 6, 0, 2, 4, &out), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    uint32_t copy10[] = {OP_TABLE_COPY, 1, 0, 0, 1, 2};
    assert_int_equal(run_instr(r, copy10, 6, 2, 0, 1, &out), WAFER_TRAP_NONE);
    assert_ptr_equal(table_ref_get(r->table_space[1], 2), &r->funcs[f]);
    assert_int_equal(run_instr(r, copy10, 6, 3, 0, 1, &out), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);

    /* init from an element segment, then elem.drop */
    r->elems[0].count = 2;
    r->elems[0].refs = malloc(2 * sizeof(void *));
    assert_non_null(r->elems[0].refs);
    r->elems[0].refs[0] = &r->funcs[g];
    r->elems[0].refs[1] = NULL;
    uint32_t init[] = {OP_TABLE_INIT, 1, 0, 0, 1, 2};
    assert_int_equal(run_instr(r, init, 6, 0, 0, 2, &out), WAFER_TRAP_NONE);
    assert_ptr_equal(table_ref_get(r->table_space[1], 0), &r->funcs[g]);
    assert_null(table_ref_get(r->table_space[1], 1));
    assert_int_equal(run_instr(r, init, 6, 0, 1, 2, &out), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    assert_int_equal(run_instr(r, init, 6, 2, 0, 2, &out), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    uint32_t drop[] = {OP_ELEM_DROP, 0};
    assert_int_equal(run_instr(r, drop, 2, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_null(r->elems[0].refs);
    assert_int_equal(r->elems[0].count, 0);
    assert_int_equal(run_instr(r, init, 6, 0, 0, 0, &out), WAFER_TRAP_NONE);
    assert_int_equal(run_instr(r, init, 6, 0, 0, 1, &out), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
}

#define RIG_TEST(fn) cmocka_unit_test_setup_teardown(fn, rig_setup, rig_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        RIG_TEST(test_i32_arithmetic),  RIG_TEST(test_i64_arithmetic),
        RIG_TEST(test_float_bits),      RIG_TEST(test_float_min_max),
        RIG_TEST(test_float_rounding),  RIG_TEST(test_float_compare),
        RIG_TEST(test_float_to_int),    RIG_TEST(test_int_to_float),
        RIG_TEST(test_data_movement),   RIG_TEST(test_unreachable),
        RIG_TEST(test_branches),        RIG_TEST(test_comparison_branches),
        RIG_TEST(test_calls),
        RIG_TEST(test_recursion),       RIG_TEST(test_call_indirect),
        RIG_TEST(test_fuel),            RIG_TEST(test_epoch),
        RIG_TEST(test_host_calls),      RIG_TEST(test_host_errors),
        RIG_TEST(test_host_reentry),    RIG_TEST(test_memory32_bounds),
        RIG_TEST(test_memory64_bounds), RIG_TEST(test_memory_size_grow),
        RIG_TEST(test_memory_bulk),     RIG_TEST(test_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
