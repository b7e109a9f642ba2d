/* Fuzz target "instantiate": a generated module instantiated twice under a random engine
 * configuration.
 *
 * The input's first byte picks the engine (support/fuzz_engine.h: on-demand or pooling, memory
 * images on or off, static or dynamic memories, fuel or epochs); the generator (gen/gen.h) takes
 * its configuration and then the module from the rest. The module must validate: a module that
 * does not is a generator bug, and aborts with wafer's message. Then:
 *   1. instantiate it in a fresh store with every import a stand-in (support/fuzz_stubs.h) and
 *      record the instance's exported state (support/fuzz_snapshot.h);
 *   2. run its exports (support/fuzz_exports.h) with arguments drawn from the input, which may
 *      write all over its memories, tables and globals, and drop the store;
 *   3. instantiate it again in a new store of the same engine, where a pooling allocator hands
 *      out the slot the first instance left (DESIGN.md invariants 1 and 5), and require exactly
 *      the state recorded in step 1.
 * A second instantiation may fail where the first succeeded only for want of resources or by an
 * epoch interruption (wall-clock time). Everything else that differs, crashes, sanitizer reports
 * and the broken invariants of the support code are findings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gen/gen.h"
#include "support/fuzz_check.h"
#include "support/fuzz_engine.h"
#include "support/fuzz_exports.h"
#include "support/fuzz_instantiate.h"
#include "support/fuzz_snapshot.h"
#include "support/shape_input.h"
#include "wafer.h"

#define FUEL_PER_CALL 100000u
#define FUEL_PER_INPUT 1000000u
#define EPOCH_TICKS_PER_CALL 5u /* milliseconds */
#define MAX_CALLS 64

static const wafer_config *base_config(void) {
    static wafer_config config;
    static bool made;
    if (!made) {
        fuzz_config_small(&config);
        made = true;
    }
    return &config;
}

/* Compiles the generated module; NULL when an engine limit refuses it. */
static wafer_module *compile(wafer_engine *engine, const gen_module *generated) {
    wafer_error *err = wafer_module_validate(engine, generated->bytes, generated->len);
    if (err) {
        wafer_error_kind kind = wafer_error_kind_of(err);
        if (kind != WAFER_ERROR_LIMIT && kind != WAFER_ERROR_RESOURCE) {
            fprintf(stderr, "instantiate: the generator made a module wafer rejects: %s\n",
                    wafer_error_message(err));
            abort();
        }
        fuzz_failed(err);
        return NULL;
    }
    wafer_module *module = NULL;
    err = wafer_module_new(engine, generated->bytes, generated->len, &module);
    if (err) {
        wafer_error_kind kind = wafer_error_kind_of(err);
        if (kind != WAFER_ERROR_LIMIT && kind != WAFER_ERROR_RESOURCE)
            fuzz_broken_invariant("a module that validates failed to compile",
                                  wafer_error_message(err));
        fuzz_failed(err);
        return NULL;
    }
    if (!module) fuzz_broken_invariant("wafer_module_new succeeded without a module", NULL);
    return module;
}

/* Steps 1 and 2; false if the module did not instantiate. */
static bool first_instance(wafer_engine *engine, wafer_module *module, const fuzz_budget *budget,
                           const uint8_t *data, size_t size, fuzz_snapshot *initial) {
    wafer_store *store = wafer_store_new(engine);
    if (!store) return false;
    wafer_instance *instance;
    bool made = fuzz_instantiate(store, module, budget, &instance, NULL, NULL) ==
                FUZZ_INSTANTIATED;
    if (made && !fuzz_snapshot_take(instance, initial)) made = false;
    if (made) {
        shape_input args;
        shape_input_init(&args, data, size);
        fuzz_calls calls = {
            .per_call = *budget,
            .fuel = wafer_engine_config(engine)->consume_fuel,
            .fuel_per_input = FUEL_PER_INPUT,
            .max_calls = MAX_CALLS,
            .args = &args,
        };
        fuzz_run_exports(store, module, instance, &calls);
    }
    wafer_store_delete(store);
    return made;
}

/* Step 3. */
static void second_instance(wafer_engine *engine, wafer_module *module,
                            const fuzz_budget *budget, const fuzz_snapshot *initial) {
    wafer_store *store = wafer_store_new(engine);
    if (!store) return;
    wafer_instance *instance;
    wafer_error_kind kind;
    wafer_trap_kind trap;
    fuzz_instantiated made = fuzz_instantiate(store, module, budget, &instance, &kind, &trap);
    if (made == FUZZ_NOT_INSTANTIATED && kind != WAFER_ERROR_RESOURCE &&
        trap != WAFER_TRAP_INTERRUPTED)
        fuzz_broken_invariant("a module instantiated once failed the second time", NULL);
    fuzz_snapshot again;
    if (made == FUZZ_INSTANTIATED && fuzz_snapshot_take(instance, &again)) {
        char why[300];
        if (fuzz_snapshot_differ(initial, &again, why, sizeof why))
            fuzz_broken_invariant("a fresh instance differs from the first one", why);
        fuzz_snapshot_free(&again);
    }
    wafer_store_delete(store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t engine_byte = data[0];
    const uint8_t *rest = data + 1;
    size_t rest_size = size - 1;
    wafer_engine *engine = fuzz_engine_cached(engine_byte, base_config());
    if (!engine) fuzz_broken_invariant("cannot make the engine", NULL);

    gen_config cfg;
    gen_config_of_target("instantiate", &cfg);
    gen_config_from_bytes(&cfg, &rest, &rest_size);
    gen_module generated;
    if (!gen_module_new(rest, rest_size, &cfg, &generated)) return 0;
    wafer_module *module = compile(engine, &generated);
    if (module) {
        fuzz_budget budget = {.fuel = FUEL_PER_CALL, .epoch_ticks = EPOCH_TICKS_PER_CALL};
        fuzz_snapshot initial;
        if (first_instance(engine, module, &budget, data, size, &initial)) {
            second_instance(engine, module, &budget, &initial);
            fuzz_snapshot_free(&initial);
        }
        wafer_module_release(module);
    }
    gen_module_free(&generated);
    return 0;
}
