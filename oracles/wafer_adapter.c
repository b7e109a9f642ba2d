/* The wafer adapter: runs the invocation protocol of observation.h in this process, through the
 * public API (wafer.h) only, and records what it sees.
 *
 * Giving up (rule 1 of compare.c) is decided here from wafer's own error kinds: stack
 * exhaustion, fuel, epoch interruption, a refused allocation (WAFER_ERROR_RESOURCE), an
 * implementation limit (WAFER_ERROR_LIMIT) and an unsupported feature are inconclusive, never a
 * result. memory.grow and table.grow refusals cannot be seen from outside; instead wafer's grow
 * limits are set from the reference's (oracle_limits), so the two refuse the same grows.
 */
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "wafer.h"

/* Memories above this many pages are not hashed (their memory line has HASH "-"): hashing 4 GiB
 * costs seconds, and the reference could not hold such a memory under its own limits anyway. */
#define HASHED_PAGES_MAX 16384

#define DEFAULT_MEMORY_PAGES 65536
#define DEFAULT_TABLE_ELEMENTS (UINT64_C(1) << 28)

struct oracle_session {
    oracle_options options;
    wafer_engine *engine;
};

/* What one module's run writes to; host functions reach it through their env. */
typedef struct run_state {
    observation_list *out;
    bool oom;      /* an append failed: the harness broke */
    bool overflow; /* the list reached OBSERVATION_LIMIT: "inconclusive output" ends it */
} run_state;

typedef struct stub_env {
    run_state *state;
    wafer_name module;
    wafer_name name;
    uint32_t num_params;
    uint32_t num_results;
    wafer_valtype results[]; /* num_results of them */
} stub_env;

/* ---- Recording ------------------------------------------------------------------------------ */

/* Whether there is room for one more observation besides the closing inconclusive line. */
static bool room(run_state *s) {
    if (s->oom || s->overflow) return false;
    if (s->out->count + 1 >= OBSERVATION_LIMIT) {
        s->overflow = true;
        return false;
    }
    return true;
}

static void note(run_state *s, bool appended) {
    if (!appended) s->oom = true;
}

static obs_value to_obs(wafer_value v) {
    obs_value o = {OBS_I32, 0};
    switch (v.type) {
    case WAFER_I32: o.bits = (uint32_t)v.of.i32; break;
    case WAFER_I64: o = (obs_value){OBS_I64, (uint64_t)v.of.i64}; break;
    case WAFER_F32: o = (obs_value){OBS_F32, v.of.f32_bits}; break;
    case WAFER_F64: o = (obs_value){OBS_F64, v.of.f64_bits}; break;
    case WAFER_FUNCREF: o = (obs_value){OBS_FUNCREF, v.of.funcref != NULL}; break;
    case WAFER_EXTERNREF: o = (obs_value){OBS_EXTERNREF, v.of.externref != NULL}; break;
    case WAFER_V128: break; /* never reached: wafer refuses SIMD modules */
    }
    return o;
}

static wafer_value zero_of(wafer_valtype type) {
    wafer_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    return v;
}

static void give_up(run_state *s, const char *reason, const char *detail) {
    if (!s->oom && !observation_list_ended(s->out))
        note(s, obs_add_inconclusive(s->out, reason, detail));
}

/* ---- Stand-in imports ----------------------------------------------------------------------- */

static wafer_error *stub_call(void *env, wafer_caller *caller, const wafer_value *args,
                             wafer_value *results) {
    stub_env *stub = env;
    run_state *s = stub->state;
    for (uint32_t i = 0; i < stub->num_results; i++) results[i] = zero_of(stub->results[i]);
    if (!room(s)) return wafer_error_new_trap("observation limit reached");
    obs_value stack_values[16] = {{OBS_I32, 0}};
    obs_value *values = stub->num_params <= 16 ? stack_values
                                               : malloc(stub->num_params * sizeof *values);
    if (!values) {
        s->oom = true;
        return wafer_error_new_trap("out of memory");
    }
    for (uint32_t i = 0; i < stub->num_params; i++) values[i] = to_obs(args[i]);
    note(s, obs_add_log(s->out, stub->module.bytes, stub->module.len, stub->name.bytes,
                        stub->name.len, values, stub->num_params));
    if (values != stack_values) free(values);
    return s->oom ? wafer_error_new_trap("out of memory") : NULL;
}

/* NULL error and NULL *out: memory ran out. */
static wafer_error *stub_new(wafer_store *store, run_state *s, const wafer_import_desc *import,
                             wafer_extern *out) {
    out->kind = import->type.kind;
    switch (import->type.kind) {
    case WAFER_EXTERN_FUNC: {
        const wafer_functype *type = import->type.of.func;
        stub_env *env = malloc(sizeof *env + (type->num_results + 1) * sizeof(wafer_valtype));
        out->of.func = NULL;
        if (!env) return NULL;
        env->state = s;
        env->module = import->module;
        env->name = import->name;
        env->num_params = type->num_params;
        env->num_results = type->num_results;
        for (uint32_t i = 0; i < type->num_results; i++) env->results[i] = type->results[i];
        out->of.func = wafer_func_new_host(store, type, stub_call, env, free);
        if (!out->of.func) free(env);
        return NULL;
    }
    case WAFER_EXTERN_MEMORY: return wafer_memory_new(store, &import->type.of.memory, &out->of.memory);
    case WAFER_EXTERN_TABLE:
        return wafer_table_new(store, &import->type.of.table, zero_of(import->type.of.table.elem),
                               &out->of.table);
    case WAFER_EXTERN_GLOBAL:
        return wafer_global_new(store, &import->type.of.global,
                                zero_of(import->type.of.global.type), &out->of.global);
    }
    return NULL;
}

/* ---- Outcomes ------------------------------------------------------------------------------- */

static obs_trap trap_class(wafer_trap_kind kind) {
    switch (kind) {
    case WAFER_TRAP_UNREACHABLE: return OBS_TRAP_UNREACHABLE;
    case WAFER_TRAP_MEMORY_OUT_OF_BOUNDS: return OBS_TRAP_MEMORY_OOB;
    case WAFER_TRAP_TABLE_OUT_OF_BOUNDS: return OBS_TRAP_TABLE_OOB;
    case WAFER_TRAP_INTEGER_DIVIDE_BY_ZERO: return OBS_TRAP_DIV_ZERO;
    case WAFER_TRAP_INTEGER_OVERFLOW: return OBS_TRAP_INT_OVERFLOW;
    case WAFER_TRAP_INVALID_CONVERSION: return OBS_TRAP_INVALID_CONVERSION;
    case WAFER_TRAP_UNDEFINED_ELEMENT: return OBS_TRAP_UNDEFINED_ELEMENT;
    case WAFER_TRAP_UNINITIALIZED_ELEMENT: return OBS_TRAP_UNINITIALIZED_ELEMENT;
    case WAFER_TRAP_INDIRECT_CALL_MISMATCH: return OBS_TRAP_INDIRECT_CALL_MISMATCH;
    case WAFER_TRAP_HOST: return OBS_TRAP_HOST;
    default: return OBS_TRAP_OTHER;
    }
}

/* Errors that mean wafer gave up rather than answered: the reason word, or NULL. */
static const char *gave_up_reason(const run_state *s, const wafer_error *err) {
    if (s->overflow) return "output";
    switch (wafer_error_kind_of(err)) {
    case WAFER_ERROR_UNSUPPORTED: return "feature";
    case WAFER_ERROR_LIMIT: return "limit";
    case WAFER_ERROR_RESOURCE: return "memory";
    case WAFER_ERROR_TRAP: break;
    default: return NULL;
    }
    switch (wafer_error_trap_kind(err)) {
    case WAFER_TRAP_CALL_STACK_EXHAUSTED: return "stack";
    case WAFER_TRAP_OUT_OF_FUEL: return "fuel";
    case WAFER_TRAP_INTERRUPTED: return "time";
    default: return NULL;
    }
}

/* Records a call's or an instantiation's error; false when the run ends here. Frees err. */
static bool record_error(run_state *s, wafer_error *err, bool instantiating) {
    const char *reason = gave_up_reason(s, err);
    bool go_on = false;
    if (reason) {
        give_up(s, reason, wafer_error_message(err));
    } else if (wafer_error_kind_of(err) == WAFER_ERROR_TRAP) {
        obs_trap trap = trap_class(wafer_error_trap_kind(err));
        note(s, instantiating ? obs_add_instantiate_trap(s->out, trap) : obs_add_trap(s->out, trap));
        go_on = !instantiating;
    } else {
        const char *kind = wafer_error_kind_of(err) == WAFER_ERROR_MALFORMED    ? "malformed"
                           : wafer_error_kind_of(err) == WAFER_ERROR_INVALID    ? "invalid"
                           : wafer_error_kind_of(err) == WAFER_ERROR_UNLINKABLE ? "unlinkable"
                                                                                : "other";
        note(s, obs_add_instantiate_error(s->out, kind));
    }
    wafer_error_free(err);
    return go_on && !s->oom;
}

/* ---- The protocol --------------------------------------------------------------------------- */

static bool is_hang_limit_initializer(wafer_name name, wafer_extern ext) {
    static const char hli[] = "hangLimitInitializer";
    if (ext.kind != WAFER_EXTERN_FUNC || name.len != sizeof hli - 1 ||
        memcmp(name.bytes, hli, name.len) != 0)
        return false;
    const wafer_functype *type = wafer_func_type(ext.of.func);
    return type->num_params == 0 && type->num_results == 0;
}

/* Step 2 for one export: false when the run ends. */
static bool call_export(run_state *s, const oracle_options *opts, wafer_store *store,
                        wafer_func *hli, wafer_func *func) {
    if (hli) {
        if (opts->fuel) wafer_store_set_fuel(store, opts->fuel);
        wafer_error *err = wafer_func_call(store, hli, NULL, 0, NULL, 0);
        if (err) return record_error(s, err, false);
    }
    const wafer_functype *type = wafer_func_type(func);
    wafer_value *args = calloc(type->num_params + 1, sizeof *args);
    wafer_value *results = calloc(type->num_results + 1, sizeof *results);
    obs_value *values = calloc(type->num_results + 1, sizeof *values);
    bool go_on = false;
    if (!args || !results || !values) {
        s->oom = true;
    } else {
        for (uint32_t i = 0; i < type->num_params; i++) args[i] = zero_of(type->params[i]);
        if (opts->fuel) wafer_store_set_fuel(store, opts->fuel);
        wafer_error *err =
            wafer_func_call(store, func, args, type->num_params, results, type->num_results);
        if (err) {
            go_on = record_error(s, err, false);
        } else if (room(s)) {
            for (uint32_t i = 0; i < type->num_results; i++) values[i] = to_obs(results[i]);
            note(s, obs_add_return(s->out, values, type->num_results));
            go_on = !s->oom;
        }
        if (!err)
            for (uint32_t i = 0; i < type->num_results; i++) wafer_value_release(&results[i]);
    }
    free(args);
    free(results);
    free(values);
    return go_on;
}

/* Step 3: exported globals and memories, in export order. */
static void record_final_state(run_state *s, wafer_instance *instance) {
    size_t count = wafer_instance_export_count(instance);
    for (size_t i = 0; i < count && room(s); i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        if (ext.kind == WAFER_EXTERN_GLOBAL) {
            wafer_value value = wafer_global_get(ext.of.global);
            note(s, obs_add_global(s->out, name.bytes, name.len, to_obs(value)));
            wafer_value_release(&value);
        } else if (ext.kind == WAFER_EXTERN_MEMORY) {
            uint64_t pages = wafer_memory_size_pages(ext.of.memory);
            bool hashed = pages <= HASHED_PAGES_MAX;
            uint64_t hash = hashed ? obs_fnv1a64(wafer_memory_data(ext.of.memory),
                                                 (size_t)wafer_memory_size_bytes(ext.of.memory))
                                   : 0;
            note(s, obs_add_memory(s->out, name.bytes, name.len, pages, hashed, hash));
        }
    }
}

static void run_instance(run_state *s, const oracle_options *opts, wafer_store *store,
                         wafer_instance *instance) {
    size_t count = wafer_instance_export_count(instance);
    wafer_func *hli = NULL;
    for (size_t i = 0; i < count; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        if (is_hang_limit_initializer(name, ext)) hli = ext.of.func;
    }
    for (size_t i = 0; i < count; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        if (ext.kind != WAFER_EXTERN_FUNC || is_hang_limit_initializer(name, ext)) continue;
        if (!room(s)) return;
        note(s, obs_add_call(s->out, name.bytes, name.len));
        if (s->oom || !call_export(s, opts, store, hli, ext.of.func)) return;
    }
    record_final_state(s, instance);
}

static void run_module(oracle_session *session, const oracle_module *m, run_state *s) {
    wafer_module *module = NULL;
    wafer_error *err = wafer_module_new(session->engine, m->bytes, m->len, &module);
    if (err) {
        record_error(s, err, true);
        return;
    }
    wafer_store *store = wafer_store_new(session->engine);
    size_t nimports = wafer_module_import_count(module);
    wafer_extern *imports = calloc(nimports + 1, sizeof *imports);
    if (!store || !imports) {
        s->oom = true;
    } else {
        for (size_t i = 0; i < nimports && !s->oom; i++) {
            wafer_import_desc desc = wafer_module_import(module, i);
            err = stub_new(store, s, &desc, &imports[i]);
            if (err) {
                record_error(s, err, true);
                break;
            }
            if (desc.type.kind == WAFER_EXTERN_FUNC && !imports[i].of.func) s->oom = true;
        }
    }
    bool imports_made = store && imports && !s->oom && !observation_list_ended(s->out);
    if (imports_made) {
        if (session->options.fuel) wafer_store_set_fuel(store, session->options.fuel);
        wafer_instance *instance = NULL;
        err = wafer_instance_new(store, module, imports, nimports, &instance);
        if (err) {
            record_error(s, err, true);
        } else if (room(s)) {
            note(s, obs_add_instantiate_ok(s->out));
            run_instance(s, &session->options, store, instance);
        }
    }
    if (s->overflow) give_up(s, "output", "more observations than OBSERVATION_LIMIT");
    free(imports);
    if (store) wafer_store_delete(store);
    wafer_module_release(module);
}

/* ---- The engine interface ------------------------------------------------------------------- */

static bool wafer_open(const oracle_options *options, oracle_session **out, char *why,
                       size_t why_size) {
    oracle_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    s->options = *options;
    wafer_config config;
    if (options->wafer_config) config = *options->wafer_config;
    else wafer_config_default(&config);
    config.features = options->features;
    config.consume_fuel = options->fuel != 0;
    config.limits.max_memory_pages =
        options->limits.memory_pages ? options->limits.memory_pages : DEFAULT_MEMORY_PAGES;
    uint64_t table = options->limits.table_elements ? options->limits.table_elements
                                                    : DEFAULT_TABLE_ELEMENTS;
    config.limits.max_table_elements = table > UINT32_MAX ? UINT32_MAX : (uint32_t)table;
    s->engine = wafer_engine_new(&config);
    if (!s->engine) {
        free(s);
        snprintf(why, why_size, "cannot create a wafer engine");
        return false;
    }
    *out = s;
    return true;
}

static bool wafer_run(oracle_session *session, const oracle_module *modules, size_t count,
                      observation_list *outs, char *why, size_t why_size) {
    for (size_t i = 0; i < count; i++) {
        run_state state = {&outs[i], false, false};
        run_module(session, &modules[i], &state);
        if (state.oom) {
            snprintf(why, why_size, "out of memory recording observations");
            return false;
        }
    }
    return true;
}

static void wafer_close(oracle_session *session) {
    if (!session) return;
    wafer_engine_delete(session->engine);
    free(session);
}

const oracle_engine oracle_wafer = {
    .name = "wafer",
    .limits = {DEFAULT_MEMORY_PAGES, DEFAULT_TABLE_ELEMENTS},
    .open = wafer_open,
    .run = wafer_run,
    .close = wafer_close,
};
