/* The engine's spare value stacks (runtime.h, stack_cache): a store's stack and frame array are
 * megabytes, and allocating and freeing them for every store made the allocator trim and
 * consolidate its heap on every instantiation, and serialised threads on the process's memory
 * map. Deleted stores leave theirs here for the next store of the engine. Their contents need no
 * clearing: frames write their slots before reading them.
 */
#include "runtime.h"

#include <stdlib.h>

bool stack_cache_take(wafer_engine *engine, uint64_t **stack, call_frame **frames) {
    stack_cache *c = &engine->stacks;
    pthread_spin_lock(&c->lock);
    bool found = c->count > 0;
    if (found) {
        c->count--;
        *stack = c->spare[c->count].stack;
        *frames = c->spare[c->count].frames;
    }
    pthread_spin_unlock(&c->lock);
    if (found) return true;
    const wafer_config *config = &engine->config;
    /* At least one entry each keeps the pointers valid when the configuration asks for none. */
    *stack = malloc(((size_t)config->stack_slots + 1) * sizeof **stack);
    *frames = malloc(((size_t)config->max_call_depth + 1) * sizeof **frames);
    if (*stack && *frames) return true;
    free(*stack);
    free(*frames);
    return false;
}

void stack_cache_give(wafer_engine *engine, uint64_t *stack, call_frame *frames) {
    stack_cache *c = &engine->stacks;
    pthread_spin_lock(&c->lock);
    bool kept = c->count < STACK_CACHE_SIZE;
    if (kept) c->spare[c->count++] = (struct spare_stack){stack, frames};
    pthread_spin_unlock(&c->lock);
    if (kept) return;
    free(stack);
    free(frames);
}

void stack_cache_free(wafer_engine *engine) {
    stack_cache *c = &engine->stacks;
    for (uint32_t i = 0; i < c->count; i++) {
        free(c->spare[i].stack);
        free(c->spare[i].frames);
    }
    c->count = 0;
    pthread_spin_destroy(&c->lock);
}
