/* The V8 oracle (oracles/v8.h, oracles/v8_runner.js under node): exact observations of small
 * modules, V8's merged trap kinds reported as `other`, what it cannot do classified as
 * inconclusive, a hanging module killed and the process restarted, and wafer agreeing with it
 * throughout. Skipped where node is not installed.
 */
#include "oracle_engines.h"
#include "../oracles/v8.h"

static oracle_session *session;

static int open_v8(void **state) {
    (void)state;
    oracle_options options;
    oracle_options_default(&options);
    options.time_limit_ms = 10000;
    char why[256];
    if (!oracle_v8.open(&options, &session, why, sizeof why)) {
        print_message("v8 oracle unavailable, skipping: %s\n", why);
        session = NULL;
    }
    return 0;
}

static int close_v8(void **state) {
    (void)state;
    oracle_v8.close(session);
    return 0;
}

static void check(test_module m, const char *expected, verdict_kind verdict) {
    if (!session) {
        free(m.bytes);
        skip();
    }
    check_engine(&oracle_v8, session, m, expected, verdict);
}

static void test_exact_values(void **state) {
    (void)state;
    check(assemble("values", wat_values),
          VALUES_EXPECTED_HEAD "memory mem 1 " VALUES_MEMORY_HASH "\n", VERDICT_AGREE);
}

/* V8 has one message for NaN and out-of-range truncation, and one for a null entry and a wrong
 * signature in call_indirect: those are `other`. A table index out of bounds is told apart by
 * the opcode at the trapping offset. */
static void test_traps(void **state) {
    (void)state;
    check(assemble("traps", wat_traps), TRAPS_EXPECTED("other", "other", "other", "other"),
          VERDICT_AGREE);
}

static void test_start_trap(void **state) {
    (void)state;
    check(assemble("start_trap", wat_start_trap), expected_start_trap, VERDICT_AGREE);
}

static void test_hang_limit_initializer(void **state) {
    (void)state;
    check(assemble("hang_limit", wat_hang_limit), expected_hang_limit, VERDICT_AGREE);
}

/* V8's stack outlasts wafer's 10000 frames: the verdict is inconclusive either way. */
static void test_stack_exhaustion(void **state) {
    (void)state;
    check(assemble("stack", wat_stack), expected_stack, VERDICT_INCONCLUSIVE);
}

static void test_log_labels(void **state) {
    (void)state;
    check(assemble("labels", wat_labels), expected_labels, VERDICT_AGREE);
}

static void test_grow_within_v8_limit(void **state) {
    (void)state;
    check(assemble("grow", wat_grow),
          "instantiate ok\ncall grow\nreturn i32:0x1\nmemory mem 16385 -\n", VERDICT_AGREE);
}

/* The hash: FNV-1a 64 of one page holding 07 at offset 0. */
static void test_imports_of_every_kind(void **state) {
    (void)state;
    check(assemble("imports", wat_imports),
          "instantiate ok\n"
          "call call_import\n"
          "log env answer externref:null funcref:nonnull\n"
          "return i32:0x0 f64:0x0\n"
          "call use_imports\n"
          "return i64:0x0 i32:0x2 i64:0x1 i32:0x1\n"
          "global g i64:0x0\n"
          "memory m 1 5b122cf992aa2322\n",
          VERDICT_AGREE);
}

static void test_multi_memory_is_a_missing_feature(void **state) {
    (void)state;
    check(assemble("multi_memory", wat_multi_memory), "inconclusive feature\n",
          VERDICT_INCONCLUSIVE);
}

static void test_invalid_module(void **state) {
    (void)state;
    check(from_bytes(wasm_invalid, sizeof wasm_invalid), "instantiate error invalid\n",
          VERDICT_AGREE);
}

/* A module that hangs is killed at the time limit, keeping what it saw before; the next module
 * runs in a fresh process. */
static void test_time_limit_and_restart(void **state) {
    (void)state;
    if (!session) skip();
    oracle_options options;
    oracle_options_default(&options);
    options.time_limit_ms = 1000;
    oracle_session *s;
    char why[256];
    assert_true(oracle_v8.open(&options, &s, why, sizeof why));
    check_engine(&oracle_v8, s,
                 assemble("spin", "(module (func (export \"first\") (result i32) i32.const 1)\n"
                                  "  (func (export \"spin\") (loop br 0)))"),
                 "instantiate ok\ncall first\nreturn i32:0x1\ncall spin\ninconclusive time\n",
                 VERDICT_INCONCLUSIVE);
    check_engine(&oracle_v8, s, assemble("hang_limit", wat_hang_limit), expected_hang_limit,
                 VERDICT_AGREE);
    oracle_v8.close(s);
}

static void test_command_line(void **state) {
    (void)state;
    if (!session) skip();
    oracle_options options;
    oracle_options_default(&options);
    char line[1024];
    assert_true(v8_command_line(&options, line, sizeof line));
    assert_non_null(strstr(line, "node --experimental-wasm-type-reflection "
                                 "--experimental-wasm-memory64 "
                                 "--no-experimental-wasm-return-call --stack-size="));
    assert_non_null(strstr(line, "oracles/v8_runner.js --observation-limit=100000"));
    options.features &= ~(uint32_t)WAFER_FEATURE_MEMORY64;
    assert_true(v8_command_line(&options, line, sizeof line));
    assert_null(strstr(line, "memory64"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_values),
        cmocka_unit_test(test_traps),
        cmocka_unit_test(test_start_trap),
        cmocka_unit_test(test_hang_limit_initializer),
        cmocka_unit_test(test_stack_exhaustion),
        cmocka_unit_test(test_log_labels),
        cmocka_unit_test(test_grow_within_v8_limit),
        cmocka_unit_test(test_imports_of_every_kind),
        cmocka_unit_test(test_multi_memory_is_a_missing_feature),
        cmocka_unit_test(test_invalid_module),
        cmocka_unit_test(test_time_limit_and_restart),
        cmocka_unit_test(test_command_line),
    };
    return cmocka_run_group_tests(tests, open_v8, close_v8);
}
