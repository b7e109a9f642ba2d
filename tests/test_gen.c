/* The module generator (fuzz_targets/gen): every input gives a module that validates under the
 * features its configuration allows, instantiates with stub imports and runs; a terminating
 * module never runs out of a generous fuel, and one generated without traps never traps; the
 * same input gives the same module; over many inputs every instruction and every kind of
 * segment offset the fuzz targets need is produced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz_targets/gen/gen.h"
#include "wafer.h"

enum {
    FEATURE_SETS = 256, /* WAFER_FEATURE_* bits 0..7 */
    MAX_VALUES = 64,
    MAX_INPUT = 4096,
};
/* Enough for any terminating module: each unit of its budget (<= 1000) pays for one function
 * entry or loop iteration plus at most one body's worth of calls that return at once. */
#define FUEL_PER_CALL 1000000u

typedef struct run_totals {
    uint64_t modules, instantiated, calls, traps;
    gen_summary sum; /* opcode counts and segment classes added up */
} run_totals;

static wafer_engine *engines[FEATURE_SETS];

static wafer_engine *engine_for(uint32_t features) {
    if (!engines[features]) {
        wafer_config config;
        wafer_config_default(&config);
        config.features = features;
        config.consume_fuel = true;
        config.max_call_depth = 2000; /* above the budget: terminating code cannot exhaust it */
        config.limits.max_memory_pages = 256;
        config.limits.max_table_elements = 10000;
        engines[features] = wafer_engine_new(&config);
        assert_non_null(engines[features]);
    }
    return engines[features];
}

static void delete_engines(void) {
    for (unsigned i = 0; i < FEATURE_SETS; i++) {
        wafer_engine_delete(engines[i]);
        engines[i] = NULL;
    }
}

/* splitmix64, so the inputs are the same on every run. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static size_t random_input(uint64_t *state, uint8_t *buf) {
    size_t len = (size_t)(next_random(state) % ((size_t)1 << (next_random(state) % 13)));
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)next_random(state);
    return len;
}

static wafer_value zero_of(wafer_valtype type) {
    wafer_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    return v;
}

typedef struct stub_results {
    uint32_t count;
    wafer_valtype types[MAX_VALUES];
} stub_results;

static wafer_error *stub_call(void *env, wafer_caller *caller, const wafer_value *args,
                              wafer_value *results) {
    (void)caller;
    (void)args;
    const stub_results *r = env;
    for (uint32_t i = 0; i < r->count; i++) results[i] = zero_of(r->types[i]);
    return NULL;
}

/* One extern per import, made to the declared type and holding zeros and nulls. */
static wafer_extern *stub_imports(wafer_store *store, const wafer_module *module) {
    size_t n = wafer_module_import_count(module);
    wafer_extern *ext = calloc(n + 1, sizeof *ext);
    assert_non_null(ext);
    for (size_t i = 0; i < n; i++) {
        wafer_import_desc d = wafer_module_import(module, i);
        ext[i].kind = d.type.kind;
        switch (d.type.kind) {
        case WAFER_EXTERN_FUNC: {
            stub_results *r = calloc(1, sizeof *r);
            assert_non_null(r);
            r->count = d.type.of.func->num_results;
            assert_true(r->count <= MAX_VALUES);
            memcpy(r->types, d.type.of.func->results, r->count * sizeof r->types[0]);
            ext[i].of.func = wafer_func_new_host(store, d.type.of.func, stub_call, r, free);
            assert_non_null(ext[i].of.func);
            break;
        }
        case WAFER_EXTERN_TABLE: {
            wafer_error *err = wafer_table_new(store, &d.type.of.table,
                                               zero_of(d.type.of.table.elem), &ext[i].of.table);
            assert_null(err);
            break;
        }
        case WAFER_EXTERN_MEMORY: {
            wafer_error *err = wafer_memory_new(store, &d.type.of.memory, &ext[i].of.memory);
            assert_null(err);
            break;
        }
        case WAFER_EXTERN_GLOBAL: {
            wafer_error *err = wafer_global_new(store, &d.type.of.global,
                                                zero_of(d.type.of.global.type),
                                                &ext[i].of.global);
            assert_null(err);
            break;
        }
        }
    }
    return ext;
}

/* A failure here must be an outcome the configuration allows. */
static void check_outcome(const gen_config *cfg, wafer_error *err, run_totals *t) {
    if (!err) return;
    wafer_error_kind kind = wafer_error_kind_of(err);
    wafer_trap_kind trap = wafer_error_trap_kind(err);
    if (kind != WAFER_ERROR_TRAP || (cfg->terminating && trap == WAFER_TRAP_OUT_OF_FUEL) ||
        !cfg->allow_traps)
        fail_msg("unexpected error (traps %s, terminating %s): %s",
                 cfg->allow_traps ? "on" : "off", cfg->terminating ? "on" : "off",
                 wafer_error_message(err));
    t->traps++;
    wafer_error_free(err);
}

static void run_exports(wafer_store *store, const gen_config *cfg, wafer_instance *inst,
                        run_totals *t) {
    size_t n = wafer_instance_export_count(inst);
    for (size_t i = 0; i < n; i++) {
        wafer_name name;
        wafer_extern e = wafer_instance_export_at(inst, i, &name);
        if (e.kind != WAFER_EXTERN_FUNC) continue;
        const wafer_functype *ft = wafer_func_type(e.of.func);
        wafer_value args[MAX_VALUES], results[MAX_VALUES];
        assert_true(ft->num_params <= MAX_VALUES && ft->num_results <= MAX_VALUES);
        for (uint32_t k = 0; k < ft->num_params; k++) args[k] = zero_of(ft->params[k]);
        wafer_store_set_fuel(store, FUEL_PER_CALL);
        t->calls++;
        check_outcome(cfg, wafer_func_call(store, e.of.func, args, ft->num_params, results,
                                           ft->num_results),
                      t);
    }
}

static void add_summary(run_totals *t, const gen_summary *s) {
    for (unsigned i = 0; i < GEN_INSTR_COUNT; i++) t->sum.opcode_counts[i] += s->opcode_counts[i];
    t->sum.num_datas_near_2_64 += s->num_datas_near_2_64;
    t->sum.num_datas_near_4g += s->num_datas_near_4g;
    t->sum.num_datas_at_end += s->num_datas_at_end;
    t->sum.num_datas_past_end += s->num_datas_past_end;
    t->sum.num_large_offsets += s->num_large_offsets;
    t->sum.num_memory64 += s->num_memory64;
    t->sum.num_elems_declarative += s->num_elems_declarative;
    t->sum.num_elems_expr_encoded += s->num_elems_expr_encoded;
    t->sum.num_imported_memories += s->num_imported_memories;
    t->sum.num_imported_tables += s->num_imported_tables;
    t->sum.num_imported_globals += s->num_imported_globals;
    t->sum.num_imported_funcs += s->num_imported_funcs;
}

/* Generates the module for input under cfg, validates it with exactly cfg's features,
 * instantiates it and calls its exported functions. */
static void check_module(const uint8_t *input, size_t len, const gen_config *cfg,
                         run_totals *t) {
    gen_module mod;
    assert_true(gen_module_new(input, len, cfg, &mod));
    wafer_engine *engine = engine_for(gen_config_wafer_features(cfg));
    wafer_error *err = wafer_module_validate(engine, mod.bytes, mod.len);
    if (err) {
        fprintf(stderr, "invalid generated module (%zu input bytes): %s\n", len,
                wafer_error_message(err));
        wafer_error_free(err);
        fail();
    }
    wafer_module *module = NULL;
    assert_null(wafer_module_new(engine, mod.bytes, mod.len, &module));
    wafer_store *store = wafer_store_new(engine);
    assert_non_null(store);
    wafer_extern *imports = stub_imports(store, module);
    wafer_store_set_fuel(store, FUEL_PER_CALL);
    wafer_instance *inst = NULL;
    err = wafer_instance_new(store, module, imports, wafer_module_import_count(module), &inst);
    t->modules++;
    if (inst) {
        t->instantiated++;
        run_exports(store, cfg, inst, t);
    } else {
        check_outcome(cfg, err, t);
    }
    add_summary(t, &mod.summary);
    free(imports);
    wafer_store_delete(store);
    wafer_module_release(module);
    gen_module_free(&mod);
}

/* The fuzz targets' way: the input's first bytes narrow the default configuration. */
static void test_random_inputs_from_bytes(void **state) {
    (void)state;
    uint8_t *buf = malloc(MAX_INPUT);
    run_totals *t = calloc(1, sizeof *t);
    assert_non_null(buf);
    assert_non_null(t);
    uint64_t seed = 1;
    for (int i = 0; i < 10000; i++) {
        size_t len = random_input(&seed, buf);
        const uint8_t *data = buf;
        gen_config cfg;
        gen_config_default(&cfg);
        gen_config_from_bytes(&cfg, &data, &len);
        cfg.export_all = true; /* every function gets called */
        check_module(data, len, &cfg, t);
    }
    assert_int_equal(t->modules, 10000);
    assert_true(t->instantiated > t->modules / 2);
    assert_true(t->calls > 10000);
    assert_true(t->traps > 0);
    free(t);
    free(buf);
    delete_engines();
}

/* No traps allowed, every entity exported: instantiation and every call must succeed. */
static void test_no_traps_means_none(void **state) {
    (void)state;
    uint8_t *buf = malloc(MAX_INPUT);
    run_totals *t = calloc(1, sizeof *t);
    assert_non_null(buf);
    assert_non_null(t);
    uint64_t seed = 2;
    gen_config cfg;
    gen_config_default(&cfg);
    cfg.allow_traps = false;
    cfg.export_all = true;
    for (int i = 0; i < 3000; i++) {
        size_t len = random_input(&seed, buf);
        check_module(buf, len, &cfg, t);
    }
    assert_int_equal(t->traps, 0);
    assert_int_equal(t->instantiated, t->modules);
    assert_true(t->calls > 3000);
    free(t);
    free(buf);
    delete_engines();
}

/* Over a run with the default configuration every instruction appears, and so do the segment
 * offsets and memory accesses the bounds targets need. */
static void test_every_instruction_appears(void **state) {
    (void)state;
    uint8_t *buf = malloc(MAX_INPUT);
    run_totals *t = calloc(1, sizeof *t);
    assert_non_null(buf);
    assert_non_null(t);
    uint64_t seed = 3;
    gen_config cfg;
    gen_config_default(&cfg);
    for (int i = 0; i < 5000; i++) {
        size_t len = random_input(&seed, buf);
        check_module(buf, len, &cfg, t);
    }
    for (unsigned i = 0; i < GEN_INSTR_COUNT; i++)
        if (!t->sum.opcode_counts[i]) fail_msg("never generated: %s", gen_instr_name(i));
    assert_true(t->sum.num_datas_near_2_64 > 0);
    assert_true(t->sum.num_datas_near_4g > 0);
    assert_true(t->sum.num_datas_at_end > 0);
    assert_true(t->sum.num_datas_past_end > 0);
    assert_true(t->sum.num_large_offsets > 0);
    assert_true(t->sum.num_memory64 > 0);
    assert_true(t->sum.num_elems_declarative > 0);
    assert_true(t->sum.num_elems_expr_encoded > 0);
    assert_true(t->sum.num_imported_funcs > 0 && t->sum.num_imported_tables > 0 &&
                t->sum.num_imported_memories > 0 && t->sum.num_imported_globals > 0);
    free(t);
    free(buf);
    delete_engines();
}

static void test_deterministic(void **state) {
    (void)state;
    uint8_t buf[MAX_INPUT];
    uint64_t seed = 4;
    gen_config cfg;
    gen_config_default(&cfg);
    for (int i = 0; i < 200; i++) {
        size_t len = random_input(&seed, buf);
        gen_module a, b;
        assert_true(gen_module_new(buf, len, &cfg, &a));
        assert_true(gen_module_new(buf, len, &cfg, &b));
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.bytes, b.bytes, a.len);
        assert_memory_equal(a.summary.opcode_counts, b.summary.opcode_counts,
                            sizeof a.summary.opcode_counts);
        assert_memory_equal(a.summary.section_counts, b.summary.section_counts,
                            sizeof a.summary.section_counts);
        assert_int_equal(a.summary.num_funcs, b.summary.num_funcs);
        gen_module_free(&a);
        gen_module_free(&b);
    }
}

/* An empty input is all zeros: the smallest choices, still a valid module. */
static void test_empty_input(void **state) {
    (void)state;
    gen_config cfg;
    gen_config_default(&cfg);
    const uint8_t *data = NULL;
    size_t len = 0;
    gen_config_from_bytes(&cfg, &data, &len);
    run_totals t = {0};
    check_module(NULL, 0, &cfg, &t);
    gen_module mod;
    assert_true(gen_module_new(NULL, 0, &cfg, &mod));
    assert_true(mod.len >= 8);
    assert_memory_equal(mod.bytes, "\0asm\1\0\0\0", 8);
    gen_module_free(&mod);
    delete_engines();
}

/* Features switched off are not used: the strict engine of check_module refuses otherwise. This
 * case pins the MVP, where only table 0, memory 0 and index-encoded segments exist. */
static void test_mvp_only(void **state) {
    (void)state;
    uint8_t buf[MAX_INPUT];
    uint64_t seed = 5;
    gen_config cfg;
    gen_config_default(&cfg);
    cfg.multi_value = cfg.bulk_memory = cfg.reference_types = cfg.memory64 = false;
    cfg.multi_memory = cfg.sign_ext = cfg.sat_float_to_int = cfg.mutable_globals = false;
    assert_int_equal(gen_config_wafer_features(&cfg), 0);
    run_totals t = {0};
    for (int i = 0; i < 300; i++) check_module(buf, random_input(&seed, buf), &cfg, &t);
    assert_int_equal(t.sum.num_memory64, 0);
    assert_int_equal(t.sum.opcode_counts[GEN_I_MEMORY_FILL], 0);
    assert_int_equal(t.sum.opcode_counts[GEN_I_I32_EXTEND8_S], 0);
    delete_engines();
}

/* Far larger limits than the default (many entities, long bodies, deep nesting, many params,
 * memory64 minimums up to 2^48 pages): still valid. Validation only, since such memories cannot
 * be made. */
static void test_large_limits_validate(void **state) {
    (void)state;
    uint8_t *buf = malloc(1 << 16);
    assert_non_null(buf);
    uint64_t seed = 6;
    gen_config cfg;
    gen_config_default(&cfg);
    cfg.max_types = cfg.max_funcs = cfg.max_globals = cfg.max_exports = 40;
    cfg.max_imports = cfg.max_elems = cfg.max_datas = 20;
    cfg.max_tables = cfg.max_memories = 8;
    cfg.max_body_size = 2000;
    cfg.max_params = 16;
    cfg.max_locals = 100;
    cfg.max_nesting = 60;
    cfg.max_memory_pages = 65536;
    cfg.max_memory64_pages = UINT64_C(1) << 48;
    cfg.max_table_elems = 100000;
    cfg.max_data_len = 1000;
    cfg.max_elem_len = 100;
    cfg.min_memories = 2;
    wafer_engine *engine = engine_for(gen_config_wafer_features(&cfg));
    uint64_t instrs = 0;
    for (int i = 0; i < 300; i++) {
        size_t len = (size_t)(next_random(&seed) % (1 << 16));
        for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)next_random(&seed);
        gen_module mod;
        assert_true(gen_module_new(buf, len, &cfg, &mod));
        wafer_error *err = wafer_module_validate(engine, mod.bytes, mod.len);
        if (err) fail_msg("invalid generated module: %s", wafer_error_message(err));
        for (unsigned k = 0; k < GEN_INSTR_COUNT; k++) instrs += mod.summary.opcode_counts[k];
        assert_true(mod.summary.num_memories >= 2);
        gen_module_free(&mod);
    }
    assert_true(instrs > 300 * 100);
    free(buf);
    delete_engines();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_inputs_from_bytes),
        cmocka_unit_test(test_no_traps_means_none),
        cmocka_unit_test(test_every_instruction_appears),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_mvp_only),
        cmocka_unit_test(test_large_limits_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
