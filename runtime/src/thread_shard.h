/* Sharding by thread: structures that every instantiation writes (pool.c's free lists,
 * stack_cache.c's spare stacks) are split into shards with cache lines and locks of their own,
 * and each thread works on its own shard first. Threads that instantiate at once then take no
 * cache line and no lock from each other on the common path; what one shard lacks, the others
 * are asked for, so sharding never refuses what the whole would give.
 */
#ifndef WAFER_THREAD_SHARD_H
#define WAFER_THREAD_SHARD_H

#include <stdint.h>

/* Shards a structure has: one per online processor, between 1 and THREAD_SHARDS_MAX, fixed when
 * the structure is made. */
#define THREAD_SHARDS_MAX 64
uint32_t thread_shard_count(void);

/* The calling thread's own shard among `count`: threads are numbered in the order they first
 * ask, so up to `count` threads get distinct shards. */
uint32_t thread_shard(uint32_t count);

#endif
