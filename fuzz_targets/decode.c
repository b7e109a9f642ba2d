/* Fuzz target "decode": arbitrary bytes as a WebAssembly binary.
 *
 * Each input goes through the whole public pipeline: wafer_module_validate and wafer_module_new on
 * the bytes; if a module comes out, it is instantiated in a fresh store with every import stubbed
 * (functions return zeros of their result types; memories, tables and globals are created to the
 * declared types), every exported function is called with zero arguments, and exported tables,
 * memories and globals are read through the host API. Errors and traps are expected outcomes.
 * Only crashes, sanitizer reports, leaks, and broken invariants (those of support/fuzz_exports.h
 * and those checked below, which __builtin_trap so libFuzzer keeps the input) are findings.
 *
 * The engine's limits are tightened so that no single input takes long or much memory: small
 * memories and tables, a modest call depth, and fuel bounding every run of wasm code
 * (DESIGN.md section 3, invariant 8).
 */
#include <stdint.h>
#include <stdlib.h>

#include "support/fuzz_check.h"
#include "support/fuzz_engine.h"
#include "support/fuzz_exports.h"
#include "support/fuzz_instantiate.h"
#include "wafer.h"

/* Fuel for the start function and for each exported function, and for all of one input. */
#define FUZZ_FUEL_PER_CALL 100000u
#define FUZZ_FUEL_PER_INPUT 1000000u

static void instantiate_and_run(wafer_engine *engine, wafer_module *module) {
    wafer_store *store = wafer_store_new(engine);
    if (!store) return;
    fuzz_budget budget = {.fuel = FUZZ_FUEL_PER_CALL};
    wafer_instance *instance;
    if (fuzz_instantiate(store, module, &budget, &instance, NULL, NULL) == FUZZ_INSTANTIATED) {
        fuzz_calls calls = {
            .per_call = budget,
            .fuel = true,
            .fuel_per_input = FUZZ_FUEL_PER_INPUT,
            .max_calls = SIZE_MAX,
        };
        fuzz_run_exports(store, module, instance, &calls);
    }
    wafer_store_delete(store);
}

static wafer_engine *fuzz_engine(void) {
    static wafer_engine *engine;
    if (engine) return engine;
    wafer_config config;
    fuzz_config_small(&config);
    config.consume_fuel = true;
    engine = wafer_engine_new(&config);
    if (!engine) fuzz_broken_invariant("wafer_engine_new failed", NULL);
    return engine;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wafer_engine *engine = fuzz_engine();
    wafer_error *validate_err = wafer_module_validate(engine, data, size);
    wafer_error_kind validate_kind = validate_err ? wafer_error_kind_of(validate_err) : 0;
    fuzz_failed(validate_err);

    wafer_module *module = NULL;
    wafer_error *err = wafer_module_new(engine, data, size, &module);
    if (err) {
        /* Compiling may exceed a limit or run out of memory where validation alone did not;
         * otherwise validation and compilation must agree on the verdict and its kind. */
        wafer_error_kind kind = wafer_error_kind_of(err);
        bool compile_only = kind == WAFER_ERROR_LIMIT || kind == WAFER_ERROR_RESOURCE;
        if (validate_kind ? validate_kind != kind : !compile_only)
            fuzz_broken_invariant("wafer_module_validate and wafer_module_new disagree",
                             wafer_error_message(err));
        fuzz_failed(err);
        return 0;
    }
    if (validate_kind) fuzz_broken_invariant("module compiled though validation failed", NULL);
    if (!module) fuzz_broken_invariant("wafer_module_new succeeded without a module", NULL);
    instantiate_and_run(engine, module);
    wafer_module_release(module);
    return 0;
}
