/* Functions: host functions, calls from the host, values in and out of frame slots, and the
 * caller handle host functions receive. */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

bool wafer_functype_equal(const wafer_functype *a, const wafer_functype *b) {
    if (a == b) return true;
    if (a->num_params != b->num_params || a->num_results != b->num_results) return false;
    for (uint32_t i = 0; i < a->num_params; i++)
        if (a->params[i] != b->params[i]) return false;
    for (uint32_t i = 0; i < a->num_results; i++)
        if (a->results[i] != b->results[i]) return false;
    return true;
}

/* code.h, "Slot contents": 32-bit values zero-extended, references as pointers. */
uint64_t value_to_slot(wafer_value v) {
    switch (v.type) {
    case WAFER_I32: return (uint32_t)v.of.i32;
    case WAFER_I64: return (uint64_t)v.of.i64;
    case WAFER_F32: return v.of.f32_bits;
    case WAFER_F64: return v.of.f64_bits;
    case WAFER_FUNCREF: return (uint64_t)(uintptr_t)v.of.funcref;
    case WAFER_EXTERNREF: return (uint64_t)(uintptr_t)v.of.externref;
    case WAFER_V128: break;
    }
    return 0;
}

wafer_value value_from_slot(wafer_valtype type, uint64_t slot) {
    wafer_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    switch (type) {
    case WAFER_I32: v.of.i32 = (int32_t)(uint32_t)slot; break;
    case WAFER_I64: v.of.i64 = (int64_t)slot; break;
    case WAFER_F32: v.of.f32_bits = (uint32_t)slot; break;
    case WAFER_F64: v.of.f64_bits = slot; break;
    case WAFER_FUNCREF: v.of.funcref = (wafer_func *)(uintptr_t)slot; break;
    case WAFER_EXTERNREF: v.of.externref = (wafer_externref *)(uintptr_t)slot; break;
    case WAFER_V128: break;
    }
    return v;
}

static bool valtype_known(wafer_valtype t) {
    switch (t) {
    case WAFER_I32:
    case WAFER_I64:
    case WAFER_F32:
    case WAFER_F64:
    case WAFER_FUNCREF:
    case WAFER_EXTERNREF: return true;
    case WAFER_V128: break;
    }
    return false;
}

static wafer_func *host_func_new(const wafer_functype *type, wafer_host_callback callback,
                                 void *env, void (*env_free)(void *)) {
    uint32_t np = type->num_params, nr = type->num_results;
    for (uint32_t i = 0; i < np; i++)
        if (!valtype_known(type->params[i])) return NULL;
    for (uint32_t i = 0; i < nr; i++)
        if (!valtype_known(type->results[i])) return NULL;
    wafer_func *func = calloc(1, sizeof *func);
    if (!func) return NULL;
    wafer_valtype *types = NULL;
    if (np + (uint64_t)nr > 0) {
        types = malloc(((size_t)np + nr) * sizeof *types);
        if (!types) {
            free(func);
            return NULL;
        }
        for (uint32_t i = 0; i < np; i++) types[i] = type->params[i];
        for (uint32_t i = 0; i < nr; i++) types[np + i] = type->results[i];
    }
    func->owned_type = (wafer_functype){np, nr, types, types ? types + np : NULL};
    func->type = &func->owned_type;
    func->host = callback;
    func->env = env;
    func->env_free = env_free;
    return func;
}

wafer_func *wafer_func_new_host(wafer_store *store, const wafer_functype *type,
                                wafer_host_callback callback, void *env,
                                void (*env_free)(void *)) {
    wafer_func *func = host_func_new(type, callback, env, env_free);
    if (!func) return NULL;
    func->next_in_store = store->funcs;
    store->funcs = func;
    return func;
}

/* Stores on other threads may be making theirs at the same time. */
wafer_func *wafer_func_new_engine_host(wafer_engine *engine, const wafer_functype *type,
                                       wafer_host_callback callback, void *env,
                                       void (*env_free)(void *)) {
    wafer_func *func = host_func_new(type, callback, env, env_free);
    if (!func) return NULL;
    func->of_engine = true;
    func->next_in_store = __atomic_load_n(&engine->host_funcs, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&engine->host_funcs, &func->next_in_store, func, true,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
    }
    return func;
}

void host_func_destroy(wafer_func *func) {
    if (func->env_free) func->env_free(func->env);
    free((void *)func->owned_type.params);
    free(func);
}

const wafer_functype *wafer_func_type(const wafer_func *func) { return func->type; }

wafer_error *wafer_func_call(wafer_store *store, wafer_func *func, const wafer_value *args,
                             size_t nargs, wafer_value *results, size_t nresults) {
    const wafer_functype *type = func->type;
    if (nargs != type->num_params)
        return error_new(WAFER_ERROR_USAGE, "function expects %u arguments, got %zu",
                         type->num_params, nargs);
    if (nresults != type->num_results)
        return error_new(WAFER_ERROR_USAGE, "function returns %u results, room given for %zu",
                         type->num_results, nresults);
    for (size_t i = 0; i < nargs; i++)
        if (args[i].type != type->params[i])
            return error_new(WAFER_ERROR_USAGE, "argument %zu has the wrong type", i);

    size_t need = nargs > nresults ? nargs : nresults;
    size_t room = (size_t)(store->stack + store->engine->config.stack_slots - store->stack_top);
    if (need > room) return error_trap(WAFER_TRAP_CALL_STACK_EXHAUSTED);

    /* Borrowed externref arguments enter the activation table (extern_ref.c), with room made
     * first so that no collection runs between insertions. */
    uint32_t refs = 0;
    for (size_t i = 0; i < nargs; i++)
        if (args[i].type == WAFER_EXTERNREF && args[i].of.externref) refs++;
    if (refs && !activation_reserve(store, refs))
        return error_new(WAFER_ERROR_RESOURCE, "out of memory passing externrefs");
    uint64_t *slots = store->stack_top;
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].type == WAFER_EXTERNREF && args[i].of.externref) {
            externref_retain(args[i].of.externref);
            activation_insert_owned(store, args[i].of.externref);
        }
        slots[i] = value_to_slot(args[i]);
    }
    /* A trap unwinds every frame this call made; restoring these keeps the store reusable. */
    uint32_t depth = store->depth;
    wafer_error *err = interp_call(store, func, slots);
    store->stack_top = slots;
    store->depth = depth;
    if (err) return err;
    for (size_t i = 0; i < nresults; i++) {
        results[i] = value_from_slot(type->results[i], slots[i]);
        if (results[i].type == WAFER_EXTERNREF) externref_retain(results[i].of.externref);
    }
    return NULL;
}

bool wafer_caller_export(wafer_caller *caller, const char *name, size_t name_len,
                         wafer_extern *out) {
    if (!caller->instance) return false;
    return wafer_instance_export(caller->instance, name, name_len, out);
}

wafer_store *wafer_caller_store(wafer_caller *caller) { return caller->store; }
