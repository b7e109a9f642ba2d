/* Unit tests of the decoder (decode.c) and the module object (module.c): malformed binaries fail
 * with the spec test suite's text, limits and switched-off features fail with their own kinds,
 * and well-formed modules decode into the expected tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
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

static void put_header(bin *m) { put(m, BYTES(HEADER)); }

/* A section whose size (below 128) is computed from its contents. */
static void put_section(bin *m, uint8_t id, const uint8_t *content, size_t n) {
    assert_true(n < 128);
    uint8_t head[2] = {id, (uint8_t)n};
    put(m, head, 2);
    put(m, content, n);
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

/* Both entry points must refuse the bytes the same way. */
static void expect_error_in(wafer_engine *engine, const uint8_t *bytes, size_t n,
                            wafer_error_kind kind, const char *prefix) {
    wafer_module *m = (wafer_module *)1;
    assert_error(wafer_module_new(engine, bytes, n, &m), kind, prefix);
    assert_null(m);
    assert_error(wafer_module_validate(engine, bytes, n), kind, prefix);
}

static void expect_error(const uint8_t *bytes, size_t n, wafer_error_kind kind,
                         const char *prefix) {
    wafer_engine *engine = engine_with(0, NULL);
    expect_error_in(engine, bytes, n, kind, prefix);
    wafer_engine_delete(engine);
}

static void expect_malformed(const uint8_t *bytes, size_t n, const char *prefix) {
    expect_error(bytes, n, WAFER_ERROR_MALFORMED, prefix);
}

static wafer_module *decode_ok(wafer_engine *engine, const uint8_t *bytes, size_t n) {
    wafer_module *m = NULL;
    wafer_error *err = module_decode(engine, bytes, n, &m);
    if (err) fail_msg("decoding failed: %s", wafer_error_message(err));
    assert_non_null(m);
    return m;
}

static bool name_is(wafer_name name, const char *s) {
    return name.len == strlen(s) && memcmp(name.bytes, s, name.len) == 0;
}

/* ---- The preamble and the section structure ----------------------------------------------- */

static void test_preamble(void **state) {
    (void)state;
    expect_malformed(BYTES(0x00), "unexpected end");
    expect_malformed((const uint8_t *)"", 0, "unexpected end");
    expect_malformed(BYTES(0x00, 0x61, 0x73), "unexpected end");
    expect_malformed(BYTES(0x61, 0x73, 0x6d, 0x00), "magic header not detected");
    expect_malformed(BYTES(0x00, 0x41, 0x53, 0x4d, 0x01, 0x00, 0x00, 0x00),
                     "magic header not detected");
    expect_malformed(BYTES(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00), "unexpected end");
    expect_malformed(BYTES(0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00),
                     "unknown binary version");
}

static void test_empty_module(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(0, NULL);
    wafer_module *m = NULL;
    wafer_error *err = wafer_module_new(engine, BYTES(HEADER), &m);
    if (err) fail_msg("%s", wafer_error_message(err));
    assert_int_equal(wafer_module_import_count(m), 0);
    assert_int_equal(wafer_module_export_count(m), 0);
    assert_int_equal(m->num_funcs, 0);
    assert_int_equal(m->num_bodies, 0);
    wafer_module_release(m);
    assert_null(wafer_module_validate(engine, BYTES(HEADER)));
    wafer_engine_delete(engine);
}

static void test_section_ids_and_sizes(void **state) {
    (void)state;
    expect_malformed(BYTES(HEADER, 0x0d, 0x00), "malformed section id");
    expect_malformed(BYTES(HEADER, 0x80, 0x00, 0x01, 0x00), "malformed section id");
    /* a size past the end of the module */
    expect_malformed(BYTES(HEADER, 0x01, 0x07, 0x02, 0x60, 0x00, 0x00), "length out of bounds");
    /* a type section with a byte more than its one type */
    expect_malformed(BYTES(HEADER, 0x01, 0x05, 0x01, 0x60, 0x00, 0x00, 0x00),
                     "section size mismatch");
    /* the section ends inside its content */
    expect_malformed(BYTES(HEADER, 0x01, 0x01, 0x01), "unexpected end");
    expect_malformed(BYTES(HEADER, 0x04, 0x01, 0x01), "unexpected end of section or function");
}

static void test_section_order(void **state) {
    (void)state;
    /* function section before type section */
    expect_malformed(BYTES(HEADER, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00),
                     "unexpected content after last section");
    /* a repeated section */
    expect_malformed(BYTES(HEADER, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00),
                     "unexpected content after last section");
    /* data count goes before code, not after */
    expect_malformed(BYTES(HEADER, 0x0a, 0x01, 0x00, 0x0c, 0x01, 0x00),
                     "unexpected content after last section");
    /* custom sections may go anywhere, more than once */
    wafer_engine *engine = engine_with(0, NULL);
    wafer_module *m = decode_ok(engine, BYTES(HEADER, 0x00, 0x02, 0x01, 0x61, 0x01, 0x01, 0x00,
                                              0x00, 0x03, 0x01, 0x61, 0xff, 0x03, 0x01, 0x00));
    module_free(m);
    wafer_engine_delete(engine);
}

static void test_custom_sections(void **state) {
    (void)state;
    expect_malformed(BYTES(HEADER, 0x00, 0x00), "unexpected end");
    /* the name's length runs past the section */
    expect_malformed(BYTES(HEADER, 0x00, 0x02, 0x05, 0x61, 0x01, 0x01, 0x00),
                     "length out of bounds");
    expect_malformed(BYTES(HEADER, 0x00, 0x02, 0x01, 0xff), "malformed UTF-8 encoding");
}

/* ---- Numbers and counts ------------------------------------------------------------------- */

static void test_leb128(void **state) {
    (void)state;
    /* type count 0 in six bytes */
    expect_malformed(BYTES(HEADER, 0x01, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
                     "integer representation too long");
    /* type count with bits above 32 */
    expect_malformed(BYTES(HEADER, 0x01, 0x05, 0x80, 0x80, 0x80, 0x80, 0x70),
                     "integer too large");
    /* i32.const 0 whose fifth byte has unused bits set */
    expect_malformed(BYTES(HEADER, 0x06, 0x0a, 0x01, 0x7f, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80,
                           0x70, 0x0b),
                     "integer too large");
    /* i32.const -1 in its longest form is fine */
    wafer_engine *engine = engine_with(0, NULL);
    wafer_module *m = decode_ok(engine, BYTES(HEADER, 0x06, 0x0a, 0x01, 0x7f, 0x00, 0x41, 0xff,
                                              0xff, 0xff, 0xff, 0x7f, 0x0b));
    assert_int_equal(m->globals[0].init.count, 1);
    assert_int_equal(m->globals[0].init.instrs[0].imm.i32, -1);
    module_free(m);
    wafer_engine_delete(engine);
}

/* A count of 2^32-1 with nothing behind it fails at once instead of allocating. */
static void test_huge_counts(void **state) {
    (void)state;
    static const uint8_t ids[] = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11};
    for (size_t i = 0; i < sizeof ids; i++) {
        uint8_t bytes[] = {HEADER, ids[i], 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f};
        expect_malformed(bytes, sizeof bytes, "unexpected end of section or function");
    }
    /* element items and local declarations too */
    expect_malformed(BYTES(HEADER, 0x09, 0x0a, 0x01, 0x00, 0x41, 0x00, 0x0b, 0xff, 0xff, 0xff,
                           0xff, 0x0f),
                     "unexpected end of section or function");
    expect_malformed(BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                           0x0a, 0x08, 0x01, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b),
                     "unexpected end of section or function");
}

static void few_types(wafer_config *c) { c->limits.max_types = 2; }
static void few_locals(wafer_config *c) { c->limits.max_locals = 10; }
static void few_functions(wafer_config *c) { c->limits.max_functions = 1; }
static void small_bodies(wafer_config *c) { c->limits.max_function_size = 2; }

static void test_engine_limits(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(0, few_types);
    expect_error_in(engine,
                    BYTES(HEADER, 0x01, 0x0a, 0x03, 0x60, 0x00, 0x00, 0x60, 0x00, 0x00, 0x60,
                          0x00, 0x00),
                    WAFER_ERROR_LIMIT, "too many types");
    wafer_engine_delete(engine);

    /* (param i32) and 10 locals: one over the limit */
    engine = engine_with(0, few_locals);
    expect_error_in(engine,
                    BYTES(HEADER, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00, 0x03, 0x02, 0x01, 0x00,
                          0x0a, 0x06, 0x01, 0x04, 0x01, 0x0a, 0x7f, 0x0b),
                    WAFER_ERROR_LIMIT, "too many locals");
    wafer_engine_delete(engine);

    /* an imported function and a defined one */
    engine = engine_with(0, few_functions);
    expect_error_in(engine,
                    BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, 0x05, 0x01, 0x00, 0x00,
                          0x00, 0x00, 0x03, 0x02, 0x01, 0x00),
                    WAFER_ERROR_LIMIT, "too many functions");
    wafer_engine_delete(engine);

    engine = engine_with(0, small_bodies);
    expect_error_in(engine,
                    BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                          0x0a, 0x05, 0x01, 0x03, 0x00, 0x01, 0x0b),
                    WAFER_ERROR_LIMIT, "function body of 3 bytes");
    wafer_engine_delete(engine);
}

static void test_too_many_locals(void **state) {
    (void)state;
    /* 0xFFFFFFFF i32 and 2 i64: more than 2^32-1 locals */
    expect_malformed(BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                           0x0a, 0x0c, 0x01, 0x0a, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x02,
                           0x7e, 0x0b),
                     "too many locals");
}

/* ---- Names -------------------------------------------------------------------------------- */

static void test_utf8_names(void **state) {
    (void)state;
    /* an export named "\xff" */
    expect_malformed(BYTES(HEADER, 0x07, 0x05, 0x01, 0x01, 0xff, 0x00, 0x00),
                     "malformed UTF-8 encoding");
    /* an import module named with an overlong NUL */
    expect_malformed(BYTES(HEADER, 0x02, 0x07, 0x01, 0x02, 0xc0, 0x80, 0x00, 0x00, 0x00),
                     "malformed UTF-8 encoding");
    /* an import field named with a surrogate */
    expect_malformed(BYTES(HEADER, 0x02, 0x07, 0x01, 0x00, 0x03, 0xed, 0xa0, 0x80, 0x00),
                     "malformed UTF-8 encoding");
    /* a name longer than what is left */
    expect_malformed(BYTES(HEADER, 0x07, 0x03, 0x01, 0x09, 0x61), "length out of bounds");
}

/* ---- Entities ----------------------------------------------------------------------------- */

static void test_malformed_entities(void **state) {
    (void)state;
    expect_malformed(BYTES(HEADER, 0x02, 0x04, 0x01, 0x00, 0x00, 0x04), "malformed import kind");
    expect_malformed(BYTES(HEADER, 0x02, 0x05, 0x01, 0x00, 0x00, 0x80, 0x00),
                     "malformed import kind");
    expect_malformed(BYTES(HEADER, 0x07, 0x04, 0x01, 0x00, 0x04, 0x00), "malformed export kind");
    expect_malformed(BYTES(HEADER, 0x06, 0x06, 0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b),
                     "malformed mutability");
    expect_malformed(BYTES(HEADER, 0x04, 0x04, 0x01, 0x7f, 0x00, 0x00),
                     "malformed reference type");
    expect_malformed(BYTES(HEADER, 0x01, 0x04, 0x01, 0x61, 0x00, 0x00),
                     "malformed function type");
    expect_malformed(BYTES(HEADER, 0x01, 0x05, 0x01, 0x60, 0x01, 0x40, 0x00),
                     "malformed value type");
    /* a global's initialiser without its end */
    expect_malformed(BYTES(HEADER, 0x06, 0x05, 0x01, 0x7f, 0x00, 0x41, 0x00), "unexpected end");
    /* an opcode that does not exist, in an element expression */
    expect_malformed(BYTES(HEADER, 0x09, 0x06, 0x01, 0x05, 0x70, 0x01, 0xf3, 0x0b),
                     "illegal opcode");
    expect_malformed(BYTES(HEADER, 0x09, 0x04, 0x01, 0x01, 0x01, 0x00),
                     "malformed elements segment kind");
    expect_malformed(BYTES(HEADER, 0x09, 0x02, 0x01, 0x08), "malformed elements segment kind");
}

/* The core suite reads a limits flag as a one-bit number; the memory64 suite has its own text. */
static void test_limits_flags(void **state) {
    (void)state;
    wafer_engine *core = engine_with(WAFER_FEATURE_MEMORY64, NULL);
    expect_error_in(core, BYTES(HEADER, 0x04, 0x03, 0x01, 0x70, 0x02), WAFER_ERROR_MALFORMED,
                    "integer too large");
    expect_error_in(core, BYTES(HEADER, 0x05, 0x02, 0x01, 0x02), WAFER_ERROR_MALFORMED,
                    "integer too large");
    expect_error_in(core, BYTES(HEADER, 0x05, 0x04, 0x01, 0x81, 0x00, 0x00),
                    WAFER_ERROR_MALFORMED, "integer representation too long");
    /* a memory limit in six bytes is too long for a 32-bit memory */
    expect_error_in(core, BYTES(HEADER, 0x05, 0x08, 0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x80, 0x00),
                    WAFER_ERROR_MALFORMED, "integer representation too long");
    wafer_engine_delete(core);

    wafer_engine *m64 = engine_with(0, NULL);
    expect_error_in(m64, BYTES(HEADER, 0x05, 0x02, 0x01, 0x08), WAFER_ERROR_MALFORMED,
                    "malformed limits flags");
    expect_error_in(m64, BYTES(HEADER, 0x05, 0x04, 0x01, 0x81, 0x00, 0x00),
                    WAFER_ERROR_MALFORMED, "malformed limits flags");
    wafer_engine_delete(m64);
}

static void test_function_and_code_counts(void **state) {
    (void)state;
    expect_malformed(BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00,
                           0x00),
                     "function and code section have inconsistent lengths");
    expect_malformed(BYTES(HEADER, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b),
                     "function and code section have inconsistent lengths");
    expect_malformed(BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                           0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b),
                     "function and code section have inconsistent lengths");
    /* a body that does not end with `end`, followed by another */
    expect_malformed(BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00,
                           0x00, 0x0a, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x00, 0x0b),
                     "END opcode expected");
}

static void test_data_count(void **state) {
    (void)state;
    expect_malformed(BYTES(HEADER, 0x0c, 0x01, 0x03, 0x0b, 0x05, 0x02, 0x01, 0x00, 0x01, 0x00),
                     "data count and data section have inconsistent lengths");
    expect_malformed(BYTES(HEADER, 0x0c, 0x01, 0x01),
                     "data count and data section have inconsistent lengths");
    /* seven bytes announced, six given */
    expect_malformed(BYTES(HEADER, 0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x0c, 0x01, 0x00, 0x41,
                           0x03, 0x0b, 0x07, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66),
                     "unexpected end of section or function");
}

/* ---- Features ----------------------------------------------------------------------------- */

static void test_simd_is_unsupported(void **state) {
    (void)state;
    expect_error(BYTES(HEADER, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7b, 0x00), WAFER_ERROR_UNSUPPORTED,
                 "unsupported feature: simd");
    /* a v128 global initialised by v128.const */
    expect_error(BYTES(HEADER, 0x06, 0x16, 0x01, 0x7b, 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0,
                       0, 0, 0, 0, 0, 0, 0, 0, 0x0b),
                 WAFER_ERROR_UNSUPPORTED, "unsupported feature: simd");
    /* v128.const in an i32 global's initialiser */
    expect_error(BYTES(HEADER, 0x06, 0x16, 0x01, 0x7f, 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0,
                       0, 0, 0, 0, 0, 0, 0, 0, 0x0b),
                 WAFER_ERROR_UNSUPPORTED, "unsupported feature: simd");
    /* a v128 local */
    expect_error(BYTES(HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a,
                       0x06, 0x01, 0x04, 0x01, 0x01, 0x7b, 0x0b),
                 WAFER_ERROR_UNSUPPORTED, "unsupported feature: simd");
}

static void test_switched_off_features(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(WAFER_FEATURE_REFERENCE_TYPES, NULL);
    expect_error_in(engine, BYTES(HEADER, 0x01, 0x05, 0x01, 0x60, 0x01, 0x6f, 0x00),
                    WAFER_ERROR_UNSUPPORTED, "unsupported feature: reference types");
    expect_error_in(engine, BYTES(HEADER, 0x04, 0x04, 0x01, 0x6f, 0x00, 0x00),
                    WAFER_ERROR_UNSUPPORTED, "unsupported feature: reference types");
    wafer_engine_delete(engine);

    engine = engine_with(WAFER_FEATURE_MEMORY64, NULL);
    expect_error_in(engine, BYTES(HEADER, 0x05, 0x03, 0x01, 0x04, 0x01), WAFER_ERROR_UNSUPPORTED,
                    "unsupported feature: memory64");
    wafer_engine_delete(engine);

    engine = engine_with(WAFER_FEATURE_BULK_MEMORY, NULL);
    expect_error_in(engine, BYTES(HEADER, 0x0c, 0x01, 0x00), WAFER_ERROR_UNSUPPORTED,
                    "unsupported feature: bulk memory");
    expect_error_in(engine, BYTES(HEADER, 0x0b, 0x03, 0x01, 0x01, 0x00), WAFER_ERROR_UNSUPPORTED,
                    "unsupported feature: bulk memory");
    expect_error_in(engine, BYTES(HEADER, 0x09, 0x04, 0x01, 0x01, 0x00, 0x00),
                    WAFER_ERROR_UNSUPPORTED, "unsupported feature: bulk memory");
    wafer_engine_delete(engine);
}

/* ---- Well-formed modules ------------------------------------------------------------------ */

/* (type $v (func)) (type $i (func (param i32) (result i32)))
 * (import "env" "f" (func (type $i))) (import "env" "mem" (memory 1))
 * (func (type $v)) (func (type $i) (local i64 i64) local.get 0)
 * (table 4 10 funcref) (global (mut i32) (i32.const 42))
 * (export "run" (func 1)) (export "tab" (table 0)) (export "g" (global 0)) (start 1)
 * (elem (i32.const 0) func 1 2 0) (data (i32.const 8) "hi"), a data count section and a custom
 * section at the end. */
static const uint8_t good[] = {
    HEADER,
    0x01, 0x09, 0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x02, 0x14, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x01,
    0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01,
    0x03, 0x03, 0x02, 0x00, 0x01,
    0x04, 0x05, 0x01, 0x70, 0x01, 0x04, 0x0a,
    0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x2a, 0x0b,
    0x07, 0x11, 0x03, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x01, 0x03, 0x74, 0x61, 0x62, 0x01, 0x00,
    0x01, 0x67, 0x03, 0x00,
    0x08, 0x01, 0x01,
    0x09, 0x09, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x03, 0x01, 0x02, 0x00,
    0x0c, 0x01, 0x01,
    0x0a, 0x0b, 0x02, 0x02, 0x00, 0x0b, 0x06, 0x01, 0x02, 0x7e, 0x20, 0x00, 0x0b,
    0x0b, 0x08, 0x01, 0x00, 0x41, 0x08, 0x0b, 0x02, 0x68, 0x69,
    0x00, 0x07, 0x04, 0x6d, 0x65, 0x74, 0x61, 0x01, 0x02,
};

static void test_good_module_tables(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(0, NULL);
    wafer_module *m = decode_ok(engine, good, sizeof good);
    assert_int_equal(m->num_types, 2);
    assert_int_equal(m->types[1].num_params, 1);
    assert_int_equal(m->types[1].params[0], WAFER_I32);
    assert_int_equal(m->types[1].results[0], WAFER_I32);
    assert_int_equal(m->num_imports, 2);
    assert_int_equal(m->num_imported_funcs, 1);
    assert_int_equal(m->num_imported_memories, 1);
    assert_int_equal(m->imports[1].kind, WAFER_EXTERN_MEMORY);
    assert_int_equal(m->imports[1].kind_index, 0);
    assert_int_equal(m->num_funcs, 3);
    assert_int_equal(m->func_type_indices[0], 1);
    assert_int_equal(m->func_type_indices[2], 1);
    assert_int_equal(m->num_tables, 1);
    assert_int_equal(m->tables[0].limits.min, 4);
    assert_int_equal(m->tables[0].limits.max, 10);
    assert_true(m->tables[0].limits.has_max);
    assert_int_equal(m->num_memories, 1);
    assert_int_equal(m->memories[0].limits.min, 1);
    assert_false(m->memories[0].limits.has_max);
    assert_int_equal(m->num_globals, 1);
    assert_true(m->globals[0].type.is_mutable);
    assert_int_equal(m->globals[0].init.count, 1);
    assert_int_equal(m->globals[0].init.instrs[0].opcode, 0x41);
    assert_int_equal(m->globals[0].init.instrs[0].imm.i32, 42);
    assert_int_equal(m->num_exports, 3);
    assert_true(name_is(m->exports[1].name, "tab"));
    assert_true(m->has_start);
    assert_int_equal(m->start_func, 1);
    assert_int_equal(m->num_elems, 1);
    assert_int_equal(m->elems[0].mode, SEGMENT_ACTIVE);
    assert_int_equal(m->elems[0].count, 3);
    assert_int_equal(m->elems[0].items[1].count, 1);
    assert_int_equal(m->elems[0].items[1].instrs[0].opcode, 0xD2);
    assert_int_equal(m->elems[0].items[1].instrs[0].imm.index, 2);
    assert_int_equal(m->elems[0].items[2].instrs[0].imm.index, 0);
    assert_true(m->has_data_count);
    assert_int_equal(m->data_count, 1);
    assert_int_equal(m->num_datas, 1);
    assert_int_equal(m->datas[0].len, 2);
    assert_memory_equal(m->datas[0].bytes, "hi", 2);
    assert_int_equal(m->datas[0].offset.instrs[0].imm.i32, 8);
    assert_int_equal(m->num_bodies, 2);
    assert_int_equal(m->bodies[1].num_locals, 2);
    assert_int_equal(m->bodies[1].num_local_runs, 1);
    assert_int_equal(m->bodies[1].local_runs[0].type, WAFER_I64);
    assert_int_equal(m->bodies[1].code_len, 3);
    assert_int_equal(m->bodies[1].code[0], 0x20);
    assert_int_equal(m->bodies[1].code[2], 0x0b);
    assert_int_equal(m->bodies[1].code_offset, (uint32_t)(m->bodies[1].code - m->bytes));
    /* the module keeps its own copy of the bytes */
    assert_ptr_not_equal(m->bytes, good);
    assert_null(m->code);
    assert_null(m->declared_refs);
    module_free(m);
    wafer_engine_delete(engine);
}

static void test_good_module_descriptions(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(0, NULL);
    wafer_module *m = NULL;
    wafer_error *err = wafer_module_new(engine, good, sizeof good, &m);
    if (err) fail_msg("%s", wafer_error_message(err));
    assert_int_equal(wafer_module_import_count(m), 2);
    wafer_import_desc imp = wafer_module_import(m, 0);
    assert_true(name_is(imp.module, "env"));
    assert_true(name_is(imp.name, "f"));
    assert_int_equal(imp.type.kind, WAFER_EXTERN_FUNC);
    assert_int_equal(imp.type.of.func->num_params, 1);
    imp = wafer_module_import(m, 1);
    assert_true(name_is(imp.name, "mem"));
    assert_int_equal(imp.type.kind, WAFER_EXTERN_MEMORY);
    assert_int_equal(imp.type.of.memory.limits.min, 1);
    assert_false(imp.type.of.memory.is64);

    assert_int_equal(wafer_module_export_count(m), 3);
    wafer_export_desc exp = wafer_module_export(m, 0);
    assert_true(name_is(exp.name, "run"));
    assert_int_equal(exp.type.kind, WAFER_EXTERN_FUNC);
    assert_int_equal(exp.type.of.func->num_params, 0);
    exp = wafer_module_export(m, 1);
    assert_int_equal(exp.type.kind, WAFER_EXTERN_TABLE);
    assert_int_equal(exp.type.of.table.elem, WAFER_FUNCREF);
    assert_int_equal(exp.type.of.table.limits.max, 10);
    exp = wafer_module_export(m, 2);
    assert_int_equal(exp.type.kind, WAFER_EXTERN_GLOBAL);
    assert_true(exp.type.of.global.is_mutable);

    /* a retained module outlives one release */
    wafer_module_retain(m);
    wafer_module_release(m);
    assert_int_equal(m->refcount, 1);
    wafer_module_release(m);
    wafer_engine_delete(engine);
}

/* Every strict prefix of a good module is either a smaller good module (cut at a section
 * boundary) or malformed, never anything else; a cut inside the last section is malformed. */
static void test_truncations(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(0, NULL);
    for (size_t n = 0; n < sizeof good; n++) {
        wafer_module *m = NULL;
        wafer_error *err = module_decode(engine, good, n, &m);
        if (n > sizeof good - 9) assert_non_null(err);
        if (err) {
            assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_MALFORMED);
            wafer_error_free(err);
        } else {
            module_free(m);
        }
    }
    wafer_engine_delete(engine);
}

static void test_memory64(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(0, NULL);
    /* (memory i64 3 0x1_0000_0000) */
    wafer_module *m = decode_ok(engine, BYTES(HEADER, 0x05, 0x08, 0x01, 0x05, 0x03, 0x80, 0x80,
                                              0x80, 0x80, 0x10));
    assert_true(m->memories[0].is64);
    assert_int_equal(m->memories[0].limits.min, 3);
    assert_true(m->memories[0].limits.has_max);
    assert_true(m->memories[0].limits.max == 0x100000000ull);
    module_free(m);
    wafer_engine_delete(engine);
}

/* The eight element segment encodings (spec 5.5.12), one per module with one function and one
 * table. */
static void test_element_encodings(void **state) {
    (void)state;
    static const struct {
        uint8_t bytes[12];
        uint8_t n;
        segment_mode mode;
        uint8_t first_opcode;
    } cases[] = {
        {{0x00, 0x41, 0x00, 0x0b, 0x01, 0x00}, 6, SEGMENT_ACTIVE, 0xD2},
        {{0x01, 0x00, 0x01, 0x00}, 4, SEGMENT_PASSIVE, 0xD2},
        {{0x02, 0x00, 0x41, 0x00, 0x0b, 0x00, 0x01, 0x00}, 8, SEGMENT_ACTIVE, 0xD2},
        {{0x03, 0x00, 0x01, 0x00}, 4, SEGMENT_DECLARATIVE, 0xD2},
        {{0x04, 0x41, 0x00, 0x0b, 0x01, 0xd2, 0x00, 0x0b}, 8, SEGMENT_ACTIVE, 0xD2},
        {{0x05, 0x70, 0x01, 0xd0, 0x70, 0x0b}, 6, SEGMENT_PASSIVE, 0xD0},
        {{0x06, 0x00, 0x41, 0x00, 0x0b, 0x70, 0x01, 0xd2, 0x00, 0x0b}, 10, SEGMENT_ACTIVE, 0xD2},
        {{0x07, 0x70, 0x01, 0xd2, 0x00, 0x0b}, 6, SEGMENT_DECLARATIVE, 0xD2},
    };
    wafer_engine *engine = engine_with(0, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bin b = {0};
        uint8_t elem[16] = {0x01};
        memcpy(elem + 1, cases[i].bytes, cases[i].n);
        put_header(&b);
        put_section(&b, 1, BYTES(0x01, 0x60, 0x00, 0x00));
        put_section(&b, 3, BYTES(0x01, 0x00));
        put_section(&b, 4, BYTES(0x01, 0x70, 0x00, 0x01));
        put_section(&b, 9, elem, cases[i].n + 1u);
        put_section(&b, 10, BYTES(0x01, 0x02, 0x00, 0x0b));
        wafer_module *m = NULL;
        wafer_error *err = wafer_module_new(engine, b.b, b.n, &m);
        if (err) fail_msg("encoding %zu: %s", i, wafer_error_message(err));
        const module_elem *e = &m->elems[0];
        assert_int_equal(e->mode, cases[i].mode);
        assert_int_equal(e->type, WAFER_FUNCREF);
        assert_int_equal(e->table_index, 0);
        assert_int_equal(e->count, 1);
        assert_int_equal(e->items[0].count, 1);
        assert_int_equal(e->items[0].instrs[0].opcode, cases[i].first_opcode);
        if (cases[i].mode == SEGMENT_ACTIVE) {
            assert_int_equal(e->offset.count, 1);
            assert_int_equal(e->offset.instrs[0].opcode, 0x41);
        }
        wafer_module_release(m);
    }
    wafer_engine_delete(engine);
}

/* Constant expressions keep instructions that are not constant, for the validator to refuse. */
static void test_const_expr_keeps_other_instructions(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(0, NULL);
    /* (global i32 (i32.add (i32.const 1) (local.get 0))) */
    static const uint8_t bytes[] = {HEADER, 0x06, 0x09, 0x01, 0x7f, 0x00,
                                    0x41, 0x01, 0x20, 0x00, 0x6a, 0x0b};
    wafer_module *m = decode_ok(engine, bytes, sizeof bytes);
    assert_int_equal(m->globals[0].init.count, 3);
    assert_int_equal(m->globals[0].init.instrs[1].opcode, 0x20);
    assert_int_equal(m->globals[0].init.instrs[2].opcode, 0x6a);
    module_free(m);
    expect_error(bytes, sizeof bytes, WAFER_ERROR_INVALID, "constant expression required");
    wafer_engine_delete(engine);
}

/* Indices are checked by validation, after decoding succeeded. */
static void test_export_of_missing_function_is_invalid(void **state) {
    (void)state;
    expect_error(BYTES(HEADER, 0x07, 0x05, 0x01, 0x01, 0x61, 0x00, 0x00), WAFER_ERROR_INVALID,
                 "unknown function");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preamble),
        cmocka_unit_test(test_empty_module),
        cmocka_unit_test(test_section_ids_and_sizes),
        cmocka_unit_test(test_section_order),
        cmocka_unit_test(test_custom_sections),
        cmocka_unit_test(test_leb128),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_engine_limits),
        cmocka_unit_test(test_too_many_locals),
        cmocka_unit_test(test_utf8_names),
        cmocka_unit_test(test_malformed_entities),
        cmocka_unit_test(test_limits_flags),
        cmocka_unit_test(test_function_and_code_counts),
        cmocka_unit_test(test_data_count),
        cmocka_unit_test(test_simd_is_unsupported),
        cmocka_unit_test(test_switched_off_features),
        cmocka_unit_test(test_good_module_tables),
        cmocka_unit_test(test_good_module_descriptions),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_memory64),
        cmocka_unit_test(test_element_encodings),
        cmocka_unit_test(test_const_expr_keeps_other_instructions),
        cmocka_unit_test(test_export_of_missing_function_is_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
