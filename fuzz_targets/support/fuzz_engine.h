/* Engines for fuzz targets: a configuration chosen by one fuzzer byte (issue 6: on-demand or
 * pooling allocator, memory images on or off, static or dynamic memories, fuel or epoch
 * interruption), engines made for such configurations, and how long one call may run in them.
 *
 * What it promises:
 * - fuzz_config_choose changes only the fields the byte selects; the caller's limits and pool sizes
 *   stay, so a target keeps its inputs small (fuzz_config_small) or the spec suite's needs.
 * - An engine with epoch interruption has its epoch advanced once a millisecond by a thread this
 *   module runs for as long as the engine is registered, so an epoch deadline of N ticks bounds a
 *   call to about N milliseconds. Engines made by fuzz_engine_cached live for the process.
 */
#ifndef WAFER_FUZZ_ENGINE_H
#define WAFER_FUZZ_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "wafer.h"

/* The configuration byte:
 *   bit 0     pooling allocator (else on demand)
 *   bit 1     memory images off
 *   bits 2-3  memories: 0 the defaults (static when the maximum fits in 4 GiB, 2 GiB guard),
 *             1 dynamic without guard, 2 dynamic with a 64 KiB guard,
 *             3 every memory static (static_memory_forced) with a 64 KiB guard
 *   bit 4     epoch interruption (else fuel)
 *   bit 5     keep 64 KiB of each pooled memory resident across resets (memset, not madvise)
 * Bits 6-7 are ignored, so there are FUZZ_CONFIG_VARIANTS distinct configurations. */
enum { FUZZ_CONFIG_VARIANTS = 64 };

/* wafer_config_default with limits that keep any one input small and quick: memories of at most
 * 256 pages, 4 memories and 16 tables of 10000 elements, a call depth of 500, and a pool of 16
 * instances of that size. */
void fuzz_config_small(wafer_config *config);

void fuzz_config_choose(uint8_t byte, wafer_config *config);

/* The choices of config in words ("pooling images=off memories=dynamic guard=65536 epoch
 * keep=65536"), for reports. */
void fuzz_config_describe(const wafer_config *config, char *buf, size_t size);

/* How long one instantiation or call may run: fuel units under consume_fuel, epoch ticks
 * (milliseconds) under epoch_interruption. */
typedef struct fuzz_budget {
    uint64_t fuel;
    uint64_t epoch_ticks;
} fuzz_budget;

/* Gives the store the budget for the next instantiation or call. */
void fuzz_budget_apply(wafer_store *store, const fuzz_budget *budget);

/* A new engine for config, registered with the epoch thread if it uses epochs; NULL if the
 * engine cannot be made. Give it back with fuzz_engine_delete. */
wafer_engine *fuzz_engine_new(const wafer_config *config);
void fuzz_engine_delete(wafer_engine *engine);

/* The engine for base with byte's choices applied, made on first use and kept: one per
 * variant. Every call must pass the same base. NULL if it cannot be made. */
wafer_engine *fuzz_engine_cached(uint8_t byte, const wafer_config *base);

#endif
