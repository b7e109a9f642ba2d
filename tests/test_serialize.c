/* Precompiled modules: a round trip keeps behaviour; a truncated, corrupted, foreign-version or
 * foreign-configuration file is refused cleanly (run under ASan: no crash, no leak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wafer.h"

static const uint8_t ser_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x15, 0x04, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7e, 0x01, 0x7e, 0x60, 0x00, 0x01, 0x7e, 0x03,
    0x07, 0x06, 0x00, 0x00, 0x01, 0x00, 0x02, 0x03, 0x04, 0x04, 0x01, 0x70, 0x00, 0x04, 0x05, 0x04,
    0x01, 0x01, 0x02, 0x04, 0x06, 0x06, 0x01, 0x7e, 0x01, 0x42, 0x2a, 0x0b, 0x07, 0x1e, 0x05, 0x03,
    0x6d, 0x65, 0x6d, 0x02, 0x00, 0x03, 0x76, 0x69, 0x61, 0x00, 0x02, 0x04, 0x6c, 0x6f, 0x61, 0x64,
    0x00, 0x03, 0x03, 0x66, 0x61, 0x63, 0x00, 0x04, 0x01, 0x67, 0x00, 0x05, 0x09, 0x08, 0x01, 0x00,
    0x41, 0x01, 0x0b, 0x02, 0x00, 0x01, 0x0a, 0x3e, 0x06, 0x07, 0x00, 0x20, 0x00, 0x20, 0x00, 0x6c,
    0x0b, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x09, 0x00, 0x20, 0x01, 0x20, 0x00, 0x11,
    0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x15, 0x00, 0x20, 0x00, 0x50,
    0x04, 0x7e, 0x42, 0x01, 0x05, 0x20, 0x00, 0x20, 0x00, 0x42, 0x01, 0x7d, 0x10, 0x04, 0x7e, 0x0b,
    0x0b, 0x04, 0x00, 0x23, 0x00, 0x0b, 0x0b, 0x17, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x05, 0x68, 0x65,
    0x6c, 0x6c, 0x6f, 0x00, 0x41, 0xf0, 0xa2, 0x04, 0x0b, 0x05, 0x77, 0x6f, 0x72, 0x6c, 0x64,
};

enum { HEADER_SIZE = 64, CHECKSUM_AT = 16, CHECKSUMMED_FROM = 24 };

typedef struct rig {
    wafer_engine *engine;
    char path[64];      /* the good file */
    char bad_path[64];  /* variants of it */
    uint8_t *file;
    size_t len;
} rig;

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_all(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static int setup(void **state) {
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->engine = wafer_engine_new(NULL);
    strcpy(r->path, "/tmp/wafer-test-serialize-XXXXXX");
    int fd = mkstemp(r->path);
    assert_true(fd >= 0);
    close(fd);
    strcpy(r->bad_path, "/tmp/wafer-test-serialize-bad-XXXXXX");
    fd = mkstemp(r->bad_path);
    assert_true(fd >= 0);
    close(fd);
    wafer_module *m;
    assert_null(wafer_module_new(r->engine, ser_wasm, sizeof ser_wasm, &m));
    assert_null(wafer_module_serialize_file(m, r->path));
    wafer_module_release(m);
    r->file = read_all(r->path, &r->len);
    *state = r;
    return 0;
}

static int teardown(void **state) {
    rig *r = *state;
    unlink(r->path);
    unlink(r->bad_path);
    free(r->file);
    wafer_engine_delete(r->engine);
    free(r);
    return 0;
}

static wafer_value i32(int32_t v) { return (wafer_value){.type = WAFER_I32, .of.i32 = v}; }

/* Calls every export of the test module and returns a digest of the results. */
static uint64_t behaviour(wafer_engine *engine, wafer_module *m) {
    wafer_store *store = wafer_store_new(engine);
    wafer_instance *inst;
    assert_null(wafer_instance_new(store, m, NULL, 0, &inst));
    wafer_extern e;
    wafer_value args[2], res;
    uint64_t digest = 0;
    assert_true(wafer_instance_export(inst, "fac", 3, &e));
    args[0] = (wafer_value){.type = WAFER_I64, .of.i64 = 10};
    assert_null(wafer_func_call(store, e.of.func, args, 1, &res, 1));
    assert_int_equal(res.of.i64, 3628800);
    digest = digest * 31 + (uint64_t)res.of.i64;
    assert_true(wafer_instance_export(inst, "load", 4, &e));
    const int32_t addrs[] = {0, 4, 5, 70000, 70004, 70005};
    for (size_t k = 0; k < sizeof addrs / sizeof addrs[0]; k++) {
        args[0] = i32(addrs[k]);
        assert_null(wafer_func_call(store, e.of.func, args, 1, &res, 1));
        digest = digest * 31 + (uint32_t)res.of.i32;
    }
    assert_true(wafer_instance_export(inst, "via", 3, &e));
    args[0] = i32(1), args[1] = i32(9);
    assert_null(wafer_func_call(store, e.of.func, args, 2, &res, 1));
    assert_int_equal(res.of.i32, 81);
    args[0] = i32(2);
    assert_null(wafer_func_call(store, e.of.func, args, 2, &res, 1));
    assert_int_equal(res.of.i32, 10);
    args[0] = i32(3);
    wafer_error *err = wafer_func_call(store, e.of.func, args, 2, &res, 1);
    assert_int_equal(wafer_error_trap_kind(err), WAFER_TRAP_UNINITIALIZED_ELEMENT);
    wafer_error_free(err);
    assert_true(wafer_instance_export(inst, "g", 1, &e));
    assert_null(wafer_func_call(store, e.of.func, NULL, 0, &res, 1));
    assert_int_equal(res.of.i64, 42);
    assert_true(wafer_instance_export(inst, "mem", 3, &e));
    assert_int_equal(wafer_memory_size_pages(e.of.memory), 2);
    const uint8_t *data = wafer_memory_data(e.of.memory);
    assert_memory_equal(data, "hello", 5);
    assert_memory_equal(data + 70000, "world", 5);
    wafer_store_delete(store);
    return digest;
}

static void test_round_trip(void **state) {
    rig *r = *state;
    wafer_module *orig, *loaded;
    assert_null(wafer_module_new(r->engine, ser_wasm, sizeof ser_wasm, &orig));
    assert_null(wafer_module_deserialize_file(r->engine, r->path, &loaded));
    assert_non_null(loaded);
    assert_int_equal(wafer_module_export_count(loaded), wafer_module_export_count(orig));
    assert_int_equal(behaviour(r->engine, loaded), behaviour(r->engine, orig));
    /* instances of a loaded module do not disturb each other (images are copy-on-write) */
    assert_int_equal(behaviour(r->engine, loaded), behaviour(r->engine, orig));
    wafer_module_release(orig);
    wafer_module_release(loaded);
    assert_true(wafer_module_is_serialized(r->file, r->len));
    assert_false(wafer_module_is_serialized(ser_wasm, sizeof ser_wasm));
    /* memory images start on a 64 KiB boundary of the file */
    assert_int_equal(r->len % 4096, 0);
}

static void expect_refused(rig *r, wafer_error_kind kind, const char *fragment) {
    wafer_module *m = (wafer_module *)1;
    wafer_error *err = wafer_module_deserialize_file(r->engine, r->bad_path, &m);
    assert_non_null(err);
    assert_null(m);
    if (kind) assert_int_equal(wafer_error_kind_of(err), kind);
    if (fragment && !strstr(wafer_error_message(err), fragment))
        fail_msg("\"%s\" lacks \"%s\"", wafer_error_message(err), fragment);
    wafer_error_free(err);
}

static void test_truncated(void **state) {
    rig *r = *state;
    for (size_t n = 0; n <= HEADER_SIZE; n++) {
        write_all(r->bad_path, r->file, n);
        expect_refused(r, 0, NULL);
    }
    for (size_t n = HEADER_SIZE + 1; n < r->len; n += n < 1024 ? 1 : 997) {
        write_all(r->bad_path, r->file, n);
        expect_refused(r, WAFER_ERROR_MALFORMED, "truncated");
    }
    write_all(r->bad_path, r->file, r->len - 1);
    expect_refused(r, WAFER_ERROR_MALFORMED, "truncated");
}

static void test_flipped_byte(void **state) {
    rig *r = *state;
    uint8_t *copy = malloc(r->len);
    assert_non_null(copy);
    for (size_t at = 0; at < r->len; at += at < 2048 ? 1 : 1531) {
        memcpy(copy, r->file, r->len);
        copy[at] ^= 0x20;
        write_all(r->bad_path, copy, r->len);
        expect_refused(r, 0, NULL);
    }
    free(copy);
}

static void test_wrong_version(void **state) {
    rig *r = *state;
    uint8_t *copy = malloc(r->len);
    assert_non_null(copy);
    memcpy(copy, r->file, r->len);
    copy[8]++; /* the next format version */
    write_all(r->bad_path, copy, r->len);
    expect_refused(r, WAFER_ERROR_UNSUPPORTED, "version");
    free(copy);
    /* a wasm binary is not a precompiled module */
    write_all(r->bad_path, ser_wasm, sizeof ser_wasm);
    expect_refused(r, WAFER_ERROR_MALFORMED, "magic");
    write_all(r->bad_path, r->file, r->len);
    strcat(r->bad_path, ".missing");
    expect_refused(r, WAFER_ERROR_RESOURCE, NULL);
    r->bad_path[strlen(r->bad_path) - 8] = '\0';
}

/* Refused by an engine with other features, or whose code differs: a fuel engine's has FUEL, an
 * epoch engine's checks the deadline on back edges (code.h). */
static void test_other_configuration(void **state) {
    rig *r = *state;
    for (int which = 0; which < 3; which++) {
        wafer_config config;
        wafer_config_default(&config);
        if (which == 0) config.features &= ~(uint32_t)WAFER_FEATURE_MEMORY64;
        if (which == 1) config.consume_fuel = true;
        if (which == 2) config.epoch_interruption = true;
        wafer_engine *other = wafer_engine_new(&config);
        wafer_module *m = NULL;
        wafer_error *err = wafer_module_deserialize_file(other, r->path, &m);
        assert_non_null(err);
        assert_null(m);
        assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_UNSUPPORTED);
        assert_non_null(strstr(wafer_error_message(err), "configuration"));
        wafer_error_free(err);
        wafer_engine_delete(other);
    }
}

/* The file's checksum (serialize.c): FNV-1a 64 over little-endian 64-bit words, the last one
 * zero-padded. */
static uint64_t checksum(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        for (size_t k = 0; k < 8 && i + k < n; k++) w |= (uint64_t)p[i + k] << (8 * k);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}

/* Corruption the checksum cannot see (the checksum recomputed after it): the parser's own bounds
 * checks must refuse it, or load something well-formed; never crash. Every byte of the payload
 * (set to 0xFF or with its low bit flipped). */
static void test_payload_corruption_behind_a_valid_checksum(void **state) {
    rig *r = *state;
    uint8_t *copy = malloc(r->len);
    assert_non_null(copy);
    size_t payload_end = HEADER_SIZE;
    for (int k = 0; k < 8; k++) payload_end += (size_t)r->file[40 + k] << (8 * k);
    int refused = 0;
    for (size_t at = HEADER_SIZE; at < payload_end; at++) {
        {
            memcpy(copy, r->file, r->len);
            copy[at] = at % 2 ? 0xFF : (uint8_t)(copy[at] ^ 0x01);
            uint64_t sum = checksum(copy + CHECKSUMMED_FROM, r->len - CHECKSUMMED_FROM);
            for (int k = 0; k < 8; k++) copy[CHECKSUM_AT + k] = (uint8_t)(sum >> (8 * k));
            write_all(r->bad_path, copy, r->len);
            wafer_module *m = NULL;
            wafer_error *err = wafer_module_deserialize_file(r->engine, r->bad_path, &m);
            if (err) {
                refused++;
                assert_null(m);
                wafer_error_free(err);
            } else {
                wafer_module_release(m);
            }
        }
    }
    assert_true(refused > 0);
    free(copy);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_configuration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payload_corruption_behind_a_valid_checksum, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
