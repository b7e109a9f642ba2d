/* The spectest host module: see spectest.h. */
#include "spectest.h"

#include <stdlib.h>
#include <string.h>

#include "value_text.h"

typedef struct print_func {
    const char *name;
    const char *display_name;
    wafer_functype type;
} print_func;

static const wafer_valtype params_i32[] = {WAFER_I32};
static const wafer_valtype params_i64[] = {WAFER_I64};
static const wafer_valtype params_f32[] = {WAFER_F32};
static const wafer_valtype params_f64[] = {WAFER_F64};
static const wafer_valtype params_i32_f32[] = {WAFER_I32, WAFER_F32};
static const wafer_valtype params_f64_f64[] = {WAFER_F64, WAFER_F64};

static const print_func print_funcs[] = {
    {"print", "spectest.print", {0, 0, NULL, NULL}},
    {"print_i32", "spectest.print_i32", {1, 0, params_i32, NULL}},
    {"print_i64", "spectest.print_i64", {1, 0, params_i64, NULL}},
    {"print_f32", "spectest.print_f32", {1, 0, params_f32, NULL}},
    {"print_f64", "spectest.print_f64", {1, 0, params_f64, NULL}},
    {"print_i32_f32", "spectest.print_i32_f32", {2, 0, params_i32_f32, NULL}},
    {"print_f64_f64", "spectest.print_f64_f64", {2, 0, params_f64_f64, NULL}},
};

/* The print functions share one callback; env says which function it is and where to write. */
typedef struct print_env {
    const print_func *func;
    FILE *log;
} print_env;

static wafer_error *print_call(void *env, wafer_caller *caller, const wafer_value *args,
                               wafer_value *results) {
    const print_env *print = env;
    fprintf(print->log, "called host %s(", print->func->display_name);
    value_text_print_list(print->log, args, print->func->type.num_params);
    fputs(") =>\n", print->log);
    return NULL;
}

static wafer_value f32_value(float f) {
    wafer_value value = {.type = WAFER_F32};
    memcpy(&value.of.f32_bits, &f, sizeof f);
    return value;
}

static wafer_value f64_value(double d) {
    wafer_value value = {.type = WAFER_F64};
    memcpy(&value.of.f64_bits, &d, sizeof d);
    return value;
}

static bool add_global(wafer_store *store, export_map *map, const char *name, wafer_value init) {
    wafer_globaltype type = {init.type, false};
    wafer_global *global = NULL;
    wafer_error *err = wafer_global_new(store, &type, init, &global);
    if (err) {
        wafer_error_free(err);
        return false;
    }
    wafer_extern ext = {.kind = WAFER_EXTERN_GLOBAL, .of.global = global};
    return export_map_add(map, name, strlen(name), ext);
}

const char *spectest_instantiate(wafer_store *store, FILE *log, export_map *map) {
    for (size_t i = 0; i < sizeof print_funcs / sizeof print_funcs[0]; i++) {
        print_env *env = malloc(sizeof *env);
        if (!env) return "cannot make the spectest print functions";
        *env = (print_env){&print_funcs[i], log};
        wafer_func *func = wafer_func_new_host(store, &print_funcs[i].type, print_call, env, free);
        if (!func) free(env);
        wafer_extern ext = {.kind = WAFER_EXTERN_FUNC, .of.func = func};
        if (!func || !export_map_add(map, print_funcs[i].name, strlen(print_funcs[i].name), ext))
            return "cannot make the spectest print functions";
    }
    if (!add_global(store, map, "global_i32", (wafer_value){.type = WAFER_I32, .of.i32 = 666}) ||
        !add_global(store, map, "global_i64", (wafer_value){.type = WAFER_I64, .of.i64 = 666}) ||
        !add_global(store, map, "global_f32", f32_value(666.6f)) ||
        !add_global(store, map, "global_f64", f64_value(666.6)))
        return "cannot make the spectest globals";

    wafer_tabletype table_type = {WAFER_FUNCREF, {10, 20, true}};
    wafer_value null_func = {.type = WAFER_FUNCREF, .of.funcref = NULL};
    wafer_table *table = NULL;
    wafer_error *err = wafer_table_new(store, &table_type, null_func, &table);
    wafer_extern table_ext = {.kind = WAFER_EXTERN_TABLE, .of.table = table};
    if (err || !export_map_add(map, "table", 5, table_ext)) {
        wafer_error_free(err);
        return "cannot make the spectest table";
    }

    wafer_memorytype memory_type = {{1, 2, true}, false, false};
    wafer_memory *memory = NULL;
    err = wafer_memory_new(store, &memory_type, &memory);
    wafer_extern memory_ext = {.kind = WAFER_EXTERN_MEMORY, .of.memory = memory};
    if (err || !export_map_add(map, "memory", 6, memory_ext)) {
        wafer_error_free(err);
        return "cannot make the spectest memory";
    }
    return NULL;
}
