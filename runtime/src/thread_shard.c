/* Thread numbers for sharded structures (thread_shard.h). */
#include "thread_shard.h"

#include <unistd.h>

uint32_t thread_shard_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) return 1;
    return n > THREAD_SHARDS_MAX ? THREAD_SHARDS_MAX : (uint32_t)n;
}

uint32_t thread_shard(uint32_t count) {
    static uint32_t next_thread;
    static _Thread_local uint32_t number_plus_one;
    if (number_plus_one == 0)
        number_plus_one = __atomic_add_fetch(&next_thread, 1, __ATOMIC_RELAXED);
    return (number_plus_one - 1) % count;
}
