/* The engine registry and shared defaults: see oracle.h. */
#include "oracle.h"

#include <stdio.h>
#include <string.h>

#include "wafer.h"

/* The second-opinion adapters live in their own files; a build without one of them still links
 * (the reference is then null) and `wafer diff --oracle NAME` says the oracle is unavailable. */
extern const oracle_engine oracle_binaryen __attribute__((weak));
extern const oracle_engine oracle_v8 __attribute__((weak));

void oracle_options_default(oracle_options *options) {
    memset(options, 0, sizeof *options);
    options->features = WAFER_FEATURES_DEFAULT;
    options->fuel = 100000000;
    options->time_limit_ms = 20000;
    options->memory_limit_bytes = UINT64_C(3) << 29; /* 1.5 GiB */
}

const oracle_engine *oracle_find(const char *name, char *why, size_t why_size) {
    const oracle_engine *engines[] = {&oracle_wabt, &oracle_binaryen, &oracle_v8};
    const char *names[] = {"wabt", "binaryen", "v8"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) != 0) continue;
        if (!engines[i]) snprintf(why, why_size, "oracle %s is unavailable in this build", name);
        return engines[i];
    }
    snprintf(why, why_size, "unknown oracle \"%s\" (wabt, binaryen, v8 or all)", name);
    return NULL;
}

bool oracle_run_one(const oracle_engine *engine, const oracle_options *options,
                    const oracle_module *module, observation_list *out, char *why,
                    size_t why_size) {
    oracle_session *session = NULL;
    if (!engine->open(options, &session, why, why_size)) return false;
    bool ok = engine->run(session, module, 1, out, why, why_size);
    engine->close(session);
    return ok;
}
