/* The externref figures of issue 5 (`make bench-externref`): what a store that never uses an
 * externref allocates, the cost of an externref passed into wasm and back, and the time one
 * collection takes with 10,000 references live in wasm frames. Figures only; nothing here passes
 * or fails on a time.
 *
 * Allocations are counted by wrapping malloc, calloc and realloc at link time
 * (-Wl,--wrap=...), so the count covers everything the runtime allocates.
 *
 * usage: externref_bench MODULE.wasm (bench/externref.wat, assembled by the Makefile)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wafer.h"

/* ---- Allocation counting ------------------------------------------------------------------ */

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
static uint64_t allocations;

void *__wrap_malloc(size_t size) {
    allocations++;
    return __real_malloc(size);
}
void *__wrap_calloc(size_t count, size_t size) {
    allocations++;
    return __real_calloc(count, size);
}
void *__wrap_realloc(void *p, size_t size) {
    allocations++;
    return __real_realloc(p, size);
}

/* ---- Helpers ------------------------------------------------------------------------------ */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void check(wafer_error *err, const char *what) {
    if (!err) return;
    fprintf(stderr, "externref_bench: %s: %s\n", what, wafer_error_message(err));
    exit(1);
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median and spread of n samples in ns, printed in us. */
static void print_samples(const char *label, uint64_t *ns, size_t n, double divide) {
    qsort(ns, n, sizeof *ns, compare_u64);
    printf("%s: median %.3f us, p10 %.3f us, p90 %.3f us (%zu runs)\n", label,
           (double)ns[n / 2] / 1000.0 / divide, (double)ns[n / 10] / 1000.0 / divide,
           (double)ns[n * 9 / 10] / 1000.0 / divide, n);
}

typedef struct bench {
    wafer_engine *engine;
    wafer_module *module;
    wafer_store *store;
    wafer_instance *instance;
    uint64_t *gc_ns; /* timed collections, made by the deepest frame of "hold" */
    size_t gc_runs, gc_wanted;
} bench;

static wafer_error *host_collect(void *env, wafer_caller *caller, const wafer_value *args,
                                 wafer_value *results) {
    bench *b = env;
    for (; b->gc_runs < b->gc_wanted; b->gc_runs++) {
        uint64_t t0 = now_ns();
        wafer_store_gc(wafer_caller_store(caller));
        b->gc_ns[b->gc_runs] = now_ns() - t0;
    }
    return NULL;
}

static void instantiate(bench *b) {
    b->store = wafer_store_new(b->engine);
    wafer_functype none = {0, 0, NULL, NULL};
    wafer_extern imp = {WAFER_EXTERN_FUNC,
                        .of.func = wafer_func_new_host(b->store, &none, host_collect, b, NULL)};
    check(wafer_instance_new(b->store, b->module, &imp, 1, &b->instance), "instantiate");
}

static wafer_func *export_func(bench *b, const char *name) {
    wafer_extern ext;
    if (!wafer_instance_export(b->instance, name, strlen(name), &ext)) {
        fprintf(stderr, "externref_bench: no export %s\n", name);
        exit(1);
    }
    return ext.of.func;
}

/* ---- The figures -------------------------------------------------------------------------- */

/* A store's whole life with wasm code run in it, with and without externrefs: the allocations of
 * the first are those of the store itself; the activation table adds none. */
static void store_allocations(bench *b) {
    enum { ROUNDS = 1000 };
    wafer_store *warm = wafer_store_new(b->engine); /* the engine's stack cache gets one */
    wafer_store_delete(warm);
    uint64_t before = allocations;
    for (int i = 0; i < ROUNDS; i++) {
        wafer_store *store = wafer_store_new(b->engine);
        wafer_store_delete(store);
    }
    uint64_t bare = allocations - before;
    instantiate(b);
    wafer_func *noop = export_func(b, "noop");
    before = allocations;
    for (int i = 0; i < ROUNDS; i++) check(wafer_func_call(b->store, noop, NULL, 0, NULL, 0), "noop");
    uint64_t calls = allocations - before;
    printf("store made and deleted: %.2f allocations each (the store itself; its stack comes from "
           "the engine's cache)\n",
           (double)bare / ROUNDS);
    printf("wasm calls in a store that never uses an externref: %.2f allocations each; "
           "activation table: %s\n",
           (double)calls / ROUNDS,
           calls == 0 ? "never allocated" : "ALLOCATED (unexpected)");
    wafer_store_delete(b->store);
}

/* id_ref against id_i32: what counting, the activation table and its collections add per call. */
static void pass_through(bench *b) {
    enum { CALLS = 200000, RUNS = 21 };
    instantiate(b);
    wafer_func *id_i32 = export_func(b, "id_i32"), *id_ref = export_func(b, "id_ref");
    static int payload;
    wafer_externref *ref = wafer_externref_new(&payload, NULL);
    uint64_t i32_ns[RUNS], ref_ns[RUNS];
    for (int run = 0; run < RUNS; run++) {
        wafer_value a = {.type = WAFER_I32, .of.i32 = run}, r;
        uint64_t t0 = now_ns();
        for (int i = 0; i < CALLS; i++) check(wafer_func_call(b->store, id_i32, &a, 1, &r, 1), "id");
        i32_ns[run] = now_ns() - t0;
        wafer_value e = {.type = WAFER_EXTERNREF, .of.externref = ref};
        t0 = now_ns();
        for (int i = 0; i < CALLS; i++) {
            check(wafer_func_call(b->store, id_ref, &e, 1, &r, 1), "id_ref");
            wafer_value_release(&r);
        }
        ref_ns[run] = now_ns() - t0;
    }
    print_samples("call passing an i32 in and back", i32_ns, RUNS, CALLS);
    print_samples("call passing an externref in and back (result released)", ref_ns, RUNS, CALLS);
    printf("collections during those calls: %llu\n",
           (unsigned long long)wafer_store_gc_count(b->store));
    wafer_externref_release(ref);
    wafer_store_delete(b->store);
}

/* 10,000 frames, each holding its own reference, while the deepest collects 50 times. */
static void collection(bench *b) {
    enum { LIVE = 10000, RUNS = 50 };
    instantiate(b);
    wafer_extern t;
    wafer_instance_export(b->instance, "t", 1, &t);
    check(wafer_table_grow(t.of.table, LIVE, (wafer_value){.type = WAFER_EXTERNREF}, NULL),
          "table.grow");
    static int payloads[LIVE];
    for (int i = 0; i < LIVE; i++) {
        wafer_value v = {.type = WAFER_EXTERNREF,
                         .of.externref = wafer_externref_new(&payloads[i], NULL)};
        check(wafer_table_set(t.of.table, (uint64_t)i, v), "table.set");
        wafer_value_release(&v);
    }
    uint64_t samples[RUNS];
    b->gc_ns = samples;
    b->gc_runs = 0;
    b->gc_wanted = RUNS;
    wafer_value depth = {.type = WAFER_I32, .of.i32 = LIVE - 1};
    check(wafer_func_call(b->store, export_func(b, "hold"), &depth, 1, NULL, 0), "hold");
    print_samples("collection with 10,000 references live in 10,000 frames", samples, RUNS, 1);
    wafer_store_delete(b->store);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: externref_bench MODULE.wasm\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static uint8_t bytes[1 << 16];
    size_t len = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    wafer_config config;
    wafer_config_default(&config);
    config.max_call_depth = 20000;
    bench b = {.engine = wafer_engine_new(&config)};
    check(wafer_module_new(b.engine, bytes, len, &b.module), "compile");
    store_allocations(&b);
    pass_through(&b);
    collection(&b);
    wafer_module_release(b.module);
    wafer_engine_delete(b.engine);
    return 0;
}
