/* Pre-instantiation: imports matched once, then many instances from it, each independent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wafer.h"

static const uint8_t pre_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x03, 0x60, 0x02, 0x7f, 0x7f, 0x01,
    0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x7f, 0x02, 0x14, 0x02, 0x03, 0x65, 0x6e,
    0x76, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x67, 0x03, 0x7f, 0x00,
    0x03, 0x03, 0x02, 0x01, 0x02, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x07, 0x0d, 0x02,
    0x01, 0x66, 0x00, 0x01, 0x05, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x02, 0x0a, 0x16, 0x02, 0x0f,
    0x00, 0x23, 0x01, 0x41, 0x01, 0x6a, 0x24, 0x01, 0x20, 0x00, 0x23, 0x00, 0x10, 0x00, 0x0b, 0x04,
    0x00, 0x23, 0x01, 0x0b,
};
static const uint8_t ser_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x15, 0x04, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7e, 0x01, 0x7e, 0x60, 0x00, 0x01, 0x7e, 0x03,
    0x07, 0x06, 0x00, 0x00, 0x01, 0x00, 0x02, 0x03, 0x04, 0x04, 0x01, 0x70, 0x00, 0x04, 0x05, 0x04,
    0x01, 0x01, 0x02, 0x04, 0x06, 0x06, 0x01, 0x7e, 0x01, 0x42, 0x2a, 0x0b, 0x07, 0x1e, 0x05, 0x03,
    0x6d, 0x65, 0x6d, 0x02, 0x00, 0x03, 0x76, 0x69, 0x61, 0x00, 0x02, 0x04, 0x6c, 0x6f, 0x61, 0x64,
    0x00, 0x03, 0x03, 0x66, 0x61, 0x63, 0x00, 0x04, 0x01, 0x67, 0x00, 0x05, 0x09, 0x08, 0x01, 0x00,
    0x41, 0x01, 0x0b, 0x02, 0x00, 0x01, 0x0a, 0x3e, 0x06, 0x07, 0x00, 0x20, 0x00, 0x20, 0x00, 0x6c,
    0x0b, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x09, 0x00, 0x20, 0x01, 0x20, 0x00, 0x11,
    0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x15, 0x00, 0x20, 0x00, 0x50,
    0x04, 0x7e, 0x42, 0x01, 0x05, 0x20, 0x00, 0x20, 0x00, 0x42, 0x01, 0x7d, 0x10, 0x04, 0x7e, 0x0b,
    0x0b, 0x04, 0x00, 0x23, 0x00, 0x0b, 0x0b, 0x17, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x05, 0x68, 0x65,
    0x6c, 0x6c, 0x6f, 0x00, 0x41, 0xf0, 0xa2, 0x04, 0x0b, 0x05, 0x77, 0x6f, 0x72, 0x6c, 0x64,
};

/* (import "env" "add" (func (param i32 i32) (result i32)))
 * (func (export "f") (param i32) (result i32) (call 0 (local.get 0) (i32.const 100))) */
static const uint8_t func_import_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x02, 0x60, 0x02, 0x7f, 0x7f,
    0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03,
    0x61, 0x64, 0x64, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00,
    0x01, 0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x41, 0xe4, 0x00, 0x10, 0x00, 0x0b,
};

static const wafer_valtype i32x2[] = {WAFER_I32, WAFER_I32};

static wafer_error *add(void *env, wafer_caller *caller, const wafer_value *args,
                        wafer_value *results) {
    results[0] = (wafer_value){.type = WAFER_I32, .of.i32 = args[0].of.i32 + args[1].of.i32};
    return NULL;
}

static int32_t call_i32(wafer_store *store, wafer_instance *inst, const char *name, int nargs,
                        int32_t arg) {
    wafer_extern ext;
    assert_true(wafer_instance_export(inst, name, strlen(name), &ext));
    wafer_value a = {.type = WAFER_I32, .of.i32 = arg}, r;
    wafer_error *err = wafer_func_call(store, ext.of.func, &a, (size_t)nargs, &r, 1);
    if (err) fail_msg("%s: %s", name, wafer_error_message(err));
    return r.of.i32;
}

typedef struct rig {
    wafer_engine *engine;
    wafer_store *store;
    wafer_module *module;
    wafer_extern imports[2];
} rig;

static int setup(void **state) {
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->engine = wafer_engine_new(NULL);
    r->store = wafer_store_new(r->engine);
    assert_null(wafer_module_new(r->engine, pre_wasm, sizeof pre_wasm, &r->module));
    wafer_functype type = {2, 1, i32x2, i32x2};
    r->imports[0] = (wafer_extern){.kind = WAFER_EXTERN_FUNC,
                                   .of.func = wafer_func_new_host(r->store, &type, add, NULL, NULL)};
    wafer_globaltype gt = {WAFER_I32, false};
    wafer_global *g;
    assert_null(wafer_global_new(r->store, &gt, (wafer_value){.type = WAFER_I32, .of.i32 = 100},
                                 &g));
    r->imports[1] = (wafer_extern){.kind = WAFER_EXTERN_GLOBAL, .of.global = g};
    *state = r;
    return 0;
}

static int teardown(void **state) {
    rig *r = *state;
    wafer_store_delete(r->store);
    wafer_module_release(r->module);
    wafer_engine_delete(r->engine);
    free(r);
    return 0;
}

static void test_many_instances(void **state) {
    rig *r = *state;
    wafer_instance_pre *pre;
    assert_null(wafer_instance_pre_new(r->store, r->module, r->imports, 2, &pre));
    /* the pre keeps the module alive by itself */
    wafer_module_release(r->module);
    wafer_module_retain(r->module);
    wafer_instance *insts[50];
    for (int i = 0; i < 50; i++) {
        assert_null(wafer_instance_pre_instantiate(pre, NULL, &insts[i]));
        assert_int_equal(call_i32(r->store, insts[i], "f", 1, i), 100 + i);
    }
    /* each instance has its own globals */
    assert_int_equal(call_i32(r->store, insts[0], "f", 1, 1), 101);
    assert_int_equal(call_i32(r->store, insts[0], "count", 0, 0), 2);
    assert_int_equal(call_i32(r->store, insts[49], "count", 0, 0), 1);
    wafer_instance_pre_delete(pre);
    /* instances outlive their pre */
    assert_int_equal(call_i32(r->store, insts[3], "f", 1, 5), 105);
}

static void test_link_errors_at_pre_new(void **state) {
    rig *r = *state;
    wafer_instance_pre *pre = NULL;
    wafer_extern swapped[2] = {r->imports[1], r->imports[0]};
    wafer_error *err = wafer_instance_pre_new(r->store, r->module, swapped, 2, &pre);
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_UNLINKABLE);
    assert_non_null(strstr(wafer_error_message(err), "incompatible import type"));
    wafer_error_free(err);
    assert_null(pre);
    err = wafer_instance_pre_new(r->store, r->module, r->imports, 1, &pre);
    assert_non_null(err);
    assert_non_null(strstr(wafer_error_message(err), "unknown import"));
    wafer_error_free(err);
    assert_null(pre);
}

static void test_stores(void **state) {
    rig *r = *state;
    wafer_store *other = wafer_store_new(r->engine);
    wafer_instance_pre *pre;
    wafer_instance *inst = NULL;
    /* imports belong to their store: instantiating elsewhere is refused */
    assert_null(wafer_instance_pre_new(r->store, r->module, r->imports, 2, &pre));
    wafer_error *err = wafer_instance_pre_instantiate(pre, other, &inst);
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_USAGE);
    wafer_error_free(err);
    assert_null(inst);
    wafer_instance_pre_delete(pre);
    /* without imports, any store of the engine */
    wafer_module *m;
    assert_null(wafer_module_new(r->engine, ser_wasm, sizeof ser_wasm, &m));
    assert_null(wafer_instance_pre_new(r->store, m, NULL, 0, &pre));
    assert_null(wafer_instance_pre_instantiate(pre, other, &inst));
    assert_int_equal(call_i32(other, inst, "load", 1, 1), 'e');
    wafer_instance_pre_delete(pre);
    wafer_module_release(m);
    /* a store of another engine is refused */
    wafer_engine *e2 = wafer_engine_new(NULL);
    wafer_store *s2 = wafer_store_new(e2);
    assert_null(wafer_instance_pre_new(r->store, r->module, r->imports, 2, &pre));
    err = wafer_instance_pre_instantiate(pre, s2, &inst);
    assert_non_null(err);
    wafer_error_free(err);
    wafer_instance_pre_delete(pre);
    wafer_store_delete(s2);
    wafer_engine_delete(e2);
    wafer_store_delete(other);
}

typedef struct add_counter {
    int calls;
    int *freed;
} add_counter;

static wafer_error *counting_add(void *env, wafer_caller *caller, const wafer_value *args,
                                 wafer_value *results) {
    ((add_counter *)env)->calls++;
    return add(env, caller, args, results);
}

static void counter_free(void *env) {
    add_counter *c = env;
    (*c->freed)++;
    free(c);
}

/* Engine host functions make a store-less pre, which instantiates in every store of the engine;
 * the function outlives the stores and is freed with the engine. */
static void test_engine_host_functions(void **state) {
    int freed = 0;
    wafer_engine *engine = wafer_engine_new(NULL);
    wafer_module *module;
    assert_null(wafer_module_new(engine, func_import_wasm, sizeof func_import_wasm, &module));
    add_counter *counter = calloc(1, sizeof *counter);
    assert_non_null(counter);
    counter->freed = &freed;
    wafer_functype type = {2, 1, i32x2, i32x2};
    wafer_extern import = {.kind = WAFER_EXTERN_FUNC,
                           .of.func = wafer_func_new_engine_host(engine, &type, counting_add,
                                                                 counter, counter_free)};
    assert_non_null(import.of.func);
    wafer_instance_pre *pre;
    assert_null(wafer_instance_pre_new(NULL, module, &import, 1, &pre));
    for (int i = 0; i < 3; i++) {
        wafer_store *store = wafer_store_new(engine);
        wafer_instance *inst;
        assert_null(wafer_instance_pre_instantiate(pre, store, &inst));
        assert_int_equal(call_i32(store, inst, "f", 1, i), 100 + i);
        wafer_store_delete(store);
    }
    assert_int_equal(counter->calls, 3);
    /* a store-less pre has no store to fall back on */
    wafer_instance *inst = NULL;
    wafer_error *err = wafer_instance_pre_instantiate(pre, NULL, &inst);
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_USAGE);
    wafer_error_free(err);
    assert_null(inst);
    wafer_instance_pre_delete(pre);
    /* a store's host function cannot make a store-less pre */
    wafer_store *store = wafer_store_new(engine);
    wafer_extern store_func = {.kind = WAFER_EXTERN_FUNC,
                               .of.func = wafer_func_new_host(store, &type, add, NULL, NULL)};
    pre = NULL;
    err = wafer_instance_pre_new(NULL, module, &store_func, 1, &pre);
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_USAGE);
    wafer_error_free(err);
    assert_null(pre);
    /* an engine function is an ordinary import for wafer_instance_new too */
    assert_null(wafer_instance_new(store, module, &import, 1, &inst));
    assert_int_equal(call_i32(store, inst, "f", 1, 7), 107);
    wafer_store_delete(store);
    wafer_module_release(module);
    assert_int_equal(freed, 0);
    wafer_engine_delete(engine);
    assert_int_equal(freed, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_errors_at_pre_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stores, setup, teardown),
        cmocka_unit_test(test_engine_host_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
