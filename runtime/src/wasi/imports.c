/* Binding wasi_snapshot_preview1's functions to a module's imports: one host function per
 * import, all sharing one callback that converts the arguments, takes the caller's memory and
 * runs the implementation (wafer_wasi_define_imports in wafer_wasi.h). */
#include <stdio.h>
#include <string.h>

#include "calls.h"

#define WASI_MODULE "wasi_snapshot_preview1"
#define WASI_MAX_PARAMS 9

static bool name_is(wafer_name name, const char *text) {
    size_t len = strlen(text);
    return name.len == len && memcmp(name.bytes, text, len) == 0;
}

/* The caller's exported "memory" (the name WASI's ABI fixes). A module without one sees a
 * memory of size 0: every pointer it passes is then EFAULT. */
static guest_memory caller_memory(wafer_caller *caller) {
    guest_memory mem = {NULL, 0};
    wafer_extern ext;
    if (wafer_caller_export(caller, "memory", 6, &ext) && ext.kind == WAFER_EXTERN_MEMORY) {
        mem.base = wafer_memory_data(ext.of.memory);
        mem.size = wafer_memory_size_bytes(ext.of.memory);
    }
    return mem;
}

static wafer_error *wasi_host_call(void *env, wafer_caller *caller, const wafer_value *args,
                                   wafer_value *results) {
    const wasi_binding *binding = env;
    const wasi_function *function = binding->function;
    uint64_t raw[WASI_MAX_PARAMS] = {0};
    for (size_t i = 0; function->params[i]; i++)
        raw[i] = function->params[i] == 'I' ? (uint64_t)args[i].of.i64 : (uint32_t)args[i].of.i32;
    guest_memory mem = caller_memory(caller);
    wasi_errno err = function->impl(binding->wasi, &mem, raw);
    if (!function->returns_errno) {
        /* proc_exit: no wasm code may run after it, so it leaves by a trap, which
         * wafer_wasi_exit_code and wafer_wasi_run_start recognise by wasi->exited. */
        char message[64];
        snprintf(message, sizeof message, "wasi: proc_exit(%u)", (unsigned)binding->wasi->exit_code);
        return wafer_error_new_trap(message);
    }
    results[0].type = WAFER_I32;
    results[0].of.i32 = (int32_t)err;
    return NULL;
}

static const wasi_function *function_named(wafer_name name, size_t *index) {
    for (size_t i = 0; i < wasi_function_count; i++) {
        if (name_is(name, wasi_functions[i].name)) {
            *index = i;
            return &wasi_functions[i];
        }
    }
    return NULL;
}

/* The core type of f: its parameters from the letters, an i32 errno result unless proc_exit. */
static wafer_functype type_of(const wasi_function *f, wafer_valtype params[WASI_MAX_PARAMS]) {
    static const wafer_valtype errno_result[1] = {WAFER_I32};
    size_t n = strlen(f->params);
    for (size_t i = 0; i < n; i++) params[i] = f->params[i] == 'I' ? WAFER_I64 : WAFER_I32;
    return (wafer_functype){(uint32_t)n, f->returns_errno ? 1u : 0u, params, errno_result};
}

static wafer_error *link_error(const char *what, wafer_name name) {
    char message[256];
    snprintf(message, sizeof message, "%s: " WASI_MODULE ".%.*s", what,
             (int)(name.len > 128 ? 128 : name.len), name.bytes);
    return wafer_error_new(WAFER_ERROR_UNLINKABLE, message);
}

wafer_error *wafer_wasi_define_imports(wafer_wasi *wasi, wafer_store *store,
                                       const wafer_module *module, wafer_extern *imports) {
    size_t count = wafer_module_import_count(module);
    for (size_t i = 0; i < count; i++) {
        wafer_import_desc import = wafer_module_import(module, i);
        if (!name_is(import.module, WASI_MODULE)) continue;
        size_t index;
        const wasi_function *function = function_named(import.name, &index);
        if (!function) return link_error("unknown import (not a WASI preview 1 function)", import.name);
        wafer_valtype params[WASI_MAX_PARAMS];
        wafer_functype type = type_of(function, params);
        if (import.type.kind != WAFER_EXTERN_FUNC ||
            !wafer_functype_equal(import.type.of.func, &type))
            return link_error("incompatible import type", import.name);
        wafer_func *func =
            wafer_func_new_host(store, &type, wasi_host_call, &wasi->bindings[index], NULL);
        if (!func) return wafer_error_new(WAFER_ERROR_RESOURCE, "out of memory making WASI imports");
        imports[i] = (wafer_extern){.kind = WAFER_EXTERN_FUNC, .of.func = func};
    }
    return NULL;
}
