/* The on-demand allocator (the default): each memory gets its own reservation and each table its
 * own array when it is made, and gives them back when it is dropped; nothing is kept between
 * instances. */
#include "allocator.h"

#include <stdlib.h>

static wafer_error *ondemand_instance_begin(instance_allocator *a, const wafer_module *module,
                                            instance_allocation *out) {
    out->slot = 0;
    return NULL;
}

static wafer_error *ondemand_memory_new(instance_allocator *a, instance_allocation *alloc,
                                        const wafer_module *module, defined_memory_index d,
                                        memory_image *image, wafer_memory **out) {
    memory_index x = memory_index_of_defined(module, d);
    return memory_create_owned(a->config, &module->memories[x.i], image, out);
}

static wafer_error *ondemand_table_new(instance_allocator *a, instance_allocation *alloc,
                                       wafer_store *store, const wafer_module *module,
                                       defined_table_index d, wafer_table **out) {
    table_index x = table_index_of_defined(module, d);
    return table_create(store, &module->tables[x.i], NULL, out);
}

static void ondemand_instance_end(instance_allocator *a, instance_allocation *alloc,
                                  wafer_module *module) {}

static void ondemand_module_forget(instance_allocator *a, wafer_module *module) {}

static void ondemand_destroy(instance_allocator *a) { free(a); }

static const instance_allocator_ops ondemand_ops = {
    .instance_begin = ondemand_instance_begin,
    .memory_new = ondemand_memory_new,
    .table_new = ondemand_table_new,
    .instance_end = ondemand_instance_end,
    .module_forget = ondemand_module_forget,
    .destroy = ondemand_destroy,
};

wafer_error *ondemand_allocator_new(const wafer_config *config, instance_allocator **out) {
    instance_allocator *a = malloc(sizeof *a);
    if (!a) return error_new(WAFER_ERROR_RESOURCE, "out of memory");
    a->ops = &ondemand_ops;
    a->config = config;
    *out = a;
    return NULL;
}

wafer_error *instance_allocator_new(const wafer_config *config, instance_allocator **out) {
    if (config->allocator == WAFER_ALLOCATOR_POOLING) return pool_allocator_new(config, out);
    return ondemand_allocator_new(config, out);
}
