/* `wafer diff`: run modules in wafer and in reference engines under one invocation protocol and
 * print one verdict per module (DESIGN.md sections 4 and 5). The engines and the rules are in
 * oracles/; this file chooses engines, batches modules, prints and saves. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../oracles/compare.h"
#include "../oracles/oracle.h"
#include "../oracles/subprocess.h"
#include "commands.h"
#include "file_bytes.h"
#include "options.h"

const char diff_usage[] =
    "usage: wafer diff MODULE.wasm... [--oracle wabt|binaryen|v8|all] [--save DIR]\n"
    "                  [--time-limit MS] [--memory-limit MIB] [--class] [OPTIONS]\n"
    "\n"
    "Runs each module in wafer and in a reference engine under the same protocol (instantiate\n"
    "with logging stand-ins for every import; call every exported function, in export order,\n"
    "with zero arguments, hangLimitInitializer first if exported; read exported globals and\n"
    "memories) and compares what each saw. One line per module:\n"
    "  MODULE: agree\n"
    "  MODULE: inconclusive: WHY        an engine ran out of stack, memory, fuel or time, lacks\n"
    "                                   a feature, crashed, or a known reference bug explains it\n"
    "  MODULE: MISMATCH: WHAT           a finding; \"MISMATCH (trap kind)\" when both trapped\n"
    "                                   but with different kinds\n"
    "\n"
    "  --oracle NAME     the reference: wabt (default; spectest-interp), binaryen, v8, or all\n"
    "                    (every one available; the worst verdict counts)\n"
    "  --save DIR        per mismatch, write DIR/HASH.wasm and HASH.wat, each engine's\n"
    "                    observations (HASH.ORACLE.obs, HASH.ORACLE.wafer.obs) and\n"
    "                    HASH.ORACLE.txt (the verdict and a one-line repro command)\n"
    "  --time-limit MS   per module in a reference engine (default 20000)\n"
    "  --memory-limit MIB address-space limit of reference processes (default 1536)\n"
    "  --fuel N          wafer's fuel per instantiation and per call (default 100000000)\n"
    "  --pooling, --no-memory-image, --static-memory-forced, feature switches: as below,\n"
    "                    for wafer (features also for the reference)\n"
    "  --observations    after each verdict, print what each engine saw (observation.h's\n"
    "                    format, each line indented and prefixed by the engine's name)\n"
    "  --class           print only the verdict's class (\"agree\", \"inconclusive\",\n"
    "                    \"MISMATCH value\", ...), no module path: the fixed output that\n"
    "                    wafer reduce keeps while it shrinks a module\n"
    "\n"
    "Exit status: 0 if no module mismatched, 1 if any did, 2 on a usage error, an unavailable\n"
    "oracle or a module file that cannot be read.\n";

#define CHUNK 64

typedef struct diff_request {
    const char **paths;
    size_t npaths;
    const char *oracle;
    const char *save_dir;
    bool class_only;
    bool show; /* --observations */
    cli_options cli;
    oracle_options options;
} diff_request;

/* One reference engine in use, with the wafer session configured for its limits. */
typedef struct reference {
    const oracle_engine *engine;
    oracle_session *session;
    oracle_session *wafer;
} reference;

static bool parse_number(const char *flag, const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno == ERANGE || text[0] == '-') {
        fprintf(stderr, "wafer diff: %s needs a non-negative integer, got \"%s\"\n", flag, text);
        return false;
    }
    *out = v;
    return true;
}

static int parse_request(int argc, char **argv, diff_request *req) {
    memset(req, 0, sizeof *req);
    options_init(&req->cli);
    oracle_options_default(&req->options);
    req->oracle = "wabt";
    req->paths = calloc((size_t)argc + 1, sizeof *req->paths);
    if (!req->paths) return EXIT_FAILED;
    int i = 0;
    while (i < argc) {
        options_result taken = options_take(&req->cli, argc, argv, &i);
        if (taken == OPTIONS_BAD) return EXIT_USAGE;
        if (taken == OPTIONS_TAKEN) continue;
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (strcmp(arg, "--class") == 0 || strcmp(arg, "--observations") == 0) {
            if (arg[2] == 'c') req->class_only = true;
            else req->show = true;
            i++;
            continue;
        }
        if (strcmp(arg, "--oracle") == 0 || strcmp(arg, "--save") == 0 ||
            strcmp(arg, "--time-limit") == 0 || strcmp(arg, "--memory-limit") == 0) {
            if (!value) {
                fprintf(stderr, "wafer diff: %s needs a value\n", arg);
                return EXIT_USAGE;
            }
            if (strcmp(arg, "--oracle") == 0) {
                req->oracle = value;
            } else if (strcmp(arg, "--save") == 0) {
                req->save_dir = value;
            } else if (strcmp(arg, "--time-limit") == 0) {
                if (!parse_number(arg, value, &n) || n == 0 || n > 3600000) return EXIT_USAGE;
                req->options.time_limit_ms = (unsigned)n;
            } else {
                if (!parse_number(arg, value, &n) || n == 0 || n > (UINT64_C(1) << 24))
                    return EXIT_USAGE;
                req->options.memory_limit_bytes = n << 20;
            }
            i += 2;
            continue;
        }
        if (strncmp(arg, "--", 2) == 0) {
            fprintf(stderr, "wafer diff: unknown option %s (see wafer help diff)\n", arg);
            return EXIT_USAGE;
        }
        req->paths[req->npaths++] = arg;
        i++;
    }
    if (req->npaths == 0) {
        fprintf(stderr, "wafer diff: no module given (see wafer help diff)\n");
        return EXIT_USAGE;
    }
    if (req->cli.has_epoch_deadline) {
        fprintf(stderr, "wafer diff: --epoch-deadline is not used by diff (wafer runs on fuel)\n");
        return EXIT_USAGE;
    }
    req->options.features = req->cli.config.features;
    req->options.wafer_config = &req->cli.config;
    if (req->cli.has_fuel) req->options.fuel = req->cli.fuel;
    return EXIT_OK;
}

/* Opens the references asked for and a wafer session for each. */
static int open_references(const diff_request *req, reference *refs, size_t *nrefs) {
    static const char *const all[] = {"wabt", "binaryen", "v8"};
    bool every = strcmp(req->oracle, "all") == 0;
    size_t count = every ? 3 : 1;
    *nrefs = 0;
    for (size_t i = 0; i < count; i++) {
        const char *name = every ? all[i] : req->oracle;
        char why[300];
        const oracle_engine *engine = oracle_find(name, why, sizeof why);
        oracle_session *session = NULL, *wafer = NULL;
        if (engine && !engine->open(&req->options, &session, why, sizeof why)) engine = NULL;
        if (engine) {
            oracle_options wafer_options = req->options;
            wafer_options.limits = engine->limits;
            if (!oracle_wafer.open(&wafer_options, &wafer, why, sizeof why)) {
                engine->close(session);
                fprintf(stderr, "wafer diff: %s\n", why);
                return EXIT_FAILED;
            }
        }
        if (!engine) {
            fprintf(stderr, "wafer diff: %s%s\n", why, every ? "; going on without it" : "");
            if (!every) return EXIT_USAGE;
            continue;
        }
        refs[(*nrefs)++] = (reference){engine, session, wafer};
    }
    if (*nrefs == 0) {
        fprintf(stderr, "wafer diff: no oracle is available\n");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static void close_references(reference *refs, size_t nrefs) {
    for (size_t i = 0; i < nrefs; i++) {
        refs[i].engine->close(refs[i].session);
        oracle_wafer.close(refs[i].wafer);
    }
}

/* ---- Saving a mismatch ---------------------------------------------------------------------- */

static bool write_file(const char *path, const void *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(bytes, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static bool write_observations(const char *path, const observation_list *list) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    bool ok = observation_list_write(f, list);
    return fclose(f) == 0 && ok;
}

/* The feature flags that differ from wafer's defaults, as a command line would repeat them. */
static void feature_flags_text(uint32_t features, char *buf, size_t size) {
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {WAFER_FEATURE_MUTABLE_GLOBALS, "mutable-globals"},
        {WAFER_FEATURE_SIGN_EXTENSION, "sign-extension"},
        {WAFER_FEATURE_SAT_FLOAT_TO_INT, "saturating-float-to-int"},
        {WAFER_FEATURE_MULTI_VALUE, "multi-value"},
        {WAFER_FEATURE_BULK_MEMORY, "bulk-memory"},
        {WAFER_FEATURE_REFERENCE_TYPES, "reference-types"},
        {WAFER_FEATURE_MEMORY64, "memory64"},
        {WAFER_FEATURE_MULTI_MEMORY, "multi-memory"},
        {WAFER_FEATURE_SIMD, "simd"},
    };
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bool on = features & names[i].bit, by_default = WAFER_FEATURES_DEFAULT & names[i].bit;
        if (on == by_default) continue;
        int n = snprintf(buf + len, size - len, " --%s-%s", on ? "enable" : "disable",
                         names[i].name);
        if (n < 0 || (size_t)n >= size - len) break;
        len += (size_t)n;
    }
}

/* wasm2wat's text of the module, or its error, into path. */
static void write_wat(const char *module_path, const char *path) {
    char *argv[] = {"wasm2wat", "--enable-all", "--no-check", (char *)module_path, "-o",
                    (char *)path, NULL};
    subprocess_limits limits = {.time_ms = 30000};
    subprocess_result res;
    char why[200];
    if (!subprocess_run(argv, NULL, 0, &limits, &res, why, sizeof why)) {
        write_file(path, why, strlen(why));
        return;
    }
    if (res.end != SUBPROCESS_EXITED || res.status != 0) write_file(path, res.err, res.err_len);
    subprocess_result_free(&res);
}

static void save_mismatch(const diff_request *req, const char *source, const uint8_t *bytes,
                          size_t len, const reference *ref, const observation_list *ours,
                          const observation_list *theirs, const verdict *v) {
    char base[4096], path[4200];
    snprintf(base, sizeof base, "%s/%016llx", req->save_dir,
             (unsigned long long)obs_fnv1a64(bytes, len));
    mkdir(req->save_dir, 0777);
    snprintf(path, sizeof path, "%s.wasm", base);
    bool ok = write_file(path, bytes, len);
    char wat[4200];
    snprintf(wat, sizeof wat, "%s.wat", base);
    if (ok) write_wat(path, wat);
    snprintf(path, sizeof path, "%s.%s.wafer.obs", base, ref->engine->name);
    ok = ok && write_observations(path, ours);
    snprintf(path, sizeof path, "%s.%s.obs", base, ref->engine->name);
    ok = ok && write_observations(path, theirs);
    char flags[600];
    feature_flags_text(req->options.features, flags, sizeof flags);
    size_t used = strlen(flags);
    const wafer_config *c = &req->cli.config;
    snprintf(flags + used, sizeof flags - used, "%s%s%s",
             c->allocator == WAFER_ALLOCATOR_POOLING ? " --pooling" : "",
             c->memory_images ? "" : " --no-memory-image",
             c->static_memory_forced ? " --static-memory-forced" : "");
    used = strlen(flags);
    if (req->cli.has_fuel)
        snprintf(flags + used, sizeof flags - used, " --fuel %llu",
                 (unsigned long long)req->cli.fuel);
    oracle_options defaults;
    oracle_options_default(&defaults);
    used = strlen(flags);
    if (req->options.time_limit_ms != defaults.time_limit_ms)
        snprintf(flags + used, sizeof flags - used, " --time-limit %u",
                 req->options.time_limit_ms);
    used = strlen(flags);
    if (req->options.memory_limit_bytes != defaults.memory_limit_bytes)
        snprintf(flags + used, sizeof flags - used, " --memory-limit %llu",
                 (unsigned long long)(req->options.memory_limit_bytes >> 20));
    snprintf(path, sizeof path, "%s.%s.txt", base, ref->engine->name);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "source: %s\nverdict (%s): %s\nrepro: wafer diff %s.wasm --oracle %s%s\n",
                source, ref->engine->name, v->text, base, ref->engine->name, flags);
        ok = fclose(f) == 0 && ok;
    } else {
        ok = false;
    }
    if (!ok) fprintf(stderr, "wafer diff: could not save everything under %s\n", base);
}

/* ---- Running ---------------------------------------------------------------------------------- */

/* For --oracle all: a mismatch outranks a trap-kind mismatch, which outranks agreement, which
 * outranks inconclusive (one engine agreeing is evidence; one giving up is not). */
static int combined_rank(verdict_kind kind) {
    switch (kind) {
    case VERDICT_MISMATCH: return 3;
    case VERDICT_TRAP_KIND: return 2;
    case VERDICT_AGREE: return 1;
    case VERDICT_INCONCLUSIVE: return 0;
    }
    return 0;
}

typedef struct tally {
    size_t agree, inconclusive, mismatch, unreadable;
} tally;

static void print_verdict(const diff_request *req, const char *path, const verdict *v,
                          const char *engine_name, size_t nrefs) {
    if (req->class_only) {
        if (v->kind == VERDICT_AGREE) puts("agree");
        else if (v->kind == VERDICT_INCONCLUSIVE) puts("inconclusive");
        else printf("MISMATCH %s\n", v->what);
        return;
    }
    if (nrefs > 1 && v->kind != VERDICT_AGREE) {
        /* Name the engine: "MISMATCH: v8: ...", "inconclusive: wabt: ..." */
        const char *colon = strchr(v->text, ':');
        if (colon) {
            printf("%s: %.*s: %s:%s\n", path, (int)(colon - v->text), v->text, engine_name,
                   colon + 1);
            return;
        }
    }
    printf("%s: %s\n", path, v->text);
}

/* Both lists as indented text, for --observations (NULL if memory ran out). */
static char *show_text(const char *reference_name, const observation_list *ours,
                       const observation_list *theirs) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    const observation_list *lists[2] = {ours, theirs};
    const char *names[2] = {"wafer", reference_name};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < lists[k]->count; i++) {
            fprintf(f, "  %s: ", names[k]);
            observation_write(f, &lists[k]->items[i]);
        }
    }
    fclose(f);
    return text;
}

/* Runs and judges paths[0..n); false if the harness broke (a message was printed). */
static bool diff_chunk(const diff_request *req, reference *refs, size_t nrefs,
                       const char *const *paths, size_t n, tally *t) {
    uint8_t *bytes[CHUNK] = {0};
    size_t lens[CHUNK] = {0};
    oracle_module modules[CHUNK];
    size_t index_of[CHUNK], count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *why;
        if (!file_bytes_read(paths[i], &bytes[i], &lens[i], &why)) {
            fprintf(stderr, "wafer diff: %s: %s\n", paths[i], why);
            if (!req->class_only) printf("%s: error: cannot read the file\n", paths[i]);
            t->unreadable++;
            continue;
        }
        modules[count] = (oracle_module){paths[i], bytes[i], lens[i]};
        index_of[count++] = i;
    }
    observation_list ours[CHUNK], theirs[CHUNK];
    verdict best[CHUNK];
    char *shown[CHUNK][3] = {{0}};
    size_t best_ref[CHUNK] = {0};
    for (size_t i = 0; i < count; i++) best[i].kind = VERDICT_INCONCLUSIVE;
    bool ok = true;
    for (size_t r = 0; r < nrefs && ok; r++) {
        for (size_t i = 0; i < count; i++) {
            observation_list_init(&ours[i]);
            observation_list_init(&theirs[i]);
        }
        char why[400];
        ok = refs[r].engine->run(refs[r].session, modules, count, theirs, why, sizeof why) &&
             oracle_wafer.run(refs[r].wafer, modules, count, ours, why, sizeof why);
        if (!ok) fprintf(stderr, "wafer diff: %s: %s\n", refs[r].engine->name, why);
        for (size_t i = 0; i < count && ok; i++) {
            module_facts facts;
            char facts_why[200];
            bool have_facts = module_facts_read(modules[i].bytes, modules[i].len, &facts,
                                                facts_why, sizeof facts_why);
            verdict v;
            compare_observations(&ours[i], &theirs[i], refs[r].engine->name,
                                 have_facts ? &facts : NULL, &v);
            if (have_facts) module_facts_free(&facts);
            if (r == 0 || combined_rank(v.kind) > combined_rank(best[i].kind)) {
                best[i] = v;
                best_ref[i] = r;
            }
            if ((v.kind == VERDICT_MISMATCH || v.kind == VERDICT_TRAP_KIND) && req->save_dir)
                save_mismatch(req, modules[i].path, modules[i].bytes, modules[i].len, &refs[r],
                              &ours[i], &theirs[i], &v);
            if (req->show) {
                free(shown[i][r]);
                shown[i][r] = show_text(refs[r].engine->name, &ours[i], &theirs[i]);
            }
        }
        for (size_t i = 0; i < count; i++) {
            observation_list_free(&ours[i]);
            observation_list_free(&theirs[i]);
        }
    }
    for (size_t i = 0; i < count && ok; i++) {
        print_verdict(req, paths[index_of[i]], &best[i], refs[best_ref[i]].engine->name, nrefs);
        for (size_t r = 0; r < nrefs; r++)
            if (shown[i][r]) fputs(shown[i][r], stdout);
        switch (best[i].kind) {
        case VERDICT_AGREE: t->agree++; break;
        case VERDICT_INCONCLUSIVE: t->inconclusive++; break;
        default: t->mismatch++; break;
        }
    }
    fflush(stdout);
    for (size_t i = 0; i < n; i++) free(bytes[i]);
    for (size_t i = 0; i < count; i++)
        for (size_t r = 0; r < nrefs; r++) free(shown[i][r]);
    return ok;
}

int diff_main(int argc, char **argv) {
    diff_request req;
    int status = parse_request(argc, argv, &req);
    if (status != EXIT_OK) {
        free(req.paths);
        return status;
    }
    reference refs[3];
    size_t nrefs = 0;
    status = open_references(&req, refs, &nrefs);
    if (status != EXIT_OK) {
        free(req.paths);
        return status;
    }
    tally t = {0};
    bool ok = true;
    for (size_t start = 0; start < req.npaths && ok; start += CHUNK) {
        size_t n = req.npaths - start < CHUNK ? req.npaths - start : CHUNK;
        ok = diff_chunk(&req, refs, nrefs, req.paths + start, n, &t);
    }
    close_references(refs, nrefs);
    free(req.paths);
    if (!req.class_only)
        fprintf(stderr, "wafer diff: %zu modules: %zu agree, %zu inconclusive, %zu mismatch%s\n",
                t.agree + t.inconclusive + t.mismatch, t.agree, t.inconclusive, t.mismatch,
                t.unreadable ? " (and unreadable files)" : "");
    if (!ok) return EXIT_USAGE;
    if (t.mismatch) return EXIT_FAILED;
    return t.unreadable ? EXIT_USAGE : EXIT_OK;
}
