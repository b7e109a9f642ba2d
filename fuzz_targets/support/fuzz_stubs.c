/* Stand-in imports: see fuzz_stubs.h. */
#include "fuzz_stubs.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

/* What a stub function needs to return zeros: its result types. */
typedef struct stub_results {
    uint32_t count;
    wafer_valtype types[];
} stub_results;

wafer_value fuzz_zero_value(wafer_valtype type) {
    wafer_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    return v;
}

static wafer_error *stub_callback(void *env, wafer_caller *caller, const wafer_value *args,
                                  wafer_value *results) {
    (void)caller;
    (void)args;
    const stub_results *stub = env;
    for (uint32_t i = 0; i < stub->count; i++) results[i] = fuzz_zero_value(stub->types[i]);
    return NULL;
}

static wafer_func *stub_func(wafer_store *store, const wafer_functype *type) {
    stub_results *stub = malloc(sizeof *stub + type->num_results * sizeof stub->types[0]);
    if (!stub) return NULL;
    stub->count = type->num_results;
    for (uint32_t i = 0; i < type->num_results; i++) stub->types[i] = type->results[i];
    wafer_func *func = wafer_func_new_host(store, type, stub_callback, stub, free);
    if (!func) free(stub);
    return func;
}

static bool stub_import(wafer_store *store, const wafer_import_desc *import, wafer_extern *out) {
    const wafer_externtype *type = &import->type;
    out->kind = type->kind;
    switch (type->kind) {
    case WAFER_EXTERN_FUNC:
        out->of.func = stub_func(store, type->of.func);
        return out->of.func != NULL;
    case WAFER_EXTERN_TABLE:
        return !fuzz_failed(wafer_table_new(store, &type->of.table,
                                            fuzz_zero_value(type->of.table.elem),
                                            &out->of.table));
    case WAFER_EXTERN_MEMORY:
        return !fuzz_failed(wafer_memory_new(store, &type->of.memory, &out->of.memory));
    case WAFER_EXTERN_GLOBAL:
        return !fuzz_failed(wafer_global_new(store, &type->of.global,
                                             fuzz_zero_value(type->of.global.type),
                                             &out->of.global));
    }
    fuzz_broken_invariant("import of unknown kind", NULL);
}

bool fuzz_stub_imports(wafer_store *store, const wafer_module *module, wafer_extern **out) {
    size_t count = wafer_module_import_count(module);
    wafer_extern *imports = calloc(count ? count : 1, sizeof *imports);
    *out = NULL;
    if (!imports) return false;
    for (size_t i = 0; i < count; i++) {
        wafer_import_desc import = wafer_module_import(module, i);
        if (!stub_import(store, &import, &imports[i])) {
            free(imports);
            return false;
        }
    }
    *out = imports;
    return true;
}
