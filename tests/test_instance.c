/* Instances and the embedding API, through the public header only: linking, instantiation
 * (segments, start function, traps), memories, tables, globals, host functions, fuel, epochs, and
 * store deletion. The modules are small binaries written out byte by byte; each comes with the text
 * it was assembled from (wat2wasm --enable-memory64).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wafer.h"

/* ---- Modules ------------------------------------------------------------------------------ */

/* (module
 *   (import "env" "f" (func $f (param i32) (result i32)))
 *   (import "env" "t" (table 2 4 funcref))
 *   (import "env" "m" (memory 1 2))
 *   (import "env" "g" (global (mut i64)))
 *   (func (export "call_f") (param i32) (result i32) (call $f (local.get 0))))
 */
static const uint8_t imports_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x02, 0x27, 0x04, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x00, 0x03, 0x65, 0x6e, 0x76, 0x01,
    0x74, 0x01, 0x70, 0x01, 0x02, 0x04, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02, 0x01, 0x01, 0x02,
    0x03, 0x65, 0x6e, 0x76, 0x01, 0x67, 0x03, 0x7e, 0x01, 0x03, 0x02, 0x01, 0x00, 0x07, 0x0a, 0x01,
    0x06, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x66, 0x00, 0x01, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00,
    0x10, 0x00, 0x0b,
};

/* (module
 *   (memory i64 0x1_0000_0000_0000)
 *   (data (i64.const 0xffff_ffff_ffff_0000) "x"))
 */
static const uint8_t mem64_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x09, 0x01, 0x04, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x40, 0x0b, 0x09, 0x01, 0x00, 0x42, 0x80, 0x80, 0x7c, 0x0b, 0x01, 0x78,
};

/* (module
 *   (memory i64 1)
 *   (data (i64.const -1) "xy"))
 */
static const uint8_t mem64_wrap_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x04, 0x01, 0x0b, 0x08, 0x01,
    0x00, 0x42, 0x7f, 0x0b, 0x02, 0x78, 0x79,
};

/* (module
 *   (memory (export "mem") 1 3)
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func (export "size") (result i32) (memory.size))
 *   (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))
 */
static const uint8_t memgrow_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x00, 0x01, 0x7f, 0x03, 0x04, 0x03, 0x00, 0x01, 0x00, 0x05, 0x04, 0x01, 0x01, 0x01, 0x03,
    0x07, 0x1c, 0x04, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00,
    0x04, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x01, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x02, 0x0a, 0x15,
    0x03, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, 0x04, 0x00, 0x3f, 0x00, 0x0b, 0x07, 0x00, 0x20,
    0x00, 0x2d, 0x00, 0x00, 0x0b,
};

/* (module
 *   (type $ii (func (param i32) (result i32)))
 *   (table (export "tab") 1 3 funcref)
 *   (func $inc (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
 *   (elem (i32.const 0) $inc)
 *   (func (export "call") (param i32 i32) (result i32)
 *     (call_indirect (type $ii) (local.get 1) (local.get 0)))
 *   (func (export "size") (result i32) (table.size 0)))
 */
static const uint8_t table_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x04, 0x03, 0x00, 0x01, 0x02,
    0x04, 0x05, 0x01, 0x70, 0x01, 0x01, 0x03, 0x07, 0x1b, 0x04, 0x03, 0x74, 0x61, 0x62, 0x01, 0x00,
    0x03, 0x69, 0x6e, 0x63, 0x00, 0x00, 0x04, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x01, 0x04, 0x73, 0x69,
    0x7a, 0x65, 0x00, 0x02, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00, 0x0a, 0x19, 0x03,
    0x07, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x09, 0x00, 0x20, 0x01, 0x20, 0x00, 0x11, 0x00,
    0x00, 0x0b, 0x05, 0x00, 0xfc, 0x10, 0x00, 0x0b,
};

/* (module
 *   (global (export "const") i32 (i32.const 7))
 *   (global $g (export "var") (mut f64) (f64.const 1.5))
 *   (func (export "get") (result f64) (global.get $g))
 *   (func (export "set") (param f64) (global.set $g (local.get 0))))
 */
static const uint8_t globals_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60, 0x00, 0x01, 0x7c, 0x60,
    0x01, 0x7c, 0x00, 0x03, 0x03, 0x02, 0x00, 0x01, 0x06, 0x12, 0x02, 0x7f, 0x00, 0x41, 0x07, 0x0b,
    0x7c, 0x01, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, 0x0b, 0x07, 0x1b, 0x04, 0x05,
    0x63, 0x6f, 0x6e, 0x73, 0x74, 0x03, 0x00, 0x03, 0x76, 0x61, 0x72, 0x03, 0x01, 0x03, 0x67, 0x65,
    0x74, 0x00, 0x00, 0x03, 0x73, 0x65, 0x74, 0x00, 0x01, 0x0a, 0x0d, 0x02, 0x04, 0x00, 0x23, 0x01,
    0x0b, 0x06, 0x00, 0x20, 0x00, 0x24, 0x01, 0x0b,
};

/* (module
 *   (import "env" "cb" (func $cb (param i32) (result i32)))
 *   (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
 *   (func (export "run") (param i32) (result i32)
 *     (i32.add (call $cb (local.get 0)) (i32.const 1))))
 */
static const uint8_t callback_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x02, 0x0a, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x02, 0x63, 0x62, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00,
    0x00, 0x07, 0x10, 0x02, 0x06, 0x64, 0x6f, 0x75, 0x62, 0x6c, 0x65, 0x00, 0x01, 0x03, 0x72, 0x75,
    0x6e, 0x00, 0x02, 0x0a, 0x13, 0x02, 0x07, 0x00, 0x20, 0x00, 0x41, 0x02, 0x6c, 0x0b, 0x09, 0x00,
    0x20, 0x00, 0x10, 0x00, 0x41, 0x01, 0x6a, 0x0b,
};

/* (module
 *   (import "env" "memory" (memory 1))
 *   (import "env" "table" (table 1 funcref))
 *   (data (i32.const 0) "hello")
 *   (elem (i32.const 0) $f)
 *   (func $f (result i32) (i32.const 0xdead))
 *   (func $main (unreachable))
 *   (start $main))
 */
static const uint8_t start_trap_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60,
    0x00, 0x00, 0x02, 0x1d, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79,
    0x02, 0x00, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x05, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x01, 0x70, 0x00,
    0x01, 0x03, 0x03, 0x02, 0x00, 0x01, 0x08, 0x01, 0x01, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b,
    0x01, 0x00, 0x0a, 0x0c, 0x02, 0x06, 0x00, 0x41, 0xad, 0xbd, 0x03, 0x0b, 0x03, 0x00, 0x00, 0x0b,
    0x0b, 0x0b, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

/* (module
 *   (import "env" "table" (table 10 funcref))
 *   (func $f (result i32) (i32.const 42))
 *   (elem (i32.const 7) $f)
 *   (elem (i32.const 8) $f $f $f $f $f))
 */
static const uint8_t elem_oob_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x02,
    0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x05, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x01, 0x70, 0x00, 0x0a,
    0x03, 0x02, 0x01, 0x00, 0x09, 0x11, 0x02, 0x00, 0x41, 0x07, 0x0b, 0x01, 0x00, 0x00, 0x41, 0x08,
    0x0b, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b,
};

/* (module
 *   (import "env" "memory" (memory 1))
 *   (data (i32.const 0) "abc")
 *   (data (i32.const 65534) "zzz"))
 */
static const uint8_t data_oob_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06,
    0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x01, 0x0b, 0x13, 0x02, 0x00, 0x41, 0x00, 0x0b,
    0x03, 0x61, 0x62, 0x63, 0x00, 0x41, 0xfe, 0xff, 0x03, 0x0b, 0x03, 0x7a, 0x7a, 0x7a,
};

/* (module
 *   (func (export "spin") (loop $l (br $l))))
 */
static const uint8_t loop_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
    0x01, 0x00, 0x07, 0x08, 0x01, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07,
    0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
};

/* (module
 *   (import "env" "h" (func $h (param externref)))
 *   (table (export "t") 2 externref)
 *   (memory (export "m") 1)
 *   (global (export "g") (mut externref) (ref.null extern))
 *   (func (export "keep") (param externref)
 *     (table.set 0 (i32.const 0) (local.get 0))
 *     (global.set 0 (local.get 0))
 *     (call $h (local.get 0))))
 */
static const uint8_t release_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x01, 0x6f, 0x00, 0x02,
    0x09, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x68, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x04, 0x04,
    0x01, 0x6f, 0x00, 0x02, 0x05, 0x03, 0x01, 0x00, 0x01, 0x06, 0x06, 0x01, 0x6f, 0x01, 0xd0, 0x6f,
    0x0b, 0x07, 0x14, 0x04, 0x01, 0x74, 0x01, 0x00, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x67, 0x03, 0x00,
    0x04, 0x6b, 0x65, 0x65, 0x70, 0x00, 0x01, 0x0a, 0x12, 0x01, 0x10, 0x00, 0x41, 0x00, 0x20, 0x00,
    0x26, 0x00, 0x20, 0x00, 0x24, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b,
};

/* ---- Helpers ------------------------------------------------------------------------------ */

static wafer_engine *engine_with(void (*adjust)(wafer_config *)) {
    wafer_config config;
    wafer_config_default(&config);
    if (adjust) adjust(&config);
    wafer_engine *engine = wafer_engine_new(&config);
    assert_non_null(engine);
    return engine;
}

static wafer_module *compile(wafer_engine *engine, const uint8_t *bytes, size_t len) {
    wafer_module *module = NULL;
    wafer_error *err = wafer_module_new(engine, bytes, len, &module);
    if (err) fail_msg("module_new: %s", wafer_error_message(err));
    return module;
}

/* Asserts err is an error of `kind` whose message starts with `prefix`, then frees it. */
static void expect_error(wafer_error *err, wafer_error_kind kind, const char *prefix) {
    assert_non_null(err);
    if (wafer_error_kind_of(err) != kind || strncmp(wafer_error_message(err), prefix, strlen(prefix)))
        fail_msg("expected kind %d \"%s...\", got kind %d \"%s\"", kind, prefix,
                 wafer_error_kind_of(err), wafer_error_message(err));
    wafer_error_free(err);
}

static void expect_trap(wafer_error *err, wafer_trap_kind trap, const char *message) {
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_TRAP);
    assert_int_equal(wafer_error_trap_kind(err), trap);
    assert_string_equal(wafer_error_message(err), message);
    wafer_error_free(err);
}

static void check(wafer_error *err) {
    if (err) fail_msg("unexpected error: %s", wafer_error_message(err));
}

static wafer_extern export_of(wafer_instance *instance, const char *name) {
    wafer_extern ext;
    if (!wafer_instance_export(instance, name, strlen(name), &ext))
        fail_msg("no export \"%s\"", name);
    return ext;
}

static wafer_value i32(int32_t v) { return (wafer_value){.type = WAFER_I32, .of.i32 = v}; }
static wafer_value f64_bits(uint64_t bits) {
    return (wafer_value){.type = WAFER_F64, .of.f64_bits = bits};
}
static wafer_value funcref(wafer_func *f) {
    return (wafer_value){.type = WAFER_FUNCREF, .of.funcref = f};
}

/* Calls an export taking and returning i32s; returns the error, the result through *out. */
static wafer_error *call_i32(wafer_store *store, wafer_func *func, const int32_t *args,
                             size_t nargs, int32_t *out) {
    wafer_value values[4], result;
    for (size_t i = 0; i < nargs; i++) values[i] = i32(args[i]);
    size_t nresults = wafer_func_type(func)->num_results;
    wafer_error *err = wafer_func_call(store, func, values, nargs, &result, nresults);
    if (!err && nresults) {
        assert_int_equal(result.type, WAFER_I32);
        *out = result.of.i32;
    }
    return err;
}

static int32_t call1(wafer_store *store, wafer_func *func, int32_t a) {
    int32_t r = 0;
    check(call_i32(store, func, &a, 1, &r));
    return r;
}

static const wafer_valtype i32_types[] = {WAFER_I32};
static const wafer_valtype i64_types[] = {WAFER_I64};
static const wafer_functype type_i32_i32 = {1, 1, i32_types, i32_types};
static const wafer_functype type_i64_i32 = {1, 1, i64_types, i32_types};

/* A host function whose env says what to do with its i32 argument. */
typedef enum { HOST_TIMES3, HOST_NEGATE, HOST_TRAP } host_action;

static wafer_error *host_i32(void *env, wafer_caller *caller, const wafer_value *args,
                             wafer_value *results) {
    (void)caller;
    switch (*(host_action *)env) {
    case HOST_TIMES3: results[0] = i32(args[0].of.i32 * 3); return NULL;
    case HOST_NEGATE: results[0] = i32(-args[0].of.i32); return NULL;
    case HOST_TRAP: return wafer_error_new_trap("host says no");
    }
    return NULL;
}

static host_action times3 = HOST_TIMES3, negate = HOST_NEGATE, host_trap = HOST_TRAP;

/* ---- Linking ------------------------------------------------------------------------------ */

/* The four imports of imports_wasm, each correct. */
typedef struct import_set {
    wafer_func *f;
    wafer_table *t;
    wafer_memory *m;
    wafer_global *g;
} import_set;

static import_set make_imports(wafer_store *store) {
    import_set s;
    s.f = wafer_func_new_host(store, &type_i32_i32, host_i32, &times3, NULL);
    assert_non_null(s.f);
    wafer_tabletype tt = {WAFER_FUNCREF, {2, 4, true}};
    check(wafer_table_new(store, &tt, funcref(NULL), &s.t));
    wafer_memorytype mt = {{1, 2, true}, false, false};
    check(wafer_memory_new(store, &mt, &s.m));
    wafer_globaltype gt = {WAFER_I64, true};
    check(wafer_global_new(store, &gt, (wafer_value){.type = WAFER_I64, .of.i64 = 5}, &s.g));
    return s;
}

static void fill_externs(const import_set *s, wafer_extern ext[4]) {
    ext[0] = (wafer_extern){.kind = WAFER_EXTERN_FUNC, .of.func = s->f};
    ext[1] = (wafer_extern){.kind = WAFER_EXTERN_TABLE, .of.table = s->t};
    ext[2] = (wafer_extern){.kind = WAFER_EXTERN_MEMORY, .of.memory = s->m};
    ext[3] = (wafer_extern){.kind = WAFER_EXTERN_GLOBAL, .of.global = s->g};
}

static void test_imports_matched(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, imports_wasm, sizeof imports_wasm);
    wafer_store *store = wafer_store_new(engine);
    import_set s = make_imports(store);
    wafer_extern ext[4];
    fill_externs(&s, ext);
    wafer_instance *instance;
    check(wafer_instance_new(store, module, ext, 4, &instance));
    assert_ptr_equal(wafer_instance_module(instance), module);
    assert_int_equal(call1(store, export_of(instance, "call_f").of.func, 14), 42);

    /* A larger table than declared, and a memory grown within the declared maximum, still fit:
     * an import's current size is its minimum (spec 4.5.2). */
    wafer_tabletype tt = {WAFER_FUNCREF, {3, 4, true}};
    check(wafer_table_new(store, &tt, funcref(NULL), &s.t));
    check(wafer_memory_grow(s.m, 1, NULL));
    fill_externs(&s, ext);
    check(wafer_instance_new(store, module, ext, 4, &instance));
    assert_non_null(instance);

    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* Each case changes one import of a correct set and expects the given error text. */
static void test_imports_mismatched(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, imports_wasm, sizeof imports_wasm);
    wafer_store *store = wafer_store_new(engine);
    import_set good = make_imports(store);
    wafer_extern ext[4];
    wafer_instance *instance = (wafer_instance *)&instance;
    const char *unknown = "unknown import", *incompatible = "incompatible import type";

    /* A missing import, as a null object or a short array. */
    fill_externs(&good, ext);
    ext[0].of.func = NULL;
    expect_error(wafer_instance_new(store, module, ext, 4, &instance), WAFER_ERROR_UNLINKABLE,
                 unknown);
    assert_null(instance);
    fill_externs(&good, ext);
    expect_error(wafer_instance_new(store, module, ext, 3, &instance), WAFER_ERROR_UNLINKABLE,
                 unknown);
    expect_error(wafer_instance_new(store, module, NULL, 0, &instance), WAFER_ERROR_UNLINKABLE,
                 unknown);
    /* More imports than the module has is a usage error. */
    wafer_extern five[5];
    fill_externs(&good, five);
    five[4] = five[0];
    expect_error(wafer_instance_new(store, module, five, 5, &instance), WAFER_ERROR_USAGE, "");

    /* Function type. */
    fill_externs(&good, ext);
    ext[0].of.func = wafer_func_new_host(store, &type_i64_i32, host_i32, &times3, NULL);
    expect_error(wafer_instance_new(store, module, ext, 4, &instance), WAFER_ERROR_UNLINKABLE,
                 incompatible);
    /* Kind: a memory where a function is expected. */
    fill_externs(&good, ext);
    ext[0] = ext[2];
    expect_error(wafer_instance_new(store, module, ext, 4, &instance), WAFER_ERROR_UNLINKABLE,
                 incompatible);

    /* Tables: element type, minimum, maximum absent, maximum too large. */
    static const wafer_tabletype bad_tables[] = {
        {WAFER_EXTERNREF, {2, 4, true}},
        {WAFER_FUNCREF, {1, 4, true}},
        {WAFER_FUNCREF, {2, 0, false}},
        {WAFER_FUNCREF, {2, 5, true}},
    };
    for (size_t i = 0; i < sizeof bad_tables / sizeof *bad_tables; i++) {
        fill_externs(&good, ext);
        wafer_value init = {.type = bad_tables[i].elem};
        check(wafer_table_new(store, &bad_tables[i], init, &ext[1].of.table));
        expect_error(wafer_instance_new(store, module, ext, 4, &instance),
                     WAFER_ERROR_UNLINKABLE, incompatible);
    }

    /* Memories: index type, maximum absent, maximum too large, minimum too small. */
    static const wafer_memorytype bad_memories[] = {
        {{1, 2, true}, true, false},
        {{1, 0, false}, false, false},
        {{1, 3, true}, false, false},
        {{0, 2, true}, false, false},
    };
    for (size_t i = 0; i < sizeof bad_memories / sizeof *bad_memories; i++) {
        fill_externs(&good, ext);
        check(wafer_memory_new(store, &bad_memories[i], &ext[2].of.memory));
        expect_error(wafer_instance_new(store, module, ext, 4, &instance),
                     WAFER_ERROR_UNLINKABLE, incompatible);
    }

    /* Globals: mutability, value type. */
    static const wafer_globaltype bad_globals[] = {{WAFER_I64, false}, {WAFER_I32, true}};
    for (size_t i = 0; i < 2; i++) {
        fill_externs(&good, ext);
        wafer_value init = {.type = bad_globals[i].type};
        check(wafer_global_new(store, &bad_globals[i], init, &ext[3].of.global));
        expect_error(wafer_instance_new(store, module, ext, 4, &instance),
                     WAFER_ERROR_UNLINKABLE, incompatible);
    }

    /* After all those failures the good set still links. */
    fill_externs(&good, ext);
    check(wafer_instance_new(store, module, ext, 4, &instance));
    assert_non_null(instance);
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* ---- Memories ----------------------------------------------------------------------------- */

static void unlimited_pages(wafer_config *config) { config->limits.max_memory_pages = UINT64_MAX; }
static void two_pages(wafer_config *config) { config->limits.max_memory_pages = 2; }
static void no_pages(wafer_config *config) { config->limits.max_memory_pages = 0; }

/* 2^48 pages are 2^64 bytes: one more than u64 holds (DESIGN.md invariant 2). Instantiation must
 * refuse cleanly, under the default limit and with no limit at all. */
static void test_memory64_maximum_size(void **state) {
    (void)state;
    void (*configs[])(wafer_config *) = {NULL, unlimited_pages};
    for (size_t i = 0; i < 2; i++) {
        wafer_engine *engine = engine_with(configs[i]);
        wafer_module *module = compile(engine, mem64_wasm, sizeof mem64_wasm);
        wafer_store *store = wafer_store_new(engine);
        wafer_instance *instance;
        expect_error(wafer_instance_new(store, module, NULL, 0, &instance), WAFER_ERROR_RESOURCE,
                     "");
        assert_null(instance);
        wafer_store_delete(store);
        wafer_module_release(module);
        wafer_engine_delete(engine);
    }
}

/* A data segment at offset 2^64-1 of length 2 wraps around u64: it must trap, not write. */
static void test_memory64_segment_offset_wraps(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, mem64_wrap_wasm, sizeof mem64_wrap_wasm);
    wafer_store *store = wafer_store_new(engine);
    wafer_instance *instance;
    expect_trap(wafer_instance_new(store, module, NULL, 0, &instance),
                WAFER_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access");
    assert_null(instance);
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

static void test_memory_grow_limits(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, memgrow_wasm, sizeof memgrow_wasm);
    wafer_store *store = wafer_store_new(engine);
    wafer_instance *instance;
    check(wafer_instance_new(store, module, NULL, 0, &instance));
    wafer_func *grow = export_of(instance, "grow").of.func;
    wafer_func *load = export_of(instance, "load").of.func;
    wafer_memory *mem = export_of(instance, "mem").of.memory;
    int32_t size;

    assert_int_equal(call1(store, grow, 1), 1);
    assert_int_equal(call1(store, grow, 2), -1); /* past the declared maximum of 3 */
    assert_int_equal(wafer_memory_size_pages(mem), 2);
    assert_int_equal(wafer_memory_size_bytes(mem), 2 * 65536);

    /* The host grows it too; wasm sees the new size and bytes the host wrote. */
    uint64_t old = 0;
    check(wafer_memory_grow(mem, 1, &old));
    assert_int_equal(old, 2);
    wafer_memory_data(mem)[3 * 65536 - 1] = 0x5a;
    assert_int_equal(call1(store, load, 3 * 65536 - 1), 0x5a);
    check(call_i32(store, export_of(instance, "size").of.func, NULL, 0, &size));
    assert_int_equal(size, 3);
    expect_error(wafer_memory_grow(mem, 1, &old), WAFER_ERROR_RESOURCE, "");
    assert_int_equal(call1(store, grow, 1), -1);
    assert_int_equal(call1(store, grow, 0), 3);
    assert_int_equal(wafer_memory_size_pages(mem), 3);
    expect_trap(call_i32(store, load, (int32_t[]){3 * 65536}, 1, &size),
                WAFER_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access");
    wafer_store_delete(store);
    wafer_engine_delete(engine);
    wafer_module_release(module);

    /* The configured limit caps the declared maximum, */
    engine = engine_with(two_pages);
    module = compile(engine, memgrow_wasm, sizeof memgrow_wasm);
    store = wafer_store_new(engine);
    check(wafer_instance_new(store, module, NULL, 0, &instance));
    grow = export_of(instance, "grow").of.func;
    assert_int_equal(call1(store, grow, 2), -1);
    assert_int_equal(call1(store, grow, 1), 1);
    assert_int_equal(call1(store, grow, 1), -1);
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);

    /* and a minimum above it cannot be instantiated. */
    engine = engine_with(no_pages);
    module = compile(engine, memgrow_wasm, sizeof memgrow_wasm);
    store = wafer_store_new(engine);
    expect_error(wafer_instance_new(store, module, NULL, 0, &instance), WAFER_ERROR_RESOURCE,
                 "memory minimum");
    assert_null(instance);
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* ---- Tables ------------------------------------------------------------------------------- */

static void test_table_from_host(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, table_wasm, sizeof table_wasm);
    wafer_store *store = wafer_store_new(engine);
    wafer_instance *instance;
    check(wafer_instance_new(store, module, NULL, 0, &instance));
    wafer_table *tab = export_of(instance, "tab").of.table;
    wafer_func *inc = export_of(instance, "inc").of.func;
    wafer_func *call = export_of(instance, "call").of.func;
    int32_t r;

    assert_int_equal(wafer_table_size(tab), 1);
    wafer_value v;
    check(wafer_table_get(tab, 0, &v));
    assert_int_equal(v.type, WAFER_FUNCREF);
    assert_ptr_equal(v.of.funcref, inc);
    check(call_i32(store, call, (int32_t[]){0, 41}, 2, &r));
    assert_int_equal(r, 42);

    uint64_t old = 0;
    check(wafer_table_grow(tab, 2, funcref(inc), &old));
    assert_int_equal(old, 1);
    assert_int_equal(wafer_table_size(tab), 3);
    check(call_i32(store, export_of(instance, "size").of.func, NULL, 0, &r));
    assert_int_equal(r, 3);
    check(call_i32(store, call, (int32_t[]){2, 9}, 2, &r));
    assert_int_equal(r, 10);

    /* A host function stored by the host is called by call_indirect. */
    wafer_func *neg = wafer_func_new_host(store, &type_i32_i32, host_i32, &negate, NULL);
    check(wafer_table_set(tab, 1, funcref(neg)));
    check(call_i32(store, call, (int32_t[]){1, 5}, 2, &r));
    assert_int_equal(r, -5);
    check(wafer_table_get(tab, 1, &v));
    assert_ptr_equal(v.of.funcref, neg);

    check(wafer_table_set(tab, 2, funcref(NULL)));
    expect_trap(call_i32(store, call, (int32_t[]){2, 0}, 2, &r), WAFER_TRAP_UNINITIALIZED_ELEMENT,
                "uninitialized element");
    expect_trap(call_i32(store, call, (int32_t[]){3, 0}, 2, &r), WAFER_TRAP_UNDEFINED_ELEMENT,
                "undefined element");

    expect_error(wafer_table_grow(tab, 1, funcref(NULL), &old), WAFER_ERROR_RESOURCE, "");
    assert_int_equal(wafer_table_size(tab), 3);
    expect_trap(wafer_table_get(tab, 3, &v), WAFER_TRAP_TABLE_OUT_OF_BOUNDS,
                "out of bounds table access");
    expect_trap(wafer_table_set(tab, 3, funcref(inc)), WAFER_TRAP_TABLE_OUT_OF_BOUNDS,
                "out of bounds table access");
    expect_error(wafer_table_set(tab, 0, (wafer_value){.type = WAFER_EXTERNREF}),
                 WAFER_ERROR_USAGE, "");
    wafer_tabletype type = wafer_table_type(tab);
    assert_int_equal(type.elem, WAFER_FUNCREF);
    assert_int_equal(type.limits.min, 3);
    assert_true(type.limits.has_max);
    assert_int_equal(type.limits.max, 3);

    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* ---- Globals ------------------------------------------------------------------------------ */

static void test_globals(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, globals_wasm, sizeof globals_wasm);
    wafer_store *store = wafer_store_new(engine);
    wafer_instance *instance;
    check(wafer_instance_new(store, module, NULL, 0, &instance));
    wafer_global *c = export_of(instance, "const").of.global;
    wafer_global *var = export_of(instance, "var").of.global;
    wafer_func *get = export_of(instance, "get").of.func;
    wafer_func *set = export_of(instance, "set").of.func;

    assert_int_equal(wafer_global_type(c).type, WAFER_I32);
    assert_false(wafer_global_type(c).is_mutable);
    assert_int_equal(wafer_global_get(c).of.i32, 7);
    expect_error(wafer_global_set(c, i32(8)), WAFER_ERROR_USAGE, "global is immutable");
    assert_int_equal(wafer_global_get(c).of.i32, 7);

    const uint64_t one_and_half = 0x3FF8000000000000, two_and_quarter = 0x4002000000000000;
    const uint64_t nan_payload = 0x7FF0000000000123; /* a signalling NaN must survive the trip */
    assert_true(wafer_global_type(var).is_mutable);
    assert_int_equal(wafer_global_get(var).of.f64_bits, one_and_half);
    check(wafer_global_set(var, f64_bits(two_and_quarter)));
    wafer_value r;
    check(wafer_func_call(store, get, NULL, 0, &r, 1));
    assert_int_equal(r.type, WAFER_F64);
    assert_int_equal(r.of.f64_bits, two_and_quarter);
    wafer_value arg = f64_bits(nan_payload);
    check(wafer_func_call(store, set, &arg, 1, NULL, 0));
    assert_int_equal(wafer_global_get(var).of.f64_bits, nan_payload);
    expect_error(wafer_global_set(var, i32(1)), WAFER_ERROR_USAGE, "");

    /* Calls with the wrong arity or types are refused before anything runs. */
    expect_error(wafer_func_call(store, set, NULL, 0, NULL, 0), WAFER_ERROR_USAGE, "");
    wafer_value wrong = i32(3);
    expect_error(wafer_func_call(store, set, &wrong, 1, NULL, 0), WAFER_ERROR_USAGE, "");
    expect_error(wafer_func_call(store, get, NULL, 0, NULL, 0), WAFER_ERROR_USAGE, "");
    assert_int_equal(wafer_global_get(var).of.f64_bits, nan_payload);

    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* ---- Host functions ----------------------------------------------------------------------- */

/* Calls the calling instance's export "double" on its argument: wasm -> host -> wasm. */
static wafer_error *call_double(void *env, wafer_caller *caller, const wafer_value *args,
                                wafer_value *results) {
    int *calls = env;
    ++*calls;
    wafer_extern dbl;
    if (!wafer_caller_export(caller, "double", 6, &dbl) || dbl.kind != WAFER_EXTERN_FUNC)
        return wafer_error_new_trap("no export double");
    wafer_extern none;
    if (wafer_caller_export(caller, "nothing", 7, &none))
        return wafer_error_new_trap("found an export that does not exist");
    return wafer_func_call(wafer_caller_store(caller), dbl.of.func, args, 1, results, 1);
}

static void test_host_calls_back_into_wasm(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, callback_wasm, sizeof callback_wasm);
    wafer_store *store = wafer_store_new(engine);
    int calls = 0;
    wafer_extern cb = {WAFER_EXTERN_FUNC,
                       .of.func = wafer_func_new_host(store, &type_i32_i32, call_double, &calls,
                                                      NULL)};
    wafer_instance *instance;
    check(wafer_instance_new(store, module, &cb, 1, &instance));
    wafer_func *run = export_of(instance, "run").of.func;
    assert_int_equal(call1(store, run, 5), 11);
    assert_int_equal(call1(store, run, -7), -13);
    assert_int_equal(calls, 2);

    /* A host error traps the wasm caller with the host's message, and the store stays usable. */
    wafer_extern bad = {WAFER_EXTERN_FUNC,
                        .of.func = wafer_func_new_host(store, &type_i32_i32, host_i32, &host_trap,
                                                       NULL)};
    wafer_instance *other;
    check(wafer_instance_new(store, module, &bad, 1, &other));
    int32_t r;
    expect_trap(call_i32(store, export_of(other, "run").of.func, (int32_t[]){1}, 1, &r),
                WAFER_TRAP_HOST, "host says no");
    assert_int_equal(call1(store, run, 1), 3);

    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* Calls the calling instance's export "run" again: wasm -> host -> wasm -> host ... forever. */
static wafer_error *call_run_again(void *env, wafer_caller *caller, const wafer_value *args,
                                   wafer_value *results) {
    int *calls = env;
    ++*calls;
    wafer_extern run;
    if (!wafer_caller_export(caller, "run", 3, &run)) return wafer_error_new_trap("no export run");
    return wafer_func_call(wafer_caller_store(caller), run.of.func, args, 1, results, 1);
}

/* Unbounded recursion through a host function ends in "call stack exhausted" long before the
 * native stack runs out, and the store stays usable afterwards. */
static void test_host_recursion_is_bounded(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, callback_wasm, sizeof callback_wasm);
    wafer_store *store = wafer_store_new(engine);
    int calls = 0;
    wafer_extern cb = {WAFER_EXTERN_FUNC,
                       .of.func = wafer_func_new_host(store, &type_i32_i32, call_run_again, &calls,
                                                      NULL)};
    wafer_instance *instance;
    check(wafer_instance_new(store, module, &cb, 1, &instance));
    wafer_func *run = export_of(instance, "run").of.func;
    int32_t r;
    expect_trap(call_i32(store, run, (int32_t[]){1}, 1, &r), WAFER_TRAP_CALL_STACK_EXHAUSTED,
                "call stack exhausted");
    assert_true(calls > 100);
    assert_true(calls < 1000);
    assert_int_equal(call1(store, export_of(instance, "double").of.func, 4), 8);

    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* ---- Traps during instantiation ----------------------------------------------------------- */

/* As linking.wast requires: the segments' writes into imported objects stay, and the failed
 * instance's function stored in the imported table stays callable. */
static void test_trap_in_start_function(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, start_trap_wasm, sizeof start_trap_wasm);
    wafer_store *store = wafer_store_new(engine);
    wafer_memorytype mt = {{1, 0, false}, false, false};
    wafer_tabletype tt = {WAFER_FUNCREF, {1, 0, false}};
    wafer_extern ext[2] = {{.kind = WAFER_EXTERN_MEMORY}, {.kind = WAFER_EXTERN_TABLE}};
    check(wafer_memory_new(store, &mt, &ext[0].of.memory));
    check(wafer_table_new(store, &tt, funcref(NULL), &ext[1].of.table));
    wafer_instance *instance;
    expect_trap(wafer_instance_new(store, module, ext, 2, &instance), WAFER_TRAP_UNREACHABLE,
                "unreachable");
    assert_null(instance);
    assert_memory_equal(wafer_memory_data(ext[0].of.memory), "hello", 5);
    wafer_value v;
    check(wafer_table_get(ext[1].of.table, 0, &v));
    assert_non_null(v.of.funcref);
    int32_t r = 0;
    check(call_i32(store, v.of.funcref, NULL, 0, &r));
    assert_int_equal(r, 0xdead);
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

static void test_segment_traps_keep_earlier_writes(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_store *store = wafer_store_new(engine);
    wafer_instance *instance;

    /* Elements: the segment at 7 is written, the one at 8..12 is out of bounds and writes
     * nothing. */
    wafer_module *module = compile(engine, elem_oob_wasm, sizeof elem_oob_wasm);
    wafer_tabletype tt = {WAFER_FUNCREF, {10, 0, false}};
    wafer_extern table = {.kind = WAFER_EXTERN_TABLE};
    check(wafer_table_new(store, &tt, funcref(NULL), &table.of.table));
    expect_trap(wafer_instance_new(store, module, &table, 1, &instance),
                WAFER_TRAP_TABLE_OUT_OF_BOUNDS, "out of bounds table access");
    assert_null(instance);
    wafer_value v;
    check(wafer_table_get(table.of.table, 7, &v));
    int32_t r = 0;
    check(call_i32(store, v.of.funcref, NULL, 0, &r));
    assert_int_equal(r, 42);
    for (uint64_t i = 8; i < 10; i++) {
        check(wafer_table_get(table.of.table, i, &v));
        assert_null(v.of.funcref);
    }
    wafer_module_release(module);

    /* Data: "abc" is written, the segment crossing the end of memory is not. */
    module = compile(engine, data_oob_wasm, sizeof data_oob_wasm);
    wafer_memorytype mt = {{1, 0, false}, false, false};
    wafer_extern memory = {.kind = WAFER_EXTERN_MEMORY};
    check(wafer_memory_new(store, &mt, &memory.of.memory));
    expect_trap(wafer_instance_new(store, module, &memory, 1, &instance),
                WAFER_TRAP_MEMORY_OUT_OF_BOUNDS, "out of bounds memory access");
    assert_null(instance);
    const uint8_t *data = wafer_memory_data(memory.of.memory);
    assert_memory_equal(data, "abc", 3);
    assert_int_equal(data[65534], 0);
    assert_int_equal(data[65535], 0);
    wafer_module_release(module);

    wafer_store_delete(store);
    wafer_engine_delete(engine);
}

/* ---- Interruption ------------------------------------------------------------------------- */

static void fuel_on(wafer_config *config) { config->consume_fuel = true; }
static void epochs_on(wafer_config *config) { config->epoch_interruption = true; }

static void test_fuel(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(fuel_on);
    wafer_module *module = compile(engine, loop_wasm, sizeof loop_wasm);
    wafer_store *store = wafer_store_new(engine);
    assert_int_equal(wafer_store_fuel(store), 0);
    wafer_instance *instance;
    check(wafer_instance_new(store, module, NULL, 0, &instance));
    wafer_func *spin = export_of(instance, "spin").of.func;
    expect_trap(wafer_func_call(store, spin, NULL, 0, NULL, 0), WAFER_TRAP_OUT_OF_FUEL,
                "all fuel consumed");
    wafer_store_set_fuel(store, 10000);
    assert_int_equal(wafer_store_fuel(store), 10000);
    expect_trap(wafer_func_call(store, spin, NULL, 0, NULL, 0), WAFER_TRAP_OUT_OF_FUEL,
                "all fuel consumed");
    assert_true(wafer_store_fuel(store) < 10000);
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

static void test_epoch_deadline(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(epochs_on);
    wafer_module *module = compile(engine, loop_wasm, sizeof loop_wasm);
    wafer_store *store = wafer_store_new(engine);
    wafer_instance *instance;
    check(wafer_instance_new(store, module, NULL, 0, &instance));
    wafer_func *spin = export_of(instance, "spin").of.func;
    wafer_engine_increment_epoch(engine);
    wafer_store_set_epoch_deadline(store, 0); /* the deadline is the current epoch: reached */
    expect_trap(wafer_func_call(store, spin, NULL, 0, NULL, 0), WAFER_TRAP_INTERRUPTED,
                "interrupted: epoch deadline reached");
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* ---- Exports and store deletion ----------------------------------------------------------- */

static void test_exports_in_order(void **state) {
    (void)state;
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, memgrow_wasm, sizeof memgrow_wasm);
    wafer_store *store = wafer_store_new(engine);
    wafer_instance *instance;
    check(wafer_instance_new(store, module, NULL, 0, &instance));
    static const char *names[] = {"mem", "grow", "size", "load"};
    static const wafer_extern_kind kinds[] = {WAFER_EXTERN_MEMORY, WAFER_EXTERN_FUNC,
                                              WAFER_EXTERN_FUNC, WAFER_EXTERN_FUNC};
    assert_int_equal(wafer_instance_export_count(instance), 4);
    for (size_t i = 0; i < 4; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        assert_int_equal(name.len, strlen(names[i]));
        assert_memory_equal(name.bytes, names[i], name.len);
        assert_int_equal(ext.kind, kinds[i]);
        wafer_extern by_name = export_of(instance, names[i]);
        assert_ptr_equal(by_name.of.func, ext.of.func);
    }
    wafer_extern ext;
    assert_false(wafer_instance_export(instance, "gro", 3, &ext));
    assert_false(wafer_instance_export(instance, "grow\0", 5, &ext));
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

typedef struct counters {
    int finalized;
    int env_freed;
    int host_calls;
} counters;

static counters released;

static void count_finalize(void *data) { released.finalized += data == &released; }
static void count_env_free(void *env) { released.env_freed += env == &released; }

static wafer_error *log_externref(void *env, wafer_caller *caller, const wafer_value *args,
                                  wafer_value *results) {
    (void)caller;
    (void)results;
    counters *c = env;
    c->host_calls += args[0].type == WAFER_EXTERNREF && args[0].of.externref != NULL;
    return NULL;
}

/* Everything made in a store goes with it: instances (including one whose start function
 * trapped), host objects, and the store's counts of externrefs held by wasm tables and globals. LeakSanitizer checks the
 * memory; the counters check finalizers and env_free run once each. */
static void test_store_delete_releases_everything(void **state) {
    (void)state;
    memset(&released, 0, sizeof released);
    wafer_engine *engine = engine_with(NULL);
    wafer_module *module = compile(engine, release_wasm, sizeof release_wasm);
    wafer_module *trapping = compile(engine, start_trap_wasm, sizeof start_trap_wasm);
    wafer_store *store = wafer_store_new(engine);

    static const wafer_valtype ext_types[] = {WAFER_EXTERNREF};
    wafer_functype type = {1, 0, ext_types, NULL};
    wafer_extern h = {WAFER_EXTERN_FUNC,
                      .of.func = wafer_func_new_host(store, &type, log_externref, &released,
                                                     count_env_free)};
    enum { INSTANCES = 3 };
    for (int i = 0; i < INSTANCES; i++) {
        wafer_instance *instance;
        check(wafer_instance_new(store, module, &h, 1, &instance));
        wafer_value ref = {.type = WAFER_EXTERNREF,
                           .of.externref = wafer_externref_new(&released, count_finalize)};
        check(wafer_func_call(store, export_of(instance, "keep").of.func, &ref, 1, NULL, 0));
        wafer_value held;
        check(wafer_table_get(export_of(instance, "t").of.table, 0, &held));
        assert_ptr_equal(held.of.externref, ref.of.externref);
        assert_ptr_equal(wafer_externref_data(held.of.externref), &released);
        wafer_value global = wafer_global_get(export_of(instance, "g").of.global);
        assert_ptr_equal(global.of.externref, ref.of.externref);
        /* the host's own references go; the table and global keep the object alive */
        wafer_value_release(&held);
        wafer_value_release(&global);
        wafer_value_release(&ref);
        assert_int_equal(released.finalized, 0);
    }
    assert_int_equal(released.host_calls, INSTANCES);

    wafer_memorytype mt = {{1, 0, false}, false, false};
    wafer_tabletype tt = {WAFER_FUNCREF, {1, 0, false}};
    wafer_extern ext[2] = {{.kind = WAFER_EXTERN_MEMORY}, {.kind = WAFER_EXTERN_TABLE}};
    check(wafer_memory_new(store, &mt, &ext[0].of.memory));
    check(wafer_table_new(store, &tt, funcref(NULL), &ext[1].of.table));
    wafer_instance *failed;
    expect_trap(wafer_instance_new(store, trapping, ext, 2, &failed), WAFER_TRAP_UNREACHABLE,
                "unreachable");

    /* Modules outlive the store only through their own references. */
    wafer_module_release(module);
    wafer_module_release(trapping);
    assert_int_equal(released.finalized, 0);
    assert_int_equal(released.env_freed, 0);
    wafer_store_delete(store);
    assert_int_equal(released.finalized, INSTANCES);
    assert_int_equal(released.env_freed, 1);
    wafer_engine_delete(engine);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imports_matched),
        cmocka_unit_test(test_imports_mismatched),
        cmocka_unit_test(test_memory64_maximum_size),
        cmocka_unit_test(test_memory64_segment_offset_wraps),
        cmocka_unit_test(test_memory_grow_limits),
        cmocka_unit_test(test_table_from_host),
        cmocka_unit_test(test_globals),
        cmocka_unit_test(test_host_calls_back_into_wasm),
        cmocka_unit_test(test_host_recursion_is_bounded),
        cmocka_unit_test(test_trap_in_start_function),
        cmocka_unit_test(test_segment_traps_keep_earlier_writes),
        cmocka_unit_test(test_fuel),
        cmocka_unit_test(test_epoch_deadline),
        cmocka_unit_test(test_exports_in_order),
        cmocka_unit_test(test_store_delete_releases_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
