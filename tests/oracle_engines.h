/* Modules and helpers shared by the second-opinion engine tests (test_oracle_v8.c,
 * test_oracle_binaryen.c). Each module is WAT text, assembled with wat2wasm at test time into
 * build/tests/oracle_modules/; its observations are written out in each test exactly, as
 * worked out by hand (the values' bit patterns, FNV-1a hashes checked independently). Every
 * module is also run in wafer's own adapter, which must agree with the engine.
 */
#ifndef WAFER_TESTS_ORACLE_ENGINES_H
#define WAFER_TESTS_ORACLE_ENGINES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../oracles/compare.h"
#include "../oracles/oracle.h"
#include "../oracles/subprocess.h"
#include "wafer.h"

/* Exact values: -0, 0.1f, 1e-300, i64 extremes, multi-value, zero arguments, logs with float
 * arguments (5.0f prints like an integer in binaryen's logs), final globals and memory. */
static const char wat_values[] =
    "(module\n"
    "  (import \"env\" \"log_f32\" (func $log_f32 (param f32)))\n"
    "  (import \"env\" \"log_mixed\" (func $log_mixed (param i32 i64 f64)))\n"
    "  (import \"host\" \"log_i64\" (func $log_i64 (param i64)))\n"
    "  (global $g (export \"g_f64\") (mut f64) (f64.const 1))\n"
    "  (global (export \"g_i64\") i64 (i64.const -9223372036854775808))\n"
    "  (global $gf (export \"g_f32\") (mut f32) (f32.const 0))\n"
    "  (memory (export \"mem\") 1)\n"
    "  (func (export \"neg_zero\") (result f64) f64.const -0)\n"
    "  (func (export \"f32_tenth\") (result f32) f32.const 0.1)\n"
    "  (func (export \"tiny\") (result f64) f64.const 1e-300)\n"
    "  (func (export \"i64_extremes\") (result i64 i64)\n"
    "    i64.const -9223372036854775808 i64.const 9223372036854775807)\n"
    "  (func (export \"multi\") (result i32 i64 f32 f64)\n"
    "    i32.const -1 i64.const -2 f32.const -0 f64.const 0.1)\n"
    "  (func (export \"zero_args\") (param i32 i64 f32 f64) (result i32 i64 f32 f64)\n"
    "    local.get 0 local.get 1 local.get 2 local.get 3)\n"
    "  (func (export \"logs\")\n"
    "    f32.const 0.1 call $log_f32\n"
    "    f32.const -0 call $log_f32\n"
    "    f32.const 5 call $log_f32\n"
    "    i32.const 5 i64.const -9223372036854775808 f64.const 1e-300 call $log_mixed\n"
    "    i64.const 5 call $log_i64)\n"
    "  (func (export \"effects\")\n"
    "    i32.const 8 i64.const 0x0123456789abcdef i64.store\n"
    "    f64.const -0 global.set $g\n"
    "    f32.const 0.1 global.set $gf))\n";

/* Everything before the memory line, which differs: binaryen cannot hash. The hash is FNV-1a 64
 * of one page holding ef cd ab 89 67 45 23 01 at offset 8. */
#define VALUES_EXPECTED_HEAD                                                                     \
    "instantiate ok\n"                                                                           \
    "call neg_zero\n"                                                                            \
    "return f64:0x8000000000000000\n"                                                            \
    "call f32_tenth\n"                                                                           \
    "return f32:0x3dcccccd\n"                                                                    \
    "call tiny\n"                                                                                \
    "return f64:0x1a56e1fc2f8f359\n"                                                             \
    "call i64_extremes\n"                                                                        \
    "return i64:0x8000000000000000 i64:0x7fffffffffffffff\n"                                     \
    "call multi\n"                                                                               \
    "return i32:0xffffffff i64:0xfffffffffffffffe f32:0x80000000 f64:0x3fb999999999999a\n"       \
    "call zero_args\n"                                                                           \
    "return i32:0x0 i64:0x0 f32:0x0 f64:0x0\n"                                                   \
    "call logs\n"                                                                                \
    "log env log_f32 f32:0x3dcccccd\n"                                                           \
    "log env log_f32 f32:0x80000000\n"                                                           \
    "log env log_f32 f32:0x40a00000\n"                                                           \
    "log env log_mixed i32:0x5 i64:0x8000000000000000 f64:0x1a56e1fc2f8f359\n"                   \
    "log host log_i64 i64:0x5\n"                                                                 \
    "return\n"                                                                                   \
    "call effects\n"                                                                             \
    "return\n"                                                                                   \
    "global g_f64 f64:0x8000000000000000\n"                                                      \
    "global g_i64 i64:0x8000000000000000\n"                                                      \
    "global g_f32 f32:0x3dcccccd\n"
#define VALUES_MEMORY_HASH "2ecb9ce1103cfc35"

/* One export per trap the spec names (that both engines can run), then a call that works: a
 * trap does not end the run. */
static const char wat_traps[] =
    "(module\n"
    "  (type $v_i (func (result i32)))\n"
    "  (table 3 funcref)\n"
    "  (elem (i32.const 0) $seven $takes_i32)\n"
    "  (memory 1)\n"
    "  (func $seven (result i32) i32.const 7)\n"
    "  (func $takes_i32 (param i32) (result i32) local.get 0)\n"
    "  (func (export \"unreachable\") unreachable)\n"
    "  (func (export \"load_oob\") (result i32) i32.const 65533 i32.load)\n"
    "  (func (export \"div_zero\") (result i32) i32.const 1 i32.const 0 i32.div_u)\n"
    "  (func (export \"rem_zero\") (result i64) i64.const 1 i64.const 0 i64.rem_s)\n"
    "  (func (export \"div_overflow\") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)\n"
    "  (func (export \"trunc_nan\") (result i32) f32.const nan i32.trunc_f32_s)\n"
    "  (func (export \"trunc_big\") (result i64) f64.const 1e30 i64.trunc_f64_u)\n"
    "  (func (export \"undefined_element\") (result i32) i32.const 3 call_indirect (type $v_i))\n"
    "  (func (export \"uninitialized_element\") (result i32)\n"
    "    i32.const 2 call_indirect (type $v_i))\n"
    "  (func (export \"indirect_mismatch\") (result i32) i32.const 1 call_indirect (type $v_i))\n"
    "  (func (export \"table_get_oob\") (result i32) i32.const 3 table.get 0 ref.is_null)\n"
    "  (func (export \"fill_oob\") i32.const 65535 i32.const 0 i32.const 2 memory.fill)\n"
    "  (func (export \"after_traps\") (result i32) i32.const 0 call_indirect (type $v_i)))\n";

/* The trap lines of wat_traps, by the engine's classes (some engines merge two). */
#define TRAPS_EXPECTED(nan, big, uninitialized, mismatch)                                        \
    "instantiate ok\n"                                                                           \
    "call unreachable\n"                                                                         \
    "trap unreachable\n"                                                                         \
    "call load_oob\n"                                                                            \
    "trap memory_oob\n"                                                                          \
    "call div_zero\n"                                                                            \
    "trap div_zero\n"                                                                            \
    "call rem_zero\n"                                                                            \
    "trap div_zero\n"                                                                            \
    "call div_overflow\n"                                                                        \
    "trap int_overflow\n"                                                                        \
    "call trunc_nan\n"                                                                           \
    "trap " nan "\n"                                                                             \
    "call trunc_big\n"                                                                           \
    "trap " big "\n"                                                                             \
    "call undefined_element\n"                                                                   \
    "trap undefined_element\n"                                                                   \
    "call uninitialized_element\n"                                                               \
    "trap " uninitialized "\n"                                                                   \
    "call indirect_mismatch\n"                                                                   \
    "trap " mismatch "\n"                                                                        \
    "call table_get_oob\n"                                                                       \
    "trap table_oob\n"                                                                           \
    "call fill_oob\n"                                                                            \
    "trap memory_oob\n"                                                                          \
    "call after_traps\n"                                                                         \
    "return i32:0x7\n"

/* The start function logs, then traps: the log comes first, nothing after the trap. */
static const char wat_start_trap[] =
    "(module\n"
    "  (import \"env\" \"log\" (func $log (param i32)))\n"
    "  (func $start i32.const 42 call $log unreachable)\n"
    "  (start $start)\n"
    "  (func (export \"never\") (result i32) i32.const 1))\n";
static const char expected_start_trap[] = "log env log i32:0x2a\n"
                                          "instantiate trap unreachable\n";

/* hangLimitInitializer runs before each export (so both calls see 3) and is not observed. */
static const char wat_hang_limit[] =
    "(module\n"
    "  (global $budget (mut i32) (i32.const 0))\n"
    "  (func $take (result i32)\n"
    "    global.get $budget\n"
    "    global.get $budget i32.const 1 i32.sub global.set $budget)\n"
    "  (func (export \"hangLimitInitializer\") i32.const 3 global.set $budget)\n"
    "  (export \"first\" (func $take))\n"
    "  (export \"second\" (func $take)))\n";
static const char expected_hang_limit[] = "instantiate ok\n"
                                          "call first\n"
                                          "return i32:0x3\n"
                                          "call second\n"
                                          "return i32:0x3\n";

/* Unbounded recursion: the engine's own stack limit, inconclusive; nothing after it. */
static const char wat_stack[] =
    "(module\n"
    "  (func (export \"fine\") (result i32) i32.const 1)\n"
    "  (func $down (export \"recurse\") (param i32) (result i32)\n"
    "    local.get 0 i32.const 1 i32.add call $down)\n"
    "  (func (export \"not_reached\") (result i32) i32.const 2))\n";
static const char expected_stack[] = "instantiate ok\n"
                                     "call fine\n"
                                     "return i32:0x1\n"
                                     "call recurse\n"
                                     "inconclusive stack\n";

/* Five imports, four of them logging what prints as "1" in binaryen: it takes three runs to
 * tell them apart there. */
static const char wat_labels[] =
    "(module\n"
    "  (import \"a\" \"i32\" (func $i (param i32)))\n"
    "  (import \"a\" \"f32\" (func $f (param f32)))\n"
    "  (import \"a\" \"f64\" (func $d (param f64)))\n"
    "  (import \"b\" \"i64\" (func $l (param i64)))\n"
    "  (import \"b\" \"i32_again\" (func $i2 (param i32)))\n"
    "  (func (export \"logs\")\n"
    "    i32.const 1 call $i f32.const 1 call $f f64.const 1 call $d\n"
    "    i64.const 1 call $l i32.const 1 call $i2))\n";
static const char expected_labels[] = "instantiate ok\n"
                                      "call logs\n"
                                      "log a i32 i32:0x1\n"
                                      "log a f32 f32:0x3f800000\n"
                                      "log a f64 f64:0x3ff0000000000000\n"
                                      "log b i64 i64:0x1\n"
                                      "log b i32_again i32:0x1\n"
                                      "return\n";

/* A grow of 16384 pages: V8 allows it (its limit is 65536 pages), binaryen refuses (1 GiB in
 * all). Memories above 16384 pages are not hashed. */
static const char wat_grow[] =
    "(module\n"
    "  (memory (export \"mem\") 1)\n"
    "  (func (export \"grow\") (result i32) i32.const 16384 memory.grow))\n";

/* Imports of every kind: a function with results and reference parameters, a memory64, a table
 * of externrefs, a mutable i64 global and a funcref global, created to their declared types. */
static const char wat_imports[] =
    "(module\n"
    "  (import \"env\" \"answer\" (func $answer (param externref funcref) (result i32 f64)))\n"
    "  (import \"env\" \"mem64\" (memory i64 1 2))\n"
    "  (import \"env\" \"table\" (table 2 externref))\n"
    "  (import \"env\" \"global\" (global (mut i64)))\n"
    "  (import \"env\" \"fglobal\" (global funcref))\n"
    "  (elem declare func $me)\n"
    "  (func $me)\n"
    "  (func (export \"call_import\") (result i32 f64)\n"
    "    ref.null extern ref.func $me call $answer)\n"
    "  (func (export \"use_imports\") (result i64 i32 i64 i32)\n"
    "    i64.const 0 i64.const 7 i64.store\n"
    "    global.get 0 table.size 0 memory.size global.get 1 ref.is_null)\n"
    "  (export \"g\" (global 0))\n"
    "  (export \"m\" (memory 0)))\n";

static const char wat_multi_memory[] =
    "(module (memory 1) (memory 1)\n"
    "  (func (export \"f\") (result i32) i32.const 0 i32.load 1))\n";

/* (module (func (export "f") (result i32) i64.const 0)): invalid, so written as bytes. */
static const uint8_t wasm_invalid[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05,
                                       0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07,
                                       0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04,
                                       0x00, 0x42, 0x00, 0x0b};

/* ---- Helpers ------------------------------------------------------------------------------- */

#define MODULE_DIR "build/tests/oracle_modules"

typedef struct test_module {
    uint8_t *bytes;
    size_t len;
} test_module;

static uint8_t *read_whole(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *bytes = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *grown = realloc(bytes, cap);
            assert_non_null(grown);
            bytes = grown;
        }
        got = fread(bytes + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return bytes;
}

/* Assembles wat (every feature wafer has) into MODULE_DIR/NAME.wasm. */
static test_module assemble(const char *name, const char *wat) {
    mkdir("build", 0777);
    mkdir("build/tests", 0777);
    mkdir(MODULE_DIR, 0777);
    char wat_path[256], wasm_path[256];
    snprintf(wat_path, sizeof wat_path, MODULE_DIR "/%s.wat", name);
    snprintf(wasm_path, sizeof wasm_path, MODULE_DIR "/%s.wasm", name);
    FILE *f = fopen(wat_path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(wat, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    char *argv[] = {"wat2wasm", "--enable-memory64", "--enable-multi-memory", "-o", wasm_path,
                    wat_path, NULL};
    subprocess_limits limits = {.time_ms = 20000};
    subprocess_result res;
    char why[256];
    if (!subprocess_run(argv, NULL, 0, &limits, &res, why, sizeof why)) fail_msg("%s", why);
    if (res.end != SUBPROCESS_EXITED || res.status != 0) fail_msg("wat2wasm: %s", res.err);
    subprocess_result_free(&res);
    test_module m;
    m.bytes = read_whole(wasm_path, &m.len);
    assert_non_null(m.bytes);
    return m;
}

static test_module from_bytes(const uint8_t *bytes, size_t len) {
    test_module m = {malloc(len), len};
    assert_non_null(m.bytes);
    memcpy(m.bytes, bytes, len);
    return m;
}

/* The observations as text, with the DETAIL of an inconclusive line left out (it is for people,
 * and quotes engine messages that may change between versions). */
static char *observations_text(const observation_list *list) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    for (size_t i = 0; i < list->count; i++) {
        const observation *obs = &list->items[i];
        if (obs->kind == OBS_INCONCLUSIVE) fprintf(f, "inconclusive %s\n", obs->word);
        else observation_write(f, obs);
    }
    fclose(f);
    return text;
}

/* Runs m in engine's session s, checks the observations against expected, then runs m in
 * wafer (with the engine's grow limits) and checks the comparison's verdict. */
static void check_engine(const oracle_engine *engine, oracle_session *s, test_module m,
                         const char *expected, verdict_kind expected_verdict) {
    oracle_module om = {NULL, m.bytes, m.len};
    observation_list seen;
    observation_list_init(&seen);
    char why[256];
    if (!engine->run(s, &om, 1, &seen, why, sizeof why)) fail_msg("%s run: %s", engine->name, why);
    char *text = observations_text(&seen);
    assert_string_equal(text, expected);
    free(text);

    oracle_options options;
    oracle_options_default(&options);
    options.limits = engine->limits;
    observation_list mine;
    observation_list_init(&mine);
    if (!oracle_run_one(&oracle_wafer, &options, &om, &mine, why, sizeof why))
        fail_msg("wafer run: %s", why);
    verdict v;
    compare_observations(&mine, &seen, engine->name, NULL, &v);
    if (v.kind != expected_verdict) fail_msg("wafer vs %s: %s", engine->name, v.text);
    observation_list_free(&mine);
    observation_list_free(&seen);
    free(m.bytes);
}

#endif
