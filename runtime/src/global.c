/* Globals made by the host; a global holds its value in frame-slot encoding (code.h), and an
 * externref global counts the reference it holds (extern_ref.c). */
#include "runtime.h"

#include <stdlib.h>

wafer_error *wafer_global_new(wafer_store *store, const wafer_globaltype *type, wafer_value init,
                              wafer_global **out) {
    switch (type->type) {
    case WAFER_I32:
    case WAFER_I64:
    case WAFER_F32:
    case WAFER_F64:
    case WAFER_FUNCREF:
    case WAFER_EXTERNREF: break;
    case WAFER_V128: return error_new(WAFER_ERROR_UNSUPPORTED, "unsupported feature: simd");
    default: return error_new(WAFER_ERROR_USAGE, "unknown value type 0x%x", (unsigned)type->type);
    }
    if (init.type != type->type)
        return error_new(WAFER_ERROR_USAGE, "initial value does not match the global's type");
    wafer_global *global = malloc(sizeof *global);
    if (!global) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    global->bits = value_to_slot(init);
    global->type = *type;
    global_value_retain(global);
    global->next_in_store = store->globals;
    store->globals = global;
    *out = global;
    return NULL;
}

wafer_globaltype wafer_global_type(const wafer_global *global) { return global->type; }

wafer_value wafer_global_get(const wafer_global *global) {
    wafer_value v = value_from_slot(global->type.type, global->bits);
    if (v.type == WAFER_EXTERNREF) externref_retain(v.of.externref); /* the caller's to release */
    return v;
}

void global_value_retain(wafer_global *global) {
    if (global->type.type == WAFER_EXTERNREF)
        externref_retain((wafer_externref *)(uintptr_t)global->bits);
}

void global_value_release(wafer_global *global) {
    if (global->type.type == WAFER_EXTERNREF)
        externref_release((wafer_externref *)(uintptr_t)global->bits);
}

void global_set_bits(wafer_global *global, uint64_t bits) {
    if (global->type.type != WAFER_EXTERNREF) {
        global->bits = bits;
        return;
    }
    externref_retain((wafer_externref *)(uintptr_t)bits);
    global_value_release(global);
    global->bits = bits;
}

wafer_error *wafer_global_set(wafer_global *global, wafer_value value) {
    if (!global->type.is_mutable)
        return error_new(WAFER_ERROR_USAGE, "global is immutable");
    if (value.type != global->type.type)
        return error_new(WAFER_ERROR_USAGE, "value does not match the global's type");
    global_set_bits(global, value_to_slot(value));
    return NULL;
}
