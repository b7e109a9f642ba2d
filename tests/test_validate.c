/* Unit tests of validation (validate.c) and compilation (compile.c, code.c): invalid modules fail
 * with the spec test suite's texts, encoding errors inside bodies are malformations, limits and
 * switched-off features fail with their own kinds, and valid bodies compile into the code.h
 * instructions the conventions there prescribe (checked through code_dump listings). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "wafer.h"

/* ---- Building binaries -------------------------------------------------------------------- */

typedef struct bin {
    uint8_t b[4096];
    size_t n;
} bin;

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define HEADER 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

static void put(bin *m, const uint8_t *bytes, size_t n) {
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, bytes, n);
    m->n += n;
}

static void put_byte(bin *m, uint8_t byte) { put(m, &byte, 1); }

static void put_u32(bin *m, uint32_t v) {
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put_byte(m, byte | (v ? 0x80 : 0));
    } while (v);
}

static void put_section(bin *m, uint8_t id, const bin *content) {
    put_byte(m, id);
    put_u32(m, (uint32_t)content->n);
    put(m, content->b, content->n);
}

/* Value types by letter: i i32, I i64, f f32, F f64, r funcref, e externref. */
static uint8_t valtype(char c) {
    switch (c) {
    case 'i': return 0x7F;
    case 'I': return 0x7E;
    case 'f': return 0x7D;
    case 'F': return 0x7C;
    case 'r': return 0x70;
    default: return 0x6F;
    }
}

static void put_types(bin *m, const char *types) {
    put_u32(m, (uint32_t)strlen(types));
    for (const char *t = types; *t; t++) put_byte(m, valtype(*t));
}

/* What a one-function test module has besides its function. */
enum {
    WITH_MEMORY = 1,     /* memory 0: 32-bit, 1 page */
    WITH_MEMORY64 = 2,   /* memory 0: 64-bit, 1 page */
    WITH_TABLE = 4,      /* table 0: funcref, 1 element */
    WITH_DATA = 8,       /* one passive data segment, and the data count section */
    WITH_EXPORT = 16,    /* function 0 exported as "f", which declares it for ref.func */
    WITH_CALLEE = 32,    /* type 1 (i32) -> (i32) and an imported function 0 "m" "g" of it */
    WITH_DATA_NO_COUNT = 64, /* one passive data segment, no data count section */
};

/* A module with one defined function of type params -> results, with one local of each letter of
 * `locals`, and the given body (instructions including the final end). Type 0 is the function's. */
static void build(bin *m, unsigned with, const char *params, const char *results,
                  const char *locals, const uint8_t *body, size_t body_len) {
    bin s;
    m->n = 0;
    put(m, BYTES(HEADER));
    s.n = 0; /* types */
    put_u32(&s, with & WITH_CALLEE ? 2 : 1);
    put_byte(&s, 0x60);
    put_types(&s, params);
    put_types(&s, results);
    if (with & WITH_CALLEE) put(&s, BYTES(0x60, 0x01, 0x7F, 0x01, 0x7F));
    put_section(m, 1, &s);
    if (with & WITH_CALLEE) {
        s.n = 0;
        put(&s, BYTES(0x01, 0x01, 'm', 0x01, 'g', 0x00, 0x01));
        put_section(m, 2, &s);
    }
    s.n = 0; /* functions */
    put(&s, BYTES(0x01, 0x00));
    put_section(m, 3, &s);
    if (with & WITH_TABLE) {
        s.n = 0;
        put(&s, BYTES(0x01, 0x70, 0x00, 0x01));
        put_section(m, 4, &s);
    }
    if (with & (WITH_MEMORY | WITH_MEMORY64)) {
        s.n = 0;
        put(&s, BYTES(0x01));
        put_byte(&s, with & WITH_MEMORY64 ? 0x04 : 0x00);
        put_byte(&s, 0x01);
        put_section(m, 5, &s);
    }
    if (with & WITH_EXPORT) {
        s.n = 0;
        put(&s, BYTES(0x01, 0x01, 'f', 0x00));
        put_u32(&s, with & WITH_CALLEE ? 1 : 0);
        put_section(m, 7, &s);
    }
    if (with & WITH_DATA) {
        s.n = 0;
        put(&s, BYTES(0x01));
        put_section(m, 12, &s);
    }
    s.n = 0; /* code */
    bin f = {.n = 0};
    put_u32(&f, (uint32_t)strlen(locals));
    for (const char *t = locals; *t; t++) {
        put_byte(&f, 0x01);
        put_byte(&f, valtype(*t));
    }
    put(&f, body, body_len);
    put_byte(&s, 0x01);
    put_u32(&s, (uint32_t)f.n);
    put(&s, f.b, f.n);
    put_section(m, 10, &s);
    if (with & (WITH_DATA | WITH_DATA_NO_COUNT)) {
        s.n = 0;
        put(&s, BYTES(0x01, 0x01, 0x02, 'h', 'i'));
        put_section(m, 11, &s);
    }
}

/* ---- Checking results --------------------------------------------------------------------- */

static wafer_engine *engine_with(uint32_t features_off, void (*adjust)(wafer_config *)) {
    wafer_config config;
    wafer_config_default(&config);
    config.features &= ~features_off;
    if (adjust) adjust(&config);
    wafer_engine *engine = wafer_engine_new(&config);
    assert_non_null(engine);
    return engine;
}

static void assert_error(wafer_error *err, wafer_error_kind kind, const char *prefix) {
    if (!err) fail_msg("expected an error starting \"%s\", got success", prefix);
    const char *msg = wafer_error_message(err);
    if (wafer_error_kind_of(err) != kind || strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("expected kind %d \"%s...\", got kind %d \"%s\"", kind, prefix,
                 wafer_error_kind_of(err), msg);
    wafer_error_free(err);
}

/* Both entry points (compiling or only validating) must refuse the module the same way. */
static void expect_error_with(wafer_engine *engine, const bin *m, wafer_error_kind kind,
                              const char *prefix) {
    wafer_module *module = (wafer_module *)1;
    assert_error(wafer_module_new(engine, m->b, m->n, &module), kind, prefix);
    assert_null(module);
    assert_error(wafer_module_validate(engine, m->b, m->n), kind, prefix);
}

static void expect_error(const bin *m, wafer_error_kind kind, const char *prefix) {
    wafer_engine *engine = engine_with(0, NULL);
    expect_error_with(engine, m, kind, prefix);
    wafer_engine_delete(engine);
}

static void expect_invalid(const bin *m, const char *prefix) {
    expect_error(m, WAFER_ERROR_INVALID, prefix);
}

/* A body in a module: must fail validation this way. */
#define BODY_INVALID(with, params, results, locals, text, ...)                                    \
    do {                                                                                           \
        bin m_;                                                                                    \
        build(&m_, with, params, results, locals, BYTES(__VA_ARGS__));                             \
        expect_invalid(&m_, text);                                                                 \
    } while (0)

#define BODY_MALFORMED(with, params, results, locals, text, ...)                                  \
    do {                                                                                           \
        bin m_;                                                                                    \
        build(&m_, with, params, results, locals, BYTES(__VA_ARGS__));                             \
        expect_error(&m_, WAFER_ERROR_MALFORMED, text);                                            \
    } while (0)

/* Compiles a module and returns the listing of its one defined function (caller frees). */
static char *compile_listing(wafer_engine *engine, const bin *m, code_func *info) {
    wafer_module *module;
    wafer_error *err = module_decode(engine, m->b, m->n, &module);
    if (!err) err = module_validate(module, true);
    if (err) fail_msg("compiling failed: %s", wafer_error_message(err));
    code_func *f = &module->code[0];
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    code_dump(f, out);
    fclose(out);
    if (info) {
        *info = *f;
        info->code = NULL;
        info->stack_maps = NULL;
        info->map_slots = NULL;
    }
    module_free(module);
    return text;
}

static void expect_listing_with(wafer_engine *engine, const bin *m, const char *expected,
                                code_func *info) {
    char *text = compile_listing(engine, m, info);
    if (strcmp(text, expected) != 0)
        fail_msg("listing differs.\nexpected:\n%s\ngot:\n%s", expected, text);
    free(text);
}

#define EXPECT_CODE(with, params, results, locals, expected, ...)                                 \
    do {                                                                                           \
        bin m_;                                                                                    \
        wafer_engine *e_ = engine_with(0, NULL);                                                   \
        build(&m_, with, params, results, locals, BYTES(__VA_ARGS__));                             \
        expect_listing_with(e_, &m_, expected, NULL);                                              \
        wafer_engine_delete(e_);                                                                   \
    } while (0)

/* ---- Compilation -------------------------------------------------------------------------- */

/* Operands live at slot num_locals + depth, except that local.get copies nothing: the operand
 * reads the local's slot until something needs it in its own; results go to slots 0.. before
 * RETURN. */
static void test_compile_add_of_two_locals(void **state) {
    (void)state;
    bin m;
    code_func info;
    wafer_engine *engine = engine_with(0, NULL);
    build(&m, 0, "ii", "i", "", BYTES(0x20, 0x00, 0x20, 0x01, 0x6A, 0x0B));
    expect_listing_with(engine, &m,
                        "0: I32_ADD 2 0 1\n"
                        "4: COPY 0 2\n"
                        "7: RETURN\n",
                        &info);
    assert_int_equal(info.num_params, 2);
    assert_int_equal(info.num_locals, 2);
    assert_int_equal(info.num_results, 1);
    assert_int_equal(info.frame_size, 4);
    assert_int_equal(info.num_stack_maps, 0);
    wafer_engine_delete(engine);
}

static void test_compile_constants_and_locals(void **state) {
    (void)state;
    /* (local i64 f64) i64.const -2  local.set 0  f64.const 1.0  local.tee 1  drop: a value
     * computed just before local.set or local.tee is computed into the local itself */
    EXPECT_CODE(0, "", "", "IF",
                "0: CONST64 0 4294967294 4294967295\n"
                "4: CONST64 1 0 1072693248\n"
                "8: RETURN\n",
                0x42, 0x7E, 0x21, 0x00, 0x44, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x22, 0x01, 0x1A,
                0x0B);
    /* f32.const, reinterpret (nothing), i32.const; ref.null is a zero CONST64 */
    EXPECT_CODE(0, "", "ir", "",
                "0: CONST32 0 1065353216\n"
                "3: CONST64 1 0 0\n"
                "7: RETURN\n",
                0x43, 0x00, 0x00, 0x80, 0x3F, 0xBC, 0xD0, 0x70, 0x0B);
}

/* A branch moves the label's values to the label's base, then jumps forward to the end. */
static void test_compile_block_branch_moves_values(void **state) {
    (void)state;
    /* block (result i32)  i32.const 1  i32.const 2  br 0  end */
    EXPECT_CODE(0, "", "i", "",
                "0: CONST32 0 1\n"
                "3: CONST32 1 2\n"
                "6: COPY 0 1\n"
                "9: BR ->11\n"
                "11: RETURN\n",
                0x02, 0x7F, 0x41, 0x01, 0x41, 0x02, 0x0C, 0x00, 0x0B, 0x0B);
    /* without moves: block (result i32)  i32.const 7  br 0  end */
    EXPECT_CODE(0, "i", "i", "",
                "0: CONST32 1 7\n"
                "3: BR ->5\n"
                "5: COPY 0 1\n"
                "8: RETURN\n",
                0x02, 0x7F, 0x41, 0x07, 0x0C, 0x00, 0x0B, 0x0B);
}

static void epochs_on(wafer_config *config) { config->epoch_interruption = true; }

/* Loops: the label is the loop's first instruction; br_if without moves is one BR_IF, and for an
 * epoch engine a BR_IF_LOOP, which checks the deadline when it branches back. */
static void test_compile_loop(void **state) {
    (void)state;
    /* loop  local.get 0  br_if 0  end */
    EXPECT_CODE(0, "i", "", "",
                "0: COPY 1 0\n"
                "3: BR_IF 1 ->0\n"
                "6: RETURN\n",
                0x03, 0x40, 0x20, 0x00, 0x0D, 0x00, 0x0B, 0x0B);
    bin m;
    wafer_engine *e = engine_with(0, epochs_on);
    /* block  loop  local.get 0  br_if 1  local.get 0  br_if 0  br 0  end  end */
    build(&m, 0, "i", "", "",
          BYTES(0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x0D, 0x01, 0x20, 0x00, 0x0D, 0x00, 0x0C,
                0x00, 0x0B, 0x0B, 0x0B));
    expect_listing_with(e, &m,
                        "0: COPY 1 0\n"
                        "3: BR_IF 1 ->14\n"
                        "6: COPY 1 0\n"
                        "9: BR_IF_LOOP 1 ->0\n"
                        "12: BR_LOOP ->0\n"
                        "14: RETURN\n",
                        NULL);
    wafer_engine_delete(e);
}

/* br_if and if on an i32 comparison branch on the comparison itself (code.h), with the opposite
 * comparison where the branch skips; on i32.eqz they branch the other way round. */
static void test_compile_comparison_branches(void **state) {
    (void)state;
    /* block  local.get 0  i32.const 5  i32.lt_s  br_if 0  end */
    EXPECT_CODE(0, "i", "", "",
                "0: BR_I32_LT_S_K 0 5 ->4\n"
                "4: RETURN\n",
                0x02, 0x40, 0x20, 0x00, 0x41, 0x05, 0x48, 0x0D, 0x00, 0x0B, 0x0B);
    /* local.get 0  local.get 1  i32.gt_u  if (result i32)  i32.const 1  else  i32.const 2  end */
    EXPECT_CODE(0, "ii", "i", "",
                "0: BR_I32_LE_U 0 1 ->9\n"
                "4: CONST32 2 1\n"
                "7: BR ->12\n"
                "9: CONST32 2 2\n"
                "12: COPY 0 2\n"
                "15: RETURN\n",
                0x20, 0x00, 0x20, 0x01, 0x4B, 0x04, 0x7F, 0x41, 0x01, 0x05, 0x41, 0x02, 0x0B,
                0x0B);
    /* i64: block  local.get 0  i64.const 7  i64.ge_u  br_if 0  end  (the constant in a slot) */
    EXPECT_CODE(0, "I", "", "",
                "0: CONST64 2 7 0\n"
                "4: BR_I64_GE_U 0 2 ->8\n"
                "8: RETURN\n",
                0x02, 0x40, 0x20, 0x00, 0x42, 0x07, 0x5A, 0x0D, 0x00, 0x0B, 0x0B);
    /* block  local.get 0  i32.eqz  br_if 0  end */
    EXPECT_CODE(0, "i", "", "",
                "0: BR_UNLESS 0 ->3\n"
                "3: RETURN\n",
                0x02, 0x40, 0x20, 0x00, 0x45, 0x0D, 0x00, 0x0B, 0x0B);
    /* a comparison whose result is also kept (local.tee) is computed, and the branch reads it:
     * block  local.get 0  i32.const 5  i32.lt_s  local.tee 1  br_if 0  end */
    EXPECT_CODE(0, "i", "", "i",
                "0: I32_LT_S_K 1 0 5\n"
                "4: COPY 2 1\n"
                "7: BR_IF 2 ->10\n"
                "10: RETURN\n",
                0x02, 0x40, 0x20, 0x00, 0x41, 0x05, 0x48, 0x22, 0x01, 0x0D, 0x00, 0x0B, 0x0B);
}

/* br_if with values to move: BR_UNLESS over the moves and the BR. */
static void test_compile_br_if_with_moves(void **state) {
    (void)state;
    /* block (result i32)  i32.const 1  i32.const 2  local.get 0  br_if 0  drop  end */
    EXPECT_CODE(0, "i", "i", "",
                "0: CONST32 1 1\n"
                "3: CONST32 2 2\n"
                "6: COPY 3 0\n"
                "9: BR_UNLESS 3 ->17\n"
                "12: COPY 1 2\n"
                "15: BR ->17\n"
                "17: COPY 0 1\n"
                "20: RETURN\n",
                0x02, 0x7F, 0x41, 0x01, 0x41, 0x02, 0x20, 0x00, 0x0D, 0x00, 0x1A, 0x0B, 0x0B);
    /* br_if to the function's label is a conditional return */
    EXPECT_CODE(0, "i", "i", "",
                "0: CONST32 1 9\n"
                "3: COPY 2 0\n"
                "6: BR_UNLESS 2 ->13\n"
                "9: COPY 0 1\n"
                "12: RETURN\n"
                "13: UNREACHABLE\n",
                0x41, 0x09, 0x20, 0x00, 0x0D, 0x00, 0x00, 0x0B);
}

static void test_compile_if_else(void **state) {
    (void)state;
    /* local.get 0  if (result i32)  i32.const 1  else  i32.const 2  end */
    EXPECT_CODE(0, "i", "i", "",
                "0: COPY 1 0\n"
                "3: BR_UNLESS 1 ->11\n"
                "6: CONST32 1 1\n"
                "9: BR ->14\n"
                "11: CONST32 1 2\n"
                "14: COPY 0 1\n"
                "17: RETURN\n",
                0x20, 0x00, 0x04, 0x7F, 0x41, 0x01, 0x05, 0x41, 0x02, 0x0B, 0x0B);
    /* if without else jumps to its end */
    EXPECT_CODE(0, "i", "", "",
                "0: COPY 1 0\n"
                "3: BR_UNLESS 1 ->6\n"
                "6: RETURN\n",
                0x20, 0x00, 0x04, 0x40, 0x0B, 0x0B);
}

/* br_table: entries needing moves share one stub per label; others point at the label. */
static void test_compile_br_table(void **state) {
    (void)state;
    /* block (result i32)  i32.const 9  block (result i32)  i32.const 3  local.get 0
     *   br_table 0 1 0  end  drop  end  drop: the outer label needs its value moved */
    EXPECT_CODE(0, "i", "", "",
                "0: CONST32 1 9\n"
                "3: CONST32 2 3\n"
                "6: COPY 3 0\n"
                "9: BR_TABLE 3 2 ->20 ->15 ->20\n"
                "15: COPY 1 2\n"
                "18: BR ->20\n"
                "20: RETURN\n",
                0x02, 0x7F, 0x41, 0x09, 0x02, 0x7F, 0x41, 0x03, 0x20, 0x00, 0x0E, 0x02, 0x00,
                0x01, 0x00, 0x0B, 0x1A, 0x0B, 0x1A, 0x0B);
}

/* Code after an unconditional branch is validated but not emitted. */
static void test_compile_dead_code(void **state) {
    (void)state;
    EXPECT_CODE(0, "", "i", "",
                "0: UNREACHABLE\n",
                0x00, 0x41, 0x01, 0x02, 0x40, 0x41, 0x02, 0x1A, 0x0B, 0x6A, 0x0B);
    /* after the block the code is live again */
    EXPECT_CODE(0, "", "i", "",
                "0: BR ->2\n"
                "2: CONST32 0 4\n"
                "5: RETURN\n",
                0x02, 0x40, 0x0C, 0x00, 0x41, 0x01, 0x1A, 0x0B, 0x41, 0x04, 0x0B);
}

/* Calls: arguments from `base`, results back at base, a stack map of the externref slots below. */
static void test_compile_call_and_stack_map(void **state) {
    (void)state;
    bin m;
    wafer_engine *engine = engine_with(0, NULL);
    /* (param externref) (local funcref): ref.null extern  i32.const 1  call 0 (the import)  drop
     * drop */
    build(&m, WITH_CALLEE, "e", "", "r",
          BYTES(0xD0, 0x6F, 0x41, 0x01, 0x10, 0x00, 0x1A, 0x1A, 0x0B));
    wafer_module *module;
    assert_null(module_decode(engine, m.b, m.n, &module));
    assert_null(module_validate(module, true));
    const code_func *f = &module->code[0];
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    code_dump(f, out);
    fclose(out);
    assert_string_equal(text, "0: CONST64 2 0 0\n"
                              "4: CONST32 3 1\n"
                              "7: CALL 0 3\n"
                              "10: RETURN\n");
    free(text);
    assert_int_equal(f->num_stack_maps, 1);
    assert_int_equal(f->stack_maps[0].pc, 7);
    assert_int_equal(f->stack_maps[0].count, 2); /* funcrefs are not collected: not listed */
    const uint32_t *slots = f->map_slots + f->stack_maps[0].first;
    assert_int_equal(slots[0], 0); /* the externref param */
    assert_int_equal(slots[1], 2); /* the externref operand below the argument */
    assert_int_equal(f->frame_size, 4);
    module_free(module);
    wafer_engine_delete(engine);
}

static void test_compile_call_indirect(void **state) {
    (void)state;
    /* i32.const 5  i32.const 0  call_indirect (type 1) table 0 */
    EXPECT_CODE(WITH_TABLE | WITH_CALLEE, "", "i", "",
                "0: CONST32 0 5\n"
                "3: CONST32 1 0\n"
                "6: CALL_INDIRECT 1 0 1 0\n"
                "11: RETURN\n",
                0x41, 0x05, 0x41, 0x00, 0x11, 0x01, 0x00, 0x0B);
}

static void test_compile_memory_access(void **state) {
    (void)state;
    /* i32.const 8  i64.load32_s offset=16  drop;  i32.const 0  f32.const 0  f32.store */
    EXPECT_CODE(WITH_MEMORY, "", "", "",
                "0: CONST32 0 8\n"
                "3: I64_LOAD32_S 0 0 0 16\n"
                "8: CONST32 0 0\n"
                "11: CONST32 1 0\n"
                "14: STORE32 0 1 0 0\n"
                "19: RETURN\n",
                0x41, 0x08, 0x34, 0x02, 0x10, 0x1A, 0x41, 0x00, 0x43, 0, 0, 0, 0, 0x38, 0x02,
                0x00, 0x0B);
    /* memory64: i64 addresses, 64-bit offsets in two cells */
    EXPECT_CODE(WITH_MEMORY64, "", "i", "",
                "0: CONST64 0 4 0\n"
                "4: LOAD32_U_M64 0 0 0 0 1\n"
                "10: RETURN\n",
                0x42, 0x04, 0x28, 0x02, 0x80, 0x80, 0x80, 0x80, 0x10, 0x0B);
    /* an offset of 0 in 6 bytes is a u64, fine for a 32-bit memory with memory64 on */
    EXPECT_CODE(WITH_MEMORY, "", "i", "",
                "0: CONST32 0 0\n"
                "3: LOAD32_U 0 0 0 0\n"
                "8: RETURN\n",
                0x41, 0x00, 0x28, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0B);
    EXPECT_CODE(WITH_MEMORY, "", "i", "",
                "0: MEMORY_SIZE 0 0\n"
                "3: MEMORY_GROW 0 0 0\n"
                "7: RETURN\n",
                0x3F, 0x00, 0x40, 0x00, 0x0B);
}

static void test_compile_bulk_and_tables(void **state) {
    (void)state;
    EXPECT_CODE(WITH_MEMORY | WITH_DATA, "", "", "",
                "0: CONST32 0 1\n"
                "3: CONST32 1 0\n"
                "6: CONST32 2 2\n"
                "9: MEMORY_INIT 0 0 0 1 2\n"
                "15: DATA_DROP 0\n"
                "17: RETURN\n",
                0x41, 0x01, 0x41, 0x00, 0x41, 0x02, 0xFC, 0x08, 0x00, 0x00, 0xFC, 0x09, 0x00,
                0x0B);
    /* table.grow: d tableidx init delta; ref.func of an exported (declared) function */
    EXPECT_CODE(WITH_TABLE | WITH_EXPORT, "", "i", "",
                "0: REF_FUNC 0 0\n"
                "3: CONST32 1 2\n"
                "6: TABLE_GROW 0 0 0 1\n"
                "11: RETURN\n",
                0xD2, 0x00, 0x41, 0x02, 0xFC, 0x0F, 0x00, 0x0B);
}

static void test_compile_numeric_and_select(void **state) {
    (void)state;
    EXPECT_CODE(0, "iI", "I", "",
                "0: I64_EXTEND_I32_U 2 0\n"
                "3: SELECT 2 2 1 0\n"
                "8: I64_EXTEND32_S 2 2\n"
                "11: COPY 0 2\n"
                "14: RETURN\n",
                0x20, 0x00, 0xAD, 0x20, 0x01, 0x20, 0x00, 0x1B, 0xC4, 0x0B);
    EXPECT_CODE(0, "F", "i", "",
                "0: I32_TRUNC_SAT_F64_U 1 0\n"
                "3: COPY 0 1\n"
                "6: RETURN\n",
                0x20, 0x00, 0xFC, 0x03, 0x0B);
}

/* local.set of a local that operands still read: they get copies of the old value first, and
 * then the new value cannot be computed into the local directly. (param i32) (result i32):
 * local.get 0  local.get 0  i32.const 1  i32.add  local.set 0  local.get 0  i32.add: 2x + 1. */
static void test_compile_deferred_locals(void **state) {
    (void)state;
    EXPECT_CODE(0, "i", "i", "",
                "0: I32_ADD_K 2 0 1\n"
                "4: COPY 1 0\n"
                "7: COPY 0 2\n"
                "10: I32_ADD 1 1 0\n"
                "14: COPY 0 1\n"
                "17: RETURN\n",
                0x20, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6A, 0x21, 0x00, 0x20, 0x00, 0x6A, 0x0B);
    /* a call copies deferred operands to their slots first: its arguments must be there */
    EXPECT_CODE(0, "i", "i", "",
                "0: COPY 1 0\n"
                "3: COPY 2 0\n"
                "6: CALL 0 2\n"
                "9: I32_ADD 1 1 2\n"
                "13: COPY 0 1\n"
                "16: RETURN\n",
                0x20, 0x00, 0x20, 0x00, 0x10, 0x00, 0x6A, 0x0B);
}

/* Constants are written only where needed: as the k cell of an i32 operator (on either side of
 * a commutative one), straight into a local, or into their own slot for anything else. */
static void test_compile_constant_operands(void **state) {
    (void)state;
    /* (param i32) (result i32): i32.const 7  local.get 0  i32.add  i32.const 3  i32.shl
     * i32.const 100  local.get 0  i32.sub  i32.lt_u */
    EXPECT_CODE(0, "i", "i", "",
                "0: I32_ADD_K 1 0 7\n"
                "4: I32_SHL_K 1 1 3\n"
                "8: CONST32 2 100\n"
                "11: I32_SUB 2 2 0\n"
                "15: I32_LT_U 1 1 2\n"
                "19: COPY 0 1\n"
                "22: RETURN\n",
                0x41, 0x07, 0x20, 0x00, 0x6A, 0x41, 0x03, 0x74, 0x41, 0xE4, 0x00, 0x20, 0x00, 0x6B,
                0x49, 0x0B);
    /* (local i64): i64.const 5  local.set 0  i64.const 6  i64.const 2  i64.add  drop: i64
     * operators have no _K form; a dropped result still runs */
    EXPECT_CODE(0, "", "", "I",
                "0: CONST64 0 5 0\n"
                "4: CONST64 1 6 0\n"
                "8: CONST64 2 2 0\n"
                "12: I64_ADD 1 1 2\n"
                "16: RETURN\n",
                0x42, 0x05, 0x21, 0x00, 0x42, 0x06, 0x42, 0x02, 0x7C, 0x1A, 0x0B);
}

/* ---- Body validation ---------------------------------------------------------------------- */

static void test_invalid_bodies(void **state) {
    (void)state;
    BODY_INVALID(0, "", "i", "", "type mismatch", 0x42, 0x00, 0x0B);
    BODY_INVALID(0, "", "", "", "type mismatch", 0x41, 0x00, 0x0B);
    BODY_INVALID(0, "", "", "", "type mismatch", 0x6A, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown local 2", 0x20, 0x02, 0x1A, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown label", 0x0C, 0x01, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown function 3", 0x10, 0x03, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown global 0", 0x23, 0x00, 0x1A, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown memory 0", 0x3F, 0x00, 0x1A, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown table 0", 0xFC, 0x10, 0x00, 0x1A, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown type", 0x02, 0x05, 0x0B, 0x0B);
    BODY_INVALID(WITH_MEMORY, "", "", "", "alignment must not be larger than natural", 0x41, 0x00,
                 0x28, 0x03, 0x00, 0x1A, 0x0B);
    /* with memory64 offsets are u64, bounded for 32-bit memories */
    BODY_INVALID(WITH_MEMORY, "", "", "", "offset out of range", 0x41, 0x00, 0x28, 0x02, 0x80,
                 0x80, 0x80, 0x80, 0x10, 0x1A, 0x0B);
    /* a typed select takes exactly one type */
    BODY_INVALID(0, "", "", "", "invalid result arity", 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x1C,
                 0x02, 0x7F, 0x7F, 0x1A, 0x0B);
    /* select without types only on numbers */
    BODY_INVALID(0, "", "", "", "type mismatch", 0xD0, 0x70, 0xD0, 0x70, 0x41, 0x00, 0x1B, 0x1A,
                 0x0B);
    BODY_INVALID(0, "", "", "", "undeclared function reference", 0xD2, 0x00, 0x1A, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown data segment", 0xFC, 0x09, 0x00, 0x0B);
    BODY_INVALID(0, "", "", "", "unknown elem segment 0", 0xFC, 0x0D, 0x00, 0x0B);
    /* br_table labels must agree in arity */
    BODY_INVALID(0, "", "", "", "type mismatch", 0x02, 0x7F, 0x41, 0x00, 0x41, 0x00, 0x0E, 0x01,
                 0x00, 0x01, 0x0B, 0x1A, 0x0B);
    /* if without else must produce its results from its params */
    BODY_INVALID(0, "", "", "", "type mismatch", 0x41, 0x00, 0x04, 0x7F, 0x41, 0x01, 0x0B, 0x1A,
                 0x0B);
    /* call_indirect needs a funcref table */
    BODY_INVALID(0, "", "", "", "unknown table", 0x41, 0x00, 0x11, 0x00, 0x00, 0x0B);
}

/* After an unconditional branch the stack is polymorphic; br_if pushes its label types back. */
static void test_polymorphic_stack(void **state) {
    (void)state;
    bin m;
    wafer_engine *engine = engine_with(0, NULL);
    build(&m, 0, "", "i", "", BYTES(0x00, 0x6A, 0x0B)); /* unreachable i32.add */
    char *text = compile_listing(engine, &m, NULL);
    free(text);
    build(&m, 0, "", "", "", BYTES(0x00, 0x1B, 0x1A, 0x0B)); /* unreachable select drop */
    free(compile_listing(engine, &m, NULL));
    /* block (result i64): unreachable, br_if 0 leaves an i64 that i32.eqz refuses */
    BODY_INVALID(0, "", "", "", "type mismatch", 0x02, 0x7E, 0x00, 0x0D, 0x00, 0x45, 0x1A, 0x0B,
                 0x1A, 0x0B);
    wafer_engine_delete(engine);
}

static void test_global_set_immutable(void **state) {
    (void)state;
    bin m = {.n = 0};
    /* (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))) */
    put(&m, BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x06, 0x06,
                  0x01, 0x7F, 0x00, 0x41, 0x00, 0x0B, 0x0A, 0x08, 0x01, 0x06, 0x00, 0x41, 0x01,
                  0x24, 0x00, 0x0B));
    expect_invalid(&m, "global is immutable");
}

/* ---- Encoding inside bodies --------------------------------------------------------------- */

static void test_malformed_bodies(void **state) {
    (void)state;
    BODY_MALFORMED(0, "", "", "", "illegal opcode", 0x06, 0x0B);
    BODY_MALFORMED(0, "", "", "", "illegal opcode", 0xFC, 0x12, 0x0B);
    BODY_MALFORMED(0, "", "", "", "END opcode expected", 0x02, 0x40, 0x05, 0x0B, 0x0B);
    BODY_MALFORMED(0, "", "", "", "section size mismatch", 0x0B, 0x0B);
    BODY_MALFORMED(0, "", "", "", "unexpected end", 0x41);
    BODY_MALFORMED(0, "", "", "", "integer too large", 0x20, 0x80, 0x80, 0x80, 0x80, 0x10, 0x0B);
    BODY_MALFORMED(0, "", "", "", "malformed reference type", 0xD0, 0x7F, 0x1A, 0x0B);
    BODY_MALFORMED(WITH_MEMORY, "", "", "", "malformed memop flags", 0x41, 0x00, 0x28, 0x80, 0x01,
                   0x00, 0x1A, 0x0B);
    /* data.drop of an existing segment without the data count section */
    BODY_MALFORMED(WITH_MEMORY | WITH_DATA_NO_COUNT, "", "", "", "data count section required",
                   0xFC, 0x09, 0x00, 0x0B);
    /* a malformation wins over a type error before it */
    BODY_MALFORMED(0, "", "", "", "illegal opcode", 0x6A, 0xFF, 0x0B);
}

static void test_reserved_bytes_without_features(void **state) {
    (void)state;
    bin m;
    wafer_engine *engine = engine_with(WAFER_FEATURE_MULTI_MEMORY | WAFER_FEATURE_MEMORY64, NULL);
    build(&m, WITH_MEMORY, "", "", "", BYTES(0x3F, 0x01, 0x1A, 0x0B));
    expect_error_with(engine, &m, WAFER_ERROR_MALFORMED, "zero byte expected");
    wafer_engine_delete(engine);
    /* with multi-memory the byte is a memory index */
    build(&m, WITH_MEMORY, "", "", "", BYTES(0x3F, 0x01, 0x1A, 0x0B));
    expect_invalid(&m, "unknown memory 1");
    engine = engine_with(WAFER_FEATURE_REFERENCE_TYPES | WAFER_FEATURE_MEMORY64, NULL);
    build(&m, WITH_TABLE, "", "", "", BYTES(0x41, 0x00, 0x11, 0x00, 0x01, 0x0B));
    expect_error_with(engine, &m, WAFER_ERROR_MALFORMED, "zero byte expected");
    wafer_engine_delete(engine);
}

static void test_simd_and_disabled_features(void **state) {
    (void)state;
    bin m;
    build(&m, 0, "", "", "", BYTES(0xFD, 0x0C, 0x0B));
    expect_error(&m, WAFER_ERROR_UNSUPPORTED, "unsupported feature: simd");
    build(&m, 0, "", "", "", BYTES(0x02, 0x7B, 0x0B, 0x0B));
    expect_error(&m, WAFER_ERROR_UNSUPPORTED, "unsupported feature: simd");
    wafer_engine *engine = engine_with(WAFER_FEATURE_SIGN_EXTENSION, NULL);
    build(&m, 0, "i", "i", "", BYTES(0x20, 0x00, 0xC0, 0x0B));
    expect_error_with(engine, &m, WAFER_ERROR_UNSUPPORTED, "unsupported feature: sign extension");
    wafer_engine_delete(engine);
    engine = engine_with(WAFER_FEATURE_SAT_FLOAT_TO_INT, NULL);
    build(&m, 0, "f", "i", "", BYTES(0x20, 0x00, 0xFC, 0x00, 0x0B));
    expect_error_with(engine, &m, WAFER_ERROR_UNSUPPORTED, "unsupported feature: saturating");
    wafer_engine_delete(engine);
    engine = engine_with(WAFER_FEATURE_MULTI_VALUE, NULL);
    build(&m, 0, "", "ii", "", BYTES(0x41, 0x00, 0x41, 0x00, 0x0B));
    expect_error_with(engine, &m, WAFER_ERROR_UNSUPPORTED, "unsupported feature: multi-value");
    build(&m, 0, "", "", "", BYTES(0x02, 0x00, 0x0B, 0x0B)); /* block (type 0) */
    expect_error_with(engine, &m, WAFER_ERROR_UNSUPPORTED, "unsupported feature: multi-value");
    wafer_engine_delete(engine);
    /* (global (mut i32) (i32.const 0)) (export "g" (global 0)) */
    m.n = 0;
    put(&m, BYTES(HEADER, 0x06, 0x06, 0x01, 0x7F, 0x01, 0x41, 0x00, 0x0B, 0x07, 0x05, 0x01, 0x01,
                  'g', 0x03, 0x00));
    engine = engine_with(WAFER_FEATURE_MUTABLE_GLOBALS, NULL);
    expect_error_with(engine, &m, WAFER_ERROR_UNSUPPORTED, "unsupported feature: mutable globals");
    wafer_engine_delete(engine);
}

/* ---- Implementation limits ---------------------------------------------------------------- */

static void small_nesting(wafer_config *config) { config->limits.max_nesting = 3; }
static void small_locals(wafer_config *config) { config->limits.max_locals = 2; }

static void test_limits(void **state) {
    (void)state;
    bin m;
    wafer_engine *engine = engine_with(0, small_nesting);
    build(&m, 0, "", "", "", BYTES(0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x0B, 0x0B, 0x0B, 0x0B));
    free(compile_listing(engine, &m, NULL));
    build(&m, 0, "", "", "",
          BYTES(0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B));
    expect_error_with(engine, &m, WAFER_ERROR_LIMIT, "blocks nested deeper");
    wafer_engine_delete(engine);
    engine = engine_with(0, small_locals);
    build(&m, 0, "i", "", "II", BYTES(0x0B));
    expect_error_with(engine, &m, WAFER_ERROR_LIMIT, "too many locals");
    wafer_engine_delete(engine);
}

/* Multi-value branches cost cells per value: a body that multiplies them is refused, not
 * compiled into gigabytes. */
static void test_code_budget(void **state) {
    (void)state;
    /* type 0: () -> (i32 x 1000); body: block (type 0), an extra i32, 1000 i32s, then 1400 times
     * (i32.const 0, br_if 0), each moving 1000 values down by one, then br 0 */
    static uint8_t module[16384];
    size_t n = 0;
    const uint8_t header[] = {HEADER};
    memcpy(module, header, sizeof header);
    n = sizeof header;
    module[n++] = 0x01;
    module[n++] = 0xED; /* type section of 1005 bytes: 1, 0x60, 0, 1000 (2 bytes), 1000 types */
    module[n++] = 0x07;
    module[n++] = 0x01;
    module[n++] = 0x60;
    module[n++] = 0x00;
    module[n++] = 0xE8;
    module[n++] = 0x07;
    for (int i = 0; i < 1000; i++) module[n++] = 0x7F;
    const uint8_t funcs[] = {0x03, 0x02, 0x01, 0x00};
    memcpy(module + n, funcs, sizeof funcs);
    n += sizeof funcs;
    uint32_t body_len = 1 + 2 + 2 + 2000 + 1400 * 4 + 2 + 2;
    uint32_t section_len = 1 + 2 + body_len;
    module[n++] = 0x0A;
    module[n++] = (uint8_t)(0x80 | (section_len & 0x7F));
    module[n++] = (uint8_t)(section_len >> 7);
    module[n++] = 0x01;
    module[n++] = (uint8_t)(0x80 | (body_len & 0x7F));
    module[n++] = (uint8_t)(body_len >> 7);
    module[n++] = 0x00;
    module[n++] = 0x02, module[n++] = 0x00;
    module[n++] = 0x41, module[n++] = 0x00;
    for (int i = 0; i < 1000; i++) module[n++] = 0x41, module[n++] = 0x00;
    for (int i = 0; i < 1400; i++)
        module[n++] = 0x41, module[n++] = 0x00, module[n++] = 0x0D, module[n++] = 0x00;
    module[n++] = 0x0C, module[n++] = 0x00;
    module[n++] = 0x0B, module[n++] = 0x0B;
    assert_true(n <= sizeof module);
    wafer_engine *engine = engine_with(0, NULL);
    wafer_module *m;
    assert_null(module_decode(engine, module, n, &m));
    assert_null(module_validate(m, false)); /* valid */
    assert_error(module_validate(m, true), WAFER_ERROR_LIMIT, "function too large to compile");
    module_free(m);
    wafer_engine_delete(engine);
}

/* ---- Module-level validation -------------------------------------------------------------- */

static void test_module_limits_and_counts(void **state) {
    (void)state;
    bin m = {.n = 0};
    put(&m, BYTES(HEADER, 0x05, 0x04, 0x01, 0x01, 0x02, 0x01)); /* memory 2 1 */
    expect_invalid(&m, "size minimum must not be greater than maximum");
    m.n = 0;
    put(&m, BYTES(HEADER, 0x05, 0x05, 0x01, 0x00, 0x81, 0x80, 0x04)); /* memory 65537 */
    expect_invalid(&m, "memory size must be at most 65536 pages (4GiB)");
    m.n = 0;
    put(&m, BYTES(HEADER, 0x05, 0x09, 0x01, 0x04, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40));
    expect_invalid(&m, "memory size must be at most 48 bits of pages"); /* memory i64 2^48+1 */
    m.n = 0;
    put(&m, BYTES(HEADER, 0x05, 0x05, 0x02, 0x00, 0x00, 0x00, 0x00)); /* two memories */
    wafer_engine *engine = engine_with(WAFER_FEATURE_MULTI_MEMORY, NULL);
    expect_error_with(engine, &m, WAFER_ERROR_INVALID, "multiple memories");
    wafer_engine_delete(engine);
    m.n = 0;
    put(&m, BYTES(HEADER, 0x04, 0x07, 0x02, 0x70, 0x00, 0x00, 0x70, 0x00, 0x00)); /* two tables */
    engine = engine_with(WAFER_FEATURE_REFERENCE_TYPES, NULL);
    expect_error_with(engine, &m, WAFER_ERROR_INVALID, "multiple tables");
    wafer_engine_delete(engine);
}

static void test_module_globals_and_segments(void **state) {
    (void)state;
    bin m = {.n = 0};
    put(&m, BYTES(HEADER, 0x06, 0x07, 0x01, 0x7F, 0x00, 0x41, 0x00, 0x01, 0x0B)); /* nop */
    expect_invalid(&m, "constant expression required");
    m.n = 0;
    put(&m, BYTES(HEADER, 0x06, 0x06, 0x01, 0x7F, 0x00, 0x42, 0x00, 0x0B));
    expect_invalid(&m, "type mismatch");
    m.n = 0; /* a global initialiser may not read a global defined in the module */
    put(&m, BYTES(HEADER, 0x06, 0x0B, 0x02, 0x7F, 0x00, 0x41, 0x00, 0x0B, 0x7F, 0x00, 0x23, 0x00,
                  0x0B));
    expect_invalid(&m, "unknown global 0");
    m.n = 0; /* data for memory 1 of none */
    put(&m, BYTES(HEADER, 0x0B, 0x07, 0x01, 0x02, 0x01, 0x41, 0x00, 0x0B, 0x00));
    expect_invalid(&m, "unknown memory 1");
    m.n = 0; /* element segment offset of the wrong type */
    put(&m, BYTES(HEADER, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01, 0x09, 0x06, 0x01, 0x00, 0x42, 0x00,
                  0x0B, 0x00));
    expect_invalid(&m, "type mismatch");
}

static void test_module_exports_and_start(void **state) {
    (void)state;
    bin m = {.n = 0};
    /* two exports "a" of function 0 */
    put(&m, BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x09,
                  0x02, 0x01, 'a', 0x00, 0x00, 0x01, 'a', 0x00, 0x00, 0x0A, 0x04, 0x01, 0x02,
                  0x00, 0x0B));
    expect_invalid(&m, "duplicate export name");
    m.n = 0;
    put(&m, BYTES(HEADER, 0x07, 0x05, 0x01, 0x01, 'a', 0x02, 0x00));
    expect_invalid(&m, "unknown memory 0");
    m.n = 0; /* start function of type (i32) -> () */
    put(&m, BYTES(HEADER, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7F, 0x00, 0x03, 0x02, 0x01, 0x00, 0x08,
                  0x01, 0x00, 0x0A, 0x04, 0x01, 0x02, 0x00, 0x0B));
    expect_invalid(&m, "start function");
    m.n = 0;
    put(&m, BYTES(HEADER, 0x08, 0x01, 0x03));
    expect_invalid(&m, "unknown function");
}

/* ref.func in code names only functions declared outside code (C.refs). */
static void test_declared_refs(void **state) {
    (void)state;
    bin m;
    wafer_engine *engine = engine_with(0, NULL);
    build(&m, WITH_EXPORT, "", "", "", BYTES(0xD2, 0x00, 0x1A, 0x0B));
    wafer_module *module;
    assert_null(module_decode(engine, m.b, m.n, &module));
    assert_null(module_validate(module, false));
    assert_non_null(module->declared_refs);
    assert_true(module->declared_refs[0] & 1);
    module_free(module);
    wafer_engine_delete(engine);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_add_of_two_locals),
        cmocka_unit_test(test_compile_constants_and_locals),
        cmocka_unit_test(test_compile_block_branch_moves_values),
        cmocka_unit_test(test_compile_loop),
        cmocka_unit_test(test_compile_comparison_branches),
        cmocka_unit_test(test_compile_br_if_with_moves),
        cmocka_unit_test(test_compile_if_else),
        cmocka_unit_test(test_compile_br_table),
        cmocka_unit_test(test_compile_dead_code),
        cmocka_unit_test(test_compile_call_and_stack_map),
        cmocka_unit_test(test_compile_call_indirect),
        cmocka_unit_test(test_compile_memory_access),
        cmocka_unit_test(test_compile_bulk_and_tables),
        cmocka_unit_test(test_compile_numeric_and_select),
        cmocka_unit_test(test_compile_deferred_locals),
        cmocka_unit_test(test_compile_constant_operands),
        cmocka_unit_test(test_invalid_bodies),
        cmocka_unit_test(test_polymorphic_stack),
        cmocka_unit_test(test_global_set_immutable),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_reserved_bytes_without_features),
        cmocka_unit_test(test_simd_and_disabled_features),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_code_budget),
        cmocka_unit_test(test_module_limits_and_counts),
        cmocka_unit_test(test_module_globals_and_segments),
        cmocka_unit_test(test_module_exports_and_start),
        cmocka_unit_test(test_declared_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
