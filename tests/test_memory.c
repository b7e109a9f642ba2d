/* Linear memories (memory.c): static memories never move and grow by protection alone, dynamic ones
 * move when they outgrow their reservation, and every size computation refuses what does not fit
 * (DESIGN.md invariant 2). System calls are counted and failed through the seam of sys.h.
 */
#include "machinery.h"

static void tweak_dynamic(wafer_config *c) { c->static_memory_maximum_size = 0; }
static void tweak_huge_limit(wafer_config *c) {
    c->limits.max_memory_pages = UINT64_C(1) << 48;
    c->static_memory_forced = true;
}

static wafer_memory *new_memory(wafer_store *store, bool is64, uint64_t min, uint64_t max,
                                bool has_max) {
    wafer_memorytype type = {{min, max, has_max}, is64, false};
    wafer_memory *memory = NULL;
    wafer_error *err = wafer_memory_new(store, &type, &memory);
    if (err) fail_msg("memory: %s", wafer_error_message(err));
    return memory;
}

/* Invariant 2: 2^48 pages of memory64 are 2^64 bytes. The module compiles (its segment fits in
 * the declared minimum, computed without overflow) and instantiation fails cleanly, with images
 * on and off. */
static void test_memory64_minimum_of_2_pow_48_pages(void **state) {
    for (int images = 0; images < 2; images++) {
        wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, images, NULL);
        wafer_module *module = machinery_module(engine, WASM(huge64));
        wafer_store *store = wafer_store_new(engine);
        wafer_error *err;
        assert_null(machinery_instance(store, module, NULL, 0, &err));
        assert_non_null(err);
        assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_RESOURCE);
        assert_non_null(strstr(wafer_error_message(err), "exceeds the limit"));
        wafer_error_free(err);
        wafer_store_delete(store);
        wafer_module_release(module);
        wafer_engine_delete(engine);
    }
}

/* Invariant 2: a memory64 segment whose end wraps past 2^64 traps instead of writing. */
static void test_memory64_segment_end_wraps(void **state) {
    for (int images = 0; images < 2; images++) {
        wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, images, NULL);
        wafer_module *module = machinery_module(engine, WASM(wrap64));
        assert_null(module->images);
        wafer_store *store = wafer_store_new(engine);
        wafer_error *err;
        assert_null(machinery_instance(store, module, NULL, 0, &err));
        assert_int_equal(wafer_error_trap_kind(err), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
        wafer_error_free(err);
        wafer_store_delete(store);
        wafer_module_release(module);
        wafer_engine_delete(engine);
    }
}

/* With the limit raised to the index type's own, forcing a static memory of 2^48 pages asks for a
 * reservation of 2^64 bytes: refused with an error, never a wrapped size. */
static void test_static_reservation_too_large_is_refused(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true, tweak_huge_limit);
    wafer_store *store = wafer_store_new(engine);
    wafer_memorytype type = {{1, 0, false}, true, false};
    wafer_memory *memory = NULL;
    wafer_error *err = wafer_memory_new(store, &type, &memory);
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_RESOURCE);
    wafer_error_free(err);
    wafer_store_delete(store);
    wafer_engine_delete(engine);
}

/* A static memory reserves its maximum once: growing it maps nothing and never moves the data. */
static void test_static_memory_grows_in_place(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true, NULL);
    wafer_store *store = wafer_store_new(engine);
    wafer_memory *memory = new_memory(store, false, 1, 100, true);
    assert_true(memory->is_static);
    uint8_t *data = wafer_memory_data(memory);
    data[65535] = 7;
    uint64_t mmaps = sys_call_count(SYS_MMAP), old = 0;
    assert_null(wafer_memory_grow(memory, 10, &old));
    assert_int_equal(old, 1);
    assert_ptr_equal(wafer_memory_data(memory), data);
    assert_int_equal(sys_call_count(SYS_MMAP), mmaps);
    assert_int_equal(data[65535], 7);
    assert_true(machinery_zero(memory, 65536, 11 * 65536));
    /* past the maximum: refused, nothing changes */
    wafer_error *err = wafer_memory_grow(memory, 90, NULL);
    assert_non_null(err);
    wafer_error_free(err);
    assert_int_equal(wafer_memory_size_pages(memory), 11);
    wafer_store_delete(store);
    wafer_engine_delete(engine);
}

/* A dynamic memory reserves its current size; growing past it moves the bytes to a larger
 * reservation, keeping them. */
static void test_dynamic_memory_moves_and_keeps_bytes(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true, tweak_dynamic);
    wafer_store *store = wafer_store_new(engine);
    wafer_memory *memory = new_memory(store, false, 1, 0, false);
    assert_false(memory->is_static);
    wafer_memory_data(memory)[100] = 42;
    uint64_t mmaps = sys_call_count(SYS_MMAP);
    assert_null(wafer_memory_grow(memory, 3, NULL));
    assert_true(sys_call_count(SYS_MMAP) > mmaps);
    assert_int_equal(wafer_memory_data(memory)[100], 42);
    assert_int_equal(wafer_memory_size_bytes(memory), 4 * 65536);
    assert_true(machinery_zero(memory, 65536, 4 * 65536));
    wafer_memory_data(memory)[4 * 65536 - 1] = 1;
    /* the larger reservation holds the next growth without another move */
    uint8_t *data = wafer_memory_data(memory);
    assert_null(wafer_memory_grow(memory, 1, NULL));
    assert_ptr_equal(wafer_memory_data(memory), data);
    wafer_store_delete(store);
    wafer_engine_delete(engine);
}

/* When the OS refuses, memory.grow fails (-1 to wasm) and the memory is as it was. */
static void test_grow_refused_by_the_os(void **state) {
    for (int dynamic = 0; dynamic < 2; dynamic++) {
        wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true,
                                                dynamic ? tweak_dynamic : NULL);
        wafer_store *store = wafer_store_new(engine);
        wafer_memory *memory = new_memory(store, false, 1, 0, false);
        wafer_memory_data(memory)[5] = 5;
        sys_fail_after(dynamic ? SYS_MMAP : SYS_MPROTECT, 1);
        assert_int_equal(memory_grow(memory, 2), UINT64_MAX);
        sys_fail_after(dynamic ? SYS_MMAP : SYS_MPROTECT, 0);
        assert_int_equal(wafer_memory_size_pages(memory), 1);
        assert_int_equal(wafer_memory_data(memory)[5], 5);
        assert_int_equal(memory_grow(memory, 2), 1);
        wafer_store_delete(store);
        wafer_engine_delete(engine);
    }
}

/* Memory creation that the OS refuses is a clean error at any of its calls. */
static void test_create_refused_by_the_os(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true, NULL);
    wafer_store *store = wafer_store_new(engine);
    wafer_memorytype type = {{2, 0, false}, false, false};
    sys_call kinds[] = {SYS_MMAP, SYS_MPROTECT};
    for (size_t k = 0; k < 2; k++) {
        wafer_memory *memory = NULL;
        sys_fail_after(kinds[k], 1);
        wafer_error *err = wafer_memory_new(store, &type, &memory);
        assert_non_null(err);
        assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_RESOURCE);
        wafer_error_free(err);
    }
    wafer_store_delete(store);
    wafer_engine_delete(engine);
}

/* An empty memory still has a data pointer, and grows like any other. */
static void test_empty_memory(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true, NULL);
    wafer_store *store = wafer_store_new(engine);
    wafer_memory *memory = new_memory(store, true, 0, 0, false);
    assert_non_null(wafer_memory_data(memory));
    assert_int_equal(wafer_memory_size_bytes(memory), 0);
    assert_int_equal(memory_grow(memory, 1), 0);
    assert_true(machinery_zero(memory, 0, 65536));
    wafer_store_delete(store);
    wafer_engine_delete(engine);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory64_minimum_of_2_pow_48_pages),
        cmocka_unit_test(test_memory64_segment_end_wraps),
        cmocka_unit_test(test_static_reservation_too_large_is_refused),
        cmocka_unit_test(test_static_memory_grows_in_place),
        cmocka_unit_test(test_dynamic_memory_moves_and_keeps_bytes),
        cmocka_unit_test(test_grow_refused_by_the_os),
        cmocka_unit_test(test_create_refused_by_the_os),
        cmocka_unit_test(test_empty_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
