/* Running an instance's exports: see fuzz_exports.h. */
#include "fuzz_exports.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_stubs.h"

enum {
    MAX_RESULTS = 64,   /* calls of functions with more results are skipped */
    TABLE_READS = 256,  /* elements read from each exported table */
};

/* An argument drawn from the bytes: mostly values at the edges of their type, where arithmetic
 * and bounds checks go wrong, else raw bits. */
static wafer_value derived_value(wafer_valtype type, shape_input *b) {
    static const uint64_t edges[] = {
        0, 1, 2, UINT64_MAX, 0x7fffffff, 0x80000000, 0xffffffff, 0xffff, 0x10000,
        UINT64_C(0x7fffffffffffffff), UINT64_C(0x8000000000000000), 0x7fc00000, 0x7f800000,
        UINT64_C(0x7ff8000000000000), UINT64_C(0x7ff0000000000000), 0xfffffffc,
    };
    wafer_value v = fuzz_zero_value(type);
    uint8_t choice = shape_u8(b);
    uint64_t bits = choice < 2 * sizeof edges / sizeof edges[0] ? edges[choice / 2]
                                                                 : shape_u64(b);
    switch (type) {
    case WAFER_I32: v.of.i32 = (int32_t)(uint32_t)bits; break;
    case WAFER_I64: v.of.i64 = (int64_t)bits; break;
    case WAFER_F32: v.of.f32_bits = (uint32_t)bits; break;
    case WAFER_F64: v.of.f64_bits = bits; break;
    case WAFER_EXTERNREF:
        if (choice & 1) v.of.externref = wafer_externref_new(NULL, NULL);
        break;
    case WAFER_FUNCREF:
    case WAFER_V128: break;
    }
    return v;
}

/* Calls func with zero or derived arguments; returns the fuel it used. */
static uint64_t call(wafer_store *store, wafer_func *func, const fuzz_calls *calls) {
    const wafer_functype *type = wafer_func_type(func);
    if (type->num_results > MAX_RESULTS) return 0;
    wafer_value *args = calloc(type->num_params ? type->num_params : 1, sizeof *args);
    if (!args) return 0;
    for (uint32_t i = 0; i < type->num_params; i++)
        args[i] = calls->args ? derived_value(type->params[i], calls->args)
                              : fuzz_zero_value(type->params[i]);
    wafer_value results[MAX_RESULTS];
    fuzz_budget_apply(store, &calls->per_call);
    wafer_error *err =
        wafer_func_call(store, func, args, type->num_params, results, type->num_results);
    uint64_t left = wafer_store_fuel(store);
    if (calls->fuel && left > calls->per_call.fuel)
        fuzz_broken_invariant("fuel grew during a call", NULL);
    if (!fuzz_failed(err)) {
        for (uint32_t i = 0; i < type->num_results; i++) {
            if (results[i].type != type->results[i])
                fuzz_broken_invariant("result of the wrong type", NULL);
            wafer_value_release(&results[i]);
        }
    }
    for (uint32_t i = 0; i < type->num_params; i++) wafer_value_release(&args[i]);
    free(args);
    return calls->fuel ? calls->per_call.fuel - left : 0;
}

void fuzz_inspect_export(wafer_extern ext, const wafer_export_desc *desc) {
    switch (ext.kind) {
    case WAFER_EXTERN_TABLE: {
        wafer_tabletype type = wafer_table_type(ext.of.table);
        uint64_t size = wafer_table_size(ext.of.table);
        if (type.elem != desc->type.of.table.elem || size < type.limits.min ||
            (type.limits.has_max && size > type.limits.max))
            fuzz_broken_invariant("exported table disagrees with its type", NULL);
        for (uint64_t i = 0; i < size && i < TABLE_READS; i++) {
            wafer_value v;
            wafer_error *err = wafer_table_get(ext.of.table, i, &v);
            if (err) {
                fuzz_check_error(err);
                fuzz_broken_invariant("reading a table element in bounds failed",
                                      wafer_error_message(err));
            }
            if (v.type != type.elem) fuzz_broken_invariant("table element of the wrong type", NULL);
            wafer_value_release(&v);
        }
        wafer_value v;
        if (!fuzz_failed(wafer_table_get(ext.of.table, size, &v)))
            fuzz_broken_invariant("reading past a table's end succeeded", NULL);
        break;
    }
    case WAFER_EXTERN_MEMORY: {
        wafer_memorytype type = wafer_memory_type(ext.of.memory);
        uint64_t pages = wafer_memory_size_pages(ext.of.memory);
        if (type.is64 != desc->type.of.memory.is64 || pages < type.limits.min ||
            (type.limits.has_max && pages > type.limits.max) ||
            wafer_memory_size_bytes(ext.of.memory) != pages * 65536 ||
            (pages && !wafer_memory_data(ext.of.memory)))
            fuzz_broken_invariant("exported memory disagrees with its type", NULL);
        break;
    }
    case WAFER_EXTERN_GLOBAL: {
        wafer_globaltype type = wafer_global_type(ext.of.global);
        wafer_value value = wafer_global_get(ext.of.global);
        if (type.type != desc->type.of.global.type ||
            type.is_mutable != desc->type.of.global.is_mutable || value.type != type.type)
            fuzz_broken_invariant("exported global disagrees with its type", NULL);
        wafer_value_release(&value);
        break;
    }
    case WAFER_EXTERN_FUNC:
        break;
    }
}

size_t fuzz_run_exports(wafer_store *store, const wafer_module *module,
                        const wafer_instance *instance, const fuzz_calls *calls) {
    size_t count = wafer_instance_export_count(instance);
    if (count != wafer_module_export_count(module))
        fuzz_broken_invariant("instance and module export counts differ", NULL);
    uint64_t fuel_used = 0;
    size_t ncalls = 0;
    for (size_t i = 0; i < count; i++) {
        wafer_name name;
        wafer_extern ext = wafer_instance_export_at(instance, i, &name);
        wafer_export_desc desc = wafer_module_export(module, i);
        if (ext.kind != desc.type.kind || name.len != desc.name.len ||
            (name.len && memcmp(name.bytes, desc.name.bytes, name.len) != 0))
            fuzz_broken_invariant("instance export differs from module export", NULL);
        if (ext.kind != WAFER_EXTERN_FUNC) {
            fuzz_inspect_export(ext, &desc);
            continue;
        }
        if (!wafer_functype_equal(wafer_func_type(ext.of.func), desc.type.of.func))
            fuzz_broken_invariant("exported function's type differs from its declaration", NULL);
        if (ncalls >= calls->max_calls || (calls->fuel && fuel_used >= calls->fuel_per_input))
            continue;
        fuel_used += call(store, ext.of.func, calls);
        ncalls++;
    }
    return ncalls;
}
