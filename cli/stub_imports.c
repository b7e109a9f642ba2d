/* Stand-in imports: see stub_imports.h. */
#include "stub_imports.h"

#include <stdlib.h>
#include <string.h>

#include "value_text.h"

typedef struct stub_func {
    FILE *log;
    char *display_name; /* "module.name", cut at a NUL byte as wabt's C strings cut it */
    uint32_t num_params;
    uint32_t num_results;
    wafer_valtype *results;
} stub_func;

static void stub_func_free(void *env) {
    stub_func *stub = env;
    free(stub->display_name);
    free(stub->results);
    free(stub);
}

static wafer_value zero_value(wafer_valtype type) {
    wafer_value value;
    memset(&value, 0, sizeof value);
    value.type = type;
    return value;
}

static wafer_error *stub_func_call(void *env, wafer_caller *caller, const wafer_value *args,
                                   wafer_value *results) {
    stub_func *stub = env;
    for (uint32_t i = 0; i < stub->num_results; i++) results[i] = zero_value(stub->results[i]);
    fprintf(stub->log, "called host %s(", stub->display_name);
    value_text_print_list(stub->log, args, stub->num_params);
    fputs(") =>", stub->log);
    if (stub->num_results) {
        fputc(' ', stub->log);
        value_text_print_list(stub->log, results, stub->num_results);
    }
    fputc('\n', stub->log);
    return NULL;
}

static size_t c_string_length(wafer_name name) {
    const char *nul = memchr(name.bytes, '\0', name.len);
    return nul ? (size_t)(nul - name.bytes) : name.len;
}

/* A function of the store, or with store NULL of the engine. NULL when memory runs out. */
static wafer_func *stub_func_new(wafer_store *store, wafer_engine *engine, FILE *log,
                                 const wafer_import_desc *import) {
    const wafer_functype *type = import->type.of.func;
    stub_func *stub = calloc(1, sizeof *stub);
    size_t module_len = c_string_length(import->module), name_len = c_string_length(import->name);
    if (stub) {
        stub->log = log;
        stub->num_params = type->num_params;
        stub->num_results = type->num_results;
        stub->display_name = malloc(module_len + name_len + 2);
        stub->results = malloc((type->num_results + 1) * sizeof *stub->results);
    }
    if (!stub || !stub->display_name || !stub->results) {
        if (stub) stub_func_free(stub);
        return NULL;
    }
    memcpy(stub->display_name, import->module.bytes, module_len);
    stub->display_name[module_len] = '.';
    memcpy(stub->display_name + module_len + 1, import->name.bytes, name_len);
    stub->display_name[module_len + 1 + name_len] = '\0';
    if (type->num_results)
        memcpy(stub->results, type->results, type->num_results * sizeof *stub->results);
    wafer_func *func =
        store ? wafer_func_new_host(store, type, stub_func_call, stub, stub_func_free)
              : wafer_func_new_engine_host(engine, type, stub_func_call, stub, stub_func_free);
    if (!func) stub_func_free(stub);
    return func;
}

/* The runtime's error when it refuses to make the object; a function stub that could not be made
 * (memory ran out) is a NULL error with a NULL function. Functions belong to the store, or with
 * store NULL to the engine (which then makes nothing else: the caller checked). */
static wafer_error *stub_extern_new(wafer_store *store, wafer_engine *engine, FILE *log,
                                    const wafer_import_desc *import, wafer_extern *out) {
    out->kind = import->type.kind;
    switch (import->type.kind) {
    case WAFER_EXTERN_FUNC: out->of.func = stub_func_new(store, engine, log, import); return NULL;
    case WAFER_EXTERN_MEMORY:
        return wafer_memory_new(store, &import->type.of.memory, &out->of.memory);
    case WAFER_EXTERN_TABLE:
        return wafer_table_new(store, &import->type.of.table,
                               zero_value(import->type.of.table.elem), &out->of.table);
    case WAFER_EXTERN_GLOBAL:
        return wafer_global_new(store, &import->type.of.global,
                                zero_value(import->type.of.global.type), &out->of.global);
    }
    return NULL;
}

static bool stubs_new(wafer_store *store, wafer_engine *engine, const wafer_module *module,
                      FILE *log, wafer_extern **out, char *why, size_t why_size) {
    size_t count = wafer_module_import_count(module);
    wafer_extern *externs = calloc(count + 1, sizeof *externs);
    if (!externs) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        wafer_import_desc import = wafer_module_import(module, i);
        wafer_error *err = stub_extern_new(store, engine, log, &import, &externs[i]);
        bool no_func = !err && externs[i].kind == WAFER_EXTERN_FUNC && !externs[i].of.func;
        if (err || no_func) {
            snprintf(why, why_size, "cannot make a stand-in for import %zu: %s", i,
                     err ? wafer_error_message(err) : "out of memory");
            wafer_error_free(err);
            free(externs);
            return false;
        }
    }
    *out = externs;
    return true;
}

bool stub_imports_new(wafer_store *store, const wafer_module *module, FILE *log,
                      wafer_extern **out, char *why, size_t why_size) {
    return stubs_new(store, NULL, module, log, out, why, why_size);
}

bool stub_imports_new_for_engine(wafer_engine *engine, const wafer_module *module, FILE *log,
                                 wafer_extern **out, char *why, size_t why_size) {
    size_t count = wafer_module_import_count(module);
    for (size_t i = 0; i < count; i++)
        if (wafer_module_import(module, i).type.kind != WAFER_EXTERN_FUNC) {
            snprintf(why, why_size, "import %zu is not a function; its stand-in needs a store", i);
            return false;
        }
    return stubs_new(NULL, engine, module, log, out, why, why_size);
}
