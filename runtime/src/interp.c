/* The interpreter: runs compiled code (code.h) in one dispatch loop.
 *
 * Wasm-to-wasm calls and returns stay inside the loop: a call records a call_frame in
 * store->frames and moves fp to the callee's frame, a return pops it. C recursion happens only when
 * a host function calls back into wasm, which enters interp_call anew; store->depth counts the
 * frames of every entry together, so the depth limit holds across them.
 *
 * Dispatch is threaded with GCC and clang: each handler ends in an indirect jump through a table of
 * label addresses (as Lua's ljumptab.h does), which predicts better than one shared switch. With
 * -DWAFER_SWITCH_DISPATCH, or another compiler, the same handlers form a plain switch.
 *
 * What stays in locals while code runs: pc, fp, the running function's code and its instance's
 * index spaces. Memory data pointers are not kept: memory.grow and any call may move them.
 * The epoch deadline is checked at function entry and where a loop branches back (the _LOOP
 * branches, code.h) only, so straight-line code and forward branches pay nothing for it; fuel is
 * paid by the FUEL instruction that starts each basic block of code compiled for a fuel engine
 * (code.h; DESIGN.md invariant 8).
 */
#include "runtime.h"
#include "numeric.h"
#include "planted.h"

#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "memory accesses copy wasm's little-endian values as they are: a little-endian host is needed"
#endif

#if defined(__GNUC__) && !defined(WAFER_SWITCH_DISPATCH)
#define WAFER_THREADED_DISPATCH 1
#else
#define WAFER_THREADED_DISPATCH 0
#endif

/* Host function arguments and results up to this many travel in a buffer on the C stack. */
#define HOST_VALUES_ON_STACK 16

/* start + n <= size, without overflow (DESIGN.md invariant 2). */
static inline bool range_fits(uint64_t start, uint64_t n, uint64_t size) {
    return n <= size && start <= size - n;
}

/* An address or length operand of a memory instruction: i64 on a 64-bit memory, else i32. */
static inline uint64_t memory_operand(const wafer_memory *memory, uint64_t slot) {
    return memory->type.is64 ? slot : (uint32_t)slot;
}

/* The engine's epoch may be advanced by another thread (wafer_engine_increment_epoch). */
static inline uint64_t engine_epoch(const wafer_engine *engine) {
#if defined(__GNUC__)
    return __atomic_load_n(&engine->epoch, __ATOMIC_RELAXED);
#else
    return engine->epoch;
#endif
}

/* A host function's error traps the wasm code that called it. A trap (a host's own, or one from
 * wasm the host called) passes through unchanged; any other error becomes a host trap with the
 * same message. */
static wafer_error *host_error_as_trap(wafer_error *err) {
    if (err->kind == WAFER_ERROR_TRAP) return err;
    wafer_error *trap = wafer_error_new_trap(wafer_error_message(err));
    wafer_error_free(err);
    return trap;
}

/* Calls a host function whose arguments are in slots[0..nparams) and writes its results to
 * slots[0..nresults). stack_top is where wasm code the host calls back into may start its frames:
 * past every slot still in use.
 *
 * Externrefs (extern_ref.c): the arguments are the host's to borrow, but they lie above the
 * calling frame's stack map, so a collection during the call would not see them: they are held
 * for its duration. The results the host writes are handed over, and enter the activation table
 * before they reach any slot. */
static wafer_error *call_host(wafer_store *store, wafer_func *func, wafer_instance *caller_instance,
                              uint64_t *slots, uint64_t *stack_top) {
    const wafer_functype *type = func->type;
    size_t nparams = type->num_params, nresults = type->num_results;
    wafer_value on_stack[HOST_VALUES_ON_STACK];
    wafer_value *values = on_stack;
    if (nparams + nresults > HOST_VALUES_ON_STACK) {
        values = malloc((nparams + nresults) * sizeof *values);
        if (!values) return wafer_error_new_trap("out of memory calling a host function");
    }
    wafer_value *args = values, *results = values + nparams;
    for (size_t i = 0; i < nparams; i++) args[i] = value_from_slot(type->params[i], slots[i]);
    /* Results a host leaves unset read as zeros of their types, never as stack garbage. */
    for (size_t i = 0; i < nresults; i++) results[i] = value_from_slot(type->results[i], 0);

    for (size_t i = 0; i < nparams; i++)
        if (args[i].type == WAFER_EXTERNREF) externref_retain(args[i].of.externref);
    if (store->engine->config.gc_at_host_calls) activation_collect(store);

    uint64_t *saved_top = store->stack_top;
    store->stack_top = stack_top;
    wafer_caller caller = {store, caller_instance};
    wafer_error *err = func->host(func->env, &caller, args, results);
    store->stack_top = saved_top;

    for (size_t i = 0; i < nparams; i++)
        if (args[i].type == WAFER_EXTERNREF) externref_release(args[i].of.externref);
    uint32_t handed = 0;
    for (size_t i = 0; i < nresults; i++)
        if (results[i].type == WAFER_EXTERNREF && results[i].of.externref) handed++;
    if (!err && handed && !activation_reserve(store, handed))
        err = wafer_error_new_trap("out of memory keeping a host function's externref results");
    for (size_t i = 0; i < nresults; i++) {
        if (results[i].type == WAFER_EXTERNREF && results[i].of.externref) {
            if (err)
                externref_release(results[i].of.externref);
            else
                activation_insert_owned(store, results[i].of.externref);
        }
        if (!err) slots[i] = value_to_slot(results[i]);
    }
    if (values != on_stack) free(values);
    return err ? host_error_as_trap(err) : NULL;
}

/* ---- Dispatch ----------------------------------------------------------------------------- */

#if WAFER_THREADED_DISPATCH
#define OP(name) L_##name
#define DISPATCH() goto *jump_table[*pc]
#define DISPATCH_BEGIN
#define DISPATCH_END
#else
#define OP(name) case OP_##name
#define DISPATCH() goto dispatch
#define DISPATCH_BEGIN                                                                            \
    dispatch:                                                                                     \
    switch ((code_op)*pc) {
/* compile.c emits only the opcodes above: anything else is a broken invariant. */
#define DISPATCH_END                                                                              \
    case CODE_OP_COUNT: break;                                                                    \
    }                                                                                             \
    abort();
#endif

/* Moves past the opcode cell and `cells` operand cells, then runs the next instruction. */
#define NEXT(cells)                                                                               \
    do {                                                                                          \
        pc += 1 + (cells);                                                                        \
        DISPATCH();                                                                               \
    } while (0)

#define TRAP(kind)                                                                                \
    do {                                                                                          \
        trap = WAFER_TRAP_##kind;                                                                 \
        goto trapped;                                                                             \
    } while (0)

/* Slot access (code.h, "Slot contents"): 32-bit values are read from the low bits and written
 * zero-extended; floats are bit patterns. */
#define U32(slot) ((uint32_t)fp[slot])
#define U64(slot) (fp[slot])
#define F32(slot) f32_from_bits(U32(slot))
#define F64(slot) f64_from_bits(U64(slot))
#define SET32(slot, v) (fp[slot] = (uint32_t)(v))
#define SET64(slot, v) (fp[slot] = (uint64_t)(v))
#define SETF32(slot, v) SET32(slot, f32_to_bits(v))
#define SETF64(slot, v) SET64(slot, f64_to_bits(v))
#define REF(slot) ((void *)(uintptr_t)fp[slot])
#define SETREF(slot, p) (fp[slot] = (uint64_t)(uintptr_t)(p))

/* Numeric handlers: "d a" (unary) and "d a b" (binary); EXPR reads x (and y). */
#define UNARY(NAME, T, GET, SET, EXPR)                                                            \
    OP(NAME) : {                                                                                  \
        T x = GET(pc[2]);                                                                         \
        SET(pc[1], EXPR);                                                                         \
        NEXT(2);                                                                                  \
    }
#define BINARY(NAME, T, GET, SET, EXPR)                                                           \
    OP(NAME) : {                                                                                  \
        T x = GET(pc[2]), y = GET(pc[3]);                                                         \
        SET(pc[1], EXPR);                                                                         \
        NEXT(3);                                                                                  \
    }
/* "d a k": the right operand is the constant in the instruction (code.h, CODE_I32_K_OPS). */
#define BINARY_K(NAME, EXPR)                                                                      \
    OP(NAME##_K) : {                                                                              \
        uint32_t x = U32(pc[2]), y = pc[3];                                                       \
        SET32(pc[1], EXPR);                                                                       \
        NEXT(3);                                                                                  \
    }
/* Operators that may trap (numeric.h): FN returns the trap kind or NONE with the result. */
#define BINARY_TRAPPING(NAME, T, GET, SET, FN)                                                    \
    OP(NAME) : {                                                                                  \
        T r;                                                                                      \
        trap = FN(GET(pc[2]), GET(pc[3]), &r);                                                    \
        if (trap != WAFER_TRAP_NONE) goto trapped;                                                \
        SET(pc[1], r);                                                                            \
        NEXT(3);                                                                                  \
    }
#define UNARY_TRAPPING(NAME, T, GET, SET, FN)                                                     \
    OP(NAME) : {                                                                                  \
        T r;                                                                                      \
        trap = FN(GET(pc[2]), &r);                                                                \
        if (trap != WAFER_TRAP_NONE) goto trapped;                                                \
        SET(pc[1], r);                                                                            \
        NEXT(2);                                                                                  \
    }

/* Loads and stores. The effective address is the address operand (u32 on a 32-bit memory, u64 on
 * a 64-bit one) plus the static offset, computed without wrapping (spec 4.4.7 "Memory
 * Instructions": ea + N must lie within the memory). Sets `memory` and `ea`. */
#define EA32(ADDR_SLOT, N)                                                                        \
    wafer_memory *memory = memories[pc[3]];                                                       \
    uint64_t ea = (uint64_t)U32(ADDR_SLOT) + pc[4];                                               \
    if (!range_fits(ea, N, memory->size_bytes)) TRAP(MEMORY_OUT_OF_BOUNDS)
#define EA64(ADDR_SLOT, N)                                                                        \
    wafer_memory *memory = memories[pc[3]];                                                       \
    uint64_t offset = pc[4] | (uint64_t)pc[5] << 32;                                              \
    uint64_t ea = U64(ADDR_SLOT) + offset;                                                        \
    /* planted: an address and offset that wrap past 2^64 get through */                        \
    if ((ea < offset && !PLANTED("memory64_bounds")) || !range_fits(ea, N, memory->size_bytes))   \
        TRAP(MEMORY_OUT_OF_BOUNDS)
/* "d a <mem>": EXPR converts the loaded v of type T to the slot's 64 bits. */
#define LOAD(NAME, EA, CELLS, T, EXPR)                                                            \
    OP(NAME) : {                                                                                  \
        EA(pc[2], sizeof(T));                                                                     \
        T v;                                                                                      \
        memcpy(&v, memory->data + ea, sizeof v);                                                  \
        fp[pc[1]] = (EXPR);                                                                       \
        NEXT(CELLS);                                                                              \
    }
/* "a b <mem>": stores the low bits of b. */
#define STORE(NAME, EA, CELLS, T)                                                                 \
    OP(NAME) : {                                                                                  \
        EA(pc[1], sizeof(T));                                                                     \
        T v = (T)fp[pc[2]];                                                                       \
        memcpy(memory->data + ea, &v, sizeof v);                                                  \
        memory->written = true;                                                                   \
        NEXT(CELLS);                                                                              \
    }
#define MEMORY_ACCESS_OPS(SUFFIX, EA, CELLS)                                                      \
    LOAD(LOAD8_U##SUFFIX, EA, CELLS, uint8_t, v)                                                  \
    LOAD(LOAD16_U##SUFFIX, EA, CELLS, uint16_t, v)                                                \
    LOAD(LOAD32_U##SUFFIX, EA, CELLS, uint32_t, v)                                                \
    LOAD(LOAD64##SUFFIX, EA, CELLS, uint64_t, v)                                                  \
    LOAD(I32_LOAD8_S##SUFFIX, EA, CELLS, uint8_t, i32_extend_s(v, 8))                             \
    LOAD(I32_LOAD16_S##SUFFIX, EA, CELLS, uint16_t, i32_extend_s(v, 16))                          \
    LOAD(I64_LOAD8_S##SUFFIX, EA, CELLS, uint8_t, i64_extend_s(v, 8))                             \
    LOAD(I64_LOAD16_S##SUFFIX, EA, CELLS, uint16_t, i64_extend_s(v, 16))                          \
    LOAD(I64_LOAD32_S##SUFFIX, EA, CELLS, uint32_t, i64_extend_s(v, 32))                          \
    STORE(STORE8##SUFFIX, EA, CELLS, uint8_t)                                                     \
    STORE(STORE16##SUFFIX, EA, CELLS, uint16_t)                                                   \
    STORE(STORE32##SUFFIX, EA, CELLS, uint32_t)                                                   \
    STORE(STORE64##SUFFIX, EA, CELLS, uint64_t)

#define LOAD_INSTANCE(inst)                                                                       \
    do {                                                                                          \
        instance = (inst);                                                                        \
        imported_funcs = instance->imported_funcs;                                                \
        num_imported_funcs = instance->module->num_imported_funcs;                                \
        module_code = instance->module->code;                                                     \
        tables = instance->tables;                                                                \
        memories = instance->memories;                                                            \
        globals = instance->globals;                                                              \
    } while (0)

#define CHECK_DEADLINE()                                                                          \
    do {                                                                                          \
        if (__builtin_expect(engine_epoch(engine) >= deadline, 0)) TRAP(INTERRUPTED);             \
    } while (0)
#define CHECK_INTERRUPTS()                                                                        \
    do {                                                                                          \
        if (epoch_interruption) CHECK_DEADLINE();                                                 \
    } while (0)

/* The branches (code.h), S being empty or _LOOP and CHECK what a _LOOP branch checks when it is
 * taken. */
#define TAKE(cell, CHECK)                                                                         \
    do {                                                                                          \
        CHECK;                                                                                    \
        pc += (int32_t)pc[cell];                                                                  \
        DISPATCH();                                                                               \
    } while (0)
/* A branch taken when CONDITION holds, its offset in operand cell 3. */
#define BRANCH_ON(NAME, CONDITION, CHECK)                                                         \
    OP(NAME) : {                                                                                  \
        if (CONDITION) TAKE(3, CHECK);                                                            \
        NEXT(3);                                                                                  \
    }
/* The comparison branches of one comparison: BR_I32_CMP, BR_I32_CMP_K and BR_I64_CMP; SIGN is
 * int or uint, the operands' type being SIGN##32_t or SIGN##64_t. */
#define BRANCH_CMP(S, CHECK, CMP, OPERATOR, SIGN)                                                 \
    BRANCH_ON(BR_I32_##CMP##S, (SIGN##32_t)U32(pc[1]) OPERATOR (SIGN##32_t)U32(pc[2]), CHECK)     \
    BRANCH_ON(BR_I32_##CMP##_K##S, (SIGN##32_t)U32(pc[1]) OPERATOR (SIGN##32_t)pc[2], CHECK)      \
    BRANCH_ON(BR_I64_##CMP##S, (SIGN##64_t)U64(pc[1]) OPERATOR (SIGN##64_t)U64(pc[2]), CHECK)
#define BRANCHES(S, CHECK)                                                                        \
    OP(BR##S) : TAKE(1, CHECK);                                                                   \
    OP(BR_IF##S) : {                                                                              \
        if (U32(pc[1])) TAKE(2, CHECK);                                                           \
        NEXT(2);                                                                                  \
    }                                                                                             \
    OP(BR_UNLESS##S) : {                                                                          \
        uint32_t condition = U32(pc[1]);                                                          \
        if (PLANTED("differential")) condition = (int32_t)condition > 0; /* negative as false */ \
        if (!condition) TAKE(2, CHECK);                                                           \
        NEXT(2);                                                                                  \
    }                                                                                             \
    OP(BR_TABLE##S) : {                                                                           \
        uint32_t i = U32(pc[1]), n = pc[2];                                                       \
        if (i > n) i = n; /* index n is the default */                                            \
        TAKE(3 + i, CHECK);                                                                       \
    }                                                                                             \
    BRANCH_CMP(S, CHECK, EQ, ==, uint)                                                            \
    BRANCH_CMP(S, CHECK, NE, !=, uint)                                                            \
    BRANCH_CMP(S, CHECK, LT_S, <, int)                                                            \
    BRANCH_CMP(S, CHECK, LT_U, <, uint)                                                           \
    BRANCH_CMP(S, CHECK, GT_S, >, int)                                                            \
    BRANCH_CMP(S, CHECK, GT_U, >, uint)                                                           \
    BRANCH_CMP(S, CHECK, LE_S, <=, int)                                                           \
    BRANCH_CMP(S, CHECK, LE_U, <=, uint)                                                          \
    BRANCH_CMP(S, CHECK, GE_S, >=, int)                                                           \
    BRANCH_CMP(S, CHECK, GE_U, >=, uint)

/* Label addresses are a GNU extension, confined to this function. */
#if WAFER_THREADED_DISPATCH
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif

static wafer_error *interp_run(wafer_store *store, wafer_func *func, uint64_t *slots) {
    const uint32_t entry_depth = store->depth;
    uint64_t *const entry_top = store->stack_top;
    if (!func->code) {
        const wafer_functype *type = func->type;
        uint32_t used = type->num_params > type->num_results ? type->num_params : type->num_results;
        return call_host(store, func, NULL, slots, slots + used);
    }

#if WAFER_THREADED_DISPATCH
    static const void *const jump_table[CODE_OP_COUNT] = {
#define JUMP_ENTRY(name, cells, layout) [OP_##name] = &&L_##name,
        CODE_OPS(JUMP_ENTRY)
#undef JUMP_ENTRY
    };
#endif

    const wafer_engine *const engine = store->engine;
    const bool epoch_interruption = engine->config.epoch_interruption;
    /* The store's deadline, kept here: only a host function can move it, so it is read again
     * after each host call. */
    uint64_t deadline = store->epoch_deadline;
    const uint32_t max_depth = engine->config.max_call_depth;
    const size_t stack_slots = engine->config.stack_slots;
    uint64_t *const stack = store->stack;
    call_frame *const frames = store->frames;

    /* The running function. */
    const uint32_t *pc = NULL;
    uint64_t *fp = NULL;
    const code_func *code = NULL;
    wafer_instance *instance = NULL;
    wafer_func **imported_funcs = NULL;
    uint32_t num_imported_funcs = 0;
    const code_func *module_code = NULL; /* the instance's module's functions, by defined index */
    wafer_table **tables = NULL;
    wafer_memory **memories = NULL;
    wafer_global **globals = NULL;

    /* A call being made: the function (a wasm callee is its code and instance; `callee` is
     * set only for calls through a function object), its frame, and where the caller resumes
     * (NULL for the function this interp_call runs). */
    wafer_func *callee = NULL;
    const code_func *callee_code = func->code;
    wafer_instance *callee_instance = func->instance;
    uint64_t *callee_fp = slots;
    const uint32_t *return_pc = NULL;

    wafer_trap_kind trap = WAFER_TRAP_NONE;
    wafer_error *err = NULL;
    goto enter_wasm;

    DISPATCH_BEGIN

    /* ---- Control ---- */
    OP(UNREACHABLE) : TRAP(UNREACHABLE);
    BRANCHES(, (void)0)
    BRANCHES(_LOOP, CHECK_DEADLINE())
    OP(RETURN) : {
        /* frames[depth] is the returning function's record, frames[depth - 1] its caller's. */
        uint32_t depth = --store->depth;
        if (depth == entry_depth) return NULL;
        pc = frames[depth].return_pc;
        const call_frame *caller = &frames[depth - 1];
        fp = caller->fp;
        code = caller->code;
        if (caller->instance != instance) LOAD_INSTANCE(caller->instance);
        DISPATCH();
    }
    OP(CALL) : {
        uint32_t f = pc[1];
        frames[store->depth - 1].safepoint = pc;
        callee_fp = fp + pc[2];
        return_pc = pc + 3;
        if (f >= num_imported_funcs) {
            callee_code = &module_code[f - num_imported_funcs];
            callee_instance = instance;
            goto enter_wasm;
        }
        callee = imported_funcs[f];
        goto call;
    }
    OP(CALL_INDIRECT) : {
        /* spec 4.4.8 call_indirect: the element must exist, be non-null, and have the type. */
        wafer_table *table = tables[pc[2]];
        uint32_t i = U32(pc[3]);
        if (i >= table->size) TRAP(UNDEFINED_ELEMENT);
        uintptr_t elem = (uintptr_t)table->elems[i];
        if (__builtin_expect(!(elem & TABLE_REF_TAG), 0)) elem = table_elem_resolve(table, i);
        callee = (wafer_func *)(elem & ~TABLE_REF_TAG);
        if (!callee) TRAP(UNINITIALIZED_ELEMENT);
        if (!wafer_functype_equal(callee->type, &instance->module->types[pc[1]]))
            TRAP(INDIRECT_CALL_MISMATCH);
        callee_fp = fp + pc[4];
        return_pc = pc + 5;
        frames[store->depth - 1].safepoint = pc;
        goto call;
    }
    OP(FUEL) : {
        uint32_t cost = pc[1];
        if (store->fuel < cost) TRAP(OUT_OF_FUEL);
        store->fuel -= cost;
        NEXT(1);
    }

    /* ---- Data movement ---- */
    OP(COPY) : {
        fp[pc[1]] = fp[pc[2]];
        NEXT(2);
    }
    OP(CONST32) : {
        SET32(pc[1], pc[2]);
        NEXT(2);
    }
    OP(CONST64) : {
        SET64(pc[1], pc[2] | (uint64_t)pc[3] << 32);
        NEXT(3);
    }
    OP(SELECT) : {
        fp[pc[1]] = U32(pc[4]) ? fp[pc[2]] : fp[pc[3]];
        NEXT(4);
    }

    /* ---- Variables ---- */
    OP(GLOBAL_GET) : {
        fp[pc[1]] = globals[pc[2]]->bits;
        NEXT(2);
    }
    OP(GLOBAL_SET) : {
        globals[pc[1]]->bits = fp[pc[2]];
        NEXT(2);
    }
    OP(GLOBAL_GET_EXTERN) : {
        /* the global keeps the reference alive through any collection the insertion runs */
        uint64_t bits = globals[pc[2]]->bits;
        frames[store->depth - 1].safepoint = pc;
        activation_enter(store, (wafer_externref *)(uintptr_t)bits);
        fp[pc[1]] = bits;
        NEXT(2);
    }
    OP(GLOBAL_SET_EXTERN) : {
        global_set_bits(globals[pc[1]], fp[pc[2]]);
        NEXT(2);
    }

    /* ---- References ---- */
    OP(REF_IS_NULL) : {
        SET32(pc[1], fp[pc[2]] == 0);
        NEXT(2);
    }
    OP(REF_FUNC) : {
        SETREF(pc[1], instance_func(instance, pc[2]));
        NEXT(2);
    }

    /* ---- Tables (spec 4.4.6): indices and counts are i32; bounds are checked before any
     * element changes ---- */
    OP(TABLE_GET) : {
        wafer_table *table = tables[pc[2]];
        uint32_t i = U32(pc[3]);
        if (i >= table->size) TRAP(TABLE_OUT_OF_BOUNDS);
        SETREF(pc[1], table_ref_get(table, i));
        NEXT(3);
    }
    OP(TABLE_GET_EXTERN) : {
        wafer_table *table = tables[pc[2]];
        uint32_t i = U32(pc[3]);
        if (i >= table->size) TRAP(TABLE_OUT_OF_BOUNDS);
        /* the table keeps the reference alive through any collection the insertion runs */
        wafer_externref *ref = table_ref_get(table, i);
        frames[store->depth - 1].safepoint = pc;
        activation_enter(store, ref);
        SETREF(pc[1], ref);
        NEXT(3);
    }
    OP(TABLE_SET) : {
        wafer_table *table = tables[pc[1]];
        uint32_t i = U32(pc[2]);
        if (i >= table->size) TRAP(TABLE_OUT_OF_BOUNDS);
        table_put(table, i, REF(pc[3]));
        NEXT(3);
    }
    OP(TABLE_SIZE) : {
        SET32(pc[1], tables[pc[2]]->size);
        NEXT(2);
    }
    OP(TABLE_GROW) : {
        uint64_t old = table_grow(tables[pc[2]], U32(pc[4]), REF(pc[3]));
        SET32(pc[1], old == UINT64_MAX ? UINT32_MAX : old); /* -1 on failure */
        NEXT(4);
    }
    OP(TABLE_FILL) : {
        wafer_table *table = tables[pc[1]];
        uint32_t i = U32(pc[2]), n = U32(pc[4]);
        void *ref = table_ref_tagged(REF(pc[3]));
        if (!range_fits(i, n, table->size)) TRAP(TABLE_OUT_OF_BOUNDS);
        if (table->type.elem == WAFER_EXTERNREF) {
            for (uint32_t k = 0; k < n; k++) table_put_extern(table, i + k, REF(pc[3]));
            NEXT(4);
        }
        for (uint32_t k = 0; k < n; k++) table->elems[i + k] = ref;
        table_written(table, i + n);
        NEXT(4);
    }
    OP(TABLE_COPY) : {
        wafer_table *dst = tables[pc[1]], *src = tables[pc[2]];
        uint32_t d = U32(pc[3]), s = U32(pc[4]), n = U32(pc[5]);
        if (!range_fits(d, n, dst->size) || !range_fits(s, n, src->size))
            TRAP(TABLE_OUT_OF_BOUNDS);
        /* The source is resolved first: an uninitialised marker must not reach a table whose
         * lazy source would read it differently (DESIGN.md invariant 6). */
        table_resolve_range(src, s, n);
        if (dst->type.elem == WAFER_EXTERNREF) {
            table_copy_extern(dst, d, src, s, n);
            NEXT(5);
        }
        if (n) memmove(dst->elems + d, src->elems + s, (size_t)n * sizeof *dst->elems);
        table_written(dst, d + n);
        NEXT(5);
    }
    OP(TABLE_INIT) : {
        wafer_table *table = tables[pc[1]];
        const instance_elem *elem = &instance->elems[pc[2]];
        uint32_t d = U32(pc[3]), s = U32(pc[4]), n = U32(pc[5]);
        if (!range_fits(d, n, table->size) || !range_fits(s, n, elem->count))
            TRAP(TABLE_OUT_OF_BOUNDS);
        for (uint32_t k = 0; k < n; k++) table_put(table, d + k, elem->refs[s + k]);
        NEXT(5);
    }
    OP(ELEM_DROP) : {
        instance_elem_drop(&instance->elems[pc[1]]);
        NEXT(1);
    }

    /* ---- Memories (spec 4.4.7; memory64 for the index type). Bulk operations check bounds
     * before writing anything. ---- */
    OP(MEMORY_SIZE) : {
        SET64(pc[1], memories[pc[2]]->pages);
        NEXT(2);
    }
    OP(MEMORY_GROW) : {
        wafer_memory *memory = memories[pc[2]];
        uint64_t old = memory_grow(memory, memory_operand(memory, fp[pc[3]]));
        /* -1 on failure, in the index type's width */
        SET64(pc[1], old == UINT64_MAX ? memory_operand(memory, UINT64_MAX) : old);
        NEXT(3);
    }
    OP(MEMORY_FILL) : {
        wafer_memory *memory = memories[pc[1]];
        uint64_t d = memory_operand(memory, fp[pc[2]]), n = memory_operand(memory, fp[pc[4]]);
        if (!range_fits(d, n, memory->size_bytes)) TRAP(MEMORY_OUT_OF_BOUNDS);
        if (n) memset(memory->data + d, (uint8_t)fp[pc[3]], n);
        memory->written = true;
        NEXT(4);
    }
    OP(MEMORY_COPY) : {
        wafer_memory *dst = memories[pc[1]], *src = memories[pc[2]];
        uint64_t d = memory_operand(dst, fp[pc[3]]), s = memory_operand(src, fp[pc[4]]);
        /* multi-memory with memory64: the count has the narrower of the two index types */
        uint64_t n = dst->type.is64 && src->type.is64 ? fp[pc[5]] : U32(pc[5]);
        if (!range_fits(d, n, dst->size_bytes) || !range_fits(s, n, src->size_bytes))
            TRAP(MEMORY_OUT_OF_BOUNDS);
        if (n) memmove(dst->data + d, src->data + s, n);
        dst->written = true;
        NEXT(5);
    }
    OP(MEMORY_INIT) : {
        /* The destination has the memory's index type; offset and count in the segment are i32.
         * A dropped segment is empty. */
        wafer_memory *memory = memories[pc[1]];
        uint32_t index = pc[2];
        const module_data *data = &instance->module->datas[index];
        uint64_t len = data_is_dropped(instance, index) ? 0 : data->len;
        uint64_t d = memory_operand(memory, fp[pc[3]]), s = U32(pc[4]), n = U32(pc[5]);
        if (!range_fits(d, n, memory->size_bytes) || !range_fits(s, n, len))
            TRAP(MEMORY_OUT_OF_BOUNDS);
        if (n) memcpy(memory->data + d, data->bytes + s, n);
        memory->written = true;
        NEXT(5);
    }
    OP(DATA_DROP) : {
        data_drop(instance, pc[1]);
        NEXT(1);
    }
    MEMORY_ACCESS_OPS(, EA32, 4)
    MEMORY_ACCESS_OPS(_M64, EA64, 5)

    /* ---- Numeric: comparisons ---- */
    UNARY(I32_EQZ, uint32_t, U32, SET32, x == 0)
    BINARY(I32_EQ, uint32_t, U32, SET32, x == y)
    BINARY(I32_NE, uint32_t, U32, SET32, x != y)
    BINARY(I32_LT_S, uint32_t, U32, SET32, i32_signed(x) < i32_signed(y))
    BINARY(I32_LT_U, uint32_t, U32, SET32, x < y)
    BINARY(I32_GT_S, uint32_t, U32, SET32, i32_signed(x) > i32_signed(y))
    BINARY(I32_GT_U, uint32_t, U32, SET32, x > y)
    BINARY(I32_LE_S, uint32_t, U32, SET32, i32_signed(x) <= i32_signed(y))
    BINARY(I32_LE_U, uint32_t, U32, SET32, x <= y)
    BINARY(I32_GE_S, uint32_t, U32, SET32, i32_signed(x) >= i32_signed(y))
    BINARY(I32_GE_U, uint32_t, U32, SET32, x >= y)
    UNARY(I64_EQZ, uint64_t, U64, SET32, x == 0)
    BINARY(I64_EQ, uint64_t, U64, SET32, x == y)
    BINARY(I64_NE, uint64_t, U64, SET32, x != y)
    BINARY(I64_LT_S, uint64_t, U64, SET32, i64_signed(x) < i64_signed(y))
    BINARY(I64_LT_U, uint64_t, U64, SET32, x < y)
    BINARY(I64_GT_S, uint64_t, U64, SET32, i64_signed(x) > i64_signed(y))
    BINARY(I64_GT_U, uint64_t, U64, SET32, x > y)
    BINARY(I64_LE_S, uint64_t, U64, SET32, i64_signed(x) <= i64_signed(y))
    BINARY(I64_LE_U, uint64_t, U64, SET32, x <= y)
    BINARY(I64_GE_S, uint64_t, U64, SET32, i64_signed(x) >= i64_signed(y))
    BINARY(I64_GE_U, uint64_t, U64, SET32, x >= y)
    BINARY(F32_EQ, float, F32, SET32, x == y)
    BINARY(F32_NE, float, F32, SET32, x != y)
    BINARY(F32_LT, float, F32, SET32, x < y)
    BINARY(F32_GT, float, F32, SET32, x > y)
    BINARY(F32_LE, float, F32, SET32, x <= y)
    BINARY(F32_GE, float, F32, SET32, x >= y)
    BINARY(F64_EQ, double, F64, SET32, x == y)
    BINARY(F64_NE, double, F64, SET32, x != y)
    BINARY(F64_LT, double, F64, SET32, x < y)
    BINARY(F64_GT, double, F64, SET32, x > y)
    BINARY(F64_LE, double, F64, SET32, x <= y)
    BINARY(F64_GE, double, F64, SET32, x >= y)

    /* ---- Numeric: i32 ---- */
    UNARY(I32_CLZ, uint32_t, U32, SET32, i32_clz(x))
    UNARY(I32_CTZ, uint32_t, U32, SET32, i32_ctz(x))
    UNARY(I32_POPCNT, uint32_t, U32, SET32, i32_popcnt(x))
    BINARY(I32_ADD, uint32_t, U32, SET32, x + y)
    BINARY(I32_SUB, uint32_t, U32, SET32, x - y)
    BINARY(I32_MUL, uint32_t, U32, SET32, x * y)
    BINARY_TRAPPING(I32_DIV_S, uint32_t, U32, SET32, i32_div_s)
    BINARY_TRAPPING(I32_DIV_U, uint32_t, U32, SET32, i32_div_u)
    BINARY_TRAPPING(I32_REM_S, uint32_t, U32, SET32, i32_rem_s)
    BINARY_TRAPPING(I32_REM_U, uint32_t, U32, SET32, i32_rem_u)
    BINARY(I32_AND, uint32_t, U32, SET32, x & y)
    BINARY(I32_OR, uint32_t, U32, SET32, x | y)
    BINARY(I32_XOR, uint32_t, U32, SET32, x ^ y)
    BINARY(I32_SHL, uint32_t, U32, SET32, i32_shl(x, y))
    BINARY(I32_SHR_S, uint32_t, U32, SET32, i32_shr_s(x, y))
    BINARY(I32_SHR_U, uint32_t, U32, SET32, i32_shr_u(x, y))
    BINARY(I32_ROTL, uint32_t, U32, SET32, i32_rotl(x, y))
    BINARY(I32_ROTR, uint32_t, U32, SET32, i32_rotr(x, y))
    BINARY_K(I32_EQ, x == y)
    BINARY_K(I32_NE, x != y)
    BINARY_K(I32_LT_S, i32_signed(x) < i32_signed(y))
    BINARY_K(I32_LT_U, x < y)
    BINARY_K(I32_GT_S, i32_signed(x) > i32_signed(y))
    BINARY_K(I32_GT_U, x > y)
    BINARY_K(I32_LE_S, i32_signed(x) <= i32_signed(y))
    BINARY_K(I32_LE_U, x <= y)
    BINARY_K(I32_GE_S, i32_signed(x) >= i32_signed(y))
    BINARY_K(I32_GE_U, x >= y)
    BINARY_K(I32_ADD, x + y)
    BINARY_K(I32_SUB, x - y)
    BINARY_K(I32_MUL, x * y)
    BINARY_K(I32_AND, x & y)
    BINARY_K(I32_OR, x | y)
    BINARY_K(I32_XOR, x ^ y)
    BINARY_K(I32_SHL, i32_shl(x, y))
    BINARY_K(I32_SHR_S, i32_shr_s(x, y))
    BINARY_K(I32_SHR_U, i32_shr_u(x, y))
    BINARY_K(I32_ROTL, i32_rotl(x, y))
    BINARY_K(I32_ROTR, i32_rotr(x, y))

    /* ---- Numeric: i64 ---- */
    UNARY(I64_CLZ, uint64_t, U64, SET64, i64_clz(x))
    UNARY(I64_CTZ, uint64_t, U64, SET64, i64_ctz(x))
    UNARY(I64_POPCNT, uint64_t, U64, SET64, i64_popcnt(x))
    BINARY(I64_ADD, uint64_t, U64, SET64, x + y)
    BINARY(I64_SUB, uint64_t, U64, SET64, x - y)
    BINARY(I64_MUL, uint64_t, U64, SET64, x * y)
    BINARY_TRAPPING(I64_DIV_S, uint64_t, U64, SET64, i64_div_s)
    BINARY_TRAPPING(I64_DIV_U, uint64_t, U64, SET64, i64_div_u)
    BINARY_TRAPPING(I64_REM_S, uint64_t, U64, SET64, i64_rem_s)
    BINARY_TRAPPING(I64_REM_U, uint64_t, U64, SET64, i64_rem_u)
    BINARY(I64_AND, uint64_t, U64, SET64, x & y)
    BINARY(I64_OR, uint64_t, U64, SET64, x | y)
    BINARY(I64_XOR, uint64_t, U64, SET64, x ^ y)
    BINARY(I64_SHL, uint64_t, U64, SET64, i64_shl(x, y))
    BINARY(I64_SHR_S, uint64_t, U64, SET64, i64_shr_s(x, y))
    BINARY(I64_SHR_U, uint64_t, U64, SET64, i64_shr_u(x, y))
    BINARY(I64_ROTL, uint64_t, U64, SET64, i64_rotl(x, y))
    BINARY(I64_ROTR, uint64_t, U64, SET64, i64_rotr(x, y))

    /* ---- Numeric: f32 ---- */
    UNARY(F32_ABS, uint32_t, U32, SET32, f32_abs(x))
    UNARY(F32_NEG, uint32_t, U32, SET32, f32_neg(x))
    UNARY(F32_CEIL, float, F32, SETF32, f32_ceil(x))
    UNARY(F32_FLOOR, float, F32, SETF32, f32_floor(x))
    UNARY(F32_TRUNC, float, F32, SETF32, f32_trunc(x))
    UNARY(F32_NEAREST, float, F32, SETF32, f32_nearest(x))
    UNARY(F32_SQRT, float, F32, SETF32, sqrtf(x))
    BINARY(F32_ADD, float, F32, SETF32, x + y)
    BINARY(F32_SUB, float, F32, SETF32, x - y)
    BINARY(F32_MUL, float, F32, SETF32, x * y)
    BINARY(F32_DIV, float, F32, SETF32, f32_div(x, y))
    BINARY(F32_MIN, uint32_t, U32, SET32, f32_min(x, y))
    BINARY(F32_MAX, uint32_t, U32, SET32, f32_max(x, y))
    BINARY(F32_COPYSIGN, uint32_t, U32, SET32, f32_copysign(x, y))

    /* ---- Numeric: f64 ---- */
    UNARY(F64_ABS, uint64_t, U64, SET64, f64_abs(x))
    UNARY(F64_NEG, uint64_t, U64, SET64, f64_neg(x))
    UNARY(F64_CEIL, double, F64, SETF64, f64_ceil(x))
    UNARY(F64_FLOOR, double, F64, SETF64, f64_floor(x))
    UNARY(F64_TRUNC, double, F64, SETF64, f64_trunc(x))
    UNARY(F64_NEAREST, double, F64, SETF64, f64_nearest(x))
    UNARY(F64_SQRT, double, F64, SETF64, sqrt(x))
    BINARY(F64_ADD, double, F64, SETF64, x + y)
    BINARY(F64_SUB, double, F64, SETF64, x - y)
    BINARY(F64_MUL, double, F64, SETF64, x * y)
    BINARY(F64_DIV, double, F64, SETF64, f64_div(x, y))
    BINARY(F64_MIN, uint64_t, U64, SET64, f64_min(x, y))
    BINARY(F64_MAX, uint64_t, U64, SET64, f64_max(x, y))
    BINARY(F64_COPYSIGN, uint64_t, U64, SET64, f64_copysign(x, y))

    /* ---- Numeric: conversions ---- */
    UNARY(I32_WRAP_I64, uint64_t, U64, SET32, x)
    UNARY_TRAPPING(I32_TRUNC_F32_S, uint32_t, F32, SET32, i32_trunc_f32_s)
    UNARY_TRAPPING(I32_TRUNC_F32_U, uint32_t, F32, SET32, i32_trunc_f32_u)
    UNARY_TRAPPING(I32_TRUNC_F64_S, uint32_t, F64, SET32, i32_trunc_f64_s)
    UNARY_TRAPPING(I32_TRUNC_F64_U, uint32_t, F64, SET32, i32_trunc_f64_u)
    UNARY(I64_EXTEND_I32_S, uint32_t, U32, SET64, i64_extend_s(x, 32))
    UNARY(I64_EXTEND_I32_U, uint32_t, U32, SET64, x)
    UNARY_TRAPPING(I64_TRUNC_F32_S, uint64_t, F32, SET64, i64_trunc_f32_s)
    UNARY_TRAPPING(I64_TRUNC_F32_U, uint64_t, F32, SET64, i64_trunc_f32_u)
    UNARY_TRAPPING(I64_TRUNC_F64_S, uint64_t, F64, SET64, i64_trunc_f64_s)
    UNARY_TRAPPING(I64_TRUNC_F64_U, uint64_t, F64, SET64, i64_trunc_f64_u)
    UNARY(F32_CONVERT_I32_S, uint32_t, U32, SETF32, (float)i32_signed(x))
    UNARY(F32_CONVERT_I32_U, uint32_t, U32, SETF32, (float)x)
    UNARY(F32_CONVERT_I64_S, uint64_t, U64, SETF32, (float)i64_signed(x))
    UNARY(F32_CONVERT_I64_U, uint64_t, U64, SETF32, (float)x)
    UNARY(F32_DEMOTE_F64, double, F64, SETF32, (float)x)
    UNARY(F64_CONVERT_I32_S, uint32_t, U32, SETF64, (double)i32_signed(x))
    UNARY(F64_CONVERT_I32_U, uint32_t, U32, SETF64, (double)x)
    UNARY(F64_CONVERT_I64_S, uint64_t, U64, SETF64, (double)i64_signed(x))
    UNARY(F64_CONVERT_I64_U, uint64_t, U64, SETF64, (double)x)
    UNARY(F64_PROMOTE_F32, float, F32, SETF64, (double)x)
    UNARY(I32_EXTEND8_S, uint32_t, U32, SET32, i32_extend_s(x, 8))
    UNARY(I32_EXTEND16_S, uint32_t, U32, SET32, i32_extend_s(x, 16))
    UNARY(I64_EXTEND8_S, uint64_t, U64, SET64, i64_extend_s(x, 8))
    UNARY(I64_EXTEND16_S, uint64_t, U64, SET64, i64_extend_s(x, 16))
    UNARY(I64_EXTEND32_S, uint64_t, U64, SET64, i64_extend_s(x, 32))
    UNARY(I32_TRUNC_SAT_F32_S, float, F32, SET32, i32_trunc_sat_f32_s(x))
    UNARY(I32_TRUNC_SAT_F32_U, float, F32, SET32, i32_trunc_sat_f32_u(x))
    UNARY(I32_TRUNC_SAT_F64_S, double, F64, SET32, i32_trunc_sat_f64_s(x))
    UNARY(I32_TRUNC_SAT_F64_U, double, F64, SET32, i32_trunc_sat_f64_u(x))
    UNARY(I64_TRUNC_SAT_F32_S, float, F32, SET64, i64_trunc_sat_f32_s(x))
    UNARY(I64_TRUNC_SAT_F32_U, float, F32, SET64, i64_trunc_sat_f32_u(x))
    UNARY(I64_TRUNC_SAT_F64_S, double, F64, SET64, i64_trunc_sat_f64_s(x))
    UNARY(I64_TRUNC_SAT_F64_U, double, F64, SET64, i64_trunc_sat_f64_u(x))

    DISPATCH_END

call:
    if (!callee->code) {
        /* The caller's whole frame stays live across the host call. */
        err = call_host(store, callee, instance, callee_fp, fp + code->frame_size);
        if (err) goto failed;
        deadline = store->epoch_deadline;
        pc = return_pc;
        DISPATCH();
    }
    callee_code = callee->code;
    callee_instance = callee->instance;
enter_wasm: {
    uint32_t depth = store->depth;
    if (depth >= max_depth || (size_t)(callee_fp - stack) + callee_code->frame_size > stack_slots)
        TRAP(CALL_STACK_EXHAUSTED);
    frames[depth] = (call_frame){callee_code, callee_instance, return_pc, callee_fp, NULL};
    store->depth = depth + 1;
    fp = callee_fp;
    code = callee_code;
    if (code->num_locals > code->num_params)
        memset(fp + code->num_params, 0, (size_t)(code->num_locals - code->num_params) * sizeof *fp);
    if (callee_instance != instance) LOAD_INSTANCE(callee_instance);
    pc = code->code;
    CHECK_INTERRUPTS();
    DISPATCH();
}

trapped:
    err = error_trap(trap);
failed:
    store->depth = entry_depth;
    store->stack_top = entry_top;
    return err;
}

#if WAFER_THREADED_DISPATCH
#pragma GCC diagnostic pop
#endif

/* Host functions that call back into wasm nest interp_run activations on the native stack;
 * bounding their nesting keeps wasm -> host -> wasm recursion from overflowing it, whatever
 * max_call_depth says. */
#define MAX_NESTED_ENTRIES 256

wafer_error *interp_call(wafer_store *store, wafer_func *func, uint64_t *slots) {
    if (store->entries >= MAX_NESTED_ENTRIES) return error_trap(WAFER_TRAP_CALL_STACK_EXHAUSTED);
    store->entries++;
    wafer_error *err = interp_run(store, func, slots);
    store->entries--;
    return err;
}
