/* The engine's spare value stacks (runtime.h, stack_cache): a store's stack and frame array are
 * megabytes, and allocating and freeing them for every store made the allocator trim and
 * consolidate its heap on every instantiation, and serialised threads on the process's memory
 * map. Deleted stores leave theirs here for the next store of the engine. Their contents need no
 * clearing: frames write their slots before reading them.
 *
 * A store gives its stack back to its thread's shard and takes one from there first, then from
 * any other shard that has one, so threads making stores at once share no lock or cache line
 * while each keeps its own spares.
 */
#include "runtime.h"
#include "thread_shard.h"

#include <stdlib.h>
#include <string.h>

bool stack_cache_init(wafer_engine *engine) {
    stack_cache *c = &engine->stacks;
    c->num_shards = thread_shard_count();
    c->shards = aligned_alloc(_Alignof(stack_cache_shard), c->num_shards * sizeof *c->shards);
    if (!c->shards) return false;
    memset(c->shards, 0, c->num_shards * sizeof *c->shards);
    for (uint32_t k = 0; k < c->num_shards; k++)
        pthread_spin_init(&c->shards[k].lock, PTHREAD_PROCESS_PRIVATE);
    return true;
}

/* A spare of the shard, taken; false if it has none. */
static bool take_from(stack_cache_shard *shard, uint64_t **stack, call_frame **frames) {
    if (__atomic_load_n(&shard->count, __ATOMIC_RELAXED) == 0) return false;
    pthread_spin_lock(&shard->lock);
    bool found = shard->count > 0;
    if (found) {
        uint32_t n = shard->count - 1;
        *stack = shard->spare[n].stack;
        *frames = shard->spare[n].frames;
        __atomic_store_n(&shard->count, n, __ATOMIC_RELAXED);
    }
    pthread_spin_unlock(&shard->lock);
    return found;
}

bool stack_cache_take(wafer_engine *engine, uint64_t **stack, call_frame **frames) {
    stack_cache *c = &engine->stacks;
    uint32_t own = thread_shard(c->num_shards);
    for (uint32_t k = 0; k < c->num_shards; k++)
        if (take_from(&c->shards[(own + k) % c->num_shards], stack, frames)) return true;
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
    stack_cache_shard *shard = &c->shards[thread_shard(c->num_shards)];
    pthread_spin_lock(&shard->lock);
    bool kept = shard->count < STACK_CACHE_PER_SHARD;
    if (kept) {
        shard->spare[shard->count] = (struct spare_stack){stack, frames};
        __atomic_store_n(&shard->count, shard->count + 1, __ATOMIC_RELAXED);
    }
    pthread_spin_unlock(&shard->lock);
    if (kept) return;
    free(stack);
    free(frames);
}

void stack_cache_free(wafer_engine *engine) {
    stack_cache *c = &engine->stacks;
    for (uint32_t k = 0; k < c->num_shards; k++) {
        for (uint32_t i = 0; i < c->shards[k].count; i++) {
            free(c->shards[k].spare[i].stack);
            free(c->shards[k].spare[i].frames);
        }
        pthread_spin_destroy(&c->shards[k].lock);
    }
    free(c->shards);
    c->shards = NULL;
    c->num_shards = 0;
}
