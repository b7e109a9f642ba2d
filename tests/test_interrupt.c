/* Epoch interruption and fuel (DESIGN.md invariant 8) through the public API: both stop an
 * infinite loop with a clear trap, fuel is charged per instruction (a basic block at a time), and a store
 * recovers once refilled or given a new deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wafer.h"

static const uint8_t loop_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60, 0x00, 0x00, 0x60, 0x01,
    0x7f, 0x01, 0x7f, 0x02, 0x0d, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x04, 0x74, 0x69, 0x63, 0x6b,
    0x00, 0x00, 0x03, 0x04, 0x03, 0x00, 0x00, 0x01, 0x07, 0x1f, 0x03, 0x04, 0x73, 0x70, 0x69, 0x6e,
    0x00, 0x01, 0x0c, 0x73, 0x70, 0x69, 0x6e, 0x5f, 0x74, 0x69, 0x63, 0x6b, 0x69, 0x6e, 0x67, 0x00,
    0x02, 0x05, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x03, 0x0a, 0x35, 0x03, 0x07, 0x00, 0x03, 0x40,
    0x0c, 0x00, 0x0b, 0x0b, 0x09, 0x00, 0x03, 0x40, 0x10, 0x00, 0x0c, 0x00, 0x0b, 0x0b, 0x21, 0x01,
    0x01, 0x7f, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x45, 0x0d, 0x01, 0x20, 0x00, 0x41, 0x01, 0x6b,
    0x21, 0x00, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x01, 0x0b,
};

typedef struct rig {
    wafer_engine *engine;
    wafer_store *store;
    wafer_module *module;
    wafer_instance *instance;
    int ticks; /* host calls to "tick" */
} rig;

/* Advances the engine's epoch, as a timer thread would, from inside the running loop. */
static wafer_error *tick(void *env, wafer_caller *caller, const wafer_value *args,
                         wafer_value *results) {
    rig *r = env;
    r->ticks++;
    wafer_engine_increment_epoch(r->engine);
    return NULL;
}

static rig *rig_new(bool fuel, bool epoch) {
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    wafer_config config;
    wafer_config_default(&config);
    config.consume_fuel = fuel;
    config.epoch_interruption = epoch;
    r->engine = wafer_engine_new(&config);
    r->store = wafer_store_new(r->engine);
    assert_null(wafer_module_new(r->engine, loop_wasm, sizeof loop_wasm, &r->module));
    wafer_functype none = {0, 0, NULL, NULL};
    wafer_extern imp = {.kind = WAFER_EXTERN_FUNC,
                        .of.func = wafer_func_new_host(r->store, &none, tick, r, NULL)};
    /* instantiation runs no code here, so it needs no fuel */
    assert_null(wafer_instance_new(r->store, r->module, &imp, 1, &r->instance));
    return r;
}

static void rig_free(rig *r) {
    wafer_store_delete(r->store);
    wafer_module_release(r->module);
    wafer_engine_delete(r->engine);
    free(r);
}

static wafer_error *call(rig *r, const char *name, int32_t arg, int32_t *result) {
    wafer_extern ext;
    assert_true(wafer_instance_export(r->instance, name, strlen(name), &ext));
    const wafer_functype *type = wafer_func_type(ext.of.func);
    wafer_value a = {.type = WAFER_I32, .of.i32 = arg}, res;
    wafer_error *err = wafer_func_call(r->store, ext.of.func, &a, type->num_params, &res,
                                       type->num_results);
    if (!err && result) *result = res.of.i32;
    return err;
}

static void expect_trap(wafer_error *err, wafer_trap_kind kind, const char *message) {
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_TRAP);
    assert_int_equal(wafer_error_trap_kind(err), kind);
    assert_string_equal(wafer_error_message(err), message);
    wafer_error_free(err);
}

static void test_fuel_stops_infinite_loop(void **state) {
    rig *r = rig_new(true, false);
    wafer_store_set_fuel(r->store, 10000);
    expect_trap(call(r, "spin", 0, NULL), WAFER_TRAP_OUT_OF_FUEL, "all fuel consumed");
    assert_int_equal(wafer_store_fuel(r->store), 0);
    /* with no fuel at all, not even the function's entry runs */
    expect_trap(call(r, "count", 3, NULL), WAFER_TRAP_OUT_OF_FUEL, "all fuel consumed");
    rig_free(r);
}

/* Fuel is the number of wasm instructions run, paid a basic block at a time. count(n) runs 12
 * instructions per iteration, then block, loop, the last exit test (3), local.get and end:
 * 12n + 7. */
static void test_fuel_is_charged_per_instruction(void **state) {
    rig *r = rig_new(true, false);
    wafer_store_set_fuel(r->store, 10000);
    int32_t out;
    assert_null(call(r, "count", 100, &out));
    assert_int_equal(out, 100);
    assert_int_equal(wafer_store_fuel(r->store), 10000 - 1207);
    assert_null(call(r, "count", 0, &out));
    assert_int_equal(wafer_store_fuel(r->store), 10000 - 1207 - 7);
    /* exactly enough, then one short: the last block (local.get, end) cannot be paid for */
    wafer_store_set_fuel(r->store, 607);
    assert_null(call(r, "count", 50, &out));
    assert_int_equal(wafer_store_fuel(r->store), 0);
    wafer_store_set_fuel(r->store, 606);
    expect_trap(call(r, "count", 50, NULL), WAFER_TRAP_OUT_OF_FUEL, "all fuel consumed");
    assert_int_equal(wafer_store_fuel(r->store), 1);
    rig_free(r);
}

static void test_fuel_off_charges_nothing(void **state) {
    rig *r = rig_new(false, false);
    wafer_store_set_fuel(r->store, 5);
    int32_t out;
    assert_null(call(r, "count", 1000, &out));
    assert_int_equal(out, 1000);
    assert_int_equal(wafer_store_fuel(r->store), 5);
    rig_free(r);
}

static void test_epoch_interrupts_loop_at_back_edge(void **state) {
    rig *r = rig_new(false, true);
    wafer_store_set_epoch_deadline(r->store, 3);
    /* each iteration advances the epoch once: the third tick reaches the deadline, and the loop
     * header after it traps */
    expect_trap(call(r, "spin_ticking", 0, NULL), WAFER_TRAP_INTERRUPTED,
                "interrupted: epoch deadline reached");
    assert_int_equal(r->ticks, 3);
    /* the deadline stays passed until the embedder moves it */
    expect_trap(call(r, "count", 1, NULL), WAFER_TRAP_INTERRUPTED,
                "interrupted: epoch deadline reached");
    wafer_store_set_epoch_deadline(r->store, 1);
    int32_t out;
    assert_null(call(r, "count", 500, &out));
    assert_int_equal(out, 500);
    rig_free(r);
}

static void test_epoch_from_outside(void **state) {
    rig *r = rig_new(false, true);
    wafer_store_set_epoch_deadline(r->store, 2);
    wafer_engine_increment_epoch(r->engine);
    int32_t out;
    assert_null(call(r, "count", 10, &out));
    wafer_engine_increment_epoch(r->engine);
    expect_trap(call(r, "spin", 0, NULL), WAFER_TRAP_INTERRUPTED,
                "interrupted: epoch deadline reached");
    rig_free(r);
}

/* Both on: whichever runs out first ends the loop. */
static void test_fuel_and_epoch_together(void **state) {
    rig *r = rig_new(true, true);
    wafer_store_set_fuel(r->store, 1000000);
    wafer_store_set_epoch_deadline(r->store, 5);
    expect_trap(call(r, "spin_ticking", 0, NULL), WAFER_TRAP_INTERRUPTED,
                "interrupted: epoch deadline reached");
    wafer_store_set_epoch_deadline(r->store, 1000000);
    wafer_store_set_fuel(r->store, 7);
    expect_trap(call(r, "spin_ticking", 0, NULL), WAFER_TRAP_OUT_OF_FUEL, "all fuel consumed");
    rig_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuel_stops_infinite_loop),
        cmocka_unit_test(test_fuel_is_charged_per_instruction),
        cmocka_unit_test(test_fuel_off_charges_nothing),
        cmocka_unit_test(test_epoch_interrupts_loop_at_back_edge),
        cmocka_unit_test(test_epoch_from_outside),
        cmocka_unit_test(test_fuel_and_epoch_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
