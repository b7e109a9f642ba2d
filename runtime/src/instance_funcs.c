/* The function objects of an instance's defined functions, made on first use (runtime.h,
 * instance_func). Direct calls never need one (the interpreter calls the module's code with the
 * current instance), so an instance pays only for the functions that escape: exports, ref.func,
 * table reads. They live in an open-addressing map keyed by defined index, empty and unallocated
 * until the first one is made, so instantiation costs nothing per function.
 */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>

/* Fibonacci hashing of the defined index into a power-of-two table. */
static uint32_t slot_of(uint32_t defined, uint32_t capacity) {
    return (uint32_t)((defined * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (capacity - 1);
}

static uint32_t defined_index_of(const wafer_instance *instance, const wafer_func *func) {
    return (uint32_t)(func->code - instance->module->code);
}

/* A small allocation failing here leaves no way to continue the wasm code that asked for the
 * reference (ref.func, call_indirect, a table read): the process is out of memory. */
static void *must_alloc(size_t count, size_t size) {
    void *p = calloc(count, size);
    if (!p) {
        fputs("wafer: out of memory making a function reference\n", stderr);
        abort();
    }
    return p;
}

static void insert(func_objects *map, const wafer_instance *instance, wafer_func *func) {
    uint32_t i = slot_of(defined_index_of(instance, func), map->capacity);
    while (map->slots[i]) i = (i + 1) & (map->capacity - 1);
    map->slots[i] = func;
    map->count++;
}

/* Keeps the load at most one half, so probes stay short. */
static void make_room(func_objects *map, const wafer_instance *instance) {
    if (map->count + 1 <= map->capacity / 2) return;
    uint32_t old_capacity = map->capacity;
    wafer_func **old = map->slots;
    map->capacity = old_capacity ? old_capacity * 2 : 8;
    map->slots = must_alloc(map->capacity, sizeof *map->slots);
    map->count = 0;
    for (uint32_t i = 0; i < old_capacity; i++)
        if (old[i]) insert(map, instance, old[i]);
    free(old);
}

wafer_func *instance_defined_func(wafer_instance *instance, uint32_t defined) {
    func_objects *map = &instance->func_objects;
    if (map->capacity) {
        for (uint32_t i = slot_of(defined, map->capacity); map->slots[i];
             i = (i + 1) & (map->capacity - 1))
            if (defined_index_of(instance, map->slots[i]) == defined) return map->slots[i];
    }
    const wafer_module *m = instance->module;
    wafer_func *func = must_alloc(1, sizeof *func);
    func->type = &m->types[m->func_type_indices[m->num_imported_funcs + defined]];
    func->instance = instance;
    func->code = &m->code[defined];
    make_room(map, instance);
    insert(map, instance, func);
    return func;
}

void instance_funcs_free(wafer_instance *instance) {
    func_objects *map = &instance->func_objects;
    for (uint32_t i = 0; i < map->capacity; i++) free(map->slots[i]);
    free(map->slots);
    *map = (func_objects){0};
}
