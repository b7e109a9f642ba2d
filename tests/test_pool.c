/* The pooling allocator (pool.c) and atomic instantiation: defined and full memory indices kept
 * apart (DESIGN.md invariant 3), nothing half-built left behind or leaked when the OS refuses
 * midway (invariant 4, checked by LeakSanitizer at exit), slots reused with affinity to their
 * module (invariant 5), table slots reset like memory slots, limits refused with clear errors.
 */
#include "machinery.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void tweak_two_slots(wafer_config *c) { c->pooling.total_instances = 2; }

/* A host memory holding "IMPORTED", to satisfy the import of `multi` and `multicopy`. */
static wafer_memory *imported_memory(wafer_store *store) {
    wafer_memorytype type = {{1, 0, false}, false, false};
    wafer_memory *memory;
    assert_null(wafer_memory_new(store, &type, &memory));
    memcpy(wafer_memory_data(memory), "IMPORTED", 8);
    return memory;
}

/* One imported memory and two defined ones: each gets its own data, through images or copying,
 * on demand or pooled. Pooled memories live in the instance slot's memory slots, by defined
 * index, with the pool's capacity. */
static void test_import_one_define_two(void **state) {
    for (int pooling = 0; pooling < 2; pooling++)
        for (int images = 0; images < 2; images++)
            for (int copy = 0; copy < 2; copy++) {
                wafer_engine *engine = machinery_engine(pooling, images, NULL);
                wafer_module *module =
                    copy ? machinery_module(engine, WASM(multicopy))
                         : machinery_module(engine, WASM(multi));
                assert_true((module->images != NULL) == (images && !copy));
                wafer_store *store = wafer_store_new(engine);
                wafer_memory *imp = imported_memory(store);
                wafer_extern ext = {.kind = WAFER_EXTERN_MEMORY, .of.memory = imp};
                wafer_instance *instance = machinery_instance(store, module, &ext, 1, NULL);
                wafer_memory *d0 = machinery_memory(instance, "d0");
                wafer_memory *d1 = machinery_memory(instance, "d1");
                assert_ptr_equal(instance->memories[0], imp);
                assert_ptr_equal(instance->memories[1], d0);
                assert_ptr_equal(instance->memories[2], d1);
                assert_memory_equal(wafer_memory_data(imp), copy ? "impORTED" : "IMPORTED", 8);
                assert_memory_equal(wafer_memory_data(d0), "one", 3);
                assert_true(machinery_zero(d0, 3, 65536));
                assert_int_equal(wafer_memory_size_pages(d1), 2);
                assert_true(machinery_zero(d1, 0, 65536));
                assert_memory_equal(wafer_memory_data(d1) + 65536, "two", 3);
                assert_true((d0->slot != &d0->own_slot) == pooling);
                if (pooling) {
                    /* memory slots of one instance slot are adjacent, defined index 0 first */
                    assert_true(d0->data < d1->data);
                    assert_int_equal(d0->slot->reserved, 16 * 65536);
                    assert_int_equal(d0->max_pages, 16);
                }
                wafer_store_delete(store);
                wafer_module_release(module);
                wafer_engine_delete(engine);
            }
}

/* Limits of the pool come back as resource errors before any slot is taken. */
static void test_pool_limits(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, tweak_two_slots);
    wafer_module *three = machinery_module(engine, WASM(three));
    wafer_module *empty = machinery_module(engine, WASM(empty));
    wafer_store *store = wafer_store_new(engine);
    wafer_error *err;
    assert_null(machinery_instance(store, three, NULL, 0, &err));
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_RESOURCE);
    assert_non_null(strstr(wafer_error_message(err), "defines 3 memories"));
    wafer_error_free(err);
    /* two slots: the third live instance is refused, and allowed once one is dropped */
    wafer_store *other = wafer_store_new(engine);
    machinery_instance(store, empty, NULL, 0, NULL);
    machinery_instance(other, empty, NULL, 0, NULL);
    wafer_store *third = wafer_store_new(engine);
    assert_null(machinery_instance(third, empty, NULL, 0, &err));
    assert_non_null(strstr(wafer_error_message(err), "in use"));
    wafer_error_free(err);
    wafer_store_delete(other);
    assert_non_null(machinery_instance(third, empty, NULL, 0, NULL));
    wafer_store_delete(third);
    wafer_store_delete(store);
    wafer_module_release(three);
    wafer_module_release(empty);
    wafer_engine_delete(engine);
}

/* Affinity: each module gets back the slot it used last, which still has its image mapped and its
 * initial size accessible, so instantiating maps nothing and changes no protection. */
static void test_affinity_reuses_slots_without_mmap(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, NULL);
    wafer_module *a = machinery_module(engine, WASM(img));
    wafer_module *b = machinery_module(engine, WASM(img2));
    wafer_store *sa = wafer_store_new(engine), *sb = wafer_store_new(engine);
    uint32_t slot_a = machinery_instance(sa, a, NULL, 0, NULL)->allocation.slot;
    uint32_t slot_b = machinery_instance(sb, b, NULL, 0, NULL)->allocation.slot;
    assert_int_not_equal(slot_a, slot_b);
    wafer_store_delete(sa);
    wafer_store_delete(sb);
    for (int round = 0; round < 3; round++) {
        uint64_t mmaps = sys_call_count(SYS_MMAP), mprotects = sys_call_count(SYS_MPROTECT);
        sb = wafer_store_new(engine);
        sa = wafer_store_new(engine);
        wafer_instance *ib = machinery_instance(sb, b, NULL, 0, NULL);
        wafer_instance *ia = machinery_instance(sa, a, NULL, 0, NULL);
        assert_int_equal(ia->allocation.slot, slot_a);
        assert_int_equal(ib->allocation.slot, slot_b);
        assert_int_equal(sys_call_count(SYS_MMAP), mmaps);
        assert_int_equal(sys_call_count(SYS_MPROTECT), mprotects);
        assert_memory_equal(wafer_memory_data(machinery_memory(ia, "mem")), "heLLo", 5);
        assert_memory_equal(wafer_memory_data(machinery_memory(ib, "mem")) + 100, "other", 5);
        wafer_store_delete(sa);
        wafer_store_delete(sb);
    }
    wafer_module_release(a);
    wafer_module_release(b);
    wafer_engine_delete(engine);
}

/* A module freed while its slots keep its image: a new module (the allocator may well put it at
 * the same address) never inherits the old image's bytes. */
static void test_freed_module_never_aliases(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, tweak_two_slots);
    for (int round = 0; round < 4; round++) {
        bool first = round % 2 == 0;
        wafer_module *module =
            first ? machinery_module(engine, WASM(img)) : machinery_module(engine, WASM(img2));
        wafer_store *store = wafer_store_new(engine);
        wafer_memory *memory =
            machinery_memory(machinery_instance(store, module, NULL, 0, NULL), "mem");
        if (first) {
            assert_memory_equal(wafer_memory_data(memory), "heLLo", 5);
        } else {
            assert_true(machinery_zero(memory, 0, 100));
            assert_memory_equal(wafer_memory_data(memory) + 100, "other", 5);
        }
        wafer_store_delete(store);
        wafer_module_release(module);
    }
    wafer_engine_delete(engine);
}

/* Invariant 4: the OS refuses the n-th mmap or mprotect of an instantiation. It fails with a
 * resource error, leaves no instance in the store, leaks nothing (LeakSanitizer), and the next
 * instantiation (same slots) is whole and correct. */
static void test_failure_midway_is_atomic(void **state) {
    sys_call kinds[] = {SYS_MMAP, SYS_MPROTECT};
    for (int pooling = 0; pooling < 2; pooling++)
        for (int images = 0; images < 2; images++)
            for (size_t k = 0; k < 2; k++)
                for (uint64_t n = 1; n <= 6; n++) {
                    wafer_engine *engine = machinery_engine(pooling, images, tweak_two_slots);
                    wafer_module *module = machinery_module(engine, WASM(multi));
                    wafer_store *store = wafer_store_new(engine);
                    wafer_memory *imp = imported_memory(store);
                    wafer_extern ext = {.kind = WAFER_EXTERN_MEMORY, .of.memory = imp};
                    wafer_error *err;
                    sys_fail_after(kinds[k], n);
                    wafer_instance *instance = machinery_instance(store, module, &ext, 1, &err);
                    sys_fail_after(kinds[k], 0);
                    if (err) {
                        assert_null(instance);
                        assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_RESOURCE);
                        wafer_error_free(err);
                        assert_null(store->instances);
                    } else {
                        assert_true(instance->initialised);
                    }
                    /* both slots usable: nothing was left taken or half-mapped */
                    wafer_store *again = wafer_store_new(engine);
                    for (int i = 0; i < (err ? 2 : 1); i++) {
                        wafer_instance *ok = machinery_instance(again, module, &ext, 1, NULL);
                        assert_true(ok->initialised);
                        assert_memory_equal(wafer_memory_data(machinery_memory(ok, "d0")),
                                            "one", 3);
                        assert_memory_equal(
                            wafer_memory_data(machinery_memory(ok, "d1")) + 65536, "two", 3);
                    }
                    wafer_store_delete(again);
                    wafer_store_delete(store);
                    wafer_module_release(module);
                    wafer_engine_delete(engine);
                }
}

/* Pooled tables live in table slots by defined index; what one instance stored is gone for the
 * next (its slot is zero again: uninitialised, resolved from the new instance's own segments), and
 * growth stops at the slot's capacity. */
static void test_table_slots_are_reset(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, tweak_two_slots);
    wafer_module *module = machinery_module(engine, WASM(tbl));
    for (int round = 0; round < 3; round++) {
        wafer_store *store = wafer_store_new(engine);
        wafer_instance *instance = machinery_instance(store, module, NULL, 0, NULL);
        wafer_extern t, f;
        assert_true(wafer_instance_export(instance, "t", 1, &t));
        assert_true(wafer_instance_export(instance, "f", 1, &f));
        assert_true(t.of.table->pooled);
        wafer_value v;
        assert_null(wafer_table_get(t.of.table, 0, &v));
        assert_ptr_equal(v.of.funcref, f.of.func);
        assert_null(wafer_table_get(t.of.table, 1, &v));
        assert_null(v.of.funcref); /* the last round's write is gone */
        assert_null(wafer_table_set(t.of.table, 1, (wafer_value){.type = WAFER_FUNCREF,
                                                                 .of.funcref = f.of.func}));
        wafer_value null = {.type = WAFER_FUNCREF, .of.funcref = NULL};
        assert_null(wafer_table_grow(t.of.table, 1022, null, NULL));
        wafer_error *err = wafer_table_grow(t.of.table, 1, null, NULL);
        assert_non_null(err); /* past the slot's 1024 elements */
        wafer_error_free(err);
        assert_null(wafer_table_set(t.of.table, 1023, (wafer_value){.type = WAFER_FUNCREF,
                                                                    .of.funcref = f.of.func}));
        wafer_store_delete(store);
    }
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* A table slot whose reset the OS refuses aborts the process: it would hand the next instance
 * this one's references. */
static void test_failed_table_reset_aborts(void **state) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, tweak_two_slots);
        wafer_module *module = machinery_module(engine, WASM(tbl));
        wafer_store *store = wafer_store_new(engine);
        wafer_instance *instance = machinery_instance(store, module, NULL, 0, NULL);
        /* An element past the first page: the reset must give pages back with madvise (the
         * first page is cleared with memset and stays resident). */
        wafer_extern t, f;
        assert_true(wafer_instance_export(instance, "t", 1, &t));
        assert_true(wafer_instance_export(instance, "f", 1, &f));
        wafer_value null = {.type = WAFER_FUNCREF, .of.funcref = NULL};
        assert_null(wafer_table_grow(t.of.table, 1022, null, NULL));
        assert_null(wafer_table_set(t.of.table, 1023, (wafer_value){.type = WAFER_FUNCREF,
                                                                    .of.funcref = f.of.func}));
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2); /* the abort's message is expected */
        sys_fail_after(SYS_MADVISE, 1);
        wafer_store_delete(store);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* A pool that cannot be reserved is an engine that cannot be made, never a half-made one. */
static void test_pool_reservation_refused(void **state) {
    wafer_config config;
    wafer_config_default(&config);
    config.allocator = WAFER_ALLOCATOR_POOLING;
    config.pooling.total_instances = 2;
    sys_fail_after(SYS_MMAP, 1);
    assert_null(wafer_engine_new(&config));
    sys_fail_after(SYS_MMAP, 0);
}

/* ---- Threads: the free lists are sharded by thread (pool.c) --------------------------------- */

typedef struct pool_thread_job {
    wafer_engine *engine;
    wafer_module *module;
    uint32_t slot; /* the slot its instance had */
} pool_thread_job;

/* Instantiates the job's module in a thread of its own and drops it, so the slot goes back to
 * that thread's shard. */
static void *instantiate_and_drop(void *arg) {
    pool_thread_job *job = arg;
    wafer_store *store = wafer_store_new(job->engine);
    wafer_instance *instance = NULL;
    wafer_error *err = wafer_instance_new(store, job->module, NULL, 0, &instance);
    job->slot = err ? UINT32_MAX : instance->allocation.slot;
    wafer_error_free(err);
    wafer_store_delete(store);
    return NULL;
}

static void run_in_thread(pool_thread_job *job) {
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, instantiate_and_drop, job), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
}

/* Invariant 5 across threads: a slot dropped by another thread (so free in another shard) is
 * still the one this thread gets for the same module, ahead of every never-used slot, and it
 * needs no mmap. */
static void test_affinity_across_threads(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, NULL);
    wafer_module *module = machinery_module(engine, WASM(img));
    for (int round = 0; round < 8; round++) {
        pool_thread_job job = {engine, module, UINT32_MAX};
        run_in_thread(&job);
        assert_int_not_equal(job.slot, UINT32_MAX);
        uint64_t mmaps = sys_call_count(SYS_MMAP);
        wafer_store *store = wafer_store_new(engine);
        wafer_instance *instance = machinery_instance(store, module, NULL, 0, NULL);
        assert_int_equal(instance->allocation.slot, job.slot);
        assert_int_equal(sys_call_count(SYS_MMAP), mmaps);
        assert_memory_equal(wafer_memory_data(machinery_memory(instance, "mem")), "heLLo", 5);
        wafer_store_delete(store);
    }
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* Sharding never refuses what the pool has: slots all dropped by one thread (so all free in its
 * shard) can all be live at once in another, and one more is refused. */
static void test_every_slot_reachable_from_any_thread(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, NULL);
    wafer_module *module = machinery_module(engine, WASM(img));
    wafer_module *other = machinery_module(engine, WASM(img2));
    enum { SLOTS = 4 }; /* machinery_engine's pool */
    pool_thread_job jobs[SLOTS];
    for (int i = 0; i < SLOTS; i++) {
        jobs[i] = (pool_thread_job){engine, i % 2 ? other : module, UINT32_MAX};
        run_in_thread(&jobs[i]);
        assert_int_not_equal(jobs[i].slot, UINT32_MAX);
    }
    wafer_store *stores[SLOTS + 1];
    bool seen[SLOTS] = {false};
    for (int i = 0; i < SLOTS; i++) {
        stores[i] = wafer_store_new(engine);
        wafer_instance *instance = machinery_instance(stores[i], module, NULL, 0, NULL);
        uint32_t slot = instance->allocation.slot;
        assert_true(slot < SLOTS);
        assert_false(seen[slot]);
        seen[slot] = true;
        /* a slot that held the other module shows this one's image, nothing of the other's */
        wafer_memory *memory = machinery_memory(instance, "mem");
        assert_memory_equal(wafer_memory_data(memory), "heLLo", 5);
        assert_true(machinery_zero(memory, 100, 105));
    }
    stores[SLOTS] = wafer_store_new(engine);
    wafer_error *err;
    assert_null(machinery_instance(stores[SLOTS], module, NULL, 0, &err));
    assert_non_null(strstr(wafer_error_message(err), "in use"));
    wafer_error_free(err);
    for (int i = 0; i <= SLOTS; i++) wafer_store_delete(stores[i]);
    wafer_module_release(module);
    wafer_module_release(other);
    wafer_engine_delete(engine);
}

/* Threads instantiating and dropping at once, two modules each, on a pool with one slot more
 * than there are threads: no slot is ever live twice, and every instance starts with exactly its
 * module's initial memory, although the last user of its slot scribbled over it. */
enum { STRESS_THREADS = 3, STRESS_ROUNDS = 1500 };
typedef struct stress_shared {
    wafer_engine *engine;
    wafer_module *modules[2];
    uint32_t live[STRESS_THREADS + 1]; /* per slot: instances live in it (atomic) */
    uint32_t failures;                 /* atomic */
} stress_shared;

static void stress_fail(stress_shared *shared) {
    __atomic_fetch_add(&shared->failures, 1, __ATOMIC_RELAXED);
}

static void *stress_thread(void *arg) {
    stress_shared *shared = arg;
    for (int round = 0; round < STRESS_ROUNDS; round++) {
        bool first = round % 3 != 0;
        wafer_store *store = wafer_store_new(shared->engine);
        wafer_instance *instance = NULL;
        wafer_error *err =
            wafer_instance_new(store, shared->modules[first ? 0 : 1], NULL, 0, &instance);
        if (err) {
            stress_fail(shared);
            wafer_error_free(err);
            wafer_store_delete(store);
            continue;
        }
        uint32_t slot = instance->allocation.slot;
        if (slot > STRESS_THREADS ||
            __atomic_add_fetch(&shared->live[slot], 1, __ATOMIC_ACQ_REL) != 1)
            stress_fail(shared);
        wafer_extern ext;
        if (!wafer_instance_export(instance, "mem", 3, &ext)) stress_fail(shared);
        uint8_t *data = wafer_memory_data(ext.of.memory);
        bool clean = first ? memcmp(data, "heLLo", 5) == 0 && data[100] == 0
                           : data[0] == 0 && memcmp(data + 100, "other", 5) == 0;
        if (!clean) stress_fail(shared);
        memset(data, 0xA5, 200);
        if (slot <= STRESS_THREADS) __atomic_sub_fetch(&shared->live[slot], 1, __ATOMIC_ACQ_REL);
        wafer_store_delete(store);
    }
    return NULL;
}

static void tweak_stress(wafer_config *c) { c->pooling.total_instances = STRESS_THREADS + 1; }

static void test_threads_share_the_pool_safely(void **state) {
    stress_shared shared = {0};
    shared.engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, tweak_stress);
    shared.modules[0] = machinery_module(shared.engine, WASM(img));
    shared.modules[1] = machinery_module(shared.engine, WASM(img2));
    pthread_t threads[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, stress_thread, &shared), 0);
    for (int i = 0; i < STRESS_THREADS; i++) assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(shared.failures, 0);
    wafer_module_release(shared.modules[0]);
    wafer_module_release(shared.modules[1]);
    wafer_engine_delete(shared.engine);
}

/* An instance counts on its module in the shard of the thread that made it, and gives the count
 * back from whichever thread drops it. Here the module's own reference goes first and instances
 * made on two threads are dropped on a third: the module lives while any instance does (its
 * memory still reads right) and is freed with the last one (LeakSanitizer checks at exit). */
static void *delete_store(void *store) {
    wafer_store_delete(store);
    return NULL;
}

typedef struct made_elsewhere {
    wafer_engine *engine;
    wafer_module *module;
    wafer_store *store; /* out: holds one live instance */
} made_elsewhere;

static void *instantiate_and_keep(void *arg) {
    made_elsewhere *job = arg;
    job->store = wafer_store_new(job->engine);
    wafer_instance *instance = NULL;
    wafer_error *err = wafer_instance_new(job->store, job->module, NULL, 0, &instance);
    if (err) {
        wafer_error_free(err);
        wafer_store_delete(job->store);
        job->store = NULL;
    }
    return NULL;
}

static void test_module_outlives_its_reference_across_threads(void **state) {
    for (int pooling = 0; pooling < 2; pooling++) {
        wafer_engine *engine = machinery_engine(
            pooling ? WAFER_ALLOCATOR_POOLING : WAFER_ALLOCATOR_ON_DEMAND, true, NULL);
        wafer_module *module = machinery_module(engine, WASM(img));
        made_elsewhere jobs[2] = {{engine, module, NULL}, {engine, module, NULL}};
        pthread_t threads[2];
        for (int i = 0; i < 2; i++) {
            assert_int_equal(pthread_create(&threads[i], NULL, instantiate_and_keep, &jobs[i]), 0);
            assert_int_equal(pthread_join(threads[i], NULL), 0);
            assert_non_null(jobs[i].store);
        }
        wafer_store *here = wafer_store_new(engine);
        wafer_instance *instance = machinery_instance(here, module, NULL, 0, NULL);
        wafer_module_release(module);
        assert_memory_equal(wafer_memory_data(machinery_memory(instance, "mem")), "heLLo", 5);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(pthread_create(&threads[i], NULL, delete_store, jobs[i].store), 0);
            assert_int_equal(pthread_join(threads[i], NULL), 0);
        }
        assert_memory_equal(wafer_memory_data(machinery_memory(instance, "mem")), "heLLo", 5);
        pthread_t last;
        assert_int_equal(pthread_create(&last, NULL, delete_store, here), 0);
        assert_int_equal(pthread_join(last, NULL), 0);
        wafer_engine_delete(engine);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_one_define_two),
        cmocka_unit_test(test_pool_limits),
        cmocka_unit_test(test_affinity_reuses_slots_without_mmap),
        cmocka_unit_test(test_freed_module_never_aliases),
        cmocka_unit_test(test_failure_midway_is_atomic),
        cmocka_unit_test(test_table_slots_are_reset),
        cmocka_unit_test(test_failed_table_reset_aborts),
        cmocka_unit_test(test_pool_reservation_refused),
        cmocka_unit_test(test_affinity_across_threads),
        cmocka_unit_test(test_every_slot_reachable_from_any_thread),
        cmocka_unit_test(test_threads_share_the_pool_safely),
        cmocka_unit_test(test_module_outlives_its_reference_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
