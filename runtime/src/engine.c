/* Engines: configuration and the epoch counter (wafer.h, "Engine"). */
#include "runtime.h"

#include <stdlib.h>

/* The limits follow the JS API's implementation limits (WebAssembly JS API, section "Limits"),
 * which every browser engine enforces, so a module that runs there is not refused here. */
void wafer_config_default(wafer_config *config) {
    *config = (wafer_config){
        .features = WAFER_FEATURES_DEFAULT,
        .max_call_depth = 10000,
        .stack_slots = 1u << 20,
        .consume_fuel = false,
        .epoch_interruption = false,
        .limits =
            {
                .max_types = 1000000,
                .max_functions = 1000000,
                .max_imports = 100000,
                .max_exports = 100000,
                .max_globals = 1000000,
                .max_tables = 100000,
                .max_memories = 100,
                .max_element_segments = 100000,
                .max_data_segments = 100000,
                .max_params = 1000,
                .max_locals = 50000,
                .max_function_size = 7654321,
                .max_nesting = 10000,
                .max_table_elements = 10000000,
                .max_memory_pages = 65536,
            },
    };
}

/* WAFER_FEATURE_SIMD is accepted here: it changes nothing, and a module that uses SIMD is refused
 * by module creation ("unsupported feature: simd") whatever the configuration says. */
wafer_engine *wafer_engine_new(const wafer_config *config) {
    wafer_engine *engine = malloc(sizeof *engine);
    if (!engine) return NULL;
    if (config)
        engine->config = *config;
    else
        wafer_config_default(&engine->config);
    engine->epoch = 0;
    return engine;
}

void wafer_engine_delete(wafer_engine *engine) { free(engine); }

const wafer_config *wafer_engine_config(const wafer_engine *engine) { return &engine->config; }

/* Another thread may advance the epoch while a store runs (DESIGN.md invariant 8). */
void wafer_engine_increment_epoch(wafer_engine *engine) {
    __atomic_fetch_add(&engine->epoch, 1, __ATOMIC_RELAXED);
}
