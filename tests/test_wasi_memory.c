/* The guest's memory under attack: every WASI function that takes a pointer is called with each
 * of its guest areas (a fixed-size result, a string or buffer of the guest's own length, an array
 * of iovecs, subscriptions or events) placed so that it ends one byte past memory, at the last
 * address, at 0xffffffff, and so that its end wraps round 2^32 to a small address. Each must give
 * EFAULT (wafer_wasi.h) and leave guest memory and the sandbox exactly as they were: a call that
 * fails on one pointer acts on none. The same calls with every area in bounds must not fault, so
 * each attack is known to reach the check it aims at. The fixture's memory is a heap block of
 * exactly FIXTURE_MEMORY_SIZE bytes, so under ASan any access beyond it is a report too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi_fixture.h"

enum { MAX_ARGS = 9, MAX_AREAS = 3 };

typedef wasi_errno (*wasi_call)(wafer_wasi *, const guest_memory *, const uint64_t *);

/* A guest area: the pointer argument ptr_arg, of `fixed` bytes, or of args[len_arg] elements of
 * `elem` bytes. */
typedef struct area {
    int ptr_arg;
    int len_arg; /* -1: fixed */
    uint32_t elem;
    uint32_t fixed;
} area;

typedef struct attack {
    const char *name;
    wasi_call call;
    area areas[MAX_AREAS];
    int nareas;
} attack;

#define FIXED(arg, bytes) {(arg), -1, 0, (bytes)}
#define SIZED(arg, len, elem) {(arg), (len), (elem), 0}
#define ATTACK(fn, ...)                                                                            \
    {#fn, wasi_##fn, {__VA_ARGS__}, sizeof((area[]){__VA_ARGS__}) / sizeof(area)}

/* The fixture's program has argv {"prog", "one", "two three"} and environ {"A=1", "EMPTY="}. */
enum { ARGV_BYTES = 19, ENV_BYTES = 11 };

static const attack attacks[] = {
    ATTACK(args_get, FIXED(0, 3 * 4), FIXED(1, ARGV_BYTES)),
    ATTACK(args_sizes_get, FIXED(0, 4), FIXED(1, 4)),
    ATTACK(environ_get, FIXED(0, 2 * 4), FIXED(1, ENV_BYTES)),
    ATTACK(environ_sizes_get, FIXED(0, 4), FIXED(1, 4)),
    ATTACK(clock_res_get, FIXED(1, 8)),
    ATTACK(clock_time_get, FIXED(2, 8)),
    ATTACK(random_get, SIZED(0, 1, 1)),
    ATTACK(fd_fdstat_get, FIXED(1, WASI_FDSTAT_SIZE)),
    ATTACK(fd_filestat_get, FIXED(1, WASI_FILESTAT_SIZE)),
    ATTACK(fd_prestat_get, FIXED(1, WASI_PRESTAT_SIZE)),
    ATTACK(fd_prestat_dir_name, SIZED(1, 2, 1)),
    ATTACK(fd_read, SIZED(1, 2, WASI_IOVEC_SIZE), FIXED(3, 4)),
    ATTACK(fd_write, SIZED(1, 2, WASI_IOVEC_SIZE), FIXED(3, 4)),
    ATTACK(fd_pread, SIZED(1, 2, WASI_IOVEC_SIZE), FIXED(4, 4)),
    ATTACK(fd_pwrite, SIZED(1, 2, WASI_IOVEC_SIZE), FIXED(4, 4)),
    ATTACK(fd_seek, FIXED(3, 8)),
    ATTACK(fd_tell, FIXED(1, 8)),
    ATTACK(fd_readdir, SIZED(1, 2, 1), FIXED(4, 4)),
    ATTACK(path_create_directory, SIZED(1, 2, 1)),
    ATTACK(path_filestat_get, SIZED(2, 3, 1), FIXED(4, WASI_FILESTAT_SIZE)),
    ATTACK(path_filestat_set_times, SIZED(2, 3, 1)),
    ATTACK(path_link, SIZED(2, 3, 1), SIZED(5, 6, 1)),
    ATTACK(path_open, SIZED(2, 3, 1), FIXED(8, 4)),
    ATTACK(path_readlink, SIZED(1, 2, 1), SIZED(3, 4, 1), FIXED(5, 4)),
    ATTACK(path_remove_directory, SIZED(1, 2, 1)),
    ATTACK(path_rename, SIZED(1, 2, 1), SIZED(4, 5, 1)),
    ATTACK(path_symlink, SIZED(0, 1, 1), SIZED(3, 4, 1)),
    ATTACK(path_unlink_file, SIZED(1, 2, 1)),
    ATTACK(poll_oneoff, SIZED(0, 2, WASI_SUBSCRIPTION_SIZE), SIZED(1, 2, WASI_EVENT_SIZE),
           FIXED(3, 4)),
};
#define NATTACKS (sizeof attacks / sizeof attacks[0])

/* Two guest iovecs over fresh buffers of 5 and 3 bytes (filled with text for writes). */
static uint32_t iovecs(fixture *f) {
    uint32_t a = fixture_put(f, "HELLO", 5), b = fixture_put(f, "abc", 3);
    uint8_t v[2 * WASI_IOVEC_SIZE];
    guest_put_u32(v, a);
    guest_put_u32(v + 4, 5);
    guest_put_u32(v + 8, b);
    guest_put_u32(v + 12, 3);
    return fixture_put(f, v, sizeof v);
}

/* Two relative clock subscriptions that are due at once. */
static uint32_t subscriptions(fixture *f) {
    uint8_t s[2 * WASI_SUBSCRIPTION_SIZE] = {0};
    for (int i = 0; i < 2; i++) {
        uint8_t *sub = s + i * WASI_SUBSCRIPTION_SIZE;
        guest_put_u64(sub + WASI_SUB_USERDATA, 100 + (uint64_t)i);
        guest_put_u8(sub + WASI_SUB_TAG, WASI_EVENT_CLOCK);
        guest_put_u32(sub + WASI_SUB_CLOCK_ID, WASI_CLOCK_MONOTONIC);
    }
    return fixture_put(f, s, sizeof s);
}

/* Arguments with which the call, all areas in bounds, does what it is for. */
static void good_args(fixture *f, const char *name, uint64_t a[MAX_ARGS]) {
    uint32_t file = fixture_open(f, "file.txt", 0, 0);
    uint32_t sub = fixture_open(f, "sub", WASI_OFLAG_DIRECTORY, 0);
    uint32_t out = fixture_alloc(f, 256), out2 = fixture_alloc(f, 256), out3 = fixture_alloc(f, 8);
    memset(a, 0, MAX_ARGS * sizeof *a);
#define IS(s) (strcmp(name, s) == 0)
#define ARGS(...) memcpy(a, (const uint64_t[]){__VA_ARGS__}, sizeof((uint64_t[]){__VA_ARGS__}))
    if (IS("args_get") || IS("environ_get") || IS("args_sizes_get") || IS("environ_sizes_get"))
        ARGS(out, out2);
    else if (IS("clock_res_get")) ARGS(WASI_CLOCK_MONOTONIC, out);
    else if (IS("clock_time_get")) ARGS(WASI_CLOCK_REALTIME, 1, out);
    else if (IS("random_get")) ARGS(out, 32);
    else if (IS("fd_fdstat_get") || IS("fd_filestat_get") || IS("fd_tell")) ARGS(file, out);
    else if (IS("fd_prestat_get")) ARGS(FIXTURE_PREOPEN, out);
    else if (IS("fd_prestat_dir_name")) ARGS(FIXTURE_PREOPEN, out, 8);
    else if (IS("fd_read") || IS("fd_write")) ARGS(file, iovecs(f), 2, out);
    else if (IS("fd_pread") || IS("fd_pwrite")) ARGS(file, iovecs(f), 2, 1, out);
    else if (IS("fd_seek")) ARGS(file, 2, WASI_WHENCE_SET, out);
    else if (IS("fd_readdir")) ARGS(sub, out, 256, 0, out2);
    else if (IS("path_create_directory")) ARGS(FIXTURE_PREOPEN, PATH(f, "newdir"));
    else if (IS("path_filestat_get")) ARGS(FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), out);
    else if (IS("path_filestat_set_times"))
        ARGS(FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), 0, 0, WASI_FST_MTIM_NOW);
    else if (IS("path_link"))
        ARGS(FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), FIXTURE_PREOPEN, PATH(f, "hard.txt"));
    else if (IS("path_open"))
        ARGS(FIXTURE_PREOPEN, 0, PATH(f, "created.txt"), WASI_OFLAG_CREAT, WASI_RIGHTS_FILE, 0, 0,
             out3);
    else if (IS("path_readlink")) ARGS(FIXTURE_PREOPEN, PATH(f, "inlink"), out, 64, out2);
    else if (IS("path_remove_directory")) {
        assert_int_equal(CALL(f, path_create_directory, sub, PATH(f, "gone")), WASI_ESUCCESS);
        ARGS(sub, PATH(f, "gone"));
    } else if (IS("path_rename"))
        ARGS(FIXTURE_PREOPEN, PATH(f, "sub/inner.txt"), FIXTURE_PREOPEN, PATH(f, "renamed.txt"));
    else if (IS("path_symlink")) ARGS(PATH(f, "file.txt"), FIXTURE_PREOPEN, PATH(f, "newlink"));
    else if (IS("path_unlink_file")) {
        fixture_open(f, "doomed.txt", WASI_OFLAG_CREAT, 0);
        ARGS(FIXTURE_PREOPEN, PATH(f, "doomed.txt"));
    }
    else if (IS("poll_oneoff")) ARGS(subscriptions(f), out, 2, out2);
    else fail_msg("no arguments for %s", name);
#undef ARGS
#undef IS
}

static uint64_t area_size(const area *ar, const uint64_t *a) {
    return ar->len_arg < 0 ? ar->fixed : a[ar->len_arg] * ar->elem;
}

/* Where the attacks put an area of n bytes (n > 0): past the end by one byte, at the last byte,
 * at 0xffffffff, and wrapping round 2^32 to end at address 1. */
static void bad_places(uint64_t n, uint32_t out[4]) {
    out[0] = (uint32_t)(FIXTURE_MEMORY_SIZE - n + 1);
    out[1] = FIXTURE_MEMORY_SIZE - 1;
    out[2] = 0xffffffffu;
    out[3] = (uint32_t)(0x100000001ull - n);
}

static void test_every_pointer_out_of_bounds(void **state) {
    fixture *f = *state;
    uint8_t *before = malloc(FIXTURE_MEMORY_SIZE);
    assert_non_null(before);
    int tried = 0;
    for (size_t i = 0; i < NATTACKS; i++) {
        const attack *at = &attacks[i];
        uint64_t good[MAX_ARGS];
        good_args(f, at->name, good);
        for (int k = 0; k < at->nareas; k++) {
            uint64_t n = area_size(&at->areas[k], good);
            assert_true(n > 0);
            uint32_t places[4];
            bad_places(n, places);
            for (int p = 0; p < 4; p++) {
                if (n == 1 && p == 1) continue; /* one byte at the last address is in bounds */
                uint64_t bad[MAX_ARGS];
                memcpy(bad, good, sizeof bad);
                bad[at->areas[k].ptr_arg] = places[p];
                char *sandbox = fixture_describe_sandbox(f);
                memcpy(before, f->memory, FIXTURE_MEMORY_SIZE);
                wasi_errno err = at->call(f->wasi, &f->mem, bad);
                if (err != WASI_EFAULT)
                    fail_msg("%s: argument %d at 0x%x (%llu bytes): errno %d, not EFAULT", at->name,
                             at->areas[k].ptr_arg, places[p], (unsigned long long)n, err);
                if (memcmp(before, f->memory, FIXTURE_MEMORY_SIZE) != 0)
                    fail_msg("%s: a faulting call wrote guest memory", at->name);
                char *after = fixture_describe_sandbox(f);
                if (strcmp(sandbox, after) != 0)
                    fail_msg("%s: a faulting call changed the sandbox", at->name);
                free(sandbox);
                free(after);
                tried++;
            }
        }
        /* In bounds it must get past every check (what it then does is other tests' matter). */
        wasi_errno err = at->call(f->wasi, &f->mem, good);
        if (err != WASI_ESUCCESS) fail_msg("%s in bounds: errno %d", at->name, err);
    }
    free(before);
    fixture_outside_unchanged(f);
    print_message("%d out-of-bounds calls over %zu functions\n", tried, NATTACKS);
}

/* The iovec array in bounds, but its second buffer not: nothing is read or written, not even
 * the first buffer's bytes. */
static void test_iovec_buffers_out_of_bounds(void **state) {
    fixture *f = *state;
    static const char *const calls[] = {"fd_read", "fd_write", "fd_pread", "fd_pwrite"};
    static const wasi_call fns[] = {wasi_fd_read, wasi_fd_write, wasi_fd_pread, wasi_fd_pwrite};
    for (size_t i = 0; i < 4; i++) {
        uint64_t a[MAX_ARGS];
        good_args(f, calls[i], a);
        uint32_t iov = (uint32_t)a[1];
        uint32_t places[4];
        bad_places(3, places);
        for (int p = 0; p < 4; p++) {
            guest_put_u32(f->memory + iov + 8, places[p]);
            char *sandbox = fixture_describe_sandbox(f);
            uint8_t first[5];
            memcpy(first, f->memory + guest_get_u32(f->memory + iov), 5);
            assert_int_equal(fns[i](f->wasi, &f->mem, a), WASI_EFAULT);
            assert_memory_equal(first, f->memory + guest_get_u32(f->memory + iov), 5);
            char *after = fixture_describe_sandbox(f);
            assert_string_equal(sandbox, after);
            free(sandbox);
            free(after);
        }
        /* One position in the file itself stays where it was: a faulting read or write moved it
         * no more than it moved the bytes. */
        uint32_t pos = fixture_alloc(f, 8);
        assert_int_equal(CALL(f, fd_tell, a[0], pos), WASI_ESUCCESS);
        assert_int_equal(fixture_u64(f, pos), 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_pointer_out_of_bounds, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_iovec_buffers_out_of_bounds, fixture_setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
