/* Instantiation (spec 4.5.4) and exports.
 *
 * wafer_instance_new works in three phases:
 *   1. match the imports (spec 4.5.2 "External Typing", import subtyping): nothing is made yet;
 *   2. allocate the instance and everything it defines, evaluating global initialisers and
 *      element segments; any failure destroys what was made and leaves no trace (DESIGN.md
 *      invariant 4);
 *   3. link the instance into its store, then run the active element segments, the active data
 *      segments and the start function, in that order. A trap here keeps the instance in the
 *      store: what the segments wrote into imported tables and memories stays, and functions of
 *      this instance stored in them stay callable (linking.wast), but no handle is returned.
 */
#include "allocator.h"
#include "planted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *extern_kind_name(wafer_extern_kind kind) {
    switch (kind) {
    case WAFER_EXTERN_FUNC: return "function";
    case WAFER_EXTERN_TABLE: return "table";
    case WAFER_EXTERN_MEMORY: return "memory";
    case WAFER_EXTERN_GLOBAL: return "global";
    }
    return "unknown extern";
}

/* The spec test suite's texts come first, so runners can match on the prefix. */
static wafer_error *import_error(const module_import *imp, const char *text, const char *why) {
    return error_new(WAFER_ERROR_UNLINKABLE, "%s: \"%.*s\" \"%.*s\"%s", text, (int)imp->module.len,
                     imp->module.bytes, (int)imp->name.len, imp->name.bytes, why);
}

/* Spec 4.5.2, limits: the actual ones must lie within the declared ones. */
static bool limits_match(const wafer_limits *actual, const wafer_limits *declared) {
    if (actual->min < declared->min) return false;
    if (!declared->has_max) return true;
    return actual->has_max && actual->max <= declared->max;
}

/* Checks the import of `index`-th entry of its kind's index space against `ext`. */
static wafer_error *match_import(const wafer_module *module, const module_import *imp,
                                 uint32_t index, const wafer_extern *ext) {
    static const char incompatible[] = "incompatible import type";
    bool present = false;
    switch (ext->kind) {
    case WAFER_EXTERN_FUNC: present = ext->of.func != NULL; break;
    case WAFER_EXTERN_TABLE: present = ext->of.table != NULL; break;
    case WAFER_EXTERN_MEMORY: present = ext->of.memory != NULL; break;
    case WAFER_EXTERN_GLOBAL: present = ext->of.global != NULL; break;
    }
    if (!present) return import_error(imp, "unknown import", "");
    if (ext->kind != imp->kind) {
        char why[64];
        snprintf(why, sizeof why, " (expected a %s, got a %s)", extern_kind_name(imp->kind),
                 extern_kind_name(ext->kind));
        return import_error(imp, incompatible, why);
    }
    switch (imp->kind) {
    case WAFER_EXTERN_FUNC:
        if (!wafer_functype_equal(ext->of.func->type, &module->types[imp->type_index]))
            return import_error(imp, incompatible, " (function types differ)");
        return NULL;
    case WAFER_EXTERN_TABLE: {
        const wafer_tabletype *want = &module->tables[index];
        wafer_tabletype have = wafer_table_type(ext->of.table);
        if (have.elem != want->elem)
            return import_error(imp, incompatible, " (element types differ)");
        if (!limits_match(&have.limits, &want->limits))
            return import_error(imp, incompatible, " (table limits do not match)");
        return NULL;
    }
    case WAFER_EXTERN_MEMORY: {
        const wafer_memorytype *want = &module->memories[index];
        wafer_memorytype have = wafer_memory_type(ext->of.memory);
        if (have.is64 != want->is64)
            return import_error(imp, incompatible, " (index types differ)");
        if (have.shared != want->shared)
            return import_error(imp, incompatible, " (sharedness differs)");
        if (!limits_match(&have.limits, &want->limits))
            return import_error(imp, incompatible, " (memory limits do not match)");
        return NULL;
    }
    case WAFER_EXTERN_GLOBAL: {
        const wafer_globaltype *want = &module->globals[index].type;
        const wafer_globaltype *have = &ext->of.global->type;
        if (have->type != want->type || have->is_mutable != want->is_mutable)
            return import_error(imp, incompatible, " (global types differ)");
        return NULL;
    }
    }
    return import_error(imp, incompatible, " (unknown kind)");
}

static wafer_error *match_imports(const wafer_module *module, const wafer_extern *imports,
                                  size_t nimports) {
    if (nimports > module->num_imports)
        return error_new(WAFER_ERROR_USAGE, "module has %u imports, %zu given",
                         module->num_imports, nimports);
    uint32_t next_index[4] = {0, 0, 0, 0}; /* per wafer_extern_kind */
    for (uint32_t i = 0; i < module->num_imports; i++) {
        const module_import *imp = &module->imports[i];
        if (i >= nimports) return import_error(imp, "unknown import", "");
        wafer_error *err = match_import(module, imp, next_index[imp->kind]++, &imports[i]);
        if (err) return err;
    }
    return NULL;
}

/* ---- Constant expressions ------------------------------------------------------------------- */

/* Evaluates a validated constant expression (spec 3.3.10): in this feature set, exactly one
 * instruction. Values come back in frame-slot encoding. */
static wafer_error *eval_const(const wafer_instance *instance, const const_expr *expr,
                               uint64_t *out) {
    if (expr->count != 1)
        return error_new(WAFER_ERROR_INVALID, "constant expression required");
    const const_instr *in = &expr->instrs[0];
    switch (in->opcode) {
    case 0x41: *out = (uint32_t)in->imm.i32; return NULL;       /* i32.const */
    case 0x42: *out = (uint64_t)in->imm.i64; return NULL;       /* i64.const */
    case 0x43: *out = in->imm.f32_bits; return NULL;            /* f32.const */
    case 0x44: *out = in->imm.f64_bits; return NULL;            /* f64.const */
    case 0xD0: *out = 0; return NULL;                           /* ref.null */
    case 0xD2:                                                  /* ref.func */
        if (in->imm.index >= instance->module->num_funcs) break;
        *out = (uint64_t)(uintptr_t)instance_func((wafer_instance *)instance, in->imm.index);
        return NULL;
    case 0x23:                                                  /* global.get */
        if (in->imm.index >= instance->module->num_globals || !instance->globals[in->imm.index])
            break;
        *out = instance->globals[in->imm.index]->bits;
        return NULL;
    }
    return error_new(WAFER_ERROR_INVALID, "constant expression required");
}

/* ---- Allocation ----------------------------------------------------------------------------- */

/* An instance and its arrays lie in one allocation, in this order, so instantiating costs one
 * calloc however many imports, globals and segments the module has. Every array holds pointers or
 * 8-byte-aligned structs, so each starts aligned where the one before ends. */
typedef struct instance_layout {
    size_t imported_funcs, tables, memories, globals, defined_globals, elems, data_dropped;
    uint64_t size;
} instance_layout;

static instance_layout layout_of(const wafer_module *m) {
    instance_layout l;
    uint64_t at = sizeof(wafer_instance);
#define LAYOUT_ARRAY(field, count, elem_size)                                                     \
    l.field = (size_t)at;                                                                         \
    at += (uint64_t)(count) * (elem_size)
    LAYOUT_ARRAY(imported_funcs, m->num_imported_funcs, sizeof(wafer_func *));
    LAYOUT_ARRAY(tables, m->num_tables, sizeof(wafer_table *));
    LAYOUT_ARRAY(memories, m->num_memories, sizeof(wafer_memory *));
    LAYOUT_ARRAY(globals, m->num_globals, sizeof(wafer_global *));
    LAYOUT_ARRAY(defined_globals, m->num_globals - m->num_imported_globals, sizeof(wafer_global));
    LAYOUT_ARRAY(elems, m->num_elems, sizeof(instance_elem));
    LAYOUT_ARRAY(data_dropped, data_bitmap_words(m->num_datas), sizeof(uint64_t));
#undef LAYOUT_ARRAY
    l.size = at;
    return l;
}
_Static_assert(sizeof(wafer_instance) % 8 == 0 && sizeof(wafer_global) % 8 == 0 &&
                   sizeof(instance_elem) % 8 == 0,
               "each array of the instance's allocation starts 8-byte aligned");

uint64_t instance_state_size(const wafer_module *m) { return layout_of(m).size; }

void instance_destroy(wafer_instance *instance) {
    const wafer_module *m = instance->module;
    for (uint32_t i = m->num_imported_tables; i < m->num_tables; i++)
        if (instance->tables[i]) table_destroy(instance->tables[i]);
    for (uint32_t i = m->num_imported_memories; i < m->num_memories; i++)
        if (instance->memories[i]) memory_destroy(instance->memories[i]);
    if (instance->allocation_begun) {
        /* after the memories: the allocator takes their slots back (DESIGN.md invariant 4) */
        instance_allocator *a = instance->store->engine->allocator;
        a->ops->instance_end(a, &instance->allocation, instance->module);
    }
    for (uint32_t i = 0; i < m->num_elems; i++) instance_elem_drop(&instance->elems[i]);
    for (uint32_t d = 0; d < m->num_globals - m->num_imported_globals; d++)
        global_value_release(&instance->defined_globals[d]);
    instance_funcs_free(instance);
    module_release_for_instance(instance->module, instance->module_ref_shard);
    free(instance);
}

static wafer_error *out_of_memory(void) {
    return error_new(WAFER_ERROR_RESOURCE, "out of memory while instantiating");
}

/* Only imported functions need an entry now; defined ones get objects on first use
 * (instance_funcs.c). */
static wafer_error *allocate_funcs(wafer_instance *instance, const wafer_extern *imports) {
    const wafer_module *m = instance->module;
    uint32_t f = 0;
    for (uint32_t i = 0; f < m->num_imported_funcs; i++)
        if (m->imports[i].kind == WAFER_EXTERN_FUNC)
            instance->imported_funcs[f++] = imports[i].of.func;
    return NULL;
}

static wafer_error *allocate_tables(wafer_instance *instance, const wafer_extern *imports) {
    const wafer_module *m = instance->module;
    /* each kind's imports are looked for only if there are some: a module may import hundreds
     * of functions and nothing else */
    uint32_t t = 0;
    for (uint32_t i = 0; t < m->num_imported_tables; i++)
        if (m->imports[i].kind == WAFER_EXTERN_TABLE) instance->tables[t++] = imports[i].of.table;
    instance_allocator *a = instance->store->engine->allocator;
    for (uint32_t i = m->num_imported_tables; i < m->num_tables; i++) {
        defined_table_index d = {i - m->num_imported_tables};
        wafer_error *err = a->ops->table_new(a, &instance->allocation, instance->store, m, d,
                                             &instance->tables[i]);
        if (err) return err;
        const table_plan *plan =
            m->table_plans ? &m->table_plans[i - m->num_imported_tables] : NULL;
        if (plan && plan->lazy) {
            /* The table's lazy source is this instance, whoever imports the table later. */
            instance->tables[i]->lazy_instance = instance;
            instance->tables[i]->lazy_funcs = plan->funcs;
            instance->tables[i]->lazy_len = plan->len;
        }
    }
    return NULL;
}

static wafer_error *allocate_memories(wafer_instance *instance, const wafer_extern *imports) {
    const wafer_module *m = instance->module;
    uint32_t k = 0;
    for (uint32_t i = 0; k < m->num_imported_memories; i++)
        if (m->imports[i].kind == WAFER_EXTERN_MEMORY)
            instance->memories[k++] = imports[i].of.memory;
    /* Storage is the allocator's, by defined index; the instance addresses it by full index. */
    instance_allocator *a = instance->store->engine->allocator;
    wafer_error *err;
    instance->data_from_image = m->images != NULL;
    for (defined_memory_index d = {0}; d.i < module_defined_memories(m); d.i++) {
        memory_image *image = m->images ? m->images->images[d.i] : NULL;
        memory_index x = memory_index_of_defined(m, d);
        if ((err = a->ops->memory_new(a, &instance->allocation, m, d, image,
                                      &instance->memories[x.i])))
            return err;
    }
    return NULL;
}

/* Defined globals are evaluated in order, so an initialiser sees imported and earlier globals. */
static wafer_error *allocate_globals(wafer_instance *instance, const wafer_extern *imports) {
    const wafer_module *m = instance->module;
    uint32_t ndefined = m->num_globals - m->num_imported_globals;
    uint32_t g = 0;
    for (uint32_t i = 0; g < m->num_imported_globals; i++)
        if (m->imports[i].kind == WAFER_EXTERN_GLOBAL)
            instance->globals[g++] = imports[i].of.global;
    for (uint32_t d = 0; d < ndefined; d++) {
        const module_global *mg = &m->globals[m->num_imported_globals + d];
        wafer_global *global = &instance->defined_globals[d];
        global->type = mg->type;
        wafer_error *err = eval_const(instance, &mg->init, &global->bits);
        if (err) return err;
        global_value_retain(global);
        instance->globals[m->num_imported_globals + d] = global;
    }
    return NULL;
}

/* Declarative segments are dropped at instantiation (spec 4.5.4 step 14), so only the others
 * keep their references. */
static wafer_error *allocate_elems(wafer_instance *instance) {
    const wafer_module *m = instance->module;
    for (uint32_t i = 0; i < m->num_elems; i++) {
        const module_elem *e = &m->elems[i];
        if (e->mode == SEGMENT_DECLARATIVE || e->count == 0) continue;
        if (m->elem_planned && m->elem_planned[i]) continue; /* in a lazy table's plan */
        void **refs = malloc((size_t)e->count * sizeof *refs);
        if (!refs) return out_of_memory();
        instance->elems[i].refs = refs;
        instance->elems[i].externrefs = e->type == WAFER_EXTERNREF;
        for (uint32_t j = 0; j < e->count; j++) {
            uint64_t bits;
            wafer_error *err = eval_const(instance, &e->items[j], &bits);
            if (err) return err;
            refs[j] = (void *)(uintptr_t)bits;
            if (e->type == WAFER_EXTERNREF) externref_retain(refs[j]);
            instance->elems[i].count = j + 1; /* what a failure here must give back */
        }
    }
    return NULL;
}

static wafer_error *allocate(wafer_instance *instance, const wafer_extern *imports) {
    instance_allocator *a = instance->store->engine->allocator;
    wafer_error *err = a->ops->instance_begin(a, instance->module, &instance->allocation);
    if (err) return err;
    instance->allocation_begun = true;
    if ((err = allocate_funcs(instance, imports))) return err;
    if ((err = allocate_tables(instance, imports))) return err;
    if ((err = allocate_memories(instance, imports))) return err;
    if ((err = allocate_globals(instance, imports))) return err;
    return allocate_elems(instance);
}

/* ---- Initialisation ------------------------------------------------------------------------- */

void instance_elem_drop(instance_elem *elem) {
    if (elem->externrefs)
        for (uint32_t j = 0; j < elem->count; j++) externref_release(elem->refs[j]);
    free(elem->refs);
    elem->refs = NULL;
    elem->count = 0;
}

/* Segment `failed` trapped: the lazy tables must show only the planned segments before it, as
 * the eager order would have left them (planned segments cannot trap themselves). Their lazy
 * source is replaced by the elements those segments write. */
static void rewind_lazy_tables(wafer_instance *instance, uint32_t failed) {
    const wafer_module *m = instance->module;
    for (uint32_t t = m->num_imported_tables; t < m->num_tables; t++) {
        wafer_table *table = instance->tables[t];
        if (!table->lazy_instance) continue;
        table->lazy_instance = NULL;
        table->lazy_funcs = NULL;
        table->lazy_len = 0;
        for (uint32_t i = 0; i < failed; i++) {
            const module_elem *e = &m->elems[i];
            if (e->mode != SEGMENT_ACTIVE || e->table_index != t) continue;
            uint32_t offset = (uint32_t)e->offset.instrs[0].imm.i32;
            for (uint32_t j = 0; j < e->count; j++) {
                uint64_t bits;
                if (eval_const(instance, &e->items[j], &bits)) abort(); /* planned: constant */
                table_ref_set(table, offset + j, (void *)(uintptr_t)bits);
            }
        }
    }
}

/* Spec 4.5.4 steps 14-15: table.init then elem.drop for each active segment, in order, and
 * elem.drop for declarative ones (already empty). table.init checks the whole range before
 * writing, so a trapping segment writes nothing while earlier ones stay written. Segments folded
 * into a lazy table's plan are already in place (table_plan.c). */
static wafer_error *init_elems(wafer_instance *instance) {
    const wafer_module *m = instance->module;
    for (uint32_t i = 0; i < m->num_elems; i++) {
        const module_elem *e = &m->elems[i];
        if (e->mode != SEGMENT_ACTIVE) continue;
        if (m->elem_planned && m->elem_planned[i]) continue;
        uint64_t bits;
        wafer_error *err = eval_const(instance, &e->offset, &bits);
        if (err) return err;
        uint32_t offset = (uint32_t)bits;
        wafer_table *table = instance->tables[e->table_index];
        instance_elem *elem = &instance->elems[i];
        if (offset > table->size || elem->count > table->size - offset) {
            rewind_lazy_tables(instance, i);
            return error_trap(WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
        }
        for (uint32_t j = 0; j < elem->count; j++) table_put(table, offset + j, elem->refs[j]);
        instance_elem_drop(elem);
    }
    return NULL;
}

/* Spec 4.5.4 step 16: memory.init then data.drop for each active segment, in order. Offsets are
 * unsigned in the memory's index type. */
static wafer_error *init_datas(wafer_instance *instance) {
    const wafer_module *m = instance->module;
    if (instance->data_from_image) {
        /* Every active segment fits and lies in an image mapped with its memory (image.h). */
        if (m->num_datas)
            memcpy(instance->data_dropped, m->active_datas,
               data_bitmap_words(m->num_datas) * sizeof *m->active_datas);
        return NULL;
    }
    for (uint32_t i = 0; i < m->num_datas; i++) {
        const module_data *d = &m->datas[i];
        if (d->mode != SEGMENT_ACTIVE) continue;
        uint64_t offset;
        wafer_error *err = eval_const(instance, &d->offset, &offset);
        if (err) return err;
        wafer_memory *memory = instance->memories[d->memory_index];
        if (!memory->type.is64) offset = (uint32_t)offset;
        uint64_t room = memory->size_bytes - offset;
        if (PLANTED("instantiate")) room++; /* a segment one byte past the end gets through */
        if (offset > memory->size_bytes || d->len > room)
            return error_trap(WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
        if (d->len) memcpy(memory->data + offset, d->bytes, d->len);
        memory->written = true;
        data_drop(instance, i);
    }
    return NULL;
}

/* An element segment trapped, so no data segment ran (spec 4.5.4): the bytes the images put in
 * place early must not be seen by this instance's functions left in imported tables. */
static void clear_data_images(wafer_instance *instance) {
    const wafer_module *m = instance->module;
    if (!instance->data_from_image) return;
    for (defined_memory_index d = {0}; d.i < module_defined_memories(m); d.i++) {
        const memory_image *image = m->images->images[d.i];
        wafer_memory *memory = instance->memories[memory_index_of_defined(m, d).i];
        if (image) {
            memset(memory->data + image->memory_offset, 0, image->len);
            memory->written = true;
        }
    }
}

static wafer_error *run_start(wafer_instance *instance) {
    const wafer_module *m = instance->module;
    if (!m->has_start) return NULL;
    wafer_store *store = instance->store;
    uint64_t *slots = store->stack_top;
    uint32_t depth = store->depth;
    wafer_error *err = interp_call(store, instance_func(instance, m->start_func), slots);
    store->stack_top = slots;
    store->depth = depth;
    return err;
}

wafer_error *instance_match_imports(const wafer_module *module, const wafer_extern *imports,
                                   size_t nimports) {
    return match_imports(module, imports, nimports);
}

wafer_error *wafer_instance_new(wafer_store *store, wafer_module *module,
                                const wafer_extern *imports, size_t nimports,
                                wafer_instance **out) {
    *out = NULL;
    if (module->engine != store->engine)
        return error_new(WAFER_ERROR_USAGE, "module and store belong to different engines");
    wafer_error *err = match_imports(module, imports, nimports);
    if (err) return err;
    return instance_new_matched(store, module, imports, out);
}

wafer_error *instance_new_matched(wafer_store *store, wafer_module *module,
                                  const wafer_extern *imports, wafer_instance **out) {
    *out = NULL;
    wafer_error *err;
    instance_layout layout = layout_of(module);
    if (layout.size > SIZE_MAX) return out_of_memory();
    uint8_t *block = calloc(1, (size_t)layout.size);
    if (!block) return out_of_memory();
    wafer_instance *instance = (wafer_instance *)block;
    instance->imported_funcs = (wafer_func **)(block + layout.imported_funcs);
    instance->tables = (wafer_table **)(block + layout.tables);
    instance->memories = (wafer_memory **)(block + layout.memories);
    instance->globals = (wafer_global **)(block + layout.globals);
    instance->defined_globals = (wafer_global *)(block + layout.defined_globals);
    instance->elems = (instance_elem *)(block + layout.elems);
    instance->data_dropped = (uint64_t *)(block + layout.data_dropped);
    instance->module_ref_shard = module_retain_for_instance(module);
    instance->module = module;
    instance->store = store;
    if ((err = allocate(instance, imports))) {
        instance_destroy(instance);
        return err;
    }

    instance->initialised = true;
    instance->next_in_store = store->instances;
    store->instances = instance;
    if ((err = init_elems(instance))) {
        clear_data_images(instance);
        return err;
    }
    if ((err = init_datas(instance)) || (err = run_start(instance))) return err;
    *out = instance;
    return NULL;
}

/* ---- Exports -------------------------------------------------------------------------------- */

static wafer_extern extern_of(const wafer_instance *instance, const module_export *e) {
    wafer_extern ext;
    ext.kind = e->kind;
    switch (e->kind) {
    case WAFER_EXTERN_FUNC: ext.of.func = instance_func((wafer_instance *)instance, e->index); break;
    case WAFER_EXTERN_TABLE: ext.of.table = instance->tables[e->index]; break;
    case WAFER_EXTERN_MEMORY: ext.of.memory = instance->memories[e->index]; break;
    case WAFER_EXTERN_GLOBAL: ext.of.global = instance->globals[e->index]; break;
    }
    return ext;
}

const wafer_module *wafer_instance_module(const wafer_instance *instance) {
    return instance->module;
}

bool wafer_instance_export(const wafer_instance *instance, const char *name, size_t name_len,
                           wafer_extern *out) {
    const wafer_module *m = instance->module;
    for (uint32_t i = 0; i < m->num_exports; i++) {
        const module_export *e = &m->exports[i];
        if (e->name.len == name_len && (name_len == 0 || !memcmp(e->name.bytes, name, name_len))) {
            *out = extern_of(instance, e);
            return true;
        }
    }
    return false;
}

size_t wafer_instance_export_count(const wafer_instance *instance) {
    return instance->module->num_exports;
}

wafer_extern wafer_instance_export_at(const wafer_instance *instance, size_t index,
                                      wafer_name *name) {
    const wafer_module *m = instance->module;
    if (index >= m->num_exports) {
        if (name) *name = (wafer_name){NULL, 0};
        return (wafer_extern){.kind = WAFER_EXTERN_FUNC, .of.func = NULL};
    }
    if (name) *name = m->exports[index].name;
    return extern_of(instance, &m->exports[index]);
}
