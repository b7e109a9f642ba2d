/* Modules: creation (decode, then validate and compile), sharing by refcount, freeing, and the
 * import and export descriptions of wafer.h. */
#include "module.h"
#include "allocator.h"
#include "error.h"

#include <stdlib.h>

wafer_error *wafer_module_new(wafer_engine *engine, const uint8_t *bytes, size_t len,
                              wafer_module **out) {
    wafer_module *m;
    *out = NULL;
    wafer_error *err = module_decode(engine, bytes, len, &m);
    if (err) return err;
    err = module_validate(m, true);
    if (!err) err = module_plan_tables(m);
    if (!err && engine->config.memory_images) err = module_images_build(m, &m->images);
    if (err) {
        module_free(m);
        return err;
    }
    *out = m;
    return NULL;
}

wafer_error *wafer_module_validate(wafer_engine *engine, const uint8_t *bytes, size_t len) {
    wafer_module *m;
    wafer_error *err = module_decode(engine, bytes, len, &m);
    if (err) return err;
    err = module_validate(m, false);
    module_free(m);
    return err;
}

/* Modules are shared between stores, which may live on different threads. */
void wafer_module_retain(wafer_module *module) {
    __atomic_fetch_add(&module->refcount, 1, __ATOMIC_RELAXED);
}

void wafer_module_release(wafer_module *module) {
    if (module && __atomic_sub_fetch(&module->refcount, 1, __ATOMIC_ACQ_REL) == 0)
        module_free(module);
}

/* A shard's zero-to-one step takes a count of refcount and its one-to-zero step gives it back.
 * The two can race on one shard (a release on one thread, a retain on another), but the
 * retaining thread holds another reference, so refcount cannot reach zero in between. */
uint32_t module_retain_for_instance(wafer_module *module) {
    uint32_t shard = thread_shard(THREAD_SHARDS_MAX);
    if (__atomic_fetch_add(&module->instance_refs[shard].count, 1, __ATOMIC_RELAXED) == 0)
        wafer_module_retain(module);
    return shard;
}

void module_release_for_instance(wafer_module *module, uint32_t shard) {
    if (__atomic_sub_fetch(&module->instance_refs[shard].count, 1, __ATOMIC_ACQ_REL) == 0)
        wafer_module_release(module);
}

static void free_code_func(code_func *f) {
    free(f->code);
    free(f->stack_maps);
    free(f->map_slots);
}

/* Every array is zeroed when allocated and its count set before its entries are filled, so a
 * module abandoned at any point of decoding or validation frees cleanly. */
void module_free(wafer_module *m) {
    if (!m) return;
    for (uint32_t i = 0; i < m->num_types; i++) {
        free((void *)m->types[i].params);
        free((void *)m->types[i].results);
    }
    free(m->types);
    free(m->imports);
    free(m->func_type_indices);
    free(m->tables);
    free(m->memories);
    for (uint32_t i = 0; i < m->num_globals; i++) free(m->globals[i].init.instrs);
    free(m->globals);
    free(m->exports);
    for (uint32_t i = 0; i < m->num_elems; i++) {
        free(m->elems[i].offset.instrs);
        free(m->elems[i].items);
        free(m->elems[i].item_instrs);
    }
    free(m->elems);
    for (uint32_t i = 0; i < m->num_datas; i++) free(m->datas[i].offset.instrs);
    free(m->datas);
    free(m->active_datas);
    for (uint32_t i = 0; i < m->num_bodies; i++) free(m->bodies[i].local_runs);
    free(m->bodies);
    if (m->code)
        for (uint32_t i = 0; i < m->num_bodies; i++) free_code_func(&m->code[i]);
    free(m->code);
    free(m->declared_refs);
    module_free_table_plans(m);
    if (m->affinity) m->engine->allocator->ops->module_forget(m->engine->allocator, m);
    module_images_free(m->images);
    free(m->bytes);
    free(m);
}

size_t wafer_module_import_count(const wafer_module *module) { return module->num_imports; }

size_t wafer_module_export_count(const wafer_module *module) { return module->num_exports; }

/* The type of the entity at a full index of a kind; the module is valid, so the index is. */
static wafer_externtype entity_type(const wafer_module *m, wafer_extern_kind kind,
                                    uint32_t index) {
    wafer_externtype t = {.kind = kind};
    switch (kind) {
    case WAFER_EXTERN_FUNC: t.of.func = &m->types[m->func_type_indices[index]]; break;
    case WAFER_EXTERN_TABLE: t.of.table = m->tables[index]; break;
    case WAFER_EXTERN_MEMORY: t.of.memory = m->memories[index]; break;
    case WAFER_EXTERN_GLOBAL: t.of.global = m->globals[index].type; break;
    }
    return t;
}

wafer_import_desc wafer_module_import(const wafer_module *module, size_t index) {
    wafer_import_desc desc = {0};
    if (index >= module->num_imports) return desc;
    const module_import *imp = &module->imports[index];
    desc.module = imp->module;
    desc.name = imp->name;
    desc.type = entity_type(module, imp->kind, imp->kind_index);
    return desc;
}

wafer_export_desc wafer_module_export(const wafer_module *module, size_t index) {
    wafer_export_desc desc = {0};
    if (index >= module->num_exports) return desc;
    const module_export *exp = &module->exports[index];
    desc.name = exp->name;
    desc.type = entity_type(module, exp->kind, exp->index);
    return desc;
}
