/* Fuzz target "differential": a generated module run in wafer and in wabt's interpreter, the
 * reference (oracles/oracle.h), under the invocation protocol of oracles/observation.h:
 * instantiate with logging stand-ins for the imports, call every export with zero arguments,
 * read the exported globals and memories.
 *
 * The input's first byte picks wafer's engine configuration (support/fuzz_engine.h; always on
 * fuel, as the wafer adapter runs); the generator (gen/gen.h) takes its configuration and then
 * the module from the rest, with `terminating` on, so that both engines finish, every entity
 * exported, so that their final states are compared too, `wabt_compatible`, so that wabt
 * 1.0.32 can read it, and `nan_free_bits`, so that no NaN payload (the engine's choice) reaches
 * memory or an integer, where the comparison would see it as a difference. The module must validate in wafer: a module that does not is a generator
 * bug and aborts with wafer's message.
 *
 * The comparison is oracles/compare.h's: where it finds a mismatch (or traps of different
 * kinds), the target prints the verdict and both engines' observations and traps. Inconclusive
 * runs (an engine out of stack, fuel, time or memory; NaN payloads; known wabt bugs) are not
 * findings.
 *
 * Each input runs wabt's spectest-interp as a subprocess, so this target is slow (tens of
 * executions a second); it needs wabt installed and aborts at start-up without it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../oracles/compare.h"
#include "../oracles/module_facts.h"
#include "../oracles/oracle.h"
#include "gen/gen.h"
#include "support/fuzz_check.h"
#include "support/fuzz_engine.h"
#include "wafer.h"

/* Low bits of the configuration byte that matter here: allocator, images, memories (not epochs:
 * the wafer adapter runs on fuel). */
#define CONFIG_MASK 0x0fu
#define WABT_TIME_LIMIT_MS 5000

typedef struct sessions {
    oracle_options options;
    oracle_session *wabt;
    oracle_session *wafer[CONFIG_MASK + 1];
    wafer_config configs[CONFIG_MASK + 1];
    wafer_engine *validator; /* wafer's defaults, to tell generator bugs from mismatches */
} sessions;

static void harness_broke(const char *why) {
    fprintf(stderr, "differential: %s\n", why);
    abort();
}

/* The pool holds what the wafer adapter's limits allow one instance of a generated module (as
 * many memories and tables as the generator makes, of the adapter's sizes), so that the pool
 * refuses no grow that wabt would grant. */
static void choose_config(uint8_t byte, wafer_config *config) {
    wafer_config_default(config);
    config->pooling.total_instances = 2;
    config->pooling.max_memories_per_instance = 4;
    config->pooling.max_tables_per_instance = 4;
    config->pooling.max_memory_pages = oracle_wafer.limits.memory_pages;
    config->pooling.max_table_elements = (uint32_t)oracle_wafer.limits.table_elements;
    fuzz_config_choose(byte & CONFIG_MASK, config);
}

static sessions *sessions_get(uint8_t byte) {
    static sessions s;
    char why[300];
    if (!s.validator) {
        oracle_options_default(&s.options);
        s.options.time_limit_ms = WABT_TIME_LIMIT_MS;
        if (!oracle_wabt.open(&s.options, &s.wabt, why, sizeof why)) harness_broke(why);
        s.validator = wafer_engine_new(NULL);
        if (!s.validator) harness_broke("cannot make a wafer engine");
    }
    unsigned k = byte & CONFIG_MASK;
    if (!s.wafer[k]) {
        choose_config(byte, &s.configs[k]);
        oracle_options options = s.options;
        options.wafer_config = &s.configs[k];
        options.limits = oracle_wabt.limits;
        if (!oracle_wafer.open(&options, &s.wafer[k], why, sizeof why)) harness_broke(why);
    }
    return &s;
}

static void require_valid(wafer_engine *validator, const gen_module *generated) {
    wafer_error *err = wafer_module_validate(validator, generated->bytes, generated->len);
    if (!err) return;
    fprintf(stderr, "differential: the generator made a module wafer rejects: %s\n",
            wafer_error_message(err));
    abort();
}

static void report(const verdict *v, const wafer_config *config, const observation_list *ours,
                   const observation_list *theirs) {
    char described[200];
    fuzz_config_describe(config, described, sizeof described);
    fprintf(stderr, "differential: %s\nwafer configuration: %s\n--- wafer\n", v->text, described);
    observation_list_write(stderr, ours);
    fprintf(stderr, "--- wabt\n");
    observation_list_write(stderr, theirs);
    fflush(stderr);
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t byte = data[0];
    sessions *s = sessions_get(byte);
    const uint8_t *rest = data + 1;
    size_t rest_size = size - 1;
    gen_config cfg;
    gen_config_of_target("differential", &cfg);
    gen_config_from_bytes(&cfg, &rest, &rest_size);
    gen_module generated;
    if (!gen_module_new(rest, rest_size, &cfg, &generated)) return 0;
    require_valid(s->validator, &generated);

    oracle_module module = {NULL, generated.bytes, generated.len};
    observation_list ours, theirs;
    observation_list_init(&ours);
    observation_list_init(&theirs);
    char why[300];
    unsigned k = byte & CONFIG_MASK;
    if (!oracle_wafer.run(s->wafer[k], &module, 1, &ours, why, sizeof why) ||
        !oracle_wabt.run(s->wabt, &module, 1, &theirs, why, sizeof why))
        harness_broke(why);
    module_facts facts;
    bool have_facts = module_facts_read(generated.bytes, generated.len, &facts, why, sizeof why);
    verdict v;
    compare_observations(&ours, &theirs, "wabt", have_facts ? &facts : NULL, &v);
    if (v.kind == VERDICT_MISMATCH || v.kind == VERDICT_TRAP_KIND)
        report(&v, &s->configs[k], &ours, &theirs);
    if (have_facts) module_facts_free(&facts);
    observation_list_free(&ours);
    observation_list_free(&theirs);
    gen_module_free(&generated);
    return 0;
}
