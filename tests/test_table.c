/* Lazy funcref tables (DESIGN.md invariant 6): elements resolve on first read from the defining
 * instance's precomputed list; an explicit null stays null through every path; copying never
 * spreads an uninitialised slot; imported tables resolve from the instance that defined them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime.h"

static const uint8_t a_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x19, 0x05, 0x60, 0x00, 0x01, 0x7f, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x02,
    0x7f, 0x7f, 0x00, 0x03, 0x09, 0x08, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01, 0x04, 0x04, 0x05,
    0x01, 0x70, 0x01, 0x08, 0x14, 0x07, 0x38, 0x07, 0x03, 0x74, 0x61, 0x62, 0x01, 0x00, 0x04, 0x63,
    0x61, 0x6c, 0x6c, 0x00, 0x02, 0x07, 0x69, 0x73, 0x5f, 0x6e, 0x75, 0x6c, 0x6c, 0x00, 0x03, 0x08,
    0x73, 0x65, 0x74, 0x5f, 0x6e, 0x75, 0x6c, 0x6c, 0x00, 0x04, 0x04, 0x63, 0x6f, 0x70, 0x79, 0x00,
    0x05, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x06, 0x04, 0x66, 0x69, 0x6c, 0x6c, 0x00, 0x07, 0x09,
    0x0f, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x03, 0x00, 0x01, 0x00, 0x00, 0x41, 0x05, 0x0b, 0x01, 0x01,
    0x0a, 0x47, 0x08, 0x04, 0x00, 0x41, 0x01, 0x0b, 0x04, 0x00, 0x41, 0x02, 0x0b, 0x07, 0x00, 0x20,
    0x00, 0x11, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x25, 0x00, 0xd1, 0x0b, 0x08, 0x00, 0x20,
    0x00, 0xd0, 0x70, 0x26, 0x00, 0x0b, 0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc, 0x0e,
    0x00, 0x00, 0x0b, 0x09, 0x00, 0xd0, 0x70, 0x20, 0x00, 0xfc, 0x0f, 0x00, 0x0b, 0x0b, 0x00, 0x20,
    0x00, 0xd2, 0x01, 0x20, 0x01, 0xfc, 0x11, 0x00, 0x0b,
};
static const uint8_t b_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x03, 0x60, 0x00, 0x01, 0x7f, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, 0x02, 0x0b, 0x01, 0x01, 0x61, 0x03,
    0x74, 0x61, 0x62, 0x01, 0x70, 0x00, 0x08, 0x03, 0x06, 0x05, 0x00, 0x01, 0x01, 0x02, 0x02, 0x04,
    0x04, 0x01, 0x70, 0x00, 0x04, 0x07, 0x28, 0x04, 0x04, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x01, 0x08,
    0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x6f, 0x77, 0x6e, 0x00, 0x02, 0x07, 0x63, 0x6f, 0x70, 0x79, 0x5f,
    0x69, 0x6e, 0x00, 0x03, 0x08, 0x63, 0x6f, 0x70, 0x79, 0x5f, 0x6f, 0x75, 0x74, 0x00, 0x04, 0x09,
    0x10, 0x02, 0x00, 0x41, 0x07, 0x0b, 0x01, 0x00, 0x02, 0x01, 0x41, 0x00, 0x0b, 0x00, 0x02, 0x00,
    0x00, 0x0a, 0x30, 0x05, 0x04, 0x00, 0x41, 0x03, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x11, 0x00, 0x00,
    0x0b, 0x07, 0x00, 0x20, 0x00, 0x11, 0x00, 0x01, 0x0b, 0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20,
    0x02, 0xfc, 0x0e, 0x01, 0x00, 0x0b, 0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc, 0x0e,
    0x00, 0x01, 0x0b,
};
static const uint8_t c_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x02,
    0x0b, 0x01, 0x01, 0x61, 0x03, 0x74, 0x61, 0x62, 0x01, 0x70, 0x00, 0x08, 0x03, 0x03, 0x02, 0x00,
    0x00, 0x04, 0x04, 0x01, 0x70, 0x00, 0x02, 0x09, 0x16, 0x03, 0x00, 0x41, 0x03, 0x0b, 0x01, 0x00,
    0x00, 0x41, 0xe4, 0x00, 0x0b, 0x01, 0x00, 0x02, 0x01, 0x41, 0x00, 0x0b, 0x00, 0x01, 0x01, 0x0a,
    0x0e, 0x02, 0x07, 0x00, 0x41, 0x00, 0x11, 0x00, 0x01, 0x0b, 0x04, 0x00, 0x41, 0x04, 0x0b,
};

typedef struct fixture {
    wafer_engine *engine;
    wafer_store *store;
    wafer_module *a;
    wafer_instance *ia;
    wafer_table *tab; /* a's export "tab" */
} fixture;

static wafer_module *compile(wafer_engine *engine, const uint8_t *bytes, size_t len) {
    wafer_module *m = NULL;
    wafer_error *err = wafer_module_new(engine, bytes, len, &m);
    if (err) fail_msg("compile: %s", wafer_error_message(err));
    return m;
}

static wafer_func *export_func(wafer_instance *inst, const char *name) {
    wafer_extern ext;
    assert_true(wafer_instance_export(inst, name, strlen(name), &ext));
    assert_int_equal(ext.kind, WAFER_EXTERN_FUNC);
    return ext.of.func;
}

/* Calls an export taking up to three i32s. Returns the trap kind (NONE on success), the i32
 * result (if any) in *result. */
static wafer_trap_kind call(fixture *f, wafer_instance *inst, const char *name, int nargs,
                            int32_t a0, int32_t a1, int32_t a2, int32_t *result) {
    wafer_func *fn = export_func(inst, name);
    wafer_value args[3] = {{.type = WAFER_I32, .of.i32 = a0},
                           {.type = WAFER_I32, .of.i32 = a1},
                           {.type = WAFER_I32, .of.i32 = a2}};
    wafer_value res[1];
    size_t nres = wafer_func_type(fn)->num_results;
    wafer_error *err = wafer_func_call(f->store, fn, args, (size_t)nargs, res, nres);
    if (!err) {
        if (nres && result) *result = res[0].of.i32;
        return WAFER_TRAP_NONE;
    }
    wafer_trap_kind kind = wafer_error_trap_kind(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_TRAP);
    wafer_error_free(err);
    return kind;
}

static int32_t call_ok(fixture *f, wafer_instance *inst, const char *name, int nargs, int32_t a0,
                       int32_t a1, int32_t a2) {
    int32_t r = -1;
    assert_int_equal(call(f, inst, name, nargs, a0, a1, a2, &r), WAFER_TRAP_NONE);
    return r;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->engine = wafer_engine_new(NULL);
    f->store = wafer_store_new(f->engine);
    f->a = compile(f->engine, a_wasm, sizeof a_wasm);
    assert_null(wafer_instance_new(f->store, f->a, NULL, 0, &f->ia));
    wafer_extern ext;
    assert_true(wafer_instance_export(f->ia, "tab", 3, &ext));
    f->tab = ext.of.table;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    wafer_store_delete(f->store);
    wafer_module_release(f->a);
    wafer_engine_delete(f->engine);
    free(f);
    return 0;
}

static bool slot_uninitialised(const wafer_table *t, uint32_t i) { return t->elems[i] == NULL; }

static void test_instantiation_writes_nothing(void **state) {
    fixture *f = *state;
    for (uint32_t i = 0; i < 8; i++) assert_true(slot_uninitialised(f->tab, i));
    assert_true(f->a->table_plans[0].lazy);
    assert_int_equal(f->a->table_plans[0].len, 6);
}

static void test_call_indirect_resolves(void **state) {
    fixture *f = *state;
    assert_int_equal(call_ok(f, f->ia, "call", 1, 0, 0, 0), 1);
    assert_false(slot_uninitialised(f->tab, 0));
    assert_true(slot_uninitialised(f->tab, 1));
    assert_int_equal(call_ok(f, f->ia, "call", 1, 1, 0, 0), 2);
    assert_int_equal(call_ok(f, f->ia, "call", 1, 2, 0, 0), 1);
    assert_int_equal(call_ok(f, f->ia, "call", 1, 5, 0, 0), 2);
    assert_int_equal(call(f, f->ia, "call", 1, 3, 0, 0, NULL), WAFER_TRAP_UNINITIALIZED_ELEMENT);
    assert_int_equal(call(f, f->ia, "call", 1, 7, 0, 0, NULL), WAFER_TRAP_UNINITIALIZED_ELEMENT);
    assert_int_equal(call(f, f->ia, "call", 1, 8, 0, 0, NULL), WAFER_TRAP_UNDEFINED_ELEMENT);
}

static void test_table_get_resolves(void **state) {
    fixture *f = *state;
    assert_int_equal(call_ok(f, f->ia, "is_null", 1, 1, 0, 0), 0);
    assert_int_equal(call_ok(f, f->ia, "is_null", 1, 3, 0, 0), 1);
    assert_int_equal(call_ok(f, f->ia, "is_null", 1, 5, 0, 0), 0);
    /* a resolved null is an explicit null now: tagged, not uninitialised */
    assert_false(slot_uninitialised(f->tab, 3));
    assert_ptr_equal(f->tab->elems[3], (void *)TABLE_REF_TAG);
}

static void test_host_export_resolves(void **state) {
    fixture *f = *state;
    wafer_value v;
    assert_null(wafer_table_get(f->tab, 2, &v));
    assert_int_equal(v.type, WAFER_FUNCREF);
    assert_non_null(v.of.funcref);
    wafer_value r;
    assert_null(wafer_func_call(f->store, v.of.funcref, NULL, 0, &r, 1));
    assert_int_equal(r.of.i32, 1);
    assert_null(wafer_table_get(f->tab, 4, &v));
    assert_null(v.of.funcref);
    /* a null stored by the host stays null where the lazy source has a function */
    assert_null(wafer_table_set(f->tab, 5, (wafer_value){.type = WAFER_FUNCREF}));
    assert_int_equal(call(f, f->ia, "call", 1, 5, 0, 0, NULL), WAFER_TRAP_UNINITIALIZED_ELEMENT);
}

/* The "explicit null in a lazy table surviving table.copy". */
static void test_explicit_null_survives_copy(void **state) {
    fixture *f = *state;
    call_ok(f, f->ia, "set_null", 1, 1, 0, 0);
    assert_int_equal(call_ok(f, f->ia, "is_null", 1, 1, 0, 0), 1);
    /* slot 5's lazy source is f2: the copied null must win over it */
    assert_true(slot_uninitialised(f->tab, 5));
    call_ok(f, f->ia, "copy", 3, 5, 1, 1);
    assert_int_equal(call_ok(f, f->ia, "is_null", 1, 5, 0, 0), 1);
    assert_int_equal(call(f, f->ia, "call", 1, 5, 0, 0, NULL), WAFER_TRAP_UNINITIALIZED_ELEMENT);
    assert_int_equal(call(f, f->ia, "call", 1, 1, 0, 0, NULL), WAFER_TRAP_UNINITIALIZED_ELEMENT);
}

/* Copying an unresolved slot resolves it at its own index, not at the destination's. */
static void test_copy_never_spreads_uninitialised(void **state) {
    fixture *f = *state;
    assert_true(slot_uninitialised(f->tab, 0));
    assert_true(slot_uninitialised(f->tab, 1));
    call_ok(f, f->ia, "copy", 3, 0, 1, 2); /* [0,1] <- [1,2]: f2 f1, overlapping */
    assert_int_equal(call_ok(f, f->ia, "call", 1, 0, 0, 0), 2);
    assert_int_equal(call_ok(f, f->ia, "call", 1, 1, 0, 0), 1);
    assert_true(slot_uninitialised(f->tab, 3));
}

static void test_grow_and_fill(void **state) {
    fixture *f = *state;
    assert_int_equal(call_ok(f, f->ia, "grow", 1, 4, 0, 0), 8);
    assert_int_equal(wafer_table_size(f->tab), 12);
    /* old slots keep their lazy source, new ones are explicit nulls */
    assert_true(slot_uninitialised(f->tab, 2));
    assert_int_equal(call_ok(f, f->ia, "call", 1, 2, 0, 0), 1);
    assert_false(slot_uninitialised(f->tab, 9));
    assert_int_equal(call(f, f->ia, "call", 1, 9, 0, 0, NULL), WAFER_TRAP_UNINITIALIZED_ELEMENT);
    call_ok(f, f->ia, "fill", 2, 9, 3, 0);
    assert_int_equal(call_ok(f, f->ia, "call", 1, 10, 0, 0), 2);
    /* fill over a lazy slot overwrites it */
    call_ok(f, f->ia, "fill", 2, 0, 1, 0);
    assert_int_equal(call_ok(f, f->ia, "call", 1, 0, 0, 0), 2);
    assert_int_equal(call(f, f->ia, "fill", 2, 11, 2, 0, NULL), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    uint64_t old;
    assert_null(wafer_table_grow(f->tab, 1, (wafer_value){.type = WAFER_FUNCREF}, &old));
    assert_int_equal(old, 12);
    assert_int_equal(call_ok(f, f->ia, "is_null", 1, 12, 0, 0), 1);
}

/* b imports a's table: a's slots resolve from a's functions, b's own lazy table from b's, and
 * copies between them carry resolved references both ways. */
static void test_imported_table_shared(void **state) {
    fixture *f = *state;
    wafer_module *b = compile(f->engine, b_wasm, sizeof b_wasm);
    wafer_extern imp = {.kind = WAFER_EXTERN_TABLE, .of.table = f->tab};
    wafer_instance *ib;
    assert_null(wafer_instance_new(f->store, b, &imp, 1, &ib));
    assert_true(b->table_plans[0].lazy);
    /* b's segment on the imported table was written eagerly; the rest stays lazy */
    assert_false(slot_uninitialised(f->tab, 7));
    assert_true(slot_uninitialised(f->tab, 0));
    assert_int_equal(call_ok(f, ib, "call", 1, 7, 0, 0), 3);
    assert_int_equal(call_ok(f, ib, "call", 1, 1, 0, 0), 2); /* a's f2, resolved by b's code */
    assert_int_equal(call_ok(f, f->ia, "call", 1, 7, 0, 0), 3);
    /* a's unresolved slot 0 (f1) into b's own slot 1, whose own source says f3 */
    call_ok(f, ib, "copy_in", 3, 1, 0, 1);
    assert_int_equal(call_ok(f, ib, "call_own", 1, 1, 0, 0), 1);
    assert_int_equal(call_ok(f, ib, "call_own", 1, 0, 0, 0), 3);
    /* b's unresolved own slot 0 (f3) into a's slot 5 (a's source says f2) */
    call_ok(f, ib, "copy_out", 3, 5, 0, 1);
    assert_int_equal(call_ok(f, f->ia, "call", 1, 5, 0, 0), 3);
    assert_int_equal(call(f, ib, "call_own", 1, 2, 0, 0, NULL), WAFER_TRAP_UNINITIALIZED_ELEMENT);
    wafer_module_release(b);
}

/* c writes $g into a's table, then a segment traps: the segment on c's own lazy table after the
 * trapping one must not have happened (spec 4.5.4: segments in order), so $g, still callable
 * through a's table, finds its own table uninitialised. */
static void test_trap_order_with_lazy_segments(void **state) {
    fixture *f = *state;
    wafer_module *c = compile(f->engine, c_wasm, sizeof c_wasm);
    assert_true(c->table_plans[0].lazy);
    wafer_extern imp = {.kind = WAFER_EXTERN_TABLE, .of.table = f->tab};
    wafer_instance *ic = NULL;
    wafer_error *err = wafer_instance_new(f->store, c, &imp, 1, &ic);
    assert_non_null(err);
    assert_int_equal(wafer_error_trap_kind(err), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
    wafer_error_free(err);
    assert_null(ic);
    assert_int_equal(call(f, f->ia, "call", 1, 3, 0, 0, NULL), WAFER_TRAP_UNINITIALIZED_ELEMENT);
    wafer_module_release(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_instantiation_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_indirect_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_get_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_export_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_null_survives_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_never_spreads_uninitialised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grow_and_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imported_table_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trap_order_with_lazy_segments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
