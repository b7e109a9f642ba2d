/* Engines: configuration and the epoch counter (wafer.h, "Engine"). */
#include "allocator.h"

#include <stdlib.h>
#include <string.h>

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
        /* Every memory the limits above allow (4 GiB) is static, with Wasmtime's 2 GiB guard:
         * address space only, nothing is committed until it is accessible. The pool holds 1000
         * instances of 2 memories and 10 tables each, as large as the limits allow, which keeps
         * the spec suite passing under it: 12 TiB of address space for memories and 800 GB for
         * tables, reserved once (MAP_NORESERVE) when the engine is made. No page is kept
         * resident across resets by default (memory_keep_resident). */
        .allocator = WAFER_ALLOCATOR_ON_DEMAND,
        .pooling =
            {
                .total_instances = 1000,
                .max_memories_per_instance = 2,
                .max_tables_per_instance = 10,
                .max_memory_pages = 65536,
                .max_table_elements = 10000000,
                .max_instance_size = UINT64_C(1) << 26,
            },
        .memory_images = true,
        .static_memory_maximum_size = UINT64_C(1) << 32,
        .static_memory_forced = false,
        .memory_guard_size = UINT64_C(1) << 31,
        .memory_keep_resident = 0,
    };
}

/* WAFER_FEATURE_SIMD is accepted here: it changes nothing, and a module that uses SIMD is refused
 * by module creation ("unsupported feature: simd") whatever the configuration says. */
wafer_engine *wafer_engine_new(const wafer_config *config) {
    wafer_engine *engine = aligned_alloc(ENGINE_LINE, sizeof *engine);
    if (!engine) return NULL;
    memset(engine, 0, sizeof *engine);
    if (config)
        engine->config = *config;
    else
        wafer_config_default(&engine->config);
    engine->epoch = 0;
    if (!stack_cache_init(engine)) {
        free(engine);
        return NULL;
    }
    wafer_error *err = instance_allocator_new(&engine->config, &engine->allocator);
    if (err) {
        wafer_error_free(err);
        stack_cache_free(engine);
        free(engine);
        return NULL;
    }
    return engine;
}

void wafer_engine_delete(wafer_engine *engine) {
    if (!engine) return;
    for (wafer_func *f = engine->host_funcs, *next; f; f = next) {
        next = f->next_in_store;
        host_func_destroy(f);
    }
    stack_cache_free(engine);
    engine->allocator->ops->destroy(engine->allocator);
    free(engine);
}

const wafer_config *wafer_engine_config(const wafer_engine *engine) { return &engine->config; }

/* Another thread may advance the epoch while a store runs (DESIGN.md invariant 8). */
void wafer_engine_increment_epoch(wafer_engine *engine) {
    __atomic_fetch_add(&engine->epoch, 1, __ATOMIC_RELAXED);
}
