/* code_verify: the compiler's own output verifies (a module exercising every kind of operand,
 * and every module of the spec suite when build/spec holds it); each kind of hand-corrupted
 * operand is rejected with its reason. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "code_verify.h"
#include "runtime.h"

/* tests/code_verify.wat in binary form (wat2wasm --enable-multi-memory --enable-memory64): an
 * import taking and returning an externref, funcref and externref tables, a 32-bit and a 64-bit
 * memory, mutable and immutable globals, active and passive segments, and a function "all"
 * using each instruction kind of code.h, a loop and a br_table. */
static const uint8_t cv_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x11, 0x03, 0x60,
  0x01, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x6f, 0x01, 0x6f, 0x60, 0x02, 0x7f,
  0x6f, 0x01, 0x7f, 0x02, 0x09, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x68,
  0x00, 0x01, 0x03, 0x03, 0x02, 0x00, 0x02, 0x04, 0x07, 0x02, 0x70, 0x00,
  0x04, 0x6f, 0x00, 0x02, 0x05, 0x05, 0x02, 0x00, 0x01, 0x04, 0x01, 0x06,
  0x10, 0x03, 0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x00, 0x41, 0x07, 0x0b,
  0x6f, 0x01, 0xd0, 0x6f, 0x0b, 0x07, 0x07, 0x01, 0x03, 0x61, 0x6c, 0x6c,
  0x00, 0x02, 0x09, 0x0b, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x01, 0x01,
  0x00, 0x01, 0x01, 0x0c, 0x01, 0x02, 0x0a, 0xcc, 0x01, 0x02, 0x07, 0x00,
  0x20, 0x00, 0x20, 0x00, 0x6c, 0x0b, 0xc1, 0x01, 0x01, 0x01, 0x7e, 0x42,
  0x00, 0x29, 0x43, 0x01, 0x08, 0x21, 0x02, 0x20, 0x00, 0x41, 0x05, 0x36,
  0x02, 0x00, 0x23, 0x01, 0x24, 0x00, 0x20, 0x01, 0x10, 0x00, 0x24, 0x02,
  0x41, 0x00, 0x20, 0x01, 0x26, 0x01, 0x20, 0x01, 0x41, 0x01, 0xfc, 0x0f,
  0x01, 0x1a, 0x41, 0x00, 0x20, 0x01, 0x41, 0x01, 0xfc, 0x11, 0x01, 0x41,
  0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0e, 0x00, 0x00, 0x41, 0x00, 0x41,
  0x00, 0x41, 0x01, 0xfc, 0x0c, 0x01, 0x00, 0xfc, 0x0d, 0x01, 0x41, 0x00,
  0x41, 0x00, 0x41, 0x01, 0xfc, 0x08, 0x01, 0x00, 0xfc, 0x09, 0x01, 0x41,
  0x00, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x0b, 0x00, 0x41, 0x00, 0x41, 0x00,
  0x41, 0x01, 0xfc, 0x0a, 0x00, 0x00, 0x42, 0x00, 0x40, 0x01, 0x1a, 0x41,
  0x01, 0x25, 0x00, 0xd1, 0x1a, 0xd2, 0x01, 0x1a, 0xfc, 0x10, 0x01, 0x1a,
  0x41, 0x00, 0x25, 0x01, 0x1a, 0x23, 0x02, 0x1a, 0x41, 0x01, 0x41, 0x02,
  0x20, 0x00, 0x1b, 0x1a, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x45, 0x0d,
  0x01, 0x20, 0x00, 0x41, 0xe8, 0x07, 0x4a, 0x0d, 0x01, 0x20, 0x00, 0x20,
  0x00, 0x49, 0x0d, 0x01, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x20,
  0x00, 0x0e, 0x02, 0x00, 0x01, 0x00, 0x0b, 0x0b, 0x41, 0x03, 0x41, 0x00,
  0x11, 0x00, 0x00, 0x41, 0x02, 0x10, 0x01, 0x6a, 0x0b, 0x0b, 0x0c, 0x02,
  0x00, 0x41, 0x00, 0x0b, 0x02, 0x68, 0x69, 0x01, 0x02, 0x70, 0x70,
};

/* Function "all" (defined index 1) as compile.c lays it out: see the corruptions below. */
#define ALL 1u

static wafer_engine *engine;
static wafer_module *module;

static int setup(void **state) {
    (void)state;
    engine = wafer_engine_new(NULL);
    if (!engine) return -1;
    wafer_error *err = wafer_module_new(engine, cv_wasm, sizeof cv_wasm, &module);
    if (err) {
        fprintf(stderr, "%s\n", wafer_error_message(err));
        wafer_error_free(err);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    wafer_module_release(module);
    wafer_engine_delete(engine);
    return 0;
}

static void test_compiled_code_verifies(void **state) {
    (void)state;
    uint32_t ndefined = module->num_funcs - module->num_imported_funcs;
    assert_int_equal(ndefined, 2);
    for (uint32_t d = 0; d < ndefined; d++) {
        wafer_error *err = code_verify(module, &module->code[d]);
        if (err) fprintf(stderr, "function %u: %s\n", d, wafer_error_message(err));
        assert_null(err);
    }
}

/* ---- Corrupted operands -------------------------------------------------------------------- */

/* The instruction of `op` whose operand `match` is `match_value` (any when match < 0), the
 * first or the last one. */
static uint32_t find(const code_func *f, code_op op, int match, uint32_t match_value, bool last) {
    uint32_t found = UINT32_MAX;
    for (uint32_t pc = 0; pc < f->code_len; pc += 1 + code_operand_cells(f->code, pc)) {
        if (f->code[pc] != op) continue;
        if (match >= 0 && f->code[pc + 1 + (uint32_t)match] != match_value) continue;
        found = pc;
        if (!last) break;
    }
    assert_int_not_equal(found, UINT32_MAX);
    return found;
}

/* Values standing for the function's frame size, and for an offset one cell further. */
#define FRAME 0xFFFFFF00u
#define PLUS_ONE 0xFFFFFF01u

typedef struct corruption {
    code_op op;
    int match;
    uint32_t match_value;
    bool last;
    uint32_t operand;
    uint32_t value;
    const char *expect; /* in the error message */
} corruption;

static const corruption corruptions[] = {
    /* slots */
    {OP_COPY, -1, 0, false, 0, FRAME, "outside the frame"},
    {OP_COPY, -1, 0, false, 1, FRAME, "outside the frame"},
    {OP_I32_ADD, -1, 0, false, 2, FRAME, "outside the frame"},
    {OP_I32_SUB_K, -1, 0, false, 0, FRAME, "outside the frame"},
    {OP_CALL, 0, 1, false, 1, FRAME, "past the frame"},
    {OP_CALL_INDIRECT, -1, 0, false, 3, FRAME, "past the frame"},
    {OP_BR_TABLE, -1, 0, false, 0, FRAME, "outside the frame"},
    /* branches */
    {OP_BR_UNLESS, -1, 0, false, 1, PLUS_ONE, "not an instruction start"},
    {OP_BR_UNLESS, -1, 0, false, 1, 0x7fffffffu, "not an instruction start"},
    {OP_BR_UNLESS, -1, 0, false, 1, 0x80000000u, "not an instruction start"},
    {OP_BR_TABLE, -1, 0, false, 3, PLUS_ONE, "not an instruction start"},
    {OP_BR_TABLE, -1, 0, false, 4, 1, "not an instruction start"}, /* its own operand */
    {OP_BR_I32_GT_S_K, -1, 0, false, 2, PLUS_ONE, "not an instruction start"},
    {OP_BR_I32_LT_U, -1, 0, false, 2, PLUS_ONE, "not an instruction start"},
    {OP_BR_I32_LT_U, -1, 0, false, 0, FRAME, "outside the frame"},
    /* indices */
    {OP_CALL, -1, 0, false, 0, 99, "function index"},
    {OP_CALL_INDIRECT, -1, 0, false, 0, 99, "type index"},
    {OP_CALL_INDIRECT, -1, 0, false, 1, 99, "table index"},
    {OP_CALL_INDIRECT, -1, 0, false, 1, 1, "not a funcref table"},
    {OP_GLOBAL_GET, -1, 0, false, 1, 99, "global index"},
    {OP_GLOBAL_SET, -1, 0, false, 0, 99, "global index"},
    {OP_GLOBAL_SET, -1, 0, false, 0, 1, "immutable"},
    {OP_REF_FUNC, -1, 0, false, 1, 99, "function index"},
    {OP_REF_FUNC, -1, 0, false, 1, 0, "not declared"},
    {OP_TABLE_GET, -1, 0, false, 1, 99, "table index"},
    {OP_TABLE_SET, -1, 0, false, 0, 99, "table index"},
    {OP_TABLE_SIZE, -1, 0, false, 1, 99, "table index"},
    {OP_TABLE_GROW, -1, 0, false, 1, 99, "table index"},
    {OP_TABLE_FILL, -1, 0, false, 0, 99, "table index"},
    {OP_TABLE_COPY, -1, 0, false, 1, 99, "table index"},
    {OP_TABLE_COPY, -1, 0, false, 0, 1, "differ in element type"},
    {OP_TABLE_INIT, -1, 0, false, 1, 99, "element segment index"},
    {OP_TABLE_INIT, -1, 0, false, 0, 1, "differ in type"},
    {OP_ELEM_DROP, -1, 0, false, 0, 99, "element segment index"},
    {OP_MEMORY_GROW, -1, 0, false, 1, 99, "memory index"},
    {OP_MEMORY_FILL, -1, 0, false, 0, 99, "memory index"},
    {OP_MEMORY_COPY, -1, 0, false, 1, 99, "memory index"},
    {OP_MEMORY_INIT, -1, 0, false, 1, 99, "data segment index"},
    {OP_DATA_DROP, -1, 0, false, 0, 99, "data segment index"},
    {OP_STORE32, -1, 0, false, 2, 99, "memory index"},
    {OP_STORE32, -1, 0, false, 2, 1, "is 64-bit"},
    {OP_LOAD64_M64, -1, 0, false, 2, 0, "is 32-bit"},
    /* slot kinds: numbers, references, and slots nothing was written to */
    {OP_I32_ADD, -1, 0, false, 1, 1, "does not hold a number"},        /* the externref param */
    {OP_I32_SUB_K, -1, 0, false, 1, 1, "does not hold a number"},
    {OP_BR_I32_LT_U, -1, 0, false, 1, 1, "does not hold a number"},
    {OP_BR_I32_GT_S_K, -1, 0, false, 0, 1, "does not hold a number"},
    {OP_TABLE_SET, -1, 0, false, 2, 0, "does not hold an externref"},  /* the i32 param */
    {OP_TABLE_GROW, -1, 0, false, 2, 0, "does not hold an externref"},
    {OP_TABLE_FILL, -1, 0, false, 2, 0, "does not hold an externref"},
    {OP_GLOBAL_SET_EXTERN, -1, 0, false, 1, 0, "does not hold an externref"},
    /* externref safepoints on entities of other types */
    {OP_GLOBAL_SET_EXTERN, -1, 0, false, 0, 0, "another type"},
    {OP_GLOBAL_GET_EXTERN, -1, 0, false, 1, 1, "another type"},
    {OP_TABLE_GET_EXTERN, -1, 0, false, 1, 0, "another type"},
    {OP_REF_IS_NULL, -1, 0, false, 1, 0, "does not hold a reference"},
    {OP_COPY, 1, 1, false, 1, 0, "does not hold an externref"},        /* the import's argument */
    {OP_COPY, 0, 0, true, 1, 1, "does not hold a number"},             /* the result */
    {OP_LOAD64_M64, -1, 0, false, 1, 5, "does not hold a number"},     /* never written */
    {OP_SELECT, -1, 0, false, 3, 1, "does not hold a number"},
    {OP_CALL_INDIRECT, -1, 0, false, 2, 1, "does not hold a number"},
};

static void test_corrupted_operands_rejected(void **state) {
    (void)state;
    code_func *f = &module->code[ALL];
    for (size_t i = 0; i < sizeof corruptions / sizeof corruptions[0]; i++) {
        const corruption *c = &corruptions[i];
        uint32_t pc = find(f, c->op, c->match, c->match_value, c->last);
        uint32_t *cellp = &f->code[pc + 1 + c->operand];
        uint32_t saved = *cellp;
        *cellp = c->value == FRAME ? f->frame_size : c->value == PLUS_ONE ? saved + 1 : c->value;
        wafer_error *err = code_verify(module, f);
        *cellp = saved;
        if (!err || !strstr(wafer_error_message(err), c->expect))
            fprintf(stderr, "corruption %zu (%s operand %u): %s\n", i, code_op_name(c->op),
                    c->operand, err ? wafer_error_message(err) : "accepted");
        assert_non_null(err);
        assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_MALFORMED);
        assert_non_null(strstr(wafer_error_message(err), c->expect));
        wafer_error_free(err);
    }
    assert_null(code_verify(module, f));
}

static void expect_rejected(const code_func *f, const char *expect) {
    wafer_error *err = code_verify(module, f);
    if (!err || !strstr(wafer_error_message(err), expect))
        fprintf(stderr, "expected \"%s\": %s\n", expect,
                err ? wafer_error_message(err) : "accepted");
    assert_non_null(err);
    assert_non_null(strstr(wafer_error_message(err), expect));
    wafer_error_free(err);
}

/* Loops cannot escape interruption: for an epoch engine every backward branch checks the
 * deadline (a _LOOP branch), and code for a fuel engine pays at its entry and wherever a loop
 * branches back to. */
static void test_uninterruptible_code_rejected(void **state) {
    (void)state;
    wafer_config config;
    wafer_config_default(&config);
    config.epoch_interruption = true;
    wafer_engine *epoch_engine = wafer_engine_new(&config);
    wafer_module *checked;
    assert_null(wafer_module_new(epoch_engine, cv_wasm, sizeof cv_wasm, &checked));
    for (uint32_t d = 0; d < 2; d++) assert_null(code_verify(checked, &checked->code[d]));
    /* the loop's br_table goes back to the loop: its plain variant would not check */
    code_func f = checked->code[ALL];
    uint32_t table = find(&f, OP_BR_TABLE_LOOP, -1, 0, false);
    uint32_t *code = (uint32_t *)f.code;
    code[table] = OP_BR_TABLE;
    wafer_error *err = code_verify(checked, &f);
    code[table] = OP_BR_TABLE_LOOP;
    assert_non_null(err);
    assert_non_null(strstr(wafer_error_message(err), "does not check the epoch deadline"));
    wafer_error_free(err);
    /* the same function compiled for an engine without epochs has plain branches only */
    assert_int_equal(find(&module->code[ALL], OP_BR_TABLE, -1, 0, false), table);
    err = code_verify(checked, &module->code[ALL]);
    assert_non_null(err);
    assert_non_null(strstr(wafer_error_message(err), "does not check the epoch deadline"));
    wafer_error_free(err);
    wafer_module_release(checked);
    wafer_engine_delete(epoch_engine);

    wafer_config_default(&config);
    config.consume_fuel = true;
    wafer_engine *fuel_engine = wafer_engine_new(&config);
    wafer_module *metered;
    assert_null(wafer_module_new(fuel_engine, cv_wasm, sizeof cv_wasm, &metered));
    for (uint32_t d = 0; d < 2; d++) assert_null(code_verify(metered, &metered->code[d]));
    /* the same functions compiled for an engine without fuel: no FUEL at all */
    err = code_verify(metered, &module->code[ALL]);
    assert_non_null(err);
    assert_non_null(strstr(wafer_error_message(err), "must start with FUEL"));
    wafer_error_free(err);
    /* a loop whose FUEL is gone: its back edge (the br_table's first entry) finds none */
    code_func g = metered->code[ALL];
    table = find(&g, OP_BR_TABLE, -1, 0, false);
    uint32_t loop = table + g.code[table + 3];
    assert_true(loop < table);
    assert_int_equal(g.code[loop], OP_FUEL);
    code = (uint32_t *)g.code;
    uint32_t saved = code[loop + 1];
    code[loop + 1] = 0;
    err = code_verify(metered, &g);
    code[loop + 1] = saved;
    assert_non_null(err);
    assert_non_null(strstr(wafer_error_message(err), "not a block's FUEL"));
    wafer_error_free(err);
    wafer_module_release(metered);
    wafer_engine_delete(fuel_engine);
}

static void test_corrupted_function_rejected(void **state) {
    (void)state;
    code_func good = module->code[ALL];
    code_func f = good;
    f.frame_size = f.num_locals - 1;
    expect_rejected(&f, "too small");
    f = good;
    f.num_params++;
    expect_rejected(&f, "count differs");
    f = good;
    f.type_index = module->num_types;
    expect_rejected(&f, "type index");

    /* the code: an unknown opcode, a truncated instruction, no final terminator */
    f = good;
    uint32_t *code = malloc(good.code_len * sizeof *code);
    assert_non_null(code);
    memcpy(code, good.code, good.code_len * sizeof *code);
    f.code = code;
    code[0] = CODE_OP_COUNT;
    expect_rejected(&f, "unknown opcode");
    code[0] = good.code[0];
    f.code_len = good.code_len - 2; /* inside the final COPY */
    expect_rejected(&f, "past the end");
    f.code_len = good.code_len;
    f.code_len = find(&good, OP_RETURN, -1, 0, true); /* the final RETURN cut off */
    expect_rejected(&f, "falls off its end");
    f.code_len = good.code_len;
    /* a call whose return point is the end */
    uint32_t call = find(&good, OP_CALL, 0, 1, false);
    f.code_len = call + 3;
    f.num_stack_maps = 0;
    expect_rejected(&f, "falls off its end");
    free(code);

    /* stack maps: one omitting a live externref, one listing a number, one at no safepoint, one
     * out of order */
    assert_true(good.num_stack_maps >= 2);
    f = good;
    code_stack_map maps[8];
    assert_true(good.num_stack_maps <= 8);
    memcpy(maps, good.stack_maps, good.num_stack_maps * sizeof *maps);
    f.stack_maps = maps;
    assert_int_equal(maps[0].count, 1);
    maps[0].count = 0;
    expect_rejected(&f, "omits slot");
    maps[0] = good.stack_maps[0];
    uint32_t slots[8];
    uint32_t nslots = maps[good.num_stack_maps - 1].first + maps[good.num_stack_maps - 1].count;
    assert_true(nslots <= 8);
    memcpy(slots, good.map_slots, nslots * sizeof *slots);
    slots[maps[0].first] = 0; /* the i32 parameter */
    f.map_slots = slots;
    expect_rejected(&f, "holds no externref");
    f.map_slots = good.map_slots;
    maps[0] = good.stack_maps[0];
    maps[0].pc = 0;
    expect_rejected(&f, "not a safepoint");
    maps[0] = good.stack_maps[1];
    maps[1] = good.stack_maps[0];
    expect_rejected(&f, "not sorted");
}

/* A precompiled file whose code was corrupted before its checksum was computed (what a crafted
 * file can do) is refused at load: an out-of-range call, and an i32 stored into an externref
 * table (which a later read would hand out as a pointer). */
static void test_crafted_file_refused(void **state) {
    (void)state;
    code_func *f = &module->code[ALL];
    char path[64];
    snprintf(path, sizeof path, "/tmp/wafer-test-code-verify-%d.cwasm", (int)getpid());
    uint32_t cells[2] = {find(f, OP_CALL, -1, 0, false) + 1,
                         find(f, OP_TABLE_SET, -1, 0, false) + 3};
    uint32_t values[2] = {99, 0};
    for (int i = 0; i < 2; i++) {
        uint32_t saved = f->code[cells[i]];
        f->code[cells[i]] = values[i];
        wafer_error *err = wafer_module_serialize_file(module, path);
        f->code[cells[i]] = saved;
        assert_null(err);
        wafer_module *loaded = NULL;
        err = wafer_module_deserialize_file(engine, path, &loaded);
        assert_non_null(err);
        assert_null(loaded);
        assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_MALFORMED);
        assert_non_null(strstr(wafer_error_message(err), "precompiled code failed verification"));
        wafer_error_free(err);
    }
    /* and the uncorrupted file loads */
    assert_null(wafer_module_serialize_file(module, path));
    wafer_module *loaded = NULL;
    assert_null(wafer_module_deserialize_file(engine, path, &loaded));
    wafer_module_release(loaded);
    unlink(path);
}

/* ---- The spec suite ------------------------------------------------------------------------- */

typedef struct tally {
    unsigned modules, functions, loaded, rejected;
} tally;

static void verify_file(const char *path, tally *t) {
    FILE *file = fopen(path, "rb");
    if (!file) return;
    fseek(file, 0, SEEK_END);
    long n = ftell(file);
    fseek(file, 0, SEEK_SET);
    uint8_t *bytes = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(bytes);
    size_t got = fread(bytes, 1, (size_t)(n > 0 ? n : 0), file);
    fclose(file);
    wafer_module *m;
    wafer_error *err = wafer_module_new(engine, bytes, got, &m);
    free(bytes);
    if (err) { /* the suite's invalid and malformed modules */
        wafer_error_free(err);
        return;
    }
    t->modules++;
    for (uint32_t d = 0; d < m->num_funcs - m->num_imported_funcs; d++) {
        t->functions++;
        if ((err = code_verify(m, &m->code[d]))) {
            if (t->rejected++ < 20)
                fprintf(stderr, "%s: function %u: %s\n", path, m->num_imported_funcs + d,
                        wafer_error_message(err));
            wafer_error_free(err);
        }
    }
    /* and through a precompiled file, which loads only code that verifies */
    char cwasm[64];
    snprintf(cwasm, sizeof cwasm, "/tmp/wafer-test-code-verify-%d.cwasm", (int)getpid());
    wafer_module *loaded = NULL;
    if ((err = wafer_module_serialize_file(m, cwasm)) ||
        (err = wafer_module_deserialize_file(engine, cwasm, &loaded))) {
        if (t->rejected++ < 20) fprintf(stderr, "%s: %s\n", path, wafer_error_message(err));
        wafer_error_free(err);
    } else {
        t->loaded++;
        wafer_module_release(loaded);
    }
    unlink(cwasm);
    wafer_module_release(m);
}

static void walk(const char *dir, tally *t) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        size_t len = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            walk(path, t);
        else if (len > 5 && strcmp(e->d_name + len - 5, ".wasm") == 0)
            verify_file(path, t);
    }
    closedir(d);
}

/* No false rejection: every function the compiler makes for the spec suite's valid modules
 * verifies. Without WAFER_SPEC_DIR (tests/check.sh sets it after `make spec`), build/spec is
 * walked when present and the test skipped when not. */
static void test_spec_suite_verifies(void **state) {
    (void)state;
    const char *dir = getenv("WAFER_SPEC_DIR");
    struct stat st;
    if (!dir) {
        dir = "build/spec";
        if (stat(dir, &st) != 0) skip();
    }
    assert_int_equal(stat(dir, &st), 0);
    tally t = {0};
    walk(dir, &t);
    fprintf(stderr,
            "spec suite: %u modules (%u functions) verified, %u loaded precompiled, %u rejected\n",
            t.modules, t.functions, t.loaded, t.rejected);
    assert_true(t.modules > 0);
    assert_int_equal(t.rejected, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compiled_code_verifies),
        cmocka_unit_test(test_corrupted_operands_rejected),
        cmocka_unit_test(test_uninterruptible_code_rejected),
        cmocka_unit_test(test_corrupted_function_rejected),
        cmocka_unit_test(test_crafted_file_refused),
        cmocka_unit_test(test_spec_suite_verifies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
