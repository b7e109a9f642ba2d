/* Fuzz target "deserialize": arbitrary bytes as a precompiled module (.cwasm).
 *
 * A mutated file almost never keeps a valid checksum, so before loading, the target stamps each
 * input of header size or more with what a genuine writer would have put there: its length, this
 * engine's configuration fingerprint and the checksum of the mutated bytes. The fuzzer thus
 * reaches the payload parser and code_verify (runtime/src/code_verify.h) with the crafted files
 * the checksum cannot stop. A file that loads is instantiated with every import stubbed and every
 * exported function is called with zero arguments under fuel: code that passed verification must
 * run without a crash or sanitizer report whatever it does. Errors and traps are expected
 * outcomes; only crashes, sanitizer reports, leaks and the broken invariants below are findings.
 *
 * Seeds: files written by `wafer compile` (any configuration: the fingerprint is restamped).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wafer.h"

enum {
    FUZZ_MAX_MEMORY_PAGES = 256,
    FUZZ_MAX_MEMORIES = 4,
    FUZZ_MAX_TABLE_ELEMENTS = 10000,
    FUZZ_MAX_TABLES = 16,
    FUZZ_MAX_CALL_DEPTH = 500,
    FUZZ_STACK_SLOTS = 1 << 14,
    FUZZ_MAX_RESULTS = 64,
    FUZZ_MAX_CALLS = 64,
};
#define FUZZ_FUEL_PER_CALL 100000u

/* The .cwasm header fields restamped (serialize.c's layout). */
enum { HEADER_SIZE = 64, CHECKSUM_AT = 16, LENGTH_AT = 24, FINGERPRINT_AT = 32 };

static void broken_invariant(const char *what, const char *detail) {
    fprintf(stderr, "deserialize fuzz target: broken invariant: %s%s%s\n", what,
            detail ? ": " : "", detail ? detail : "");
    __builtin_trap();
}

static bool failed(wafer_error *err) {
    if (!err) return false;
    const char *message = wafer_error_message(err);
    if (!message || !message[0]) broken_invariant("error with an empty message", NULL);
    if ((wafer_error_kind_of(err) == WAFER_ERROR_TRAP) !=
        (wafer_error_trap_kind(err) != WAFER_TRAP_NONE))
        broken_invariant("error kind and trap kind disagree", message);
    wafer_error_free(err);
    return true;
}

static void put_u64(uint8_t *at, uint64_t v) {
    for (int k = 0; k < 8; k++) at[k] = (uint8_t)(v >> (8 * k));
}

/* serialize.c's checksum: FNV-1a 64 over little-endian 64-bit words, the last zero-padded. */
static uint64_t checksum(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i += 8) {
        uint8_t w[8] = {0};
        memcpy(w, p + i, n - i < 8 ? n - i : 8);
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v |= (uint64_t)w[k] << (8 * k);
        h = (h ^ v) * 0x100000001b3ull;
    }
    return h;
}

typedef struct fuzz_state {
    wafer_engine *engine;
    int fd;            /* a memory file the inputs are written to */
    char path[64];     /* its name for wafer_module_deserialize_file */
    uint8_t fingerprint[8];
} fuzz_state;

/* The engine, and its fingerprint read from a file it writes itself. */
static fuzz_state *fuzz_state_get(void) {
    static fuzz_state s;
    if (s.engine) return &s;
    wafer_config config;
    wafer_config_default(&config);
    config.max_call_depth = FUZZ_MAX_CALL_DEPTH;
    config.stack_slots = FUZZ_STACK_SLOTS;
    config.consume_fuel = true;
    config.limits.max_memory_pages = FUZZ_MAX_MEMORY_PAGES;
    config.limits.max_memories = FUZZ_MAX_MEMORIES;
    config.limits.max_table_elements = FUZZ_MAX_TABLE_ELEMENTS;
    config.limits.max_tables = FUZZ_MAX_TABLES;
    s.engine = wafer_engine_new(&config);
    if (!s.engine) broken_invariant("wafer_engine_new failed", NULL);
    s.fd = memfd_create("wafer-deserialize-fuzz", 0);
    if (s.fd < 0) broken_invariant("memfd_create failed", NULL);
    snprintf(s.path, sizeof s.path, "/proc/self/fd/%d", s.fd);

    static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    wafer_module *module = NULL;
    if (failed(wafer_module_new(s.engine, empty, sizeof empty, &module)) ||
        failed(wafer_module_serialize_file(module, s.path)))
        broken_invariant("cannot serialise the empty module", NULL);
    wafer_module_release(module);
    if (pread(s.fd, s.fingerprint, 8, FINGERPRINT_AT) != 8)
        broken_invariant("cannot read the fingerprint back", NULL);
    return &s;
}

static wafer_value zero_value(wafer_valtype type) {
    wafer_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    return v;
}

static wafer_error *stub_callback(void *env, wafer_caller *caller, const wafer_value *args,
                                  wafer_value *results) {
    (void)caller;
    (void)args;
    const wafer_functype *type = env;
    for (uint32_t i = 0; i < type->num_results; i++) results[i] = zero_value(type->results[i]);
    return NULL;
}

/* An extern of the import's type, or false if the store refuses. The stub function's type lives
 * in the module, which outlives the store. */
static bool stub_import(wafer_store *store, const wafer_import_desc *import, wafer_extern *out) {
    const wafer_externtype *type = &import->type;
    out->kind = type->kind;
    switch (type->kind) {
    case WAFER_EXTERN_FUNC:
        out->of.func = wafer_func_new_host(store, type->of.func, stub_callback,
                                           (void *)type->of.func, NULL);
        return out->of.func != NULL;
    case WAFER_EXTERN_TABLE:
        return !failed(wafer_table_new(store, &type->of.table, zero_value(type->of.table.elem),
                                       &out->of.table));
    case WAFER_EXTERN_MEMORY:
        return !failed(wafer_memory_new(store, &type->of.memory, &out->of.memory));
    case WAFER_EXTERN_GLOBAL:
        return !failed(wafer_global_new(store, &type->of.global,
                                        zero_value(type->of.global.type), &out->of.global));
    }
    broken_invariant("import of unknown kind", NULL);
    return false;
}

static void call_with_zeros(wafer_store *store, wafer_func *func) {
    const wafer_functype *type = wafer_func_type(func);
    if (type->num_results > FUZZ_MAX_RESULTS) return;
    wafer_value *args = calloc(type->num_params ? type->num_params : 1, sizeof *args);
    if (!args) return;
    for (uint32_t i = 0; i < type->num_params; i++) args[i] = zero_value(type->params[i]);
    wafer_value results[FUZZ_MAX_RESULTS];
    wafer_store_set_fuel(store, FUZZ_FUEL_PER_CALL);
    if (!failed(wafer_func_call(store, func, args, type->num_params, results,
                                type->num_results)))
        for (uint32_t i = 0; i < type->num_results; i++)
            if (results[i].type != type->results[i])
                broken_invariant("result of the wrong type", NULL);
    free(args);
}

static void instantiate_and_run(wafer_engine *engine, wafer_module *module) {
    wafer_store *store = wafer_store_new(engine);
    if (!store) return;
    size_t nimports = wafer_module_import_count(module);
    wafer_import_desc *descs = calloc(nimports ? nimports : 1, sizeof *descs);
    wafer_extern *imports = calloc(nimports ? nimports : 1, sizeof *imports);
    if (!descs || !imports) goto done;
    for (size_t i = 0; i < nimports; i++) {
        descs[i] = wafer_module_import(module, i);
        if (!stub_import(store, &descs[i], &imports[i])) goto done;
    }
    wafer_instance *instance = NULL;
    wafer_store_set_fuel(store, FUZZ_FUEL_PER_CALL);
    if (failed(wafer_instance_new(store, module, imports, nimports, &instance))) goto done;
    if (!instance) broken_invariant("instantiation succeeded without an instance", NULL);
    size_t count = wafer_instance_export_count(instance);
    for (size_t i = 0; i < count && i < FUZZ_MAX_CALLS; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        if (ext.kind == WAFER_EXTERN_FUNC) call_with_zeros(store, ext.of.func);
    }
done:
    free(imports);
    free(descs);
    wafer_store_delete(store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_state *s = fuzz_state_get();
    uint8_t *file = malloc(size ? size : 1);
    if (!file) return 0;
    if (size) memcpy(file, data, size);
    if (size >= HEADER_SIZE) {
        put_u64(file + LENGTH_AT, size);
        memcpy(file + FINGERPRINT_AT, s->fingerprint, 8);
        put_u64(file + CHECKSUM_AT, checksum(file + LENGTH_AT, size - LENGTH_AT));
    }
    bool written = ftruncate(s->fd, 0) == 0 && ftruncate(s->fd, (off_t)size) == 0 &&
                   (size == 0 || pwrite(s->fd, file, size, 0) == (ssize_t)size);
    free(file);
    if (!written) broken_invariant("cannot write the input to the memory file", NULL);

    wafer_module *module = NULL;
    wafer_error *err = wafer_module_deserialize_file(s->engine, s->path, &module);
    if (failed(err)) {
        if (module) broken_invariant("failed load returned a module", NULL);
        return 0;
    }
    if (!module) broken_invariant("load succeeded without a module", NULL);
    instantiate_and_run(s->engine, module);
    wafer_module_release(module);
    return 0;
}
