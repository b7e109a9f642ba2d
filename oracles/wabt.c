/* The wabt adapter: the reference engine, wabt's interpreter, driven through `spectest-interp`.
 *
 * wabt's own harnesses print floats with %f, which loses bits, so values never reach us through
 * its printing. Instead, per tested module T, we generate (wasm_writer.h):
 * - a shim module per import module name of T, registered under that name, exporting one
 *   stand-in per import: a function prints a LOG tag (import number) and then each argument as
 *   integer bits through spectest.print_i32 / print_i64 (floats reinterpreted, references as
 *   ref.is_null) and returns zeros; memories, tables and globals are made to the declared types;
 * - a wrapper module importing T's exports (T is registered under a private name). Its start
 *   function prints READY; its function c<k> calls hangLimitInitializer if T exports it, calls
 *   export k with zero arguments and prints a RETURN tag and each result's bits; its function
 *   `final` prints each exported global (GLOBAL tag) and each exported memory's size and FNV-1a
 *   hash (MEMORY tag), the hash computed in wasm with a fast path for zero words;
 * - a marker module whose start function prints BEGIN and the module's number in the batch.
 * A wast2json-style script lists them, many tested modules to one spectest-interp process, as
 * module / register / action commands. What spectest-interp prints is a stream of tagged
 * integers (every "called host spectest.print_*" line), the action lines ("c3() =>", or
 * "c3() => error: TRAP") and error lines ("batch.wast:LINE: error instantiating module: ..."),
 * which parse back into observations exactly.
 *
 * The printing functions reach the shims and wrappers through a module registered as
 * "wafer:print" that re-exports spectest's, so that a tested module importing from "spectest"
 * (every spec test module does) can have its own shim registered as "spectest".
 *
 * A crash (abort, failed assertion, std::bad_alloc under the memory limit), a hang (no output for
 * the time limit) or a flood of output ends the process: the module it was running gets
 * "inconclusive crash|time|output" after what it printed, and the batch goes on in a new process
 * from the next module.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "module_facts.h"
#include "oracle.h"
#include "subprocess.h"
#include "wafer.h"
#include "wasm_writer.h"

#define BATCH_MAX 64
#define TOOL "spectest-interp"
#define OUTPUT_MAX (UINT64_C(256) << 20)

/* Tags: the first integer of every record in the printed stream. */
#define TAG_BEGIN 0x57A00000u  /* + module number in the batch; then BEGIN_MAGIC (i64) */
#define TAG_READY 0x57A10000u  /* the tested module instantiated */
#define TAG_RETURN 0x57A20000u /* results follow */
#define TAG_LOG 0x57B00000u    /* + import number; arguments follow */
#define TAG_GLOBAL 0x57C00000u /* + export number; the value follows */
#define TAG_MEMORY 0x57D00000u /* + export number; pages (i64), hashed (i32), hash (i64) */
#define TAG_INDEX_MAX 0xFFFFFu
/* BEGIN is two records, so that a value a module prints cannot pass for one by chance. */
#define BEGIN_MAGIC UINT64_C(0x5741464552424547)

/* Memories above this many pages are not hashed in wabt: it costs too long in its interpreter. */
#define HASHED_PAGES_MAX 256

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static const char print_module[] = "wafer:print";

struct oracle_session {
    oracle_options options;
    char dir[PATH_MAX];
};

/* ---- Planning: what one tested module's part of the script is ------------------------------- */

typedef struct planned_call {
    uint32_t export_index;
    const facts_functype *type;
} planned_call;

typedef struct item_plan {
    const oracle_module *module;
    module_facts facts;
    bool facts_ok;
    /* Set when the module cannot be wrapped (a v128 in its interface, import names that one shim
     * cannot serve): it is then run alone, only to see whether wabt accepts it. */
    const char *unwrappable;
    planned_call *calls;
    uint32_t ncalls;
    bool has_hli;
    uint32_t hli_export;
} item_plan;

static bool is_hli(const module_facts *f, const facts_extern *e) {
    static const char hli[] = "hangLimitInitializer";
    if (e->kind != FACTS_FUNC || e->name_len != sizeof hli - 1 ||
        memcmp(e->name, hli, e->name_len) != 0)
        return false;
    const facts_functype *t = module_facts_func_type(f, e->index);
    return t && t->nparams == 0 && t->nresults == 0;
}

static bool type_has_v128(const facts_functype *t) {
    for (uint32_t i = 0; i < t->nparams; i++)
        if (t->params[i] == WASM_V128) return true;
    for (uint32_t i = 0; i < t->nresults; i++)
        if (t->results[i] == WASM_V128) return true;
    return false;
}

static bool same_name(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen) {
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* Two imports one shim export must serve: same kind and type, else the module is unwrappable. */
static bool imports_compatible(const module_facts *f, const facts_extern *a,
                               const facts_extern *b) {
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case FACTS_FUNC: {
        const facts_functype *x = module_facts_func_type(f, a->index);
        const facts_functype *y = module_facts_func_type(f, b->index);
        return x->nparams == y->nparams && x->nresults == y->nresults &&
               memcmp(x->params, y->params, x->nparams) == 0 &&
               memcmp(x->results, y->results, x->nresults) == 0;
    }
    case FACTS_GLOBAL:
        return f->globals[a->index].type == f->globals[b->index].type &&
               f->globals[a->index].is_mutable == f->globals[b->index].is_mutable;
    default: return false; /* two memories or tables behind one name would have to be one */
    }
}

/* The first import with the same module and name as import j (j itself if none before). */
static uint32_t first_import_named(const module_facts *f, uint32_t j) {
    const facts_extern *e = &f->imports[j];
    for (uint32_t i = 0; i < j; i++) {
        const facts_extern *o = &f->imports[i];
        if (same_name(o->module, o->module_len, e->module, e->module_len) &&
            same_name(o->name, o->name_len, e->name, e->name_len))
            return i;
    }
    return j;
}

/* Names go into the script (register commands, as JSON) and into generated modules: they must
 * be UTF-8 (spec 5.2.4), or the script would not parse and the whole batch would be lost. */
static bool is_utf8(const uint8_t *s, uint32_t len) {
    uint32_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        uint32_t extra;
        if (c < 0x80) extra = 0;
        else if (c >= 0xC2 && c <= 0xDF) extra = 1;
        else if ((c & 0xF0) == 0xE0) extra = 2;
        else if (c >= 0xF0 && c <= 0xF4) extra = 3;
        else return false;
        if (extra > len - i - 1) return false;
        for (uint32_t k = 1; k <= extra; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        i += extra + 1;
    }
    return true;
}

static bool plan_item(const oracle_module *module, item_plan *plan) {
    memset(plan, 0, sizeof *plan);
    plan->module = module;
    char why[200];
    plan->facts_ok = module_facts_read(module->bytes, module->len, &plan->facts, why, sizeof why);
    if (!plan->facts_ok) {
        plan->unwrappable = "the oracle cannot read the module's interface";
        return true;
    }
    module_facts *f = &plan->facts;
    if (f->nimports > TAG_INDEX_MAX || f->nexports > TAG_INDEX_MAX) {
        plan->unwrappable = "too many imports or exports to tag";
        return true;
    }
    for (uint32_t j = 0; j < f->nimports; j++) {
        const facts_extern *imp = &f->imports[j];
        if (imp->kind == FACTS_FUNC && type_has_v128(module_facts_func_type(f, imp->index)))
            plan->unwrappable = "v128 in an imported function's type";
        if (imp->kind == FACTS_GLOBAL && f->globals[imp->index].type == WASM_V128)
            plan->unwrappable = "v128 imported global";
        if (!is_utf8(imp->module, imp->module_len) || !is_utf8(imp->name, imp->name_len))
            plan->unwrappable = "an import name that is not UTF-8";
        uint32_t first = first_import_named(f, j);
        if (first != j && !imports_compatible(f, &f->imports[first], imp))
            plan->unwrappable = "one import name with two different types";
    }
    plan->calls = calloc(f->nexports + 1, sizeof *plan->calls);
    if (!plan->calls) return false;
    for (uint32_t k = 0; k < f->nexports; k++) {
        const facts_extern *e = &f->exports[k];
        if (!is_utf8(e->name, e->name_len)) plan->unwrappable = "an export name that is not UTF-8";
        if (e->kind == FACTS_GLOBAL && f->globals[e->index].type == WASM_V128)
            plan->unwrappable = "v128 exported global";
        if (e->kind != FACTS_FUNC) continue;
        if (is_hli(f, e)) {
            plan->has_hli = true;
            plan->hli_export = k;
            continue;
        }
        const facts_functype *t = module_facts_func_type(f, e->index);
        if (type_has_v128(t)) plan->unwrappable = "v128 in an exported function's type";
        plan->calls[plan->ncalls++] = (planned_call){k, t};
    }
    return true;
}

static void item_plan_free(item_plan *plan) {
    if (plan->facts_ok) module_facts_free(&plan->facts);
    free(plan->calls);
    memset(plan, 0, sizeof *plan);
}

/* ---- Generating the modules ----------------------------------------------------------------- */

/* Function indices of the printing imports every generated module starts with. */
enum { FN_PRINT_I32 = 0, FN_PRINT_I64 = 1 };

static void import_printers(wasm_module *m) {
    static const uint8_t i32[] = {WASM_I32}, i64[] = {WASM_I64};
    uint32_t t32 = wasm_type(m, 1, i32, 0, NULL);
    uint32_t t64 = wasm_type(m, 1, i64, 0, NULL);
    wasm_import_func(m, print_module, strlen(print_module), "print_i32", 9, t32);
    wasm_import_func(m, print_module, strlen(print_module), "print_i64", 9, t64);
}

static void emit_call(wasm_buf *code, uint32_t func) {
    wasm_byte(code, WASM_OP_CALL);
    wasm_uleb(code, func);
}

static void emit_i64_const(wasm_buf *code, uint64_t value) {
    wasm_byte(code, WASM_OP_I64_CONST);
    wasm_sleb(code, (int64_t)value);
}

static void emit_print_tag(wasm_buf *code, uint32_t tag) {
    wasm_byte(code, WASM_OP_I32_CONST);
    wasm_sleb(code, (int32_t)tag);
    emit_call(code, FN_PRINT_I32);
}

/* Prints the value of `type` on top of the stack as integer bits. */
static void emit_print_value(wasm_buf *code, uint8_t type) {
    switch (type) {
    case WASM_I32: emit_call(code, FN_PRINT_I32); break;
    case WASM_I64: emit_call(code, FN_PRINT_I64); break;
    case WASM_F32:
        wasm_byte(code, WASM_OP_I32_REINTERPRET_F32);
        emit_call(code, FN_PRINT_I32);
        break;
    case WASM_F64:
        wasm_byte(code, WASM_OP_I64_REINTERPRET_F64);
        emit_call(code, FN_PRINT_I64);
        break;
    default:
        wasm_byte(code, WASM_OP_REF_IS_NULL);
        emit_call(code, FN_PRINT_I32);
        break;
    }
}

static uint32_t functype_of(wasm_module *m, const facts_functype *t) {
    return wasm_type(m, t->nparams, t->params, t->nresults, t->results);
}

static wasm_limits limits_of(const facts_limits *l) {
    return (wasm_limits){l->min, l->max, l->has_max, l->is64, l->shared};
}

/* The marker: its start function prints BEGIN + number. */
static bool build_marker(uint32_t number, uint8_t **out, size_t *len) {
    wasm_module m;
    wasm_module_init(&m);
    import_printers(&m);
    uint32_t t = wasm_type(&m, 0, NULL, 0, NULL);
    wasm_buf body = {0};
    wasm_byte(&body, 0); /* no locals */
    emit_print_tag(&body, TAG_BEGIN + number);
    emit_i64_const(&body, BEGIN_MAGIC);
    emit_call(&body, FN_PRINT_I64);
    wasm_byte(&body, WASM_OP_END);
    wasm_start(&m, wasm_func(&m, t, &body));
    wasm_buf_free(&body);
    bool ok = wasm_module_finish(&m, out, len);
    wasm_module_free(&m);
    return ok;
}

/* The printer: re-exports spectest's printing functions under print_module. */
static bool build_printer(uint8_t **out, size_t *len) {
    wasm_module m;
    wasm_module_init(&m);
    static const uint8_t i32[] = {WASM_I32}, i64[] = {WASM_I64};
    uint32_t t32 = wasm_type(&m, 1, i32, 0, NULL);
    uint32_t t64 = wasm_type(&m, 1, i64, 0, NULL);
    wasm_export(&m, "print_i32", 9, FACTS_FUNC,
                wasm_import_func(&m, "spectest", 8, "print_i32", 9, t32));
    wasm_export(&m, "print_i64", 9, FACTS_FUNC,
                wasm_import_func(&m, "spectest", 8, "print_i64", 9, t64));
    bool ok = wasm_module_finish(&m, out, len);
    wasm_module_free(&m);
    return ok;
}

/* The shim for the imports of T from the module name of import `first` (every import with that
 * module name, in import order; a repeated module+name is served by its first import). */
static bool build_shim(const module_facts *f, uint32_t first, uint8_t **out, size_t *len) {
    const facts_extern *head = &f->imports[first];
    wasm_module m;
    wasm_module_init(&m);
    import_printers(&m);
    bool ok = true;
    for (uint32_t j = first; j < f->nimports; j++) {
        const facts_extern *imp = &f->imports[j];
        if (!same_name(imp->module, imp->module_len, head->module, head->module_len) ||
            first_import_named(f, j) != j)
            continue;
        uint32_t index = 0;
        switch (imp->kind) {
        case FACTS_FUNC: {
            const facts_functype *t = module_facts_func_type(f, imp->index);
            wasm_buf body = {0};
            wasm_byte(&body, 0);
            emit_print_tag(&body, TAG_LOG + j);
            for (uint32_t p = 0; p < t->nparams; p++) {
                wasm_byte(&body, WASM_OP_LOCAL_GET);
                wasm_uleb(&body, p);
                emit_print_value(&body, t->params[p]);
            }
            for (uint32_t r = 0; r < t->nresults; r++) wasm_zero(&body, t->results[r]);
            wasm_byte(&body, WASM_OP_END);
            index = wasm_func(&m, functype_of(&m, t), &body);
            ok = ok && !body.failed;
            wasm_buf_free(&body);
            break;
        }
        case FACTS_TABLE:
            index = wasm_table(&m, f->tables[imp->index].elem,
                               limits_of(&f->tables[imp->index].limits));
            break;
        case FACTS_MEMORY: index = wasm_memory(&m, limits_of(&f->memories[imp->index])); break;
        case FACTS_GLOBAL:
            index = wasm_global_zero(&m, f->globals[imp->index].type,
                                     f->globals[imp->index].is_mutable);
            break;
        }
        wasm_export(&m, imp->name, imp->name_len, imp->kind, index);
    }
    ok = wasm_module_finish(&m, out, len) && ok;
    wasm_module_free(&m);
    return ok;
}

/* A memory access's memarg: alignment, the memory index when not 0 (multi-memory encoding:
 * bit 6 of the alignment field), offset 0. */
static void emit_memarg(wasm_buf *code, uint32_t align, uint32_t memory) {
    if (memory == 0) {
        wasm_uleb(code, align);
    } else {
        wasm_uleb(code, align | 0x40);
        wasm_uleb(code, memory);
    }
    wasm_uleb(code, 0);
}

static void emit_local(wasm_buf *code, uint8_t op, uint32_t local) {
    wasm_byte(code, op);
    wasm_uleb(code, local);
}

/* Address operand from the i64 local `a`: wrapped for a 32-bit memory. */
static void emit_address(wasm_buf *code, uint32_t a, bool is64) {
    emit_local(code, WASM_OP_LOCAL_GET, a);
    if (!is64) wasm_byte(code, WASM_OP_I32_WRAP_I64);
}

/* Prints a memory's size in pages (i64), then 1 and its FNV-1a 64 hash (i64), or 0 when it is
 * larger than HASHED_PAGES_MAX. Uses i64 locals base+0 (hash), +1 (address), +2 (end). FNV-1a
 * of a zero byte is one multiplication by the prime, so eight zero bytes (an i64.load of 0) are
 * one multiplication by prime^8: the fast path over the mostly empty memories of fuzzed
 * modules. */
static void emit_memory_record(wasm_buf *code, uint32_t memory, bool is64, uint32_t base) {
    uint32_t h = base, a = base + 1, n = base + 2;
    uint64_t prime8 = 1;
    for (int i = 0; i < 8; i++) prime8 *= FNV_PRIME;
    wasm_byte(code, WASM_OP_MEMORY_SIZE);
    wasm_uleb(code, memory);
    if (!is64) wasm_byte(code, WASM_OP_I64_EXTEND_I32_U);
    emit_local(code, WASM_OP_LOCAL_TEE, n);
    emit_call(code, FN_PRINT_I64);
    /* if pages > HASHED_PAGES_MAX: print 0 else: hash */
    emit_local(code, WASM_OP_LOCAL_GET, n);
    emit_i64_const(code, HASHED_PAGES_MAX);
    wasm_byte(code, WASM_OP_I64_GT_U);
    wasm_byte(code, WASM_OP_IF);
    wasm_byte(code, WASM_BLOCK_EMPTY);
    emit_print_tag(code, 0);
    wasm_byte(code, WASM_OP_ELSE);
    emit_print_tag(code, 1);
    /* n = pages << 16; h = offset; a = 0 */
    emit_local(code, WASM_OP_LOCAL_GET, n);
    emit_i64_const(code, 16);
    wasm_byte(code, WASM_OP_I64_SHL);
    emit_local(code, WASM_OP_LOCAL_SET, n);
    emit_i64_const(code, FNV_OFFSET);
    emit_local(code, WASM_OP_LOCAL_SET, h);
    emit_i64_const(code, 0);
    emit_local(code, WASM_OP_LOCAL_SET, a);
    wasm_byte(code, WASM_OP_BLOCK);
    wasm_byte(code, WASM_BLOCK_EMPTY);
    wasm_byte(code, WASM_OP_LOOP);
    wasm_byte(code, WASM_BLOCK_EMPTY);
    /* a >= n: done */
    emit_local(code, WASM_OP_LOCAL_GET, a);
    emit_local(code, WASM_OP_LOCAL_GET, n);
    wasm_byte(code, WASM_OP_I64_GE_U);
    wasm_byte(code, WASM_OP_BR_IF);
    wasm_uleb(code, 1);
    /* n is a multiple of 65536 and a steps by 8 while words are zero, so a + 8 <= n holds
     * whenever a is a multiple of 8; a byte step (a nonzero word) goes on byte by byte to the end
     * of that word, keeping a's alignment for the next word. */
    emit_local(code, WASM_OP_LOCAL_GET, a);
    emit_i64_const(code, 7);
    wasm_byte(code, 0x83); /* i64.and */
    wasm_byte(code, WASM_OP_I64_EQZ);
    wasm_byte(code, WASM_OP_IF);
    wasm_byte(code, WASM_BLOCK_EMPTY);
    emit_address(code, a, is64);
    wasm_byte(code, WASM_OP_I64_LOAD);
    emit_memarg(code, 0, memory);
    wasm_byte(code, WASM_OP_I64_EQZ);
    wasm_byte(code, WASM_OP_IF);
    wasm_byte(code, WASM_BLOCK_EMPTY);
    emit_local(code, WASM_OP_LOCAL_GET, h);
    emit_i64_const(code, prime8);
    wasm_byte(code, WASM_OP_I64_MUL);
    emit_local(code, WASM_OP_LOCAL_SET, h);
    emit_local(code, WASM_OP_LOCAL_GET, a);
    emit_i64_const(code, 8);
    wasm_byte(code, WASM_OP_I64_ADD);
    emit_local(code, WASM_OP_LOCAL_SET, a);
    wasm_byte(code, WASM_OP_BR);
    wasm_uleb(code, 2); /* the loop: if, if, loop */
    wasm_byte(code, WASM_OP_END);
    wasm_byte(code, WASM_OP_END);
    /* h = (h ^ load8_u(a)) * prime; a += 1 */
    emit_local(code, WASM_OP_LOCAL_GET, h);
    emit_address(code, a, is64);
    wasm_byte(code, WASM_OP_I32_LOAD8_U);
    emit_memarg(code, 0, memory);
    wasm_byte(code, WASM_OP_I64_EXTEND_I32_U);
    wasm_byte(code, WASM_OP_I64_XOR);
    emit_i64_const(code, FNV_PRIME);
    wasm_byte(code, WASM_OP_I64_MUL);
    emit_local(code, WASM_OP_LOCAL_SET, h);
    emit_local(code, WASM_OP_LOCAL_GET, a);
    emit_i64_const(code, 1);
    wasm_byte(code, WASM_OP_I64_ADD);
    emit_local(code, WASM_OP_LOCAL_SET, a);
    wasm_byte(code, WASM_OP_BR);
    wasm_uleb(code, 0);
    wasm_byte(code, WASM_OP_END); /* loop */
    wasm_byte(code, WASM_OP_END); /* block */
    emit_local(code, WASM_OP_LOCAL_GET, h);
    emit_call(code, FN_PRINT_I64);
    wasm_byte(code, WASM_OP_END); /* if */
}

/* The wrapper of T, registered under `t_name`. */
static bool build_wrapper(const item_plan *plan, const char *t_name, uint8_t **out, size_t *len) {
    const module_facts *f = &plan->facts;
    size_t t_len = strlen(t_name);
    wasm_module m;
    wasm_module_init(&m);
    import_printers(&m);
    uint32_t *call_funcs = calloc(plan->ncalls + 1, sizeof *call_funcs);
    uint32_t *export_index = calloc(f->nexports + 1, sizeof *export_index); /* global/memory */
    if (!call_funcs || !export_index) {
        free(call_funcs);
        free(export_index);
        wasm_module_free(&m);
        return false;
    }
    uint32_t hli = 0;
    if (plan->has_hli) {
        const facts_extern *e = &f->exports[plan->hli_export];
        hli = wasm_import_func(&m, t_name, t_len, e->name, e->name_len,
                               wasm_type(&m, 0, NULL, 0, NULL));
    }
    for (uint32_t k = 0; k < plan->ncalls; k++) {
        const facts_extern *e = &f->exports[plan->calls[k].export_index];
        call_funcs[k] = wasm_import_func(&m, t_name, t_len, e->name, e->name_len,
                                         functype_of(&m, plan->calls[k].type));
    }
    for (uint32_t k = 0; k < f->nexports; k++) {
        const facts_extern *e = &f->exports[k];
        if (e->kind == FACTS_GLOBAL) {
            export_index[k] = wasm_import_global(&m, t_name, t_len, e->name, e->name_len,
                                                 f->globals[e->index].type,
                                                 f->globals[e->index].is_mutable);
        } else if (e->kind == FACTS_MEMORY) {
            facts_limits l = f->memories[e->index];
            /* Any memory of this index type matches an import of minimum 0 without maximum. */
            wasm_limits any = {0, 0, false, l.is64, l.shared};
            if (l.shared) any = limits_of(&l);
            export_index[k] = wasm_import_memory(&m, t_name, t_len, e->name, e->name_len, any);
        }
    }
    uint32_t void_type = wasm_type(&m, 0, NULL, 0, NULL);
    bool ok = true;

    wasm_buf body = {0};
    wasm_byte(&body, 0);
    emit_print_tag(&body, TAG_READY);
    wasm_byte(&body, WASM_OP_END);
    wasm_start(&m, wasm_func(&m, void_type, &body));
    wasm_buf_free(&body);

    for (uint32_t k = 0; k < plan->ncalls; k++) {
        const facts_functype *t = plan->calls[k].type;
        wasm_buf code = {0};
        /* One local per result, each its own run of one. */
        wasm_uleb(&code, t->nresults);
        for (uint32_t r = 0; r < t->nresults; r++) {
            wasm_uleb(&code, 1);
            wasm_byte(&code, t->results[r]);
        }
        if (plan->has_hli) emit_call(&code, hli);
        for (uint32_t p = 0; p < t->nparams; p++) wasm_zero(&code, t->params[p]);
        emit_call(&code, call_funcs[k]);
        for (uint32_t r = t->nresults; r-- > 0;) emit_local(&code, WASM_OP_LOCAL_SET, r);
        emit_print_tag(&code, TAG_RETURN);
        for (uint32_t r = 0; r < t->nresults; r++) {
            emit_local(&code, WASM_OP_LOCAL_GET, r);
            emit_print_value(&code, t->results[r]);
        }
        wasm_byte(&code, WASM_OP_END);
        char name[24];
        int n = snprintf(name, sizeof name, "c%u", k);
        wasm_export(&m, name, (size_t)n, FACTS_FUNC, wasm_func(&m, void_type, &code));
        ok = ok && !code.failed;
        wasm_buf_free(&code);
    }

    wasm_buf final = {0};
    wasm_byte(&final, 1);
    wasm_byte(&final, 3);
    wasm_byte(&final, WASM_I64);
    for (uint32_t k = 0; k < f->nexports; k++) {
        const facts_extern *e = &f->exports[k];
        if (e->kind == FACTS_GLOBAL) {
            emit_print_tag(&final, TAG_GLOBAL + k);
            wasm_byte(&final, WASM_OP_GLOBAL_GET);
            wasm_uleb(&final, export_index[k]);
            emit_print_value(&final, f->globals[e->index].type);
        } else if (e->kind == FACTS_MEMORY) {
            emit_print_tag(&final, TAG_MEMORY + k);
            emit_memory_record(&final, export_index[k], f->memories[e->index].is64, 0);
        }
    }
    wasm_byte(&final, WASM_OP_END);
    wasm_export(&m, "final", 5, FACTS_FUNC, wasm_func(&m, void_type, &final));
    ok = ok && !final.failed;
    wasm_buf_free(&final);
    free(call_funcs);
    free(export_index);
    ok = wasm_module_finish(&m, out, len) && ok;
    wasm_module_free(&m);
    return ok;
}

/* ---- The script ----------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    return ftw->level > 0 ? remove(path) : 0;
}

/* Empties dir (the last batch's files), keeping dir itself. */
static void remove_files(const char *dir) { nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS); }

/* Command lines: item i's commands are numbered 16 * i + role, so an error line names both. */
enum { ROLE_MARKER = 1, ROLE_SHIM = 2, ROLE_TESTED = 3, ROLE_REGISTER = 4, ROLE_WRAPPER = 5,
       ROLE_CALL = 6, ROLE_FINAL = 7 };
#define LINE_OF(item, role) (16u * (unsigned)(item) + 16u + (role))

typedef struct script {
    FILE *json;
    const char *dir;
    bool first;
    bool failed;
} script;

static void json_string(FILE *out, const uint8_t *bytes, size_t len) {
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = bytes[i];
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

static void command_start(script *s) {
    fputs(s->first ? "\n " : ",\n ", s->json);
    s->first = false;
}

static void write_module_command(script *s, unsigned line, const char *file, const uint8_t *bytes,
                                 size_t len) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", s->dir, file);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, len, f) != len) s->failed = true;
    if (f && fclose(f) != 0) s->failed = true;
    command_start(s);
    fprintf(s->json, "{\"type\": \"module\", \"line\": %u, \"filename\": \"%s\"}", line, file);
}

static void write_register(script *s, unsigned line, const uint8_t *as, size_t len) {
    command_start(s);
    fprintf(s->json, "{\"type\": \"register\", \"line\": %u, \"as\": ", line);
    json_string(s->json, as, len);
    fputc('}', s->json);
}

static void write_action(script *s, unsigned line, const char *field) {
    command_start(s);
    fprintf(s->json,
            "{\"type\": \"action\", \"line\": %u, \"action\": {\"type\": \"invoke\", "
            "\"field\": \"%s\", \"args\": []}, \"expected\": []}",
            line, field);
}

/* Writes item i's modules and commands; false if memory ran out. */
static bool write_item(script *s, uint32_t i, const item_plan *plan) {
    char file[64];
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!build_marker(i, &bytes, &len)) return false;
    snprintf(file, sizeof file, "m%u.wasm", i);
    write_module_command(s, LINE_OF(i, ROLE_MARKER), file, bytes, len);
    free(bytes);
    if (plan->unwrappable) {
        snprintf(file, sizeof file, "t%u.wasm", i);
        write_module_command(s, LINE_OF(i, ROLE_TESTED), file, plan->module->bytes,
                             plan->module->len);
        return true;
    }
    const module_facts *f = &plan->facts;
    for (uint32_t j = 0; j < f->nimports; j++) {
        const facts_extern *imp = &f->imports[j];
        bool first_of_module = true;
        for (uint32_t k = 0; k < j && first_of_module; k++)
            if (same_name(f->imports[k].module, f->imports[k].module_len, imp->module,
                          imp->module_len))
                first_of_module = false;
        if (!first_of_module) continue;
        if (!build_shim(f, j, &bytes, &len)) return false;
        snprintf(file, sizeof file, "s%u_%u.wasm", i, j);
        write_module_command(s, LINE_OF(i, ROLE_SHIM), file, bytes, len);
        free(bytes);
        write_register(s, LINE_OF(i, ROLE_SHIM), imp->module, imp->module_len);
    }
    snprintf(file, sizeof file, "t%u.wasm", i);
    write_module_command(s, LINE_OF(i, ROLE_TESTED), file, plan->module->bytes, plan->module->len);
    char t_name[32];
    snprintf(t_name, sizeof t_name, "wafer:t%u", i);
    write_register(s, LINE_OF(i, ROLE_REGISTER), (const uint8_t *)t_name, strlen(t_name));
    if (!build_wrapper(plan, t_name, &bytes, &len)) return false;
    snprintf(file, sizeof file, "w%u.wasm", i);
    write_module_command(s, LINE_OF(i, ROLE_WRAPPER), file, bytes, len);
    free(bytes);
    for (uint32_t k = 0; k < plan->ncalls; k++) {
        char field[24];
        snprintf(field, sizeof field, "c%u", k);
        write_action(s, LINE_OF(i, ROLE_CALL), field);
    }
    write_action(s, LINE_OF(i, ROLE_FINAL), "final");
    return true;
}

static bool write_script(const char *dir, const item_plan *plans, size_t count, char *path,
                         size_t path_size) {
    remove_files(dir);
    snprintf(path, path_size, "%s/batch.json", dir);
    script s = {fopen(path, "w"), dir, true, false};
    if (!s.json) return false;
    fputs("{\"source_filename\": \"batch.wast\", \"commands\": [", s.json);
    uint8_t *bytes;
    size_t len;
    bool ok = build_printer(&bytes, &len);
    if (ok) {
        write_module_command(&s, 1, "printer.wasm", bytes, len);
        free(bytes);
        write_register(&s, 1, (const uint8_t *)print_module, strlen(print_module));
    }
    for (size_t i = 0; i < count && ok; i++) ok = write_item(&s, (uint32_t)i, &plans[i]);
    fputs("\n]}\n", s.json);
    if (fclose(s.json) != 0) s.failed = true;
    return ok && !s.failed;
}

/* ---- Reading the output back ---------------------------------------------------------------- */

typedef enum token_kind {
    TOKEN_I32,      /* value */
    TOKEN_I64,      /* value */
    TOKEN_CALL_END, /* index: the call's number; text: NULL or the trap message */
    TOKEN_FINAL_END,
    TOKEN_ERROR, /* line: the command's line; text: the message */
} token_kind;

typedef struct token {
    token_kind kind;
    uint64_t value;
    uint32_t index;
    unsigned line;
    const char *text; /* points into the (modified) output */
} token;

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Splits the output into tokens (modifying it: lines are cut at their newlines). Lines that are
 * none of the forms are not tokens (the closing "N/M tests passed.", "unknown invoke"). */
static token *tokenize(char *text, size_t *count) {
    size_t capacity = 64, n = 0;
    token *tokens = malloc(capacity * sizeof *tokens);
    if (!tokens) return NULL;
    char *line = text;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        token t;
        bool is_token = true;
        unsigned long long v;
        unsigned u;
        int used = 0;
        if (sscanf(line, "called host spectest.print_i32(i32:%llu) =>%n", &v, &used) == 1 && used) {
            t = (token){TOKEN_I32, v, 0, 0, NULL};
        } else if (sscanf(line, "called host spectest.print_i64(i64:%llu) =>%n", &v, &used) == 1 &&
                   used) {
            t = (token){TOKEN_I64, v, 0, 0, NULL};
        } else if (sscanf(line, "c%u() =>%n", &u, &used) == 1 && used) {
            const char *rest = line + used;
            t = (token){TOKEN_CALL_END, 0, u, 0, starts(rest, " error: ") ? rest + 8 : NULL};
        } else if (starts(line, "final() =>")) {
            t = (token){TOKEN_FINAL_END, 0, 0, 0, NULL};
        } else if (sscanf(line, "batch.wast:%u: %n", &u, &used) == 1 && used) {
            t = (token){TOKEN_ERROR, 0, 0, u, line + used};
        } else {
            is_token = false;
        }
        if (is_token) {
            if (n == capacity) {
                capacity *= 2;
                token *grown = realloc(tokens, capacity * sizeof *grown);
                if (!grown) {
                    free(tokens);
                    return NULL;
                }
                tokens = grown;
            }
            tokens[n++] = t;
        }
        line = nl ? nl + 1 : NULL;
    }
    *count = n;
    return tokens;
}

/* wabt 1.0.32's trap messages (src/interp/interp.cc) to the observation classes. */
static bool trap_of_message(const char *msg, obs_trap *out, const char **gave_up) {
    static const struct {
        const char *prefix;
        obs_trap trap;
    } table[] = {
        {"unreachable executed", OBS_TRAP_UNREACHABLE},
        {"out of bounds memory access", OBS_TRAP_MEMORY_OOB},
        {"out of bounds table access", OBS_TRAP_TABLE_OOB},
        {"integer divide by zero", OBS_TRAP_DIV_ZERO},
        {"integer overflow", OBS_TRAP_INT_OVERFLOW},
        {"invalid conversion to integer", OBS_TRAP_INVALID_CONVERSION},
        {"undefined table index", OBS_TRAP_UNDEFINED_ELEMENT},
        {"uninitialized table element", OBS_TRAP_UNINITIALIZED_ELEMENT},
        {"indirect call signature mismatch", OBS_TRAP_INDIRECT_CALL_MISMATCH},
    };
    *gave_up = NULL;
    if (strstr(msg, "stack exhausted")) {
        *gave_up = "stack";
        return true;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (starts(msg, table[i].prefix)) {
            *out = table[i].trap;
            return true;
        }
    }
    return false;
}

/* Reading one item's records. */
typedef struct reader {
    const token *tokens;
    size_t count;
    size_t pos;
} reader;

/* Whether a BEGIN record starts at pos; its item number in *item. */
static bool begin_at(const reader *r, size_t pos, uint32_t *item) {
    if (pos + 1 >= r->count) return false;
    const token *t = &r->tokens[pos], *magic = &r->tokens[pos + 1];
    if (t->kind != TOKEN_I32 || (t->value & ~(uint64_t)0xFFFF) != TAG_BEGIN) return false;
    if (magic->kind != TOKEN_I64 || magic->value != BEGIN_MAGIC) return false;
    *item = (uint32_t)(t->value & 0xFFFF);
    return true;
}

/* The next n tokens as values of the given types (references print as ref.is_null). */
static bool read_values(reader *r, const uint8_t *types, uint32_t n, obs_value *out) {
    for (uint32_t i = 0; i < n; i++) {
        if (r->pos >= r->count) return false;
        const token *t = &r->tokens[r->pos];
        bool wide = types[i] == WASM_I64 || types[i] == WASM_F64;
        if (t->kind != (wide ? TOKEN_I64 : TOKEN_I32)) return false;
        r->pos++;
        switch (types[i]) {
        case WASM_I32: out[i] = (obs_value){OBS_I32, t->value}; break;
        case WASM_I64: out[i] = (obs_value){OBS_I64, t->value}; break;
        case WASM_F32: out[i] = (obs_value){OBS_F32, t->value}; break;
        case WASM_F64: out[i] = (obs_value){OBS_F64, t->value}; break;
        case WASM_FUNCREF: out[i] = (obs_value){OBS_FUNCREF, t->value == 0}; break;
        default: out[i] = (obs_value){OBS_EXTERNREF, t->value == 0}; break;
        }
    }
    return true;
}

typedef enum item_state { ITEM_DONE, ITEM_CUT } item_state;

/* Parses the records of item i from r (positioned after its BEGIN) up to the next BEGIN.
 * ITEM_CUT: the output ended inside the item (the process died). False on out of memory. */
typedef struct item_reader {
    reader *r;
    const item_plan *plan;
    uint32_t item;
    observation_list *out;
    bool oom;
    bool ended; /* the item's observations are complete (or gave up) */
} item_reader;

static void add(item_reader *ir, bool appended) {
    if (!appended) ir->oom = true;
}

static bool full(item_reader *ir) {
    if (ir->ended) return true;
    if (ir->out->count + 1 >= OBSERVATION_LIMIT) {
        add(ir, obs_add_inconclusive(ir->out, "output", "more observations than OBSERVATION_LIMIT"));
        ir->ended = true;
    }
    return ir->ended;
}

static void harness_broke(item_reader *ir, const char *what) {
    if (ir->ended) return;
    add(ir, obs_add_inconclusive(ir->out, "crash", what));
    ir->ended = true;
}

static void read_log(item_reader *ir, uint32_t j) {
    const module_facts *f = &ir->plan->facts;
    if (j >= f->nimports || f->imports[j].kind != FACTS_FUNC) {
        harness_broke(ir, "wabt adapter: a log record for no imported function");
        return;
    }
    const facts_extern *imp = &f->imports[j];
    const facts_functype *t = module_facts_func_type(f, imp->index);
    obs_value *values = calloc(t->nparams + 1, sizeof *values);
    if (!values) {
        ir->oom = true;
        return;
    }
    if (!read_values(ir->r, t->params, t->nparams, values)) {
        harness_broke(ir, "wabt adapter: a log record cut short");
    } else if (!full(ir)) {
        add(ir, obs_add_log(ir->out, (const char *)imp->module, imp->module_len,
                            (const char *)imp->name, imp->name_len, values, t->nparams));
    }
    free(values);
}

static void read_final_record(item_reader *ir, uint32_t tag) {
    const module_facts *f = &ir->plan->facts;
    uint32_t k = tag & TAG_INDEX_MAX;
    if (k >= f->nexports) {
        harness_broke(ir, "wabt adapter: a record for no export");
        return;
    }
    const facts_extern *e = &f->exports[k];
    if ((tag & ~TAG_INDEX_MAX) == TAG_GLOBAL && e->kind == FACTS_GLOBAL) {
        obs_value v;
        uint8_t type = f->globals[e->index].type;
        if (!read_values(ir->r, &type, 1, &v)) harness_broke(ir, "wabt adapter: global cut short");
        else if (!full(ir)) add(ir, obs_add_global(ir->out, (const char *)e->name, e->name_len, v));
        return;
    }
    if ((tag & ~TAG_INDEX_MAX) == TAG_MEMORY && e->kind == FACTS_MEMORY) {
        static const uint8_t head[] = {WASM_I64, WASM_I32};
        static const uint8_t hash_type[] = {WASM_I64};
        obs_value v[2], h = {OBS_I64, 0};
        if (!read_values(ir->r, head, 2, v) ||
            (v[1].bits && !read_values(ir->r, hash_type, 1, &h))) {
            harness_broke(ir, "wabt adapter: memory record cut short");
            return;
        }
        if (!full(ir))
            add(ir, obs_add_memory(ir->out, (const char *)e->name, e->name_len, v[0].bits,
                                   v[1].bits != 0, h.bits));
        return;
    }
    harness_broke(ir, "wabt adapter: a final record of the wrong kind");
}

/* An error line of the script: for the tested module's command it is the instantiation's
 * outcome; for other commands of a finished item it is expected (the wrapper cannot link to a
 * module that failed) and ignored; for others it means the harness broke. */
static void read_error(item_reader *ir, const token *t, bool *instantiated) {
    if (ir->ended) return;
    bool action = t->line == LINE_OF(ir->item, ROLE_CALL) || t->line == LINE_OF(ir->item, ROLE_FINAL);
    if (action && starts(t->text, "unexpected trap")) return; /* the action line said it */
    if (t->line != LINE_OF(ir->item, ROLE_TESTED)) {
        harness_broke(ir, t->text);
        return;
    }
    const char *msg = t->text;
    if (starts(msg, "error reading module")) {
        add(ir, obs_add_instantiate_error(ir->out, "invalid"));
        ir->ended = true;
        return;
    }
    if (!starts(msg, "error instantiating module: \"")) {
        harness_broke(ir, msg);
        return;
    }
    const char *inner = msg + strlen("error instantiating module: \"");
    obs_trap trap;
    const char *gave_up;
    if (ir->plan->unwrappable) {
        add(ir, obs_add_inconclusive(ir->out, "feature", ir->plan->unwrappable));
    } else if (trap_of_message(inner, &trap, &gave_up)) {
        add(ir, gave_up ? obs_add_inconclusive(ir->out, gave_up, inner)
                        : obs_add_instantiate_trap(ir->out, trap));
    } else {
        /* Every import has its stand-in, so a link error is the harness's own failure. */
        harness_broke(ir, msg);
    }
    ir->ended = true;
    *instantiated = false;
}

static void start_call(item_reader *ir, uint32_t k) {
    if (k >= ir->plan->ncalls || full(ir)) return;
    const facts_extern *e = &ir->plan->facts.exports[ir->plan->calls[k].export_index];
    add(ir, obs_add_call(ir->out, (const char *)e->name, e->name_len));
}

/* died: the process did not exit normally, so output ending inside the item is its end. */
static item_state read_item(item_reader *ir, bool died) {
    reader *r = ir->r;
    bool instantiated = false;
    uint32_t next_call = 0;
    bool have_return = false;
    uint32_t next_item;
    while (r->pos < r->count && !ir->oom) {
        if (begin_at(r, r->pos, &next_item)) break;
        const token *t = &r->tokens[r->pos];
        r->pos++;
        if (ir->ended) continue; /* what a finished item's leftovers print */
        switch (t->kind) {
        case TOKEN_ERROR: read_error(ir, t, &instantiated); break;
        case TOKEN_I32: {
            uint32_t tag = (uint32_t)t->value;
            if (tag == TAG_READY) {
                if (ir->plan->unwrappable) {
                    add(ir, obs_add_inconclusive(ir->out, "feature", ir->plan->unwrappable));
                    ir->ended = true;
                    break;
                }
                instantiated = true;
                if (!full(ir)) add(ir, obs_add_instantiate_ok(ir->out));
                start_call(ir, 0);
            } else if ((tag & ~TAG_INDEX_MAX) == TAG_LOG) {
                read_log(ir, tag & TAG_INDEX_MAX);
            } else if (tag == TAG_RETURN && instantiated && next_call < ir->plan->ncalls) {
                const facts_functype *type = ir->plan->calls[next_call].type;
                obs_value *values = calloc(type->nresults + 1, sizeof *values);
                if (!values) {
                    ir->oom = true;
                } else if (!read_values(r, type->results, type->nresults, values)) {
                    harness_broke(ir, "wabt adapter: results cut short");
                } else if (!full(ir)) {
                    add(ir, obs_add_return(ir->out, values, type->nresults));
                    have_return = true;
                }
                free(values);
            } else if (instantiated && next_call == ir->plan->ncalls &&
                       ((tag & ~TAG_INDEX_MAX) == TAG_GLOBAL ||
                        (tag & ~TAG_INDEX_MAX) == TAG_MEMORY)) {
                read_final_record(ir, tag);
            } else {
                harness_broke(ir, "wabt adapter: an unexpected record");
            }
            break;
        }
        case TOKEN_I64: harness_broke(ir, "wabt adapter: a stray i64 record"); break;
        case TOKEN_CALL_END: {
            if (!instantiated || t->index != next_call) {
                harness_broke(ir, "wabt adapter: calls out of order");
                break;
            }
            obs_trap trap;
            const char *gave_up;
            if (t->text) {
                if (!trap_of_message(t->text, &trap, &gave_up)) {
                    trap = OBS_TRAP_OTHER;
                    gave_up = NULL;
                }
                if (gave_up) {
                    add(ir, obs_add_inconclusive(ir->out, gave_up, t->text));
                    ir->ended = true;
                    break;
                }
                if (!full(ir)) add(ir, obs_add_trap(ir->out, trap));
            } else if (!have_return) {
                harness_broke(ir, "wabt adapter: a call returned without its results");
                break;
            }
            have_return = false;
            start_call(ir, ++next_call);
            break;
        }
        case TOKEN_FINAL_END: ir->ended = true; break;
        }
    }
    bool cut = r->pos >= r->count && died;
    if (!ir->ended && !cut) {
        if (ir->plan->unwrappable) {
            /* Run alone, it was accepted (and failed to link or not): nothing to compare. */
            add(ir, obs_add_inconclusive(ir->out, "feature", ir->plan->unwrappable));
            ir->ended = true;
        } else {
            harness_broke(ir, "wabt adapter: a module's records ended early");
        }
    }
    return ir->ended ? ITEM_DONE : ITEM_CUT;
}

/* ---- Running a batch ------------------------------------------------------------------------ */

size_t oracle_wabt_feature_flags(uint32_t features, char **argv, size_t n) {
    static const struct {
        uint32_t bit;
        const char *disable;
    } defaults_on[] = {
        {WAFER_FEATURE_MUTABLE_GLOBALS, "--disable-mutable-globals"},
        {WAFER_FEATURE_SAT_FLOAT_TO_INT, "--disable-saturating-float-to-int"},
        {WAFER_FEATURE_SIGN_EXTENSION, "--disable-sign-extension"},
        {WAFER_FEATURE_MULTI_VALUE, "--disable-multi-value"},
        {WAFER_FEATURE_BULK_MEMORY, "--disable-bulk-memory"},
        {WAFER_FEATURE_REFERENCE_TYPES, "--disable-reference-types"},
    };
    for (size_t i = 0; i < sizeof defaults_on / sizeof defaults_on[0]; i++)
        if (!(features & defaults_on[i].bit)) argv[n++] = (char *)defaults_on[i].disable;
    if (features & WAFER_FEATURE_MEMORY64) argv[n++] = "--enable-memory64";
    if (features & WAFER_FEATURE_MULTI_MEMORY) argv[n++] = "--enable-multi-memory";
    return n;
}

/* Runs plans[0..count) in one process. *done: how many items got their observations (the rest
 * are to run again in a new process). False if the harness broke. */
static bool run_batch(oracle_session *s, const item_plan *plans, size_t count,
                      observation_list *outs, size_t *done, char *why, size_t why_size) {
    char script_path[PATH_MAX + 16];
    if (!write_script(s->dir, plans, count, script_path, sizeof script_path)) {
        snprintf(why, why_size, "cannot write the wabt script in %s", s->dir);
        return false;
    }
    char *argv[16];
    size_t n = 0;
    argv[n++] = TOOL;
    n = oracle_wabt_feature_flags(s->options.features, argv, n);
    argv[n++] = script_path;
    argv[n] = NULL;
    subprocess_limits limits = {
        .time_ms = s->options.time_limit_ms * (unsigned)count,
        .idle_ms = s->options.time_limit_ms,
        .max_output = OUTPUT_MAX,
        .memory_bytes = s->options.memory_limit_bytes,
    };
    subprocess_result res;
    if (!subprocess_run(argv, NULL, 0, &limits, &res, why, why_size)) return false;
    size_t ntokens = 0;
    token *tokens = tokenize(res.out, &ntokens);
    if (!tokens) {
        subprocess_result_free(&res);
        snprintf(why, why_size, "out of memory reading wabt's output");
        return false;
    }
    bool died = res.end != SUBPROCESS_EXITED || (res.status != 0 && res.status != 1);
    const char *reason = res.end == SUBPROCESS_TIMED_OUT         ? "time"
                         : res.end == SUBPROCESS_TOO_MUCH_OUTPUT ? "output"
                                                                 : "crash";
    char detail[300];
    if (res.end == SUBPROCESS_SIGNALED) {
        const char *err_last = res.err_len ? res.err : "";
        snprintf(detail, sizeof detail, "%s killed by signal %d: %.200s", TOOL, res.status,
                 err_last);
    } else if (res.end == SUBPROCESS_EXITED) {
        snprintf(detail, sizeof detail, "%s exited with status %d: %.200s", TOOL, res.status,
                 res.err_len ? res.err : "");
    } else {
        snprintf(detail, sizeof detail, "%s stopped at the limit", TOOL);
    }

    reader r = {tokens, ntokens, 0};
    bool ok = true;
    size_t finished = 0;
    while (r.pos < r.count && ok) {
        uint32_t item;
        if (!begin_at(&r, r.pos, &item)) {
            r.pos++;
            continue;
        }
        r.pos += 2;
        if (item >= count) continue;
        item_reader ir = {&r, &plans[item], item, &outs[item], false, false};
        item_state state = read_item(&ir, died);
        if (ir.oom) {
            ok = false;
            snprintf(why, why_size, "out of memory recording observations");
            break;
        }
        finished = item + 1;
        if (state == ITEM_CUT && !obs_add_inconclusive(&outs[item], reason, detail)) ok = false;
    }
    if (ok && died && finished == 0 && count > 0) {
        /* It died before the first module began: that module did it (or nothing runs). */
        if (!obs_add_inconclusive(&outs[0], reason, detail)) ok = false;
        finished = 1;
    }
    *done = died ? finished : count;
    if (!died && finished < count && ok) {
        /* A clean exit that never reached some modules: spectest-interp gave up on the script
         * at the first of them. It costs that module alone; the batch goes on after it. */
        snprintf(detail, sizeof detail, "%s stopped reading the script: %.200s", TOOL,
                 res.err_len ? res.err : res.out);
        if (!obs_add_inconclusive(&outs[finished], "crash", detail)) ok = false;
        *done = finished + 1;
    }
    free(tokens);
    subprocess_result_free(&res);
    return ok;
}

/* ---- The engine interface ------------------------------------------------------------------- */

static bool wabt_open(const oracle_options *options, oracle_session **out, char *why,
                      size_t why_size) {
    if (!subprocess_tool_works(TOOL, "wabt", why, why_size)) return false;
    oracle_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    s->options = *options;
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/wafer-wabt-XXXXXX",
             tmp && *tmp && strlen(tmp) < PATH_MAX - 64 ? tmp : "/tmp");
    if (!mkdtemp(s->dir)) {
        snprintf(why, why_size, "mkdtemp: %s", strerror(errno));
        free(s);
        return false;
    }
    *out = s;
    return true;
}

static bool wabt_run(oracle_session *s, const oracle_module *modules, size_t count,
                     observation_list *outs, char *why, size_t why_size) {
    size_t start = 0;
    while (start < count) {
        size_t n = count - start < BATCH_MAX ? count - start : BATCH_MAX;
        item_plan plans[BATCH_MAX];
        size_t planned = 0;
        bool ok = true;
        for (; planned < n && ok; planned++) ok = plan_item(&modules[start + planned], &plans[planned]);
        size_t done = 0;
        if (ok) ok = run_batch(s, plans, n, outs + start, &done, why, why_size);
        else snprintf(why, why_size, "out of memory planning the wabt script");
        for (size_t i = 0; i < planned; i++) item_plan_free(&plans[i]);
        remove_files(s->dir);
        if (!ok) return false;
        start += done;
    }
    return true;
}

static void wabt_close(oracle_session *s) {
    if (!s) return;
    remove_files(s->dir);
    rmdir(s->dir);
    free(s);
}

const oracle_engine oracle_wabt = {
    .name = "wabt",
    .limits = {0, 0},
    .open = wabt_open,
    .run = wabt_run,
    .close = wabt_close,
};
