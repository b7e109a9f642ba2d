/* The spectest host module for fuzz targets: see spectest_host.h. */
#include "spectest_host.h"

#include <string.h>

#include "fuzz_check.h"

static const wafer_valtype i32[] = {WAFER_I32}, i64[] = {WAFER_I64}, f32[] = {WAFER_F32},
                           f64[] = {WAFER_F64}, i32_f32[] = {WAFER_I32, WAFER_F32},
                           f64_f64[] = {WAFER_F64, WAFER_F64};

static const struct {
    const char *name;
    wafer_functype type;
} prints[] = {
    {"print", {0, 0, NULL, NULL}},           {"print_i32", {1, 0, i32, NULL}},
    {"print_i64", {1, 0, i64, NULL}},        {"print_f32", {1, 0, f32, NULL}},
    {"print_f64", {1, 0, f64, NULL}},        {"print_i32_f32", {2, 0, i32_f32, NULL}},
    {"print_f64_f64", {2, 0, f64_f64, NULL}},
};

static wafer_error *print_nothing(void *env, wafer_caller *caller, const wafer_value *args,
                                  wafer_value *results) {
    (void)env;
    (void)caller;
    (void)args;
    (void)results;
    return NULL;
}

static bool add_global(wafer_store *store, const char *name, wafer_value init,
                       bool (*add)(void *, const char *, wafer_extern), void *env) {
    wafer_globaltype type = {init.type, false};
    wafer_extern ext = {.kind = WAFER_EXTERN_GLOBAL};
    return !fuzz_failed(wafer_global_new(store, &type, init, &ext.of.global)) &&
           add(env, name, ext);
}

bool spectest_host_make(wafer_store *store,
                        bool (*add)(void *env, const char *name, wafer_extern ext), void *env) {
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++) {
        wafer_extern ext = {.kind = WAFER_EXTERN_FUNC};
        ext.of.func = wafer_func_new_host(store, &prints[i].type, print_nothing, NULL, NULL);
        if (!ext.of.func || !add(env, prints[i].name, ext)) return false;
    }
    float f = 666.6f;
    double d = 666.6;
    wafer_value vf = {.type = WAFER_F32}, vd = {.type = WAFER_F64};
    memcpy(&vf.of.f32_bits, &f, sizeof f);
    memcpy(&vd.of.f64_bits, &d, sizeof d);
    if (!add_global(store, "global_i32", (wafer_value){.type = WAFER_I32, .of.i32 = 666}, add,
                    env) ||
        !add_global(store, "global_i64", (wafer_value){.type = WAFER_I64, .of.i64 = 666}, add,
                    env) ||
        !add_global(store, "global_f32", vf, add, env) ||
        !add_global(store, "global_f64", vd, add, env))
        return false;
    wafer_tabletype table_type = {WAFER_FUNCREF, {10, 20, true}};
    wafer_extern table = {.kind = WAFER_EXTERN_TABLE};
    wafer_value null_func = {.type = WAFER_FUNCREF, .of.funcref = NULL};
    if (fuzz_failed(wafer_table_new(store, &table_type, null_func, &table.of.table)) ||
        !add(env, "table", table))
        return false;
    wafer_memorytype memory_type = {{1, 2, true}, false, false};
    wafer_extern memory = {.kind = WAFER_EXTERN_MEMORY};
    return !fuzz_failed(wafer_memory_new(store, &memory_type, &memory.of.memory)) &&
           add(env, "memory", memory);
}
