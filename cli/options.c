/* The shared configuration flags: see options.h. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epoch_ticker.h"

/* Feature switches, named as wabt names them so one set of flags drives wast2json, wasm-interp,
 * spectest-interp and wafer alike. */
static const struct {
    const char *name;
    uint32_t bit;
} features[] = {
    {"mutable-globals", WAFER_FEATURE_MUTABLE_GLOBALS},
    {"sign-extension", WAFER_FEATURE_SIGN_EXTENSION},
    {"saturating-float-to-int", WAFER_FEATURE_SAT_FLOAT_TO_INT},
    {"multi-value", WAFER_FEATURE_MULTI_VALUE},
    {"bulk-memory", WAFER_FEATURE_BULK_MEMORY},
    {"reference-types", WAFER_FEATURE_REFERENCE_TYPES},
    {"memory64", WAFER_FEATURE_MEMORY64},
    {"multi-memory", WAFER_FEATURE_MULTI_MEMORY},
    {"simd", WAFER_FEATURE_SIMD},
};

/* The instance machinery's switches (DESIGN.md section 3). */
static void set_pooling(wafer_config *c) { c->allocator = WAFER_ALLOCATOR_POOLING; }
static void set_no_memory_image(wafer_config *c) { c->memory_images = false; }
static void set_static_memory_forced(wafer_config *c) { c->static_memory_forced = true; }
static const struct {
    const char *name;
    void (*apply)(wafer_config *);
} machinery_flags[] = {
    {"--pooling", set_pooling},
    {"--no-memory-image", set_no_memory_image},
    {"--static-memory-forced", set_static_memory_forced},
};

const char options_usage[] =
    "Configuration (shared by run, validate, wast and diff):\n"
    "  --enable-FEATURE, --disable-FEATURE\n"
    "        switch a feature on or off; FEATURE is one of mutable-globals, sign-extension,\n"
    "        saturating-float-to-int, multi-value, bulk-memory, reference-types, memory64,\n"
    "        multi-memory (all on by default) or simd (off; modules using SIMD are refused\n"
    "        with \"unsupported feature: simd\" either way)\n"
    "  --fuel N           each instantiation and each call starts with N units of fuel;\n"
    "                     running out traps (\"all fuel consumed\")\n"
    "  --epoch-deadline N each instantiation and each call may run for about N milliseconds\n"
    "                     (epoch ticks); reaching the deadline traps\n"
    "  --pooling          instances take preallocated slots (1000 instances, 2 memories and\n"
    "                     10 tables each), reused with affinity to the module\n"
    "  --no-memory-image  copy data segments at instantiation instead of mapping\n"
    "                     copy-on-write memory images\n"
    "  --static-memory-forced\n"
    "                     reserve every memory's maximum size up front (no memory moves)\n";

void options_init(cli_options *opts) {
    memset(opts, 0, sizeof *opts);
    wafer_config_default(&opts->config);
}

static bool parse_count(const char *flag, const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 0);
    if (text[0] == '\0' || text[0] == '-' || *end != '\0' || errno == ERANGE) {
        fprintf(stderr, "wafer: %s needs a non-negative integer, got \"%s\"\n", flag, text);
        return false;
    }
    *out = value;
    return true;
}

void options_init_as_wabt(cli_options *opts) {
    options_init(opts);
    opts->config.features &= ~(uint32_t)(WAFER_FEATURE_MEMORY64 | WAFER_FEATURE_MULTI_MEMORY);
}

const char *options_flag_value(const char *flag, int argc, char **argv, int *i, bool *missing) {
    const char *arg = argv[*i];
    size_t len = strlen(flag);
    *missing = false;
    if (strncmp(arg, flag, len) != 0) return NULL;
    if (arg[len] == '=') {
        *i += 1;
        return arg + len + 1;
    }
    if (arg[len] != '\0') return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "wafer: %s needs a value\n", flag);
        *missing = true;
        return NULL;
    }
    *i += 2;
    return argv[*i - 1];
}

static options_result take_feature(cli_options *opts, const char *arg) {
    bool enable;
    if (strncmp(arg, "--enable-", 9) == 0)
        enable = true;
    else if (strncmp(arg, "--disable-", 10) == 0)
        enable = false;
    else
        return OPTIONS_NOT_MINE;
    const char *name = arg + (enable ? 9 : 10);
    for (size_t k = 0; k < sizeof features / sizeof features[0]; k++) {
        if (strcmp(name, features[k].name) != 0) continue;
        if (enable)
            opts->config.features |= features[k].bit;
        else
            opts->config.features &= ~features[k].bit;
        return OPTIONS_TAKEN;
    }
    fprintf(stderr, "wafer: unknown feature in %s\n", arg);
    return OPTIONS_BAD;
}

options_result options_take(cli_options *opts, int argc, char **argv, int *i) {
    const char *arg = argv[*i];
    options_result feature = take_feature(opts, arg);
    if (feature != OPTIONS_NOT_MINE) {
        if (feature == OPTIONS_TAKEN) *i += 1;
        return feature;
    }
    for (size_t k = 0; k < sizeof machinery_flags / sizeof machinery_flags[0]; k++) {
        if (strcmp(arg, machinery_flags[k].name) != 0) continue;
        machinery_flags[k].apply(&opts->config);
        *i += 1;
        return OPTIONS_TAKEN;
    }
    bool missing;
    const char *value = options_flag_value("--fuel", argc, argv, i, &missing);
    if (missing) return OPTIONS_BAD;
    if (value) {
        if (!parse_count("--fuel", value, &opts->fuel)) return OPTIONS_BAD;
        opts->has_fuel = true;
        opts->config.consume_fuel = true;
        return OPTIONS_TAKEN;
    }
    value = options_flag_value("--epoch-deadline", argc, argv, i, &missing);
    if (missing) return OPTIONS_BAD;
    if (value) {
        if (!parse_count("--epoch-deadline", value, &opts->epoch_deadline)) return OPTIONS_BAD;
        opts->has_epoch_deadline = true;
        opts->config.epoch_interruption = true;
        return OPTIONS_TAKEN;
    }
    return OPTIONS_NOT_MINE;
}

bool options_engine_start(const cli_options *opts, cli_engine *out) {
    out->ticker = NULL;
    out->engine = wafer_engine_new(&opts->config);
    if (!out->engine) {
        fprintf(stderr, "wafer: cannot create an engine: out of memory%s\n",
                opts->config.allocator == WAFER_ALLOCATOR_POOLING
                    ? " or address space for the pooling allocator"
                    : "");
        return false;
    }
    if (opts->has_epoch_deadline) {
        out->ticker = epoch_ticker_start(out->engine);
        if (!out->ticker) {
            fprintf(stderr, "wafer: cannot start the epoch ticker thread\n");
            wafer_engine_delete(out->engine);
            return false;
        }
    }
    return true;
}

void options_engine_stop(cli_engine *engine) {
    if (engine->ticker) epoch_ticker_stop(engine->ticker);
    wafer_engine_delete(engine->engine);
    engine->ticker = NULL;
    engine->engine = NULL;
}

void options_prepare_store(const cli_options *opts, wafer_store *store) {
    if (opts->has_fuel) wafer_store_set_fuel(store, opts->fuel);
    if (opts->has_epoch_deadline) wafer_store_set_epoch_deadline(store, opts->epoch_deadline);
}
