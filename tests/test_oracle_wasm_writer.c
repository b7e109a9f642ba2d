/* The oracles' module writer (oracles/wasm_writer.h) and module reader (oracles/module_facts.h):
 * what the writer makes is a valid module that wafer runs with the intended values, and the
 * reader reads its interface back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../oracles/module_facts.h"
#include "../oracles/wasm_writer.h"
#include "wafer.h"

/* Constants whose LEB128 encodings have edge cases: sign bit 6 set in the last byte, extremes. */
static const int64_t constants[] = {0, 1, -1, 63, 64, -64, -65, INT64_MAX, INT64_MIN,
                                    (int64_t)0x5741464552424547};

/* A module: imports env.log (i64) and a memory64, exports one function per constant returning
 * it, a global, and a function whose name needs escaping; a start function logs -1. */
static void build(uint8_t **bytes, size_t *len) {
    wasm_module m;
    wasm_module_init(&m);
    static const uint8_t i64[] = {WASM_I64};
    uint32_t log_type = wasm_type(&m, 1, i64, 0, NULL);
    uint32_t ret_type = wasm_type(&m, 0, NULL, 1, i64);
    uint32_t void_type = wasm_type(&m, 0, NULL, 0, NULL);
    uint32_t log = wasm_import_func(&m, "env", 3, "log", 3, log_type);
    wasm_import_memory(&m, "env", 3, "mem", 3, (wasm_limits){1, 0, false, true, false});
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        wasm_buf body = {0};
        wasm_byte(&body, 0);
        wasm_byte(&body, WASM_OP_I64_CONST);
        wasm_sleb(&body, constants[i]);
        wasm_byte(&body, WASM_OP_END);
        char name[8] = {'c', (char)('0' + i), 0};
        wasm_export(&m, name, 2, 0, wasm_func(&m, ret_type, &body));
        wasm_buf_free(&body);
    }
    wasm_buf start = {0};
    wasm_byte(&start, 0);
    wasm_byte(&start, WASM_OP_I64_CONST);
    wasm_sleb(&start, -1);
    wasm_byte(&start, WASM_OP_CALL);
    wasm_uleb(&start, log);
    wasm_byte(&start, WASM_OP_END);
    wasm_start(&m, wasm_func(&m, void_type, &start));
    wasm_buf_free(&start);
    wasm_export(&m, "g\0 x", 4, 3, wasm_global_zero(&m, WASM_F64, true));
    assert_true(wasm_module_finish(&m, bytes, len));
    wasm_module_free(&m);
}

static int64_t logged;

static wafer_error *record_log(void *env, wafer_caller *caller, const wafer_value *args,
                               wafer_value *results) {
    logged = args[0].of.i64;
    return NULL;
}

static void written_modules_run_with_their_constants(void **state) {
    uint8_t *bytes;
    size_t len;
    build(&bytes, &len);
    wafer_engine *engine = wafer_engine_new(NULL);
    wafer_module *module = NULL;
    wafer_error *err = wafer_module_new(engine, bytes, len, &module);
    if (err) fail_msg("the written module is refused: %s", wafer_error_message(err));
    wafer_store *store = wafer_store_new(engine);
    wafer_valtype i64 = WAFER_I64;
    wafer_functype log_type = {1, 0, &i64, NULL};
    wafer_memorytype mem_type = {{1, 0, false}, true, false};
    wafer_extern imports[2] = {{.kind = WAFER_EXTERN_FUNC}, {.kind = WAFER_EXTERN_MEMORY}};
    imports[0].of.func = wafer_func_new_host(store, &log_type, record_log, NULL, NULL);
    assert_null(wafer_memory_new(store, &mem_type, &imports[1].of.memory));
    wafer_instance *instance = NULL;
    logged = 0;
    assert_null(wafer_instance_new(store, module, imports, 2, &instance));
    assert_int_equal(logged, -1);
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        char name[3] = {'c', (char)('0' + i), 0};
        wafer_extern ext;
        assert_true(wafer_instance_export(instance, name, 2, &ext));
        wafer_value result;
        assert_null(wafer_func_call(store, ext.of.func, NULL, 0, &result, 1));
        assert_true(result.of.i64 == constants[i]);
    }
    wafer_extern global;
    assert_true(wafer_instance_export(instance, "g\0 x", 4, &global));
    assert_int_equal(global.kind, WAFER_EXTERN_GLOBAL);
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
    free(bytes);
}

static void facts_read_the_interface_back(void **state) {
    uint8_t *bytes;
    size_t len;
    build(&bytes, &len);
    module_facts facts;
    char why[200];
    assert_true(module_facts_read(bytes, len, &facts, why, sizeof why));
    assert_int_equal(facts.nimports, 2);
    assert_int_equal(facts.imports[1].kind, FACTS_MEMORY);
    assert_int_equal(facts.nmemories, 1);
    assert_true(facts.memories[0].is64);
    assert_false(facts.memories[0].has_max);
    size_t nconst = sizeof constants / sizeof constants[0];
    assert_int_equal(facts.nexports, nconst + 1);
    const facts_functype *t = module_facts_func_type(&facts, facts.exports[0].index);
    assert_int_equal(t->nparams, 0);
    assert_int_equal(t->nresults, 1);
    assert_int_equal(t->results[0], WASM_I64);
    const facts_extern *g = &facts.exports[nconst];
    assert_int_equal(g->kind, FACTS_GLOBAL);
    assert_int_equal(g->name_len, 4);
    assert_memory_equal(g->name, "g\0 x", 4);
    assert_int_equal(facts.globals[g->index].type, WASM_F64);
    assert_true(facts.globals[g->index].is_mutable);
    module_facts_free(&facts);
    /* A cut module is refused, not misread. */
    assert_false(module_facts_read(bytes, len - 3, &facts, why, sizeof why));
    free(bytes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(written_modules_run_with_their_constants),
        cmocka_unit_test(facts_read_the_interface_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
