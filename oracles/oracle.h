/* One interface for every engine that can run a module under the invocation protocol of
 * observation.h: wafer itself (in-process), wabt (the reference), binaryen and V8 (second
 * opinions). `wafer diff` and `wafer reduce` see engines only through this.
 *
 * What an adapter promises:
 * - open() prepares a session (it may start a long-lived process); it fails, with the reason in
 *   why, only when the engine cannot be used here at all (a tool not installed, a process that
 *   does not start). `wafer diff` then says the oracle is unavailable.
 * - run() runs a batch of modules, each in a fresh instance with fresh stand-in imports, and
 *   appends module i's observations to outs[i] (the caller gives empty, initialised lists).
 *   Everything that goes wrong with one module is an observation, never a failed run: the
 *   engine crashing or hanging on it is "inconclusive crash" / "inconclusive time", a feature it
 *   lacks "inconclusive feature", a module it rejects "instantiate error invalid". An adapter
 *   that batches restarts its process after a crash and goes on with the next module.
 *   run() returns false (why says what) only when the harness itself broke (cannot spawn, out of
 *   memory); the session is then unusable and the caller closes it.
 * - The observations follow observation.h exactly; the adapter stops at its first inconclusive
 *   line. Results are exact bit patterns (an engine that prints floats lossily must be driven so
 *   that it does not).
 * - close() ends the session and its processes; it accepts NULL.
 */
#ifndef WAFER_ORACLE_ORACLE_H
#define WAFER_ORACLE_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observation.h"
#include "wafer.h"

/* Where an engine refuses a memory.grow or table.grow (the instruction returns -1) for its own
 * reasons, below what the module declares. `wafer diff` gives the wafer adapter the reference's
 * limits, so that both engines refuse the same grows and a refusal never reads as a mismatch. An
 * engine whose refusal comes another way (wabt throws and crashes when its memory limit is hit:
 * inconclusive) leaves a field 0, and the wafer adapter then uses its own generous default,
 * chosen above what such an engine can allocate under oracle_options.memory_limit_bytes. */
typedef struct oracle_limits {
    uint64_t memory_pages;   /* per memory; 0: no limit of its own */
    uint64_t table_elements; /* per table; 0: no limit of its own */
} oracle_limits;

typedef struct oracle_options {
    /* WAFER_FEATURE_* bits (wafer.h) the modules may use; a subprocess adapter passes the
     * matching flags (--enable-memory64 ...) and reports a module needing a feature its engine
     * lacks as inconclusive: feature. */
    uint32_t features;
    uint64_t fuel;               /* the wafer adapter: fuel per instantiation and per call */
    unsigned time_limit_ms;      /* per module, for engines run as subprocesses */
    uint64_t memory_limit_bytes; /* address-space limit (RLIMIT_AS) of such subprocesses */
    oracle_limits limits;        /* the wafer adapter: its grow limits (see oracle_limits) */
    /* The wafer adapter: the configuration to start from (allocator, memory images, ...; NULL:
     * wafer_config_default's). features, fuel and limits above override its fields. */
    const wafer_config *wafer_config;
} oracle_options;

/* The defaults `wafer diff` uses: every feature wafer has, fuel 1e8 per call, 20 s per module,
 * 1.5 GiB, wafer's limits 65536 pages and 2^28 table elements. */
void oracle_options_default(oracle_options *options);

typedef struct oracle_module {
    const char *path; /* for messages only; may be NULL */
    const uint8_t *bytes;
    size_t len;
} oracle_module;

/* Defined by each adapter as it likes. */
typedef struct oracle_session oracle_session;

typedef struct oracle_engine {
    const char *name; /* "wafer", "wabt", "binaryen", "v8": also the --oracle name */
    oracle_limits limits; /* this engine's own grow limits (zero fields: none) */
    bool (*open)(const oracle_options *options, oracle_session **out, char *why,
                 size_t why_size);
    bool (*run)(oracle_session *session, const oracle_module *modules, size_t count,
                observation_list *outs, char *why, size_t why_size);
    void (*close)(oracle_session *session);
} oracle_engine;

/* The adapters, each defined in its own file (wafer_adapter.c, wabt.c, binaryen.c, v8.c). */
extern const oracle_engine oracle_wafer;
extern const oracle_engine oracle_wabt;
extern const oracle_engine oracle_binaryen;
extern const oracle_engine oracle_v8;

/* The reference engines by --oracle name ("wabt", "binaryen", "v8"). NULL, with the reason in
 * why, for an unknown name or an adapter this build does not contain. */
const oracle_engine *oracle_find(const char *name, char *why, size_t why_size);

/* Convenience: open, run one module, close. */
bool oracle_run_one(const oracle_engine *engine, const oracle_options *options,
                    const oracle_module *module, observation_list *out, char *why,
                    size_t why_size);

/* Appends to argv[n..] the wabt command-line flags (wabt's defaults differ from wafer's) that
 * switch wabt's tools to exactly these WAFER_FEATURE_* bits; returns the new count (at most 8
 * flags are added). Defined in wabt.c; binaryen.c uses it for wasm-validate too. */
size_t oracle_wabt_feature_flags(uint32_t features, char **argv, size_t n);

#endif
