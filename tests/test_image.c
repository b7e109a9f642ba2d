/* Memory images (image.c, DESIGN.md invariant 1): built at module creation from constant-offset
 * segments, mapped copy-on-write, the same contents as copying the segments would give, reset
 * between instances so no data crosses from one to the next, reused without mmap, and a failed
 * reset aborts the process.
 */
#include "machinery.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void tweak_one_slot(wafer_config *c) { c->pooling.total_instances = 1; }
static void tweak_resident(wafer_config *c) {
    c->pooling.total_instances = 1;
    c->memory_keep_resident = 3 * 65536;
}

/* The image of `img`: its three segments in one page-aligned run from 0 to past 70005, later
 * segments written over earlier ones. */
static void test_image_is_built_page_aligned(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true, NULL);
    wafer_module *module = machinery_module(engine, WASM(img));
    assert_non_null(module->images);
    assert_int_equal(module->images->num_defined_memories, 1);
    const memory_image *image = module->images->images[0];
    assert_non_null(image);
    assert_int_equal(image->memory_offset, 0);
    assert_int_equal(image->len % sys_page_size(), 0);
    assert_true(image->len >= 70005 && image->len < 70005 + sys_page_size());
    wafer_store *store = wafer_store_new(engine);
    wafer_memory *memory =
        machinery_memory(machinery_instance(store, module, NULL, 0, NULL), "mem");
    assert_memory_equal(wafer_memory_data(memory), "heLLo", 5);
    assert_memory_equal(wafer_memory_data(memory) + 70000, "world", 5);
    assert_true(machinery_zero(memory, 5, 70000));
    assert_true(machinery_zero(memory, 70005, 2 * 65536));
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

/* Segments that cannot form an image: global.get offsets, and a segment past the minimum (it must
 * trap after the earlier ones were written). */
static void test_segments_that_cannot_form_images(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true, NULL);
    wafer_module *gget = machinery_module(engine, WASM(gget));
    wafer_module *oob = machinery_module(engine, WASM(oob));
    wafer_module *multicopy = machinery_module(engine, WASM(multicopy));
    assert_null(gget->images);
    assert_null(oob->images);
    assert_null(multicopy->images); /* a segment targets the imported memory */
    wafer_store *store = wafer_store_new(engine);
    wafer_globaltype gt = {WAFER_I32, false};
    wafer_global *g;
    assert_null(wafer_global_new(store, &gt, (wafer_value){.type = WAFER_I32, .of.i32 = 8}, &g));
    wafer_extern imp = {.kind = WAFER_EXTERN_GLOBAL, .of.global = g};
    wafer_memory *memory = machinery_memory(machinery_instance(store, gget, &imp, 1, NULL), "mem");
    assert_memory_equal(wafer_memory_data(memory), "c", 1);
    assert_memory_equal(wafer_memory_data(memory) + 8, "gg", 2);
    wafer_error *err;
    assert_null(machinery_instance(store, oob, NULL, 0, &err));
    assert_int_equal(wafer_error_trap_kind(err), WAFER_TRAP_MEMORY_OUT_OF_BOUNDS);
    wafer_error_free(err);
    /* the trapped instance stays in the store; its first segment was written */
    assert_memory_equal(store->instances->memories[0]->data, "first", 5);
    wafer_store_delete(store);
    wafer_module_release(gget);
    wafer_module_release(oob);
    wafer_module_release(multicopy);
    wafer_engine_delete(engine);
}

/* An element segment traps before any data segment runs (spec 4.5.4): with or without images,
 * the failed instance's memory holds no data. */
static void test_element_trap_leaves_memory_empty(void **state) {
    for (int pooling = 0; pooling < 2; pooling++)
        for (int images = 0; images < 2; images++) {
            wafer_engine *engine = machinery_engine(pooling, images, NULL);
            wafer_module *module = machinery_module(engine, WASM(elemtrap));
            assert_true((module->images != NULL) == images);
            wafer_store *store = wafer_store_new(engine);
            wafer_error *err;
            assert_null(machinery_instance(store, module, NULL, 0, &err));
            assert_int_equal(wafer_error_trap_kind(err), WAFER_TRAP_TABLE_OUT_OF_BOUNDS);
            wafer_error_free(err);
            assert_true(machinery_zero(store->instances->memories[0], 0, 65536));
            wafer_store_delete(store);
            wafer_module_release(module);
            wafer_engine_delete(engine);
        }
}

/* Writes over the image and past it, and grows the memory. */
static void scribble(wafer_memory *memory) {
    uint8_t *data = wafer_memory_data(memory);
    memcpy(data, "XXXXX", 5);
    memcpy(data + 70000, "YYYYY", 5);
    data[100000] = 0xAB;
    assert_null(wafer_memory_grow(memory, 3, NULL));
    wafer_memory_data(memory)[4 * 65536] = 0xCD;
}

/* Nothing of one instance is visible to the next in the same slot: the image is back, the rest is
 * zero, and the size is the minimum again; the reuse maps nothing. Also with a resident prefix
 * reset by memset. */
static void check_isolation(void (*tweak)(wafer_config *)) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, tweak);
    wafer_module *module = machinery_module(engine, WASM(img));
    for (int round = 0; round < 3; round++) {
        wafer_store *store = wafer_store_new(engine);
        uint64_t mmaps = sys_call_count(SYS_MMAP), mprotects = sys_call_count(SYS_MPROTECT);
        wafer_memory *memory =
            machinery_memory(machinery_instance(store, module, NULL, 0, NULL), "mem");
        if (round > 0) {
            assert_int_equal(sys_call_count(SYS_MMAP), mmaps);
            assert_int_equal(sys_call_count(SYS_MPROTECT), mprotects);
        }
        assert_int_equal(wafer_memory_size_pages(memory), 2);
        assert_memory_equal(wafer_memory_data(memory), "heLLo", 5);
        assert_memory_equal(wafer_memory_data(memory) + 70000, "world", 5);
        assert_true(machinery_zero(memory, 5, 70000));
        assert_true(machinery_zero(memory, 70005, 2 * 65536));
        scribble(memory);
        wafer_store_delete(store);
    }
    /* the grown pages were protected again: a fresh grow sees zeros */
    wafer_store *store = wafer_store_new(engine);
    wafer_memory *memory =
        machinery_memory(machinery_instance(store, module, NULL, 0, NULL), "mem");
    assert_null(wafer_memory_grow(memory, 3, NULL));
    assert_true(machinery_zero(memory, 2 * 65536, 5 * 65536));
    wafer_store_delete(store);
    wafer_module_release(module);
    wafer_engine_delete(engine);
}

static void test_no_data_crosses_instances(void **state) { check_isolation(tweak_one_slot); }
static void test_no_data_crosses_instances_resident(void **state) {
    check_isolation(tweak_resident);
}

/* A slot that held another module's image gets the new one, never the old bytes. */
static void test_slot_changes_image(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, tweak_one_slot);
    wafer_module *a = machinery_module(engine, WASM(img));
    wafer_module *b = machinery_module(engine, WASM(img2));
    for (int round = 0; round < 2; round++) {
        wafer_store *store = wafer_store_new(engine);
        wafer_memory *memory = machinery_memory(machinery_instance(store, a, NULL, 0, NULL), "mem");
        assert_memory_equal(wafer_memory_data(memory), "heLLo", 5);
        wafer_store_delete(store);
        store = wafer_store_new(engine);
        memory = machinery_memory(machinery_instance(store, b, NULL, 0, NULL), "mem");
        assert_true(machinery_zero(memory, 0, 100));
        assert_memory_equal(wafer_memory_data(memory) + 100, "other", 5);
        assert_true(machinery_zero(memory, 105, 65536));
        wafer_store_delete(store);
    }
    /* the module goes first, the slot keeps its image alive until the engine goes */
    wafer_module_release(a);
    wafer_module_release(b);
    wafer_engine_delete(engine);
}

/* A reset the OS refuses aborts the process (the one abort the runtime allows). */
static void test_failed_reset_aborts(void **state) {
    sys_call kinds[] = {SYS_MADVISE, SYS_MPROTECT};
    for (size_t k = 0; k < 2; k++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_POOLING, true, tweak_one_slot);
            wafer_module *module = machinery_module(engine, WASM(img));
            wafer_store *store = wafer_store_new(engine);
            wafer_memory *memory =
                machinery_memory(machinery_instance(store, module, NULL, 0, NULL), "mem");
            scribble(memory);
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 2); /* the abort's message is expected */
            sys_fail_after(kinds[k], 1);
            wafer_store_delete(store); /* the reset fails here */
            _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
    }
}

/* Images from a file (what precompiled modules use): mapped at their memory offset. */
static void test_image_from_file(void **state) {
    size_t page = sys_page_size();
    char path[] = "/tmp/wafer-image-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    uint8_t *bytes = calloc(3, page);
    memcpy(bytes + page, "file!", 5);
    assert_int_equal(write(fd, bytes, 3 * page), (ssize_t)(3 * page));
    free(bytes);
    memory_image *image = NULL;
    wafer_error *err = memory_image_from_file(fd, page, 2 * page, page + 1, &image);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_MALFORMED); /* not page aligned */
    wafer_error_free(err);
    err = memory_image_from_file(fd, 2 * page, 0, 2 * page, &image);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_MALFORMED); /* past the end */
    wafer_error_free(err);
    assert_null(memory_image_from_file(fd, page, 2 * page, page, &image));
    close(fd); /* the image has its own descriptor */
    memory_slot slot;
    assert_null(memory_slot_reserve(&slot, 8 * page));
    assert_null(memory_slot_instantiate(&slot, image, 4 * page));
    assert_memory_equal(slot.base + 2 * page, "file!", 5);
    slot.base[2 * page] = 'F';
    slot.base[0] = 1;
    slot.dirty = true; /* as memory_destroy marks a slot whose memory was written */
    memory_slot_reset(&slot, 4 * page, 0);
    assert_null(memory_slot_instantiate(&slot, image, 4 * page));
    assert_memory_equal(slot.base + 2 * page, "file!", 5);
    assert_int_equal(slot.base[0], 0);
    memory_image_release(image);
    memory_slot_unreserve(&slot);
}

/* An image that cannot be made (memfd refused) fails module creation cleanly. */
static void test_memfd_refused(void **state) {
    wafer_engine *engine = machinery_engine(WAFER_ALLOCATOR_ON_DEMAND, true, NULL);
    wafer_module *module = NULL;
    sys_fail_after(SYS_MEMFD_CREATE, 1);
    wafer_error *err = wafer_module_new(engine, WASM(img), &module);
    assert_non_null(err);
    assert_int_equal(wafer_error_kind_of(err), WAFER_ERROR_RESOURCE);
    wafer_error_free(err);
    assert_null(module);
    wafer_engine_delete(engine);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_is_built_page_aligned),
        cmocka_unit_test(test_segments_that_cannot_form_images),
        cmocka_unit_test(test_element_trap_leaves_memory_empty),
        cmocka_unit_test(test_no_data_crosses_instances),
        cmocka_unit_test(test_no_data_crosses_instances_resident),
        cmocka_unit_test(test_slot_changes_image),
        cmocka_unit_test(test_failed_reset_aborts),
        cmocka_unit_test(test_image_from_file),
        cmocka_unit_test(test_memfd_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
