/* Stores: the owner of every runtime object, the value stack, fuel and the epoch deadline. */
#include "runtime.h"

#include <stdlib.h>

wafer_store *wafer_store_new(wafer_engine *engine) {
    wafer_store *store = calloc(1, sizeof *store);
    if (!store) return NULL;
    store->engine = engine;
    /* Sized from the configuration, so overflow of either is a trap, never a write past them. */
    if (!stack_cache_take(engine, &store->stack, &store->frames)) {
        free(store);
        return NULL;
    }
    store->stack_top = store->stack;
    /* No deadline until the embedder sets one. */
    store->epoch_deadline = UINT64_MAX;
    return store;
}

void wafer_store_delete(wafer_store *store) {
    if (!store) return;
    /* Instances first: their functions may sit in host-made tables, but nothing runs any more. */
    for (wafer_instance *i = store->instances, *next; i; i = next) {
        next = i->next_in_store;
        instance_destroy(i);
    }
    for (wafer_func *f = store->funcs, *next; f; f = next) {
        next = f->next_in_store;
        host_func_destroy(f);
    }
    for (wafer_memory *m = store->memories, *next; m; m = next) {
        next = m->next_in_store;
        memory_destroy(m);
    }
    for (wafer_table *t = store->tables, *next; t; t = next) {
        next = t->next_in_store;
        table_destroy(t);
    }
    for (wafer_global *g = store->globals, *next; g; g = next) {
        next = g->next_in_store;
        global_value_release(g);
        free(g);
    }
    activation_free(store);
    stack_cache_give(store->engine, store->stack, store->frames);
    free(store);
}

void wafer_store_set_fuel(wafer_store *store, uint64_t fuel) { store->fuel = fuel; }

uint64_t wafer_store_fuel(const wafer_store *store) { return store->fuel; }

void wafer_store_set_epoch_deadline(wafer_store *store, uint64_t ticks) {
    uint64_t epoch = __atomic_load_n(&store->engine->epoch, __ATOMIC_RELAXED);
    store->epoch_deadline = ticks > UINT64_MAX - epoch ? UINT64_MAX : epoch + ticks;
}


