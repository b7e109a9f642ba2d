/* `wafer bench instantiate`: how long one instantiation takes (DESIGN.md section 5, issue 4
 * item 9). The module is compiled once and its imports stubbed; then each iteration makes a store,
 * instantiates through an InstancePre, calls a trivial export and deletes the store, as Wasmtime's
 * instantiation benchmark does (a store per instance). Benchmarks print figures; they assert
 * nothing.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "error_text.h"
#include "file_bytes.h"
#include "module_load.h"
#include "options.h"
#include "stub_imports.h"

const char bench_usage[] =
    "usage: wafer bench instantiate MODULE.wasm|MODULE.cwasm [OPTIONS]\n"
    "\n"
    "Compiles (or loads) the module once, stubs every import (functions return zeros; memories,\n"
    "tables and globals are made to the declared types), then repeatedly makes a store,\n"
    "instantiates the module in it, calls the trivial export and deletes the store, timing each\n"
    "iteration. Prints `instantiate: median X us, p10 Y us, p90 Z us, N iterations` last.\n"
    "A module importing only functions gets engine host functions as stubs and one InstancePre\n"
    "for every store. A module importing memories, tables or globals gets fresh stubs and an\n"
    "InstancePre per store (they belong to a store), made before the clock starts; deleting the\n"
    "store, timed, frees them.\n"
    "  --iterations N  timed iterations per thread (default 10000), after N/10 (at most 1000)\n"
    "                  untimed warm-up ones\n"
    "  --max-seconds S stop each thread's timed iterations after about S seconds (default 10)\n"
    "  --threads N     N threads instantiate at once, each with its own stores; prints each\n"
    "                  thread's figures and `throughput: K instances/s` (wall clock)\n"
    "  --phases        also print the parts of each iteration: making the store and instance,\n"
    "                  finding and calling the export, deleting the store\n"
    "  --call NAME     the trivial export to call after instantiating (default \"run\"); called\n"
    "                  only if it exists and takes no parameters\n"
    "  --rss N         instead of timing: keep N instances alive at once and print the resident\n"
    "                  memory they add (/proc/self/statm); one store holds them all when the\n"
    "                  module has no imports, else one store each\n";

/* The parts of one iteration that --phases times separately. */
enum { PHASE_INSTANTIATE, PHASE_CALL, PHASE_DROP, PHASES };
static const char *const phase_names[PHASES] = {"store+instantiate", "export+call", "drop store"};

typedef struct bench_setup {
    const cli_options *opts;
    wafer_engine *engine;
    wafer_module *module;
    const wafer_instance_pre *pre; /* NULL when the module imports more than functions */
    const char *call_name;
    FILE *stub_log; /* /dev/null: the stubs' call log is not part of what is measured */
    uint64_t iterations;
    uint64_t warmup;
    uint64_t budget_ns; /* per thread, timed part; the warm-up gets a tenth of it */
    bool phases;        /* also time the parts of each iteration */
    pthread_barrier_t start;
} bench_setup;

typedef struct bench_thread {
    bench_setup *setup;
    pthread_t id;
    uint64_t *ns; /* per timed iteration */
    uint64_t *phase_ns[PHASES]; /* with setup->phases: per timed iteration, per phase */
    uint64_t done; /* timed iterations made: fewer than asked when the time budget ran out */
    uint64_t began, ended; /* the timed part, CLOCK_MONOTONIC */
    char error[512];
} bench_thread;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void describe_error(char *buf, size_t size, const char *what, wafer_error *err) {
    snprintf(buf, size, "%s: %s: %s", what, error_text_kind(wafer_error_kind_of(err)),
             wafer_error_message(err));
    wafer_error_free(err);
}

/* A store holding stubs for the module's imports and an InstancePre over them. */
static bool store_with_stubs(bench_setup *s, wafer_store **store, wafer_instance_pre **pre,
                             char *why, size_t why_size) {
    *pre = NULL;
    *store = wafer_store_new(s->engine);
    if (!*store) {
        snprintf(why, why_size, "cannot make a store: out of memory");
        return false;
    }
    wafer_extern *externs;
    if (!stub_imports_new(*store, s->module, s->stub_log, &externs, why, why_size)) {
        wafer_store_delete(*store);
        return false;
    }
    wafer_error *err = wafer_instance_pre_new(*store, s->module, externs,
                                              wafer_module_import_count(s->module), pre);
    free(externs);
    if (err) {
        describe_error(why, why_size, "cannot pre-instantiate", err);
        wafer_store_delete(*store);
        return false;
    }
    return true;
}

/* Instantiates into store and calls the trivial export, if any. *called (may be NULL) gets the
 * time the instance was made. */
static bool instantiate_and_call(bench_setup *s, const wafer_instance_pre *pre, wafer_store *store,
                                 uint64_t *made_at, char *why, size_t why_size) {
    options_prepare_store(s->opts, store);
    wafer_instance *instance;
    wafer_error *err = wafer_instance_pre_instantiate(pre, store, &instance);
    if (made_at) *made_at = now_ns();
    if (err) {
        describe_error(why, why_size, "cannot instantiate", err);
        return false;
    }
    wafer_extern ext;
    if (!wafer_instance_export(instance, s->call_name, strlen(s->call_name), &ext) ||
        ext.kind != WAFER_EXTERN_FUNC)
        return true;
    const wafer_functype *type = wafer_func_type(ext.of.func);
    if (type->num_params != 0) return true;
    wafer_value results[16];
    if (type->num_results > sizeof results / sizeof results[0]) return true;
    options_prepare_store(s->opts, store);
    err = wafer_func_call(store, ext.of.func, NULL, 0, results, type->num_results);
    if (err) {
        describe_error(why, why_size, "the trivial export failed", err);
        return false;
    }
    for (uint32_t i = 0; i < type->num_results; i++) wafer_value_release(&results[i]);
    return true;
}

/* One iteration: store, instance, call, store deleted. *ns gets the time from making the store to
 * deleting it; for a module with imports, making the stubs comes before the clock starts. With
 * phases (may be NULL), phases[PHASE_*] get the parts of that time. */
static bool iteration(bench_setup *s, uint64_t *ns, uint64_t *phases, char *why,
                      size_t why_size) {
    wafer_store *store;
    wafer_instance_pre *own_pre = NULL;
    const wafer_instance_pre *pre = s->pre;
    uint64_t start;
    if (pre) {
        start = now_ns();
        store = wafer_store_new(s->engine);
        if (!store) {
            snprintf(why, why_size, "cannot make a store: out of memory");
            return false;
        }
    } else {
        if (!store_with_stubs(s, &store, &own_pre, why, why_size)) return false;
        pre = own_pre;
        start = now_ns();
    }
    uint64_t made = 0, called = 0;
    bool ok = instantiate_and_call(s, pre, store, phases ? &made : NULL, why, why_size);
    if (phases) called = now_ns();
    wafer_store_delete(store);
    uint64_t end = now_ns();
    *ns = end - start;
    if (phases) {
        phases[PHASE_INSTANTIATE] = made - start;
        phases[PHASE_CALL] = called - made;
        phases[PHASE_DROP] = end - called;
    }
    wafer_instance_pre_delete(own_pre);
    return ok;
}

static void *bench_thread_main(void *arg) {
    bench_thread *t = arg;
    bench_setup *s = t->setup;
    uint64_t ignored;
    bool ok = true;
    uint64_t warm_end = now_ns() + s->budget_ns / 10;
    for (uint64_t i = 0; ok && i < s->warmup && now_ns() < warm_end; i++)
        ok = iteration(s, &ignored, NULL, t->error, sizeof t->error);
    pthread_barrier_wait(&s->start);
    t->began = now_ns();
    uint64_t end = t->began + s->budget_ns;
    for (t->done = 0; ok && t->done < s->iterations && (t->done == 0 || now_ns() < end);
         t->done++) {
        uint64_t phases[PHASES];
        ok = iteration(s, &t->ns[t->done], s->phases ? phases : NULL, t->error, sizeof t->error);
        for (int p = 0; s->phases && p < PHASES; p++) t->phase_ns[p][t->done] = phases[p];
    }
    t->ended = now_ns();
    return NULL;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-th quantile of sorted[0..n), nearest rank. */
static double quantile_us(const uint64_t *sorted, uint64_t n, double q) {
    uint64_t rank = (uint64_t)(q * (double)(n - 1) + 0.5);
    return (double)sorted[rank] / 1000.0;
}

static void print_summary(const char *label, uint64_t *ns, uint64_t n) {
    qsort(ns, n, sizeof *ns, compare_u64);
    printf("%s: median %.2f us, p10 %.2f us, p90 %.2f us, %" PRIu64 " iterations\n", label,
           quantile_us(ns, n, 0.5), quantile_us(ns, n, 0.1), quantile_us(ns, n, 0.9), n);
}

static int run_timed(bench_setup *s, unsigned threads) {
    bench_thread *t = calloc(threads, sizeof *t);
    uint64_t *all = malloc((size_t)threads * s->iterations * sizeof *all);
    uint64_t *phase_all[PHASES] = {NULL};
    bool phases_ok = true;
    for (int p = 0; s->phases && p < PHASES; p++) {
        phase_all[p] = malloc((size_t)threads * s->iterations * sizeof *all);
        phases_ok = phases_ok && phase_all[p];
    }
    if (!t || !all || !phases_ok) {
        free(t);
        free(all);
        for (int p = 0; p < PHASES; p++) free(phase_all[p]);
        fprintf(stderr, "wafer bench: out of memory\n");
        return EXIT_FAILED;
    }
    pthread_barrier_init(&s->start, NULL, threads + 1);
    unsigned started = 0;
    for (; started < threads; started++) {
        t[started].setup = s;
        t[started].ns = all + (size_t)started * s->iterations;
        for (int p = 0; s->phases && p < PHASES; p++)
            t[started].phase_ns[p] = phase_all[p] + (size_t)started * s->iterations;
        if (pthread_create(&t[started].id, NULL, bench_thread_main, &t[started]) != 0) break;
    }
    if (started < threads) {
        /* The barrier counts on every thread; without them all there is no sound run. */
        fprintf(stderr, "wafer bench: cannot start thread %u\n", started);
        exit(EXIT_FAILED);
    }
    pthread_barrier_wait(&s->start);
    for (unsigned i = 0; i < threads; i++) pthread_join(t[i].id, NULL);
    pthread_barrier_destroy(&s->start);
    /* Wall time from the first thread's start to the last one's end. */
    uint64_t began = UINT64_MAX, ended = 0;
    for (unsigned i = 0; i < threads; i++) {
        if (t[i].began < began) began = t[i].began;
        if (t[i].ended > ended) ended = t[i].ended;
    }
    uint64_t wall = ended > began ? ended - began : 1;

    int status = EXIT_OK;
    for (unsigned i = 0; i < threads; i++) {
        if (t[i].error[0]) {
            fprintf(stderr, "wafer bench: thread %u: %s\n", i, t[i].error);
            status = EXIT_FAILED;
        }
    }
    if (status == EXIT_OK) {
        /* Gather every thread's samples at the front of all, for the overall figures. */
        uint64_t total = 0;
        for (unsigned i = 0; i < threads; i++) {
            if (threads > 1) {
                char label[32];
                snprintf(label, sizeof label, "thread %u", i);
                print_summary(label, t[i].ns, t[i].done);
            }
            memmove(all + total, t[i].ns, t[i].done * sizeof *all);
            total += t[i].done;
        }
        for (int p = 0; s->phases && p < PHASES; p++) {
            uint64_t n = 0;
            for (unsigned i = 0; i < threads; i++) {
                memmove(phase_all[p] + n, t[i].phase_ns[p], t[i].done * sizeof *all);
                n += t[i].done;
            }
            print_summary(phase_names[p], phase_all[p], n);
        }
        printf("throughput: %.0f instances/s (%u thread%s, %.3f s wall%s)\n",
               (double)total * 1e9 / (double)wall, threads, threads == 1 ? "" : "s",
               (double)wall / 1e9, s->pre ? "" : ", making stubs for each store included");
        print_summary("instantiate", all, total);
    }
    for (int p = 0; p < PHASES; p++) free(phase_all[p]);
    free(all);
    free(t);
    return status;
}

/* Resident bytes of this process, from /proc/self/statm (its second field, in pages). */
static bool resident_bytes(uint64_t *out) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return false;
    unsigned long long size, resident;
    bool ok = fscanf(f, "%llu %llu", &size, &resident) == 2;
    fclose(f);
    *out = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
    return ok;
}

static int run_rss(bench_setup *s, uint64_t count) {
    char why[512] = "";
    uint64_t ignored;
    /* One instance made and dropped first, so what is made once per engine or module (pool
     * bookkeeping, lazily built data) is not counted as the instances'. */
    if (!iteration(s, &ignored, NULL, why, sizeof why)) {
        fprintf(stderr, "wafer bench: %s\n", why);
        return EXIT_FAILED;
    }
    bool shared_store = s->pre != NULL;
    size_t nstores = shared_store ? 1 : count;
    wafer_store **stores = calloc(nstores, sizeof *stores);
    wafer_instance_pre **pres = calloc(nstores, sizeof *pres);
    if (!stores || !pres) {
        free(stores);
        free(pres);
        fprintf(stderr, "wafer bench: out of memory\n");
        return EXIT_FAILED;
    }
    uint64_t before, after;
    bool ok = resident_bytes(&before);
    if (shared_store) {
        stores[0] = wafer_store_new(s->engine);
        ok = ok && stores[0];
    }
    uint64_t made = 0;
    for (; ok && made < count; made++) {
        if (shared_store) {
            ok = instantiate_and_call(s, s->pre, stores[0], NULL, why, sizeof why);
        } else {
            ok = store_with_stubs(s, &stores[made], &pres[made], why, sizeof why) &&
                 instantiate_and_call(s, pres[made], stores[made], NULL, why, sizeof why);
        }
    }
    ok = ok && resident_bytes(&after);
    for (size_t i = 0; i < nstores; i++) {
        wafer_store_delete(stores[i]);
        wafer_instance_pre_delete(pres[i]);
    }
    free(stores);
    free(pres);
    if (!ok) {
        fprintf(stderr, "wafer bench: after %" PRIu64 " live instances: %s\n", made,
                why[0] ? why : "cannot read /proc/self/statm");
        return EXIT_FAILED;
    }
    double added = after > before ? (double)(after - before) : 0.0;
    printf("rss: %" PRIu64 " live instances add %.2f MiB (%.1f KiB each; %s)\n", count,
           added / (1024.0 * 1024.0), added / 1024.0 / (double)count,
           shared_store ? "one store" : "a store each, with its stubs");
    return EXIT_OK;
}

static bool parse_positive(const char *flag, const char *text, uint64_t *out) {
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || value == 0 || value > (1u << 30)) {
        fprintf(stderr, "wafer bench: %s needs a positive integer, got \"%s\"\n", flag, text);
        return false;
    }
    *out = value;
    return true;
}

/* Whether the module exports a function named name that takes no parameters: the export each
 * iteration calls (instantiate_and_call). */
static bool has_trivial_export(const wafer_module *module, const char *name) {
    for (size_t i = 0; i < wafer_module_export_count(module); i++) {
        wafer_export_desc e = wafer_module_export(module, i);
        if (e.type.kind == WAFER_EXTERN_FUNC && e.name.len == strlen(name) &&
            memcmp(e.name.bytes, name, e.name.len) == 0)
            return e.type.of.func->num_params == 0;
    }
    return false;
}

static int bench_instantiate(const cli_options *opts, const char *path, uint64_t iterations,
                             uint64_t threads, uint64_t rss, const char *call_name,
                             uint64_t budget_ns, bool phases) {
    uint8_t *bytes;
    size_t len;
    const char *why;
    if (!file_bytes_read(path, &bytes, &len, &why)) {
        fprintf(stderr, "wafer bench: %s: %s\n", path, why);
        return EXIT_FAILED;
    }
    cli_engine engine;
    if (!options_engine_start(opts, &engine)) {
        free(bytes);
        return EXIT_FAILED;
    }
    bench_setup s = {
        .opts = opts,
        .engine = engine.engine,
        .call_name = call_name,
        .iterations = iterations,
        .warmup = iterations / 10 < 1000 ? iterations / 10 : 1000,
        .budget_ns = budget_ns,
        .phases = phases,
    };
    int status = EXIT_FAILED;
    wafer_instance_pre *pre = NULL;
    wafer_error *err = module_load(engine.engine, path, bytes, len, &s.module);
    free(bytes);
    if (err) {
        fprintf(stderr, "wafer bench: %s: %s: %s\n", path,
                error_text_kind(wafer_error_kind_of(err)), wafer_error_message(err));
        wafer_error_free(err);
        goto done;
    }
    if (!has_trivial_export(s.module, call_name))
        printf("call: no export \"%s\" without parameters: each iteration is instantiate + "
               "drop\n", call_name);
    s.stub_log = fopen("/dev/null", "w");
    if (!s.stub_log) {
        fprintf(stderr, "wafer bench: cannot open /dev/null\n");
        goto done;
    }
    /* A module importing only functions gets engine host functions as stubs, so one store-less
     * InstancePre serves every store (wafer.h, "Pre-instantiation"), as a Wasmtime Linker's
     * host functions do. */
    wafer_extern *engine_stubs = NULL;
    char stub_why[512];
    if (stub_imports_new_for_engine(engine.engine, s.module, s.stub_log, &engine_stubs, stub_why,
                                    sizeof stub_why)) {
        err = wafer_instance_pre_new(NULL, s.module, engine_stubs,
                                     wafer_module_import_count(s.module), &pre);
        free(engine_stubs);
        if (err) {
            fprintf(stderr, "wafer bench: %s: cannot pre-instantiate: %s\n", path,
                    wafer_error_message(err));
            wafer_error_free(err);
            goto done;
        }
        s.pre = pre;
    }
    status = rss ? run_rss(&s, rss) : run_timed(&s, (unsigned)threads);
done:
    wafer_instance_pre_delete(pre);
    wafer_module_release(s.module);
    if (s.stub_log) fclose(s.stub_log);
    options_engine_stop(&engine);
    return status;
}

int bench_main(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "instantiate") != 0) {
        fprintf(stderr, "wafer bench: the only benchmark is \"instantiate\" (see wafer help "
                        "bench)\n");
        return EXIT_USAGE;
    }
    cli_options opts;
    options_init(&opts);
    const char *path = NULL, *call_name = "run";
    uint64_t iterations = 10000, threads = 1, rss = 0;
    double max_seconds = 10;
    bool phases = false;
    int i = 1;
    while (i < argc) {
        options_result taken = options_take(&opts, argc, argv, &i);
        if (taken == OPTIONS_BAD) return EXIT_USAGE;
        if (taken == OPTIONS_TAKEN) continue;
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "--iterations") == 0 && has_value) {
            if (!parse_positive(arg, argv[i + 1], &iterations)) return EXIT_USAGE;
        } else if (strcmp(arg, "--threads") == 0 && has_value) {
            if (!parse_positive(arg, argv[i + 1], &threads)) return EXIT_USAGE;
            if (threads > 1024) {
                fprintf(stderr, "wafer bench: --threads is at most 1024\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(arg, "--rss") == 0 && has_value) {
            if (!parse_positive(arg, argv[i + 1], &rss)) return EXIT_USAGE;
        } else if (strcmp(arg, "--phases") == 0) {
            phases = true;
            i += 1;
            continue;
        } else if (strcmp(arg, "--max-seconds") == 0 && has_value) {
            char *end;
            max_seconds = strtod(argv[i + 1], &end);
            if (*end != '\0' || !(max_seconds > 0 && max_seconds < 1e6)) {
                fprintf(stderr, "wafer bench: --max-seconds needs a positive number\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(arg, "--call") == 0 && has_value) {
            call_name = argv[i + 1];
        } else if (arg[0] != '-' && !path) {
            path = arg;
            i += 1;
            continue;
        } else {
            fprintf(stderr, "wafer bench: unexpected argument %s (see wafer help bench)\n", arg);
            return EXIT_USAGE;
        }
        i += 2;
    }
    if (!path) {
        fprintf(stderr, "wafer bench: needs a module (see wafer help bench)\n");
        return EXIT_USAGE;
    }
    return bench_instantiate(&opts, path, iterations, threads, rss, call_name,
                             (uint64_t)(max_seconds * 1e9), phases);
}
