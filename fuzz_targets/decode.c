/* Fuzz target "decode": arbitrary bytes as a WebAssembly binary.
 *
 * Each input goes through the whole public pipeline: wafer_module_validate and wafer_module_new on
 * the bytes; if a module comes out, it is instantiated in a fresh store with every import stubbed
 * (functions return zeros of their result types; memories, tables and globals are created to the
 * declared types), every exported function is called with zero arguments, and exported tables,
 * memories and globals are read through the host API. Errors and traps are expected outcomes.
 * Only crashes, sanitizer reports, leaks, and the broken invariants checked below (which
 * __builtin_trap so libFuzzer keeps the input) are findings.
 *
 * The engine's limits are tightened so that no single input takes long or much memory: small
 * memories and tables, a modest call depth, and fuel bounding every run of wasm code
 * (DESIGN.md section 3, invariant 8).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wafer.h"

enum {
    FUZZ_MAX_MEMORY_PAGES = 256, /* 16 MiB per memory */
    FUZZ_MAX_MEMORIES = 4,
    FUZZ_MAX_TABLE_ELEMENTS = 10000,
    FUZZ_MAX_TABLES = 16,
    FUZZ_MAX_CALL_DEPTH = 500,
    FUZZ_STACK_SLOTS = 1 << 14, /* 128 KiB of value stack */
    FUZZ_MAX_RESULTS = 64,
    FUZZ_TABLE_READS = 256, /* elements read from each exported table */
};
/* Fuel for the start function and for each exported function, and for all of one input. */
#define FUZZ_FUEL_PER_CALL 100000u
#define FUZZ_FUEL_PER_INPUT 1000000u

/* What a stub host function needs to return zeros: its result types. */
typedef struct stub_results {
    uint32_t count;
    wafer_valtype types[];
} stub_results;

static void broken_invariant(const char *what, const char *detail) {
    fprintf(stderr, "decode fuzz target: broken invariant: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    __builtin_trap();
}

static bool is_error_kind(wafer_error_kind kind) {
    return kind >= WAFER_ERROR_MALFORMED && kind <= WAFER_ERROR_USAGE;
}

/* Every error must say what went wrong, and a trap (and only a trap) carries a trap kind. */
static void check_error(const wafer_error *err) {
    const char *message = wafer_error_message(err);
    if (!message || !message[0]) broken_invariant("error with an empty message", NULL);
    wafer_error_kind kind = wafer_error_kind_of(err);
    if (!is_error_kind(kind)) broken_invariant("error of unknown kind", message);
    bool has_trap_kind = wafer_error_trap_kind(err) != WAFER_TRAP_NONE;
    if ((kind == WAFER_ERROR_TRAP) != has_trap_kind)
        broken_invariant("error kind and trap kind disagree", message);
}

/* Checks and frees err; returns whether there was one. */
static bool failed(wafer_error *err) {
    if (!err) return false;
    check_error(err);
    wafer_error_free(err);
    return true;
}

static wafer_value zero_value(wafer_valtype type) {
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
    for (uint32_t i = 0; i < stub->count; i++) results[i] = zero_value(stub->types[i]);
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

/* Makes an extern of the import's type; false if the store refuses (e.g. over the limits). */
static bool stub_import(wafer_store *store, const wafer_import_desc *import, wafer_extern *out) {
    const wafer_externtype *type = &import->type;
    out->kind = type->kind;
    switch (type->kind) {
    case WAFER_EXTERN_FUNC:
        out->of.func = stub_func(store, type->of.func);
        return out->of.func != NULL;
    case WAFER_EXTERN_TABLE:
        return !failed(wafer_table_new(store, &type->of.table, zero_value(type->of.table.elem),
                                       &out->of.table));
    case WAFER_EXTERN_MEMORY:
        return !failed(wafer_memory_new(store, &type->of.memory, &out->of.memory));
    case WAFER_EXTERN_GLOBAL:
        return !failed(wafer_global_new(store, &type->of.global,
                                        zero_value(type->of.global.type), &out->of.global));
    }
    broken_invariant("import of unknown kind", NULL);
    return false;
}

static bool same_functype(const wafer_functype *a, const wafer_functype *b) {
    if (a->num_params != b->num_params || a->num_results != b->num_results) return false;
    for (uint32_t i = 0; i < a->num_params; i++)
        if (a->params[i] != b->params[i]) return false;
    for (uint32_t i = 0; i < a->num_results; i++)
        if (a->results[i] != b->results[i]) return false;
    return true;
}

/* Calls func with zero arguments; returns the fuel it used. */
static uint64_t call_with_zeros(wafer_store *store, wafer_func *func) {
    const wafer_functype *type = wafer_func_type(func);
    if (type->num_results > FUZZ_MAX_RESULTS) return 0;
    wafer_value *args = calloc(type->num_params ? type->num_params : 1, sizeof *args);
    if (!args) return 0;
    for (uint32_t i = 0; i < type->num_params; i++) args[i] = zero_value(type->params[i]);
    wafer_value results[FUZZ_MAX_RESULTS];
    wafer_store_set_fuel(store, FUZZ_FUEL_PER_CALL);
    wafer_error *err =
        wafer_func_call(store, func, args, type->num_params, results, type->num_results);
    uint64_t left = wafer_store_fuel(store);
    if (left > FUZZ_FUEL_PER_CALL) broken_invariant("fuel grew during a call", NULL);
    if (!failed(err)) {
        for (uint32_t i = 0; i < type->num_results; i++)
            if (results[i].type != type->results[i])
                broken_invariant("result of the wrong type", NULL);
    }
    free(args);
    return FUZZ_FUEL_PER_CALL - left;
}

/* Reads an exported table, memory or global through the host API, which must agree with its
 * type: table elements go through the lazy-initialisation path (DESIGN.md section 3, invariant 6).
 */
static void inspect_export(wafer_extern ext, const wafer_export_desc *desc) {
    switch (ext.kind) {
    case WAFER_EXTERN_TABLE: {
        wafer_tabletype type = wafer_table_type(ext.of.table);
        uint64_t size = wafer_table_size(ext.of.table);
        if (type.elem != desc->type.of.table.elem || size < type.limits.min ||
            (type.limits.has_max && size > type.limits.max))
            broken_invariant("exported table disagrees with its type", NULL);
        for (uint64_t i = 0; i < size && i < FUZZ_TABLE_READS; i++) {
            wafer_value v;
            wafer_error *err = wafer_table_get(ext.of.table, i, &v);
            if (err) {
                check_error(err);
                broken_invariant("reading a table element in bounds failed",
                                 wafer_error_message(err));
            }
            if (v.type != type.elem) broken_invariant("table element of the wrong type", NULL);
        }
        wafer_value v;
        if (!failed(wafer_table_get(ext.of.table, size, &v)))
            broken_invariant("reading past a table's end succeeded", NULL);
        break;
    }
    case WAFER_EXTERN_MEMORY: {
        wafer_memorytype type = wafer_memory_type(ext.of.memory);
        uint64_t pages = wafer_memory_size_pages(ext.of.memory);
        if (type.is64 != desc->type.of.memory.is64 || pages < type.limits.min ||
            (type.limits.has_max && pages > type.limits.max) ||
            wafer_memory_size_bytes(ext.of.memory) != pages * 65536 ||
            (pages && !wafer_memory_data(ext.of.memory)))
            broken_invariant("exported memory disagrees with its type", NULL);
        break;
    }
    case WAFER_EXTERN_GLOBAL: {
        wafer_globaltype type = wafer_global_type(ext.of.global);
        if (type.type != desc->type.of.global.type ||
            type.is_mutable != desc->type.of.global.is_mutable ||
            wafer_global_get(ext.of.global).type != type.type)
            broken_invariant("exported global disagrees with its type", NULL);
        break;
    }
    case WAFER_EXTERN_FUNC:
        break;
    }
}

static void call_exports(wafer_store *store, const wafer_module *module,
                         const wafer_instance *instance) {
    size_t count = wafer_instance_export_count(instance);
    if (count != wafer_module_export_count(module))
        broken_invariant("instance and module export counts differ", NULL);
    uint64_t fuel_used = 0;
    for (size_t i = 0; i < count && fuel_used < FUZZ_FUEL_PER_INPUT; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        wafer_export_desc desc = wafer_module_export(module, i);
        if (ext.kind != desc.type.kind || name.len != desc.name.len ||
            (name.len && memcmp(name.bytes, desc.name.bytes, name.len) != 0))
            broken_invariant("instance export differs from module export", NULL);
        if (ext.kind != WAFER_EXTERN_FUNC) {
            inspect_export(ext, &desc);
            continue;
        }
        if (!same_functype(wafer_func_type(ext.of.func), desc.type.of.func))
            broken_invariant("exported function's type differs from its declaration", NULL);
        fuel_used += call_with_zeros(store, ext.of.func);
    }
}

static void instantiate_and_run(wafer_engine *engine, wafer_module *module) {
    wafer_store *store = wafer_store_new(engine);
    if (!store) return;
    size_t nimports = wafer_module_import_count(module);
    wafer_extern *imports = calloc(nimports ? nimports : 1, sizeof *imports);
    if (!imports) goto done;
    for (size_t i = 0; i < nimports; i++) {
        wafer_import_desc import = wafer_module_import(module, i);
        if (!stub_import(store, &import, &imports[i])) goto done;
    }
    wafer_instance *instance = NULL;
    wafer_store_set_fuel(store, FUZZ_FUEL_PER_CALL);
    wafer_error *err = wafer_instance_new(store, module, imports, nimports, &instance);
    if (failed(err)) goto done;
    if (!instance) broken_invariant("instantiation succeeded without an instance", NULL);
    if (wafer_instance_module(instance) != module)
        broken_invariant("instance reports another module", NULL);
    call_exports(store, module, instance);
done:
    free(imports);
    wafer_store_delete(store);
}

static wafer_engine *fuzz_engine(void) {
    static wafer_engine *engine;
    if (engine) return engine;
    wafer_config config;
    wafer_config_default(&config);
    config.max_call_depth = FUZZ_MAX_CALL_DEPTH;
    config.stack_slots = FUZZ_STACK_SLOTS;
    config.consume_fuel = true;
    config.limits.max_memory_pages = FUZZ_MAX_MEMORY_PAGES;
    config.limits.max_memories = FUZZ_MAX_MEMORIES;
    config.limits.max_table_elements = FUZZ_MAX_TABLE_ELEMENTS;
    config.limits.max_tables = FUZZ_MAX_TABLES;
    engine = wafer_engine_new(&config);
    if (!engine) broken_invariant("wafer_engine_new failed", NULL);
    return engine;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wafer_engine *engine = fuzz_engine();
    wafer_error *validate_err = wafer_module_validate(engine, data, size);
    wafer_error_kind validate_kind = validate_err ? wafer_error_kind_of(validate_err) : 0;
    failed(validate_err);

    wafer_module *module = NULL;
    wafer_error *err = wafer_module_new(engine, data, size, &module);
    if (err) {
        /* Compiling may exceed a limit or run out of memory where validation alone did not;
         * otherwise validation and compilation must agree on the verdict and its kind. */
        wafer_error_kind kind = wafer_error_kind_of(err);
        bool compile_only = kind == WAFER_ERROR_LIMIT || kind == WAFER_ERROR_RESOURCE;
        if (validate_kind ? validate_kind != kind : !compile_only)
            broken_invariant("wafer_module_validate and wafer_module_new disagree",
                             wafer_error_message(err));
        failed(err);
        return 0;
    }
    if (validate_kind) broken_invariant("module compiled though validation failed", NULL);
    if (!module) broken_invariant("wafer_module_new succeeded without a module", NULL);
    instantiate_and_run(engine, module);
    wafer_module_release(module);
    return 0;
}
