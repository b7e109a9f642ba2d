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

#include "support/fuzz_check.h"
#include "support/fuzz_engine.h"
#include "support/fuzz_exports.h"
#include "support/fuzz_instantiate.h"
#include "wafer.h"

enum { FUZZ_MAX_CALLS = 64 };
#define FUZZ_FUEL_PER_CALL 100000u

/* The .cwasm header fields restamped (serialize.c's layout). */
enum { HEADER_SIZE = 64, CHECKSUM_AT = 16, LENGTH_AT = 24, FINGERPRINT_AT = 32 };

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
    fuzz_config_small(&config);
    config.consume_fuel = true;
    s.engine = wafer_engine_new(&config);
    if (!s.engine) fuzz_broken_invariant("wafer_engine_new failed", NULL);
    s.fd = memfd_create("wafer-deserialize-fuzz", 0);
    if (s.fd < 0) fuzz_broken_invariant("memfd_create failed", NULL);
    snprintf(s.path, sizeof s.path, "/proc/self/fd/%d", s.fd);

    static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    wafer_module *module = NULL;
    if (fuzz_failed(wafer_module_new(s.engine, empty, sizeof empty, &module)) ||
        fuzz_failed(wafer_module_serialize_file(module, s.path)))
        fuzz_broken_invariant("cannot serialise the empty module", NULL);
    wafer_module_release(module);
    if (pread(s.fd, s.fingerprint, 8, FINGERPRINT_AT) != 8)
        fuzz_broken_invariant("cannot read the fingerprint back", NULL);
    return &s;
}

static void instantiate_and_run(wafer_engine *engine, wafer_module *module) {
    wafer_store *store = wafer_store_new(engine);
    if (!store) return;
    fuzz_budget budget = {.fuel = FUZZ_FUEL_PER_CALL};
    wafer_instance *instance;
    if (fuzz_instantiate(store, module, &budget, &instance, NULL, NULL) == FUZZ_INSTANTIATED) {
        fuzz_calls calls = {
            .per_call = budget,
            .fuel = true,
            .fuel_per_input = UINT64_MAX,
            .max_calls = FUZZ_MAX_CALLS,
        };
        fuzz_run_exports(store, module, instance, &calls);
    }
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
    if (!written) fuzz_broken_invariant("cannot write the input to the memory file", NULL);

    wafer_module *module = NULL;
    wafer_error *err = wafer_module_deserialize_file(s->engine, s->path, &module);
    if (fuzz_failed(err)) {
        if (module) fuzz_broken_invariant("failed load returned a module", NULL);
        return 0;
    }
    if (!module) fuzz_broken_invariant("load succeeded without a module", NULL);
    instantiate_and_run(s->engine, module);
    wafer_module_release(module);
    return 0;
}
