/* Fuzz target "wast": a spec test script replayed under a random engine configuration.
 *
 * An input is a script bundle (support/script_bundle.h, written by `wafer wast-bundle` from
 * wast2json's output); an input that is not a well-formed bundle is ignored. The header's
 * configuration byte picks the engine (support/fuzz_engine.h: on-demand or pooling, memory images
 * on or off, static or dynamic memories, fuel or epochs) over wafer's default limits, which the
 * spec suite needs; the script runs in one store as `wafer wast` runs it, with the spectest host
 * module registered.
 *
 * When the bundle's checksum matches, the script is the spec's and must pass under every
 * configuration: a module command whose module fails to load, an action that fails, an
 * assert_return with other results, an assert_trap that returns, an assert_malformed or
 * assert_invalid module that compiles, an assert_unlinkable or assert_uninstantiable module that
 * instantiates, and an assert_exhaustion that returns are findings: the target prints the
 * command and traps. What depends on the configuration's limits is not: running out of call
 * stack, fuel or time, or a refused allocation (a full pool) ends the script quietly, and
 * assert_exhaustion passes whichever way the call fails. Trap kinds and error texts are not
 * compared (`wafer wast` only warns about them).
 * When the checksum does not match, the fuzzer mutated the script: it runs the same way, but
 * with small limits (fuzz_config_small) and a small budget per call, since a mutated module may
 * ask for gigabytes or loop for ever; its assertions prove nothing, and only crashes, sanitizer
 * reports and the support code's broken invariants are findings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/fuzz_check.h"
#include "support/fuzz_engine.h"
#include "support/script_bundle.h"
#include "support/spectest_host.h"
#include "wafer.h"

/* A spec script's calls are short; these only stop a wafer bug from hanging the fuzzer. */
static const fuzz_budget verified_budget = {.fuel = 100000000, .epoch_ticks = 20000};
static const fuzz_budget mutated_budget = {.fuel = 100000, .epoch_ticks = 10};

typedef struct provided {
    bundle_bytes module; /* the name it is registered as */
    bundle_bytes name;
    wafer_extern ext;
} provided;

typedef struct named {
    bundle_bytes name;
    wafer_instance *instance;
} named;

typedef struct host_ref {
    uint64_t number;
    wafer_externref *ref;
} host_ref;

typedef struct runner {
    const script_bundle *bundle;
    wafer_engine *engine;
    wafer_store *store;
    fuzz_budget budget;
    const bundle_command *command; /* the one running, for messages */
    provided *provided;            /* what imports resolve against; later entries win */
    size_t nprovided, provided_cap;
    named *named; /* instances of named module commands; later entries win */
    size_t nnamed, named_cap;
    wafer_instance *last;
    wafer_module **modules; /* released once the store is gone */
    size_t nmodules, modules_cap;
    host_ref *refs;
    size_t nrefs, refs_cap;
} runner;

/* How a command went. */
typedef enum step {
    STEP_PASSED,
    STEP_FAILED,  /* the assertion does not hold */
    STEP_LIMITED, /* the configuration's limits got in the way: stop the script */
} step;

/* Room for one more item in a growable array; false if memory ran out. */
static bool grow(void **items, size_t *capacity, size_t count, size_t item_size) {
    if (count < *capacity) return true;
    size_t bigger = *capacity ? *capacity * 2 : 16;
    void *grown = realloc(*items, bigger * item_size);
    if (!grown) return false;
    *items = grown;
    *capacity = bigger;
    return true;
}

static bool same_name(bundle_bytes a, const char *bytes, size_t len) {
    return a.len == len && (len == 0 || memcmp(a.bytes, bytes, len) == 0);
}

static bool provide(runner *r, bundle_bytes module, bundle_bytes name, wafer_extern ext) {
    if (!grow((void **)&r->provided, &r->provided_cap, r->nprovided, sizeof *r->provided))
        return false;
    r->provided[r->nprovided++] = (provided){module, name, ext};
    return true;
}

static bool provide_spectest(void *env, const char *name, wafer_extern ext) {
    bundle_bytes module = {(const uint8_t *)"spectest", 8};
    bundle_bytes field = {(const uint8_t *)name, (uint32_t)strlen(name)};
    return provide(env, module, field, ext);
}

static wafer_instance *find_instance(runner *r, bundle_bytes name) {
    if (name.len == 0) return r->last;
    for (size_t i = r->nnamed; i-- > 0;)
        if (same_name(r->named[i].name, (const char *)name.bytes, name.len))
            return r->named[i].instance;
    return NULL;
}

static wafer_externref *host_ref_get(runner *r, uint64_t number) {
    for (size_t i = 0; i < r->nrefs; i++)
        if (r->refs[i].number == number) return r->refs[i].ref;
    if (!grow((void **)&r->refs, &r->refs_cap, r->nrefs, sizeof *r->refs)) return NULL;
    wafer_externref *ref = wafer_externref_new(NULL, NULL);
    if (ref) r->refs[r->nrefs++] = (host_ref){number, ref};
    return ref;
}

/* What an error means here: a limit of the configuration, or an outcome to judge. */
static bool is_limit(wafer_error_kind kind, wafer_trap_kind trap) {
    return kind == WAFER_ERROR_RESOURCE || kind == WAFER_ERROR_LIMIT ||
           trap == WAFER_TRAP_OUT_OF_FUEL || trap == WAFER_TRAP_INTERRUPTED ||
           trap == WAFER_TRAP_CALL_STACK_EXHAUSTED;
}

typedef struct outcome {
    bool failed;
    wafer_error_kind kind;
    wafer_trap_kind trap;
    char message[200];
} outcome;

static outcome outcome_of(wafer_error *err) {
    outcome o = {0};
    if (!err) return o;
    fuzz_check_error(err);
    o.failed = true;
    o.kind = wafer_error_kind_of(err);
    o.trap = wafer_error_trap_kind(err);
    snprintf(o.message, sizeof o.message, "%s", wafer_error_message(err));
    wafer_error_free(err);
    return o;
}

/* ---- Modules ---------------------------------------------------------------------------------- */

static outcome compile(runner *r, bundle_bytes bytes, wafer_module **out) {
    *out = NULL;
    outcome o = outcome_of(wafer_module_new(r->engine, bytes.bytes, bytes.len, out));
    if (!o.failed && !grow((void **)&r->modules, &r->modules_cap, r->nmodules,
                           sizeof *r->modules)) {
        wafer_module_release(*out);
        *out = NULL;
        return (outcome){true, WAFER_ERROR_RESOURCE, WAFER_TRAP_NONE, "out of memory"};
    }
    if (!o.failed) r->modules[r->nmodules++] = *out;
    return o;
}

static outcome instantiate(runner *r, wafer_module *module, wafer_instance **out) {
    *out = NULL;
    size_t count = wafer_module_import_count(module);
    wafer_extern *imports = calloc(count ? count : 1, sizeof *imports);
    if (!imports) return (outcome){true, WAFER_ERROR_RESOURCE, WAFER_TRAP_NONE, "out of memory"};
    for (size_t i = 0; i < count; i++) {
        wafer_import_desc import = wafer_module_import(module, i);
        size_t k = r->nprovided;
        while (k-- > 0)
            if (same_name(r->provided[k].module, import.module.bytes, import.module.len) &&
                same_name(r->provided[k].name, import.name.bytes, import.name.len))
                break;
        if (k == SIZE_MAX) {
            free(imports);
            return (outcome){true, WAFER_ERROR_UNLINKABLE, WAFER_TRAP_NONE, "unknown import"};
        }
        imports[i] = r->provided[k].ext;
    }
    fuzz_budget_apply(r->store, &r->budget);
    outcome o = outcome_of(wafer_instance_new(r->store, module, imports, count, out));
    free(imports);
    return o;
}

/* ---- Actions ---------------------------------------------------------------------------------- */

static bool arg_value(runner *r, const bundle_value *v, wafer_value *out) {
    memset(out, 0, sizeof *out);
    out->type = v->type;
    switch (v->type) {
    case WAFER_I32: out->of.i32 = (int32_t)(uint32_t)v->bits; return true;
    case WAFER_I64: out->of.i64 = (int64_t)v->bits; return true;
    case WAFER_F32: out->of.f32_bits = (uint32_t)v->bits; return true;
    case WAFER_F64: out->of.f64_bits = v->bits; return true;
    case WAFER_FUNCREF: return true;
    case WAFER_EXTERNREF:
        if (!v->is_null) out->of.externref = host_ref_get(r, v->bits);
        return v->is_null || out->of.externref;
    case WAFER_V128: break;
    }
    return false;
}

/* Runs the command's action; results (up to max) into results, their count into *count. An
 * action on a missing export, or with arguments of the wrong number or types, fails as a usage
 * error. */
static outcome run_action(runner *r, wafer_value *results, size_t max, size_t *count) {
    const bundle_action *a = &r->command->action;
    *count = 0;
    wafer_instance *instance = find_instance(r, a->module);
    wafer_extern ext;
    if (!instance ||
        !wafer_instance_export(instance, (const char *)a->field.bytes, a->field.len, &ext))
        return (outcome){true, WAFER_ERROR_USAGE, WAFER_TRAP_NONE, "unknown export"};
    if (a->kind == BUNDLE_GET) {
        if (ext.kind != WAFER_EXTERN_GLOBAL)
            return (outcome){true, WAFER_ERROR_USAGE, WAFER_TRAP_NONE, "get of a non-global"};
        results[0] = wafer_global_get(ext.of.global);
        *count = 1;
        return (outcome){0};
    }
    if (ext.kind != WAFER_EXTERN_FUNC)
        return (outcome){true, WAFER_ERROR_USAGE, WAFER_TRAP_NONE, "invoke of a non-function"};
    const wafer_functype *type = wafer_func_type(ext.of.func);
    wafer_value *args = calloc(a->nargs ? a->nargs : 1, sizeof *args);
    if (!args) return (outcome){true, WAFER_ERROR_RESOURCE, WAFER_TRAP_NONE, "out of memory"};
    for (uint32_t i = 0; i < a->nargs; i++) {
        if (!arg_value(r, &a->args[i], &args[i])) {
            free(args);
            return (outcome){true, WAFER_ERROR_RESOURCE, WAFER_TRAP_NONE, "out of memory"};
        }
    }
    if (type->num_results > max) {
        free(args);
        return (outcome){true, WAFER_ERROR_USAGE, WAFER_TRAP_NONE, "too many results"};
    }
    fuzz_budget_apply(r->store, &r->budget);
    outcome o = outcome_of(
        wafer_func_call(r->store, ext.of.func, args, a->nargs, results, type->num_results));
    free(args);
    if (!o.failed) *count = type->num_results;
    return o;
}

static bool result_matches(runner *r, const bundle_value *want, wafer_value got) {
    if (want->type != got.type) return false;
    uint64_t bits = got.type == WAFER_F32 ? got.of.f32_bits
                    : got.type == WAFER_F64 ? got.of.f64_bits
                    : got.type == WAFER_I32 ? (uint32_t)got.of.i32
                                            : (uint64_t)got.of.i64;
    bool is32 = got.type == WAFER_F32;
    uint64_t sign = is32 ? UINT64_C(0x80000000) : UINT64_C(0x8000000000000000);
    uint64_t quiet_nan = is32 ? UINT64_C(0x7fc00000) : UINT64_C(0x7ff8000000000000);
    switch (want->expect) {
    case BUNDLE_EXPECT_NAN_CANONICAL: return (bits & ~sign) == quiet_nan;
    case BUNDLE_EXPECT_NAN_ARITHMETIC: return (bits & quiet_nan) == quiet_nan;
    case BUNDLE_EXPECT_NON_NULL:
        return got.type == WAFER_FUNCREF ? got.of.funcref != NULL : got.of.externref != NULL;
    case BUNDLE_EXPECT_EXACT: break;
    }
    switch (got.type) {
    case WAFER_FUNCREF: return got.of.funcref == NULL;
    case WAFER_EXTERNREF:
        return want->is_null ? got.of.externref == NULL
                             : got.of.externref == host_ref_get(r, want->bits);
    default: return bits == want->bits;
    }
}

/* ---- Commands --------------------------------------------------------------------------------- */

static step failed(runner *r, const char *what, const outcome *o) {
    if (!r->bundle->verified) return STEP_FAILED;
    char config[200];
    wafer_config engine_config = *wafer_engine_config(r->engine);
    fuzz_config_describe(&engine_config, config, sizeof config);
    fprintf(stderr, "wast: line %u: %s%s%s\nconfiguration: %s\n", r->command->line, what,
            o && o->failed ? ": " : "", o && o->failed ? o->message : "", config);
    fflush(stderr);
    __builtin_trap();
}

static step on_module(runner *r) {
    const bundle_command *c = r->command;
    wafer_module *module;
    outcome o = compile(r, c->module, &module);
    if (o.failed) return is_limit(o.kind, o.trap) ? STEP_LIMITED : failed(r, "module", &o);
    wafer_instance *instance;
    o = instantiate(r, module, &instance);
    if (o.failed) return is_limit(o.kind, o.trap) ? STEP_LIMITED : failed(r, "module", &o);
    r->last = instance;
    if (c->name.len) {
        if (!grow((void **)&r->named, &r->named_cap, r->nnamed, sizeof *r->named))
            return STEP_LIMITED;
        r->named[r->nnamed++] = (named){c->name, instance};
    }
    return STEP_PASSED;
}

static step on_register(runner *r) {
    wafer_instance *instance = find_instance(r, r->command->source);
    if (!instance) return failed(r, "register: no such module", NULL);
    size_t count = wafer_instance_export_count(instance);
    for (size_t i = 0; i < count; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        bundle_bytes field = {(const uint8_t *)name.bytes, (uint32_t)name.len};
        if (!provide(r, r->command->name, field, ext)) return STEP_LIMITED;
    }
    return STEP_PASSED;
}

enum { MAX_RESULTS = 64 };

static step on_action(runner *r) {
    wafer_value results[MAX_RESULTS];
    size_t count;
    outcome o = run_action(r, results, MAX_RESULTS, &count);
    if (o.failed && is_limit(o.kind, o.trap)) return STEP_LIMITED;
    if (o.failed) return failed(r, "action failed", &o);
    step verdict = STEP_PASSED;
    if (r->command->op == BUNDLE_ASSERT_RETURN && count != r->command->nexpected) {
        verdict = failed(r, "assert_return: result count", NULL);
    } else if (r->command->op == BUNDLE_ASSERT_RETURN) {
        for (size_t i = 0; i < count && verdict == STEP_PASSED; i++)
            if (!result_matches(r, &r->command->expected[i], results[i]))
                verdict = failed(r, "assert_return: wrong result", NULL);
    }
    for (size_t i = 0; i < count; i++) wafer_value_release(&results[i]);
    return verdict;
}

static step on_assert_trap(runner *r) {
    wafer_value results[MAX_RESULTS];
    size_t count;
    outcome o = run_action(r, results, MAX_RESULTS, &count);
    bool exhaustion = r->command->op == BUNDLE_ASSERT_EXHAUSTION;
    for (size_t i = 0; i < count; i++) wafer_value_release(&results[i]);
    if (!o.failed) return failed(r, exhaustion ? "assert_exhaustion: returned" :
                                                 "assert_trap: returned", NULL);
    if (exhaustion) return STEP_PASSED;
    if (is_limit(o.kind, o.trap)) return STEP_LIMITED;
    return o.kind == WAFER_ERROR_TRAP ? STEP_PASSED : failed(r, "assert_trap: no trap", &o);
}

static step on_assert_refused(runner *r) {
    wafer_module *module;
    outcome o = compile(r, r->command->module, &module);
    if (!o.failed) return failed(r, "assert_malformed/assert_invalid: the module compiled", NULL);
    return STEP_PASSED;
}

static step on_assert_not_instantiated(runner *r) {
    wafer_module *module;
    outcome o = compile(r, r->command->module, &module);
    if (o.failed)
        return is_limit(o.kind, o.trap) ? STEP_LIMITED
                                        : failed(r, "assert_unlinkable/uninstantiable", &o);
    wafer_instance *instance;
    o = instantiate(r, module, &instance);
    if (!o.failed)
        return failed(r, "assert_unlinkable/uninstantiable: the module instantiated", NULL);
    if (o.kind == WAFER_ERROR_RESOURCE) return STEP_LIMITED;
    return STEP_PASSED;
}

static step run_command(runner *r) {
    switch (r->command->op) {
    case BUNDLE_MODULE: return on_module(r);
    case BUNDLE_REGISTER: return on_register(r);
    case BUNDLE_ACTION:
    case BUNDLE_ASSERT_RETURN: return on_action(r);
    case BUNDLE_ASSERT_TRAP:
    case BUNDLE_ASSERT_EXHAUSTION: return on_assert_trap(r);
    case BUNDLE_ASSERT_MALFORMED:
    case BUNDLE_ASSERT_INVALID: return on_assert_refused(r);
    case BUNDLE_ASSERT_UNLINKABLE:
    case BUNDLE_ASSERT_UNINSTANTIABLE: return on_assert_not_instantiated(r);
    }
    return STEP_LIMITED;
}

static void run_script(const script_bundle *bundle, wafer_engine *engine) {
    runner r = {.bundle = bundle, .engine = engine};
    r.budget = bundle->verified ? verified_budget : mutated_budget;
    r.store = wafer_store_new(engine);
    if (r.store && spectest_host_make(r.store, provide_spectest, &r)) {
        for (size_t i = 0; i < bundle->count; i++) {
            r.command = &bundle->commands[i];
            if (run_command(&r) == STEP_LIMITED) break;
        }
    }
    if (r.store) wafer_store_delete(r.store);
    for (size_t i = 0; i < r.nmodules; i++) wafer_module_release(r.modules[i]);
    free(r.modules);
    free(r.provided);
    free(r.named);
    for (size_t i = 0; i < r.nrefs; i++) wafer_externref_release(r.refs[i].ref);
    free(r.refs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    script_bundle bundle;
    if (!script_bundle_read(data, size, &bundle)) return 0;
    wafer_config config;
    if (bundle.verified) wafer_config_default(&config);
    else fuzz_config_small(&config);
    config.features = bundle.features;
    fuzz_config_choose(bundle.config, &config);
    /* A pool the process cannot reserve (MSan's and some machines' address space limits) is the
     * environment's refusal, not a finding: wafer_engine_new reports it cleanly. */
    wafer_engine *engine = fuzz_engine_new(&config);
    if (!engine) return 0;
    run_script(&bundle, engine);
    fuzz_engine_delete(engine);
    script_bundle_free(&bundle);
    return 0;
}
