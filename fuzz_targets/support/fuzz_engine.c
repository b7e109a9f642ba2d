/* Engines for fuzz targets: see fuzz_engine.h. */
#include "fuzz_engine.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#define KEEP_RESIDENT_BYTES 65536u
#define SMALL_GUARD_BYTES 65536u

void fuzz_config_small(wafer_config *config) {
    wafer_config_default(config);
    config->max_call_depth = 500;
    config->stack_slots = 1u << 14; /* 128 KiB of value stack */
    config->limits.max_memory_pages = 256;
    config->limits.max_memories = 4;
    config->limits.max_table_elements = 10000;
    config->limits.max_tables = 16;
    config->pooling.total_instances = 16;
    config->pooling.max_memories_per_instance = 4;
    config->pooling.max_tables_per_instance = 16;
    config->pooling.max_memory_pages = 256;
    config->pooling.max_table_elements = 10000;
    config->pooling.max_instance_size = UINT64_C(1) << 20;
}

void fuzz_config_choose(uint8_t byte, wafer_config *config) {
    wafer_config defaults;
    wafer_config_default(&defaults);
    config->allocator = byte & 1 ? WAFER_ALLOCATOR_POOLING : WAFER_ALLOCATOR_ON_DEMAND;
    config->memory_images = !(byte & 2);
    config->static_memory_forced = false;
    config->static_memory_maximum_size = defaults.static_memory_maximum_size;
    config->memory_guard_size = defaults.memory_guard_size;
    switch ((byte >> 2) & 3) {
    case 0: break;
    case 1:
        config->static_memory_maximum_size = 0;
        config->memory_guard_size = 0;
        break;
    case 2:
        config->static_memory_maximum_size = 0;
        config->memory_guard_size = SMALL_GUARD_BYTES;
        break;
    case 3:
        config->static_memory_forced = true;
        config->memory_guard_size = SMALL_GUARD_BYTES;
        break;
    }
    config->epoch_interruption = byte & 16;
    config->consume_fuel = !config->epoch_interruption;
    config->memory_keep_resident = byte & 32 ? KEEP_RESIDENT_BYTES : 0;
}

void fuzz_config_describe(const wafer_config *config, char *buf, size_t size) {
    const char *memories = config->static_memory_forced ? "static"
                           : config->static_memory_maximum_size ? "static-if-fits"
                                                                : "dynamic";
    snprintf(buf, size, "%s images=%s memories=%s guard=%llu %s keep=%llu",
             config->allocator == WAFER_ALLOCATOR_POOLING ? "pooling" : "on-demand",
             config->memory_images ? "on" : "off", memories,
             (unsigned long long)config->memory_guard_size,
             config->epoch_interruption ? "epoch" : "fuel",
             (unsigned long long)config->memory_keep_resident);
}

void fuzz_budget_apply(wafer_store *store, const fuzz_budget *budget) {
    /* The store's engine decides which of the two counts; setting both is harmless. */
    wafer_store_set_fuel(store, budget->fuel);
    wafer_store_set_epoch_deadline(store, budget->epoch_ticks);
}

/* ---- The epoch thread ------------------------------------------------------------------------ */

static pthread_mutex_t ticked_lock = PTHREAD_MUTEX_INITIALIZER;
static wafer_engine *ticked[FUZZ_CONFIG_VARIANTS + 8];
static size_t nticked;
static bool ticker_running;

static void *ticker_loop(void *arg) {
    (void)arg;
    const struct timespec tick = {0, 1000000};
    for (;;) {
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&ticked_lock);
        for (size_t i = 0; i < nticked; i++) wafer_engine_increment_epoch(ticked[i]);
        pthread_mutex_unlock(&ticked_lock);
    }
    return NULL;
}

static bool ticker_add(wafer_engine *engine) {
    pthread_mutex_lock(&ticked_lock);
    bool added = nticked < sizeof ticked / sizeof ticked[0];
    if (added) ticked[nticked++] = engine;
    if (added && !ticker_running) {
        pthread_t thread;
        ticker_running = pthread_create(&thread, NULL, ticker_loop, NULL) == 0;
        if (ticker_running) pthread_detach(thread);
        else nticked--;
        added = ticker_running;
    }
    pthread_mutex_unlock(&ticked_lock);
    return added;
}

static void ticker_remove(wafer_engine *engine) {
    pthread_mutex_lock(&ticked_lock);
    for (size_t i = 0; i < nticked; i++) {
        if (ticked[i] == engine) {
            ticked[i] = ticked[--nticked];
            break;
        }
    }
    pthread_mutex_unlock(&ticked_lock);
}

/* ---- Engines ---------------------------------------------------------------------------------- */

wafer_engine *fuzz_engine_new(const wafer_config *config) {
    wafer_engine *engine = wafer_engine_new(config);
    if (engine && config->epoch_interruption && !ticker_add(engine)) {
        wafer_engine_delete(engine);
        return NULL;
    }
    return engine;
}

void fuzz_engine_delete(wafer_engine *engine) {
    if (!engine) return;
    if (wafer_engine_config(engine)->epoch_interruption) ticker_remove(engine);
    wafer_engine_delete(engine);
}

wafer_engine *fuzz_engine_cached(uint8_t byte, const wafer_config *base) {
    static wafer_engine *engines[FUZZ_CONFIG_VARIANTS];
    unsigned variant = byte % FUZZ_CONFIG_VARIANTS;
    if (!engines[variant]) {
        wafer_config config = *base;
        fuzz_config_choose(byte, &config);
        engines[variant] = fuzz_engine_new(&config);
    }
    return engines[variant];
}
