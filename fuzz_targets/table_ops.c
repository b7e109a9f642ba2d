/* Fuzz target "table_ops": the externref GC invariants (DESIGN.md invariant 7, issues 5 and 6).
 *
 * The input is a program of reference moves. From it the target writes a module whose exported
 * function "run" performs the moves in straight-line code, between four externref locals, an
 * externref table and two externref globals, through host calls (make, pass) and a recursive
 * function, with collections forced by a host call while references sit on the operand stack and
 * in frames at every depth. The target keeps an exact model of where each object is, so every
 * check the module makes (a host call comparing a reference with the object the model expects)
 * can fail. Afterwards the table is read back through the host API, the store is dropped, and
 * every object made must have been dropped exactly once (drop_counter.h).
 *
 * Findings abort: a check that sees the wrong object or a dead one, a count that does not
 * balance, and whatever ASan and UBSan report (a use after free of an object released too early).
 *
 * Input: byte 0 chooses the engine (fuzz_engine.h's byte, plus bit 6: collect before every host
 * call); byte 1 the table's size; then ops of one byte each with their operands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/drop_counter.h"
#include "support/fuzz_engine.h"
#include "support/shape_input.h"
#include "support/shape_wasm.h"
#include "wafer.h"

enum {
    LOCALS = 4,
    GLOBALS = 2,
    TABLE_MAX = 64,
    MAX_OPS = 256,
    MAX_NEST = 64,
    /* function indices: the imports, then nest and run */
    F_MAKE = 0,
    F_CHECK,
    F_COLLECT,
    F_PASS,
    F_NEST,
    F_RUN,
};

/* Where every object is, as ids (-1: null). */
typedef struct model {
    int64_t locals[LOCALS];
    int64_t globals[GLOBALS];
    int64_t table[TABLE_MAX];
    uint32_t table_size;
    uint32_t made; /* make() calls so far: the next object's id */
} model;

typedef struct host {
    drop_counter objects;
} host;

static void finding(const char *what, const char *detail) {
    fprintf(stderr, "table_ops: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* ---- Host functions ----------------------------------------------------------------------- */

static wafer_error *host_make(void *env, wafer_caller *caller, const wafer_value *args,
                              wafer_value *results) {
    host *h = env;
    wafer_externref *ref = drop_counter_make(&h->objects);
    if (!ref) return wafer_error_new_trap("out of memory making an object");
    results[0] = (wafer_value){.type = WAFER_EXTERNREF, .of.externref = ref}; /* handed over */
    return NULL;
}

static wafer_error *host_check(void *env, wafer_caller *caller, const wafer_value *args,
                               wafer_value *results) {
    host *h = env;
    int64_t got = drop_counter_id(&h->objects, args[0].of.externref);
    if (got != args[1].of.i32) {
        char detail[96];
        snprintf(detail, sizeof detail, "expected object %d, found %lld", args[1].of.i32,
                 (long long)got);
        finding("a reference read back is not the one written", detail);
    }
    return NULL;
}

static wafer_error *host_collect(void *env, wafer_caller *caller, const wafer_value *args,
                                 wafer_value *results) {
    wafer_store_gc(wafer_caller_store(caller));
    return NULL;
}

/* Returns its argument: the result is a new count the host hands over. */
static wafer_error *host_pass(void *env, wafer_caller *caller, const wafer_value *args,
                              wafer_value *results) {
    wafer_store_gc(wafer_caller_store(caller));
    results[0] = (wafer_value){.type = WAFER_EXTERNREF,
                               .of.externref = wafer_externref_clone(args[0].of.externref)};
    return NULL;
}

/* ---- The module --------------------------------------------------------------------------- */

static void op_index(wasm_buf *b, uint8_t op, uint32_t index) {
    wasm_byte(b, op);
    wasm_uleb(b, index);
}

static void i32_const(wasm_buf *b, int32_t v) {
    wasm_byte(b, SHAPE_OP_I32_CONST);
    wasm_sleb(b, v);
}

static void prefixed(wasm_buf *b, uint32_t sub) {
    wasm_byte(b, 0xFC);
    wasm_uleb(b, sub);
}

/* call check(value on the stack, expected) */
static void check_top(wasm_buf *b, int64_t expected) {
    i32_const(b, (int32_t)expected);
    op_index(b, 0x10, F_CHECK);
}

static void check_local(wasm_buf *b, const model *m, uint32_t l) {
    op_index(b, 0x20, l);
    check_top(b, m->locals[l]);
}

/* One op of the program: emits its code and moves the model along. */
static void emit_op(shape_input *in, wasm_buf *b, model *m) {
    uint32_t a = shape_below(in, LOCALS), c = shape_below(in, LOCALS);
    switch (shape_below(in, 15)) {
    case 0: /* a = make() */
        op_index(b, 0x10, F_MAKE);
        op_index(b, 0x21, a);
        m->locals[a] = m->made++;
        break;
    case 1: { /* table[i] = a */
        uint32_t i = shape_below(in, m->table_size);
        i32_const(b, (int32_t)i);
        op_index(b, 0x20, a);
        op_index(b, 0x26, 0);
        m->table[i] = m->locals[a];
        break;
    }
    case 2: { /* a = table[i] */
        uint32_t i = shape_below(in, m->table_size);
        i32_const(b, (int32_t)i);
        op_index(b, 0x25, 0);
        op_index(b, 0x21, a);
        m->locals[a] = m->table[i];
        break;
    }
    case 3: { /* global k = a */
        uint32_t k = shape_below(in, GLOBALS);
        op_index(b, 0x20, a);
        op_index(b, 0x24, k);
        m->globals[k] = m->locals[a];
        break;
    }
    case 4: { /* a = global k */
        uint32_t k = shape_below(in, GLOBALS);
        op_index(b, 0x23, k);
        op_index(b, 0x21, a);
        m->locals[a] = m->globals[k];
        break;
    }
    case 5: check_local(b, m, a); break;
    case 6: /* a and c on the operand stack across a collection, then checked from there */
        op_index(b, 0x20, a);
        op_index(b, 0x20, c);
        op_index(b, 0x10, F_COLLECT);
        check_top(b, m->locals[c]);
        check_top(b, m->locals[a]);
        break;
    case 7: { /* a = nest(c, depth): c held in every frame while the deepest collects */
        uint32_t depth = shape_below(in, MAX_NEST);
        op_index(b, 0x20, c);
        i32_const(b, (int32_t)depth);
        op_index(b, 0x10, F_NEST);
        op_index(b, 0x21, a);
        m->locals[a] = m->locals[c];
        break;
    }
    case 8: /* a = pass(c), through the host */
        op_index(b, 0x20, c);
        op_index(b, 0x10, F_PASS);
        op_index(b, 0x21, a);
        m->locals[a] = m->locals[c];
        break;
    case 9: { /* table.fill [i, i + n) with a */
        uint32_t i = shape_below(in, m->table_size + 1);
        uint32_t n = shape_below(in, m->table_size - i + 1);
        i32_const(b, (int32_t)i);
        op_index(b, 0x20, a);
        i32_const(b, (int32_t)n);
        prefixed(b, 17);
        wasm_uleb(b, 0);
        for (uint32_t k = 0; k < n; k++) m->table[i + k] = m->locals[a];
        break;
    }
    case 10: { /* table.copy, overlapping either way */
        uint32_t n = shape_below(in, m->table_size + 1);
        uint32_t d = shape_below(in, m->table_size - n + 1), s = shape_below(in, m->table_size - n + 1);
        i32_const(b, (int32_t)d);
        i32_const(b, (int32_t)s);
        i32_const(b, (int32_t)n);
        prefixed(b, 14);
        wasm_uleb(b, 0);
        wasm_uleb(b, 0);
        memmove(&m->table[d], &m->table[s], n * sizeof m->table[0]);
        break;
    }
    case 11: { /* table.grow by n with a, within the maximum */
        uint32_t n = shape_below(in, TABLE_MAX - m->table_size + 1);
        op_index(b, 0x20, a);
        i32_const(b, (int32_t)n);
        shape_op_table_grow(b, 0);
        wasm_byte(b, SHAPE_OP_DROP);
        for (uint32_t k = 0; k < n; k++) m->table[m->table_size + k] = m->locals[a];
        m->table_size += n;
        break;
    }
    case 12: /* a = null */
        wasm_byte(b, 0xD0);
        wasm_byte(b, SHAPE_EXTERNREF);
        op_index(b, 0x21, a);
        m->locals[a] = -1;
        break;
    case 13: op_index(b, 0x10, F_COLLECT); break;
    case 14: /* an object made and dropped at once */
        op_index(b, 0x10, F_MAKE);
        wasm_byte(b, SHAPE_OP_DROP);
        m->made++;
        break;
    }
}

/* nest(r, d): d > 0 ? nest(r, d - 1) : (collect(), r), so r sits in d + 1 frames. */
static void emit_nest(wasm_buf *b) {
    wasm_uleb(b, 0); /* no locals */
    op_index(b, 0x20, 1);
    wasm_byte(b, 0x04); /* if (result externref) */
    wasm_byte(b, SHAPE_EXTERNREF);
    op_index(b, 0x20, 0);
    op_index(b, 0x20, 1);
    i32_const(b, 1);
    wasm_byte(b, 0x6B); /* i32.sub */
    op_index(b, 0x10, F_NEST);
    wasm_byte(b, 0x05); /* else */
    op_index(b, 0x10, F_COLLECT);
    op_index(b, 0x20, 0);
    wasm_byte(b, SHAPE_OP_END);
    wasm_byte(b, SHAPE_OP_END);
}

static bool build_module(shape_input *in, model *m, uint8_t **bytes, size_t *len) {
    static const uint8_t ext[] = {SHAPE_EXTERNREF}, ext_i32[] = {SHAPE_EXTERNREF, SHAPE_I32};
    shape_module mod;
    shape_module_init(&mod);
    uint32_t t_make = shape_type(&mod, 0, NULL, 1, ext);
    uint32_t t_check = shape_type(&mod, 2, ext_i32, 0, NULL);
    uint32_t t_none = shape_type(&mod, 0, NULL, 0, NULL);
    uint32_t t_pass = shape_type(&mod, 1, ext, 1, ext);
    uint32_t t_nest = shape_type(&mod, 2, ext_i32, 1, ext);
    /* function imports by hand (shape_wasm imports memories and tables only); shape_func's
     * numbers then count the defined functions alone, after these F_NEST - F_MAKE imports */
    const struct {
        const char *name;
        uint32_t type;
    } funcs[] = {{"make", t_make}, {"check", t_check}, {"collect", t_none}, {"pass", t_pass}};
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
        wasm_uleb(&mod.imports, 1);
        wasm_byte(&mod.imports, 'h');
        wasm_uleb(&mod.imports, strlen(funcs[i].name));
        wasm_bytes(&mod.imports, funcs[i].name, strlen(funcs[i].name));
        wasm_byte(&mod.imports, SHAPE_KIND_FUNC);
        wasm_uleb(&mod.imports, funcs[i].type);
        mod.nimports++;
    }
    shape_table(&mod, SHAPE_EXTERNREF, (shape_limits){m->table_size, TABLE_MAX, true, false});
    for (int g = 0; g < GLOBALS; g++) shape_global(&mod, SHAPE_EXTERNREF, true, 0);

    wasm_buf nest = {0};
    emit_nest(&nest);
    shape_func(&mod, t_nest, &nest);
    wasm_buf_free(&nest);

    wasm_buf run = {0};
    wasm_uleb(&run, 1); /* one run of locals: LOCALS externrefs */
    wasm_uleb(&run, LOCALS);
    wasm_byte(&run, SHAPE_EXTERNREF);
    for (int n = 0; n < MAX_OPS && !shape_input_empty(in); n++) emit_op(in, &run, m);
    /* everything checked where it ended up */
    for (uint32_t l = 0; l < LOCALS; l++) check_local(&run, m, l);
    for (uint32_t g = 0; g < GLOBALS; g++) {
        op_index(&run, 0x23, g);
        check_top(&run, m->globals[g]);
    }
    for (uint32_t i = 0; i < m->table_size; i++) {
        i32_const(&run, (int32_t)i);
        op_index(&run, 0x25, 0);
        check_top(&run, m->table[i]);
    }
    wasm_byte(&run, SHAPE_OP_END);
    uint32_t f_run = F_NEST + shape_func(&mod, t_none, &run);
    wasm_buf_free(&run);
    shape_export(&mod, "run", SHAPE_KIND_FUNC, f_run);
    shape_export(&mod, "t", SHAPE_KIND_TABLE, 0);
    bool ok = shape_module_finish(&mod, bytes, len);
    shape_module_free(&mod);
    return ok;
}

/* ---- One input ---------------------------------------------------------------------------- */

static void run_module(wafer_engine *engine, const uint8_t *bytes, size_t len, const model *m,
                       host *h) {
    wafer_module *module;
    wafer_error *err = wafer_module_new(engine, bytes, len, &module);
    if (err) finding("a generated module was refused", wafer_error_message(err));
    wafer_store *store = wafer_store_new(engine);
    if (!store) finding("no store", NULL);
    static const wafer_valtype ext[] = {WAFER_EXTERNREF}, ext_i32[] = {WAFER_EXTERNREF, WAFER_I32};
    wafer_functype t_make = {0, 1, NULL, ext}, t_check = {2, 0, ext_i32, NULL},
                   t_none = {0, 0, NULL, NULL}, t_pass = {1, 1, ext, ext};
    wafer_extern imports[4] = {
        {WAFER_EXTERN_FUNC, .of.func = wafer_func_new_host(store, &t_make, host_make, h, NULL)},
        {WAFER_EXTERN_FUNC, .of.func = wafer_func_new_host(store, &t_check, host_check, h, NULL)},
        {WAFER_EXTERN_FUNC,
         .of.func = wafer_func_new_host(store, &t_none, host_collect, h, NULL)},
        {WAFER_EXTERN_FUNC, .of.func = wafer_func_new_host(store, &t_pass, host_pass, h, NULL)},
    };
    wafer_instance *instance = NULL;
    err = wafer_instance_new(store, module, imports, 4, &instance);
    if (err) finding("instantiation failed", wafer_error_message(err));
    wafer_extern run, table;
    if (!wafer_instance_export(instance, "run", 3, &run) ||
        !wafer_instance_export(instance, "t", 1, &table))
        finding("exports missing", NULL);
    err = wafer_func_call(store, run.of.func, NULL, 0, NULL, 0);
    /* the call stack is the only limit this code can reach (MAX_NEST frames are far below it) */
    if (err) finding("run trapped", wafer_error_message(err));
    wafer_store_gc(store);
    for (uint32_t i = 0; i < m->table_size; i++) {
        wafer_value v;
        if (wafer_table_get(table.of.table, i, &v)) finding("table.get from the host failed", NULL);
        if (drop_counter_id(&h->objects, v.of.externref) != m->table[i])
            finding("the host reads back another object than the model's", NULL);
        wafer_value_release(&v);
    }
    wafer_store_delete(store);
    wafer_module_release(module);
}

/* The engine for a configuration byte, made on first use and kept for the process: making a
 * pooling engine per input would cost more than the input. Fuel and epochs stay off: straight-line
 * code and bounded recursion end by themselves. */
static wafer_engine *engine_for(uint8_t byte) {
    static wafer_engine *engines[128];
    uint8_t key = byte & 0x7F;
    if (!engines[key]) {
        wafer_config config;
        fuzz_config_small(&config);
        fuzz_config_choose(byte, &config);
        config.gc_at_host_calls = byte & 0x40;
        config.consume_fuel = false;
        config.epoch_interruption = false;
        engines[key] = wafer_engine_new(&config);
    }
    return engines[key];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    shape_input in;
    shape_input_init(&in, data, size);
    wafer_engine *engine = engine_for(shape_u8(&in));
    if (!engine) return 0;

    model m;
    for (int i = 0; i < LOCALS; i++) m.locals[i] = -1;
    for (int i = 0; i < GLOBALS; i++) m.globals[i] = -1;
    for (int i = 0; i < TABLE_MAX; i++) m.table[i] = -1;
    m.table_size = 1 + shape_below(&in, 16);
    m.made = 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (build_module(&in, &m, &bytes, &len)) {
        host h;
        drop_counter_init(&h.objects);
        run_module(engine, bytes, len, &m, &h);
        if (h.objects.created != m.made) finding("make() ran another number of times", NULL);
        char why[128];
        if (!drop_counter_check(&h.objects, why, sizeof why))
            finding("objects not dropped exactly once", why);
        drop_counter_free(&h.objects);
    }
    free(bytes);
    return 0;
}
