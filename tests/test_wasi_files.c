/* What wafer's WASI keeps exactly where node's WASI, the other engine the real programs are
 * compared with (tests/wasi_programs.sh), does not, so the comparison cannot hold wafer to it:
 * timestamps to the nanosecond, a descriptor's fdflags as they were set, "." and ".." in
 * fd_readdir, a directory read in many small fd_readdir calls resuming by cookie with every
 * entry seen once, and regular files always ready in poll_oneoff (node cannot poll them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi_fixture.h"

static void test_timestamps_to_the_nanosecond(void **state) {
    fixture *f = *state;
    const uint64_t atim = 1000000000123456789ull, mtim = 1234567890987654321ull;
    assert_int_equal(CALL(f, path_filestat_set_times, FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), atim,
                          mtim, WASI_FST_ATIM | WASI_FST_MTIM),
                     WASI_ESUCCESS);
    uint32_t st = fixture_alloc(f, WASI_FILESTAT_SIZE);
    assert_int_equal(CALL(f, path_filestat_get, FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), st),
                     WASI_ESUCCESS);
    assert_int_equal(fixture_u64(f, st + WASI_FILESTAT_ATIM), atim);
    assert_int_equal(fixture_u64(f, st + WASI_FILESTAT_MTIM), mtim);

    /* Through a descriptor, the access time left alone. */
    uint32_t fd = fixture_open(f, "file.txt", 0, 0);
    assert_int_equal(CALL(f, fd_filestat_set_times, fd, 0, 1500000000000000005ull, WASI_FST_MTIM),
                     WASI_ESUCCESS);
    assert_int_equal(CALL(f, fd_filestat_get, fd, st), WASI_ESUCCESS);
    assert_int_equal(fixture_u64(f, st + WASI_FILESTAT_ATIM), atim);
    assert_int_equal(fixture_u64(f, st + WASI_FILESTAT_MTIM), 1500000000000000005ull);
    assert_int_equal(fixture_u64(f, st + WASI_FILESTAT_FILESIZE), 5);
    assert_int_equal(f->memory[st + WASI_FILESTAT_FILETYPE], WASI_FILETYPE_REGULAR_FILE);

    /* Both "now" and a given time for the same stamp is EINVAL, as the witx says. */
    assert_int_equal(CALL(f, fd_filestat_set_times, fd, 0, 1, WASI_FST_MTIM | WASI_FST_MTIM_NOW),
                     WASI_EINVAL);
}

static uint16_t fdflags_of(fixture *f, uint32_t fd) {
    uint32_t st = fixture_alloc(f, WASI_FDSTAT_SIZE);
    assert_int_equal(CALL(f, fd_fdstat_get, fd, st), WASI_ESUCCESS);
    return guest_get_u16(f->memory + st + WASI_FDSTAT_FLAGS);
}

static void test_fdflags_as_set(void **state) {
    fixture *f = *state;
    uint32_t plain = fixture_open(f, "file.txt", 0, 0);
    assert_int_equal(fdflags_of(f, plain), 0);
    uint32_t appending = fixture_open(f, "file.txt", 0, WASI_FDFLAG_APPEND);
    assert_int_equal(fdflags_of(f, appending), WASI_FDFLAG_APPEND);
    assert_int_equal(CALL(f, fd_fdstat_set_flags, plain, WASI_FDFLAG_APPEND), WASI_ESUCCESS);
    assert_int_equal(fdflags_of(f, plain), WASI_FDFLAG_APPEND);
    assert_int_equal(CALL(f, fd_fdstat_set_flags, plain, 0), WASI_ESUCCESS);
    assert_int_equal(fdflags_of(f, plain), 0);
}

/* Reads the whole of directory fd with buffers of buf_len bytes, resuming from each call's last
 * whole entry; returns the names, each followed by '\n', in the order given. */
static char *read_directory(fixture *f, uint32_t fd, uint32_t buf_len, int *calls) {
    size_t cap = 4096, used = 0;
    char *names = calloc(1, cap);
    assert_non_null(names);
    uint32_t buf = fixture_alloc(f, buf_len), bufused = fixture_alloc(f, 4);
    uint64_t cookie = 0;
    *calls = 0;
    for (;;) {
        assert_int_equal(CALL(f, fd_readdir, fd, buf, buf_len, cookie, bufused), WASI_ESUCCESS);
        (*calls)++;
        assert_true(*calls < 10000);
        uint32_t got = fixture_u32(f, bufused), at = 0;
        int whole = 0;
        while (at + WASI_DIRENT_SIZE <= got) {
            const uint8_t *d = f->memory + buf + at;
            uint32_t namlen = guest_get_u32(d + WASI_DIRENT_NAMLEN);
            if (at + WASI_DIRENT_SIZE + namlen > got) break;
            assert_true(used + namlen + 2 < cap);
            memcpy(names + used, d + WASI_DIRENT_SIZE, namlen);
            used += namlen;
            names[used++] = '\n';
            cookie = guest_get_u64(d + WASI_DIRENT_NEXT);
            at += WASI_DIRENT_SIZE + namlen;
            whole++;
        }
        if (got < buf_len) break;  /* the end of the directory */
        assert_true(whole > 0);    /* else the buffer is too small for one entry */
    }
    return names;
}

static bool has_line(const char *names, const char *name) {
    size_t n = strlen(name);
    for (const char *p = names; (p = strstr(p, name)); p++)
        if ((p == names || p[-1] == '\n') && p[n] == '\n') return true;
    return false;
}

static void test_readdir_dots_and_cookies(void **state) {
    fixture *f = *state;
    char path[256];
    for (int i = 0; i < 60; i++) {
        snprintf(path, sizeof path, "many/entry-%02d", i);
        if (i == 0)
            assert_int_equal(CALL(f, path_create_directory, FIXTURE_PREOPEN, PATH(f, "many")),
                             WASI_ESUCCESS);
        fixture_open(f, path, WASI_OFLAG_CREAT, 0);
    }
    uint32_t dir = fixture_open(f, "many", WASI_OFLAG_DIRECTORY, 0);
    int calls_big, calls_small;
    char *big = read_directory(f, dir, 8192, &calls_big);
    /* 40 bytes hold one header and a name of up to 16 bytes: one entry a call. */
    char *small = read_directory(f, dir, 40, &calls_small);
    assert_string_equal(big, small);
    assert_int_equal(calls_big, 1);
    assert_true(calls_small >= 62);
    assert_true(has_line(big, "."));
    assert_true(has_line(big, ".."));
    int count = 0;
    for (const char *p = big; *p; p++) count += *p == '\n';
    assert_int_equal(count, 62);
    for (int i = 0; i < 60; i++) {
        snprintf(path, sizeof path, "entry-%02d", i);
        assert_true(has_line(big, path));
    }
    free(big);
    free(small);
}

/* A read and a write subscription on a file of 5 bytes read 2 bytes into: both ready at once,
 * the read one with the 3 bytes left, whatever the clock subscription beside them says. */
static void test_poll_regular_file_ready(void **state) {
    fixture *f = *state;
    uint32_t fd = fixture_open(f, "file.txt", 0, 0);
    uint32_t buf = fixture_alloc(f, 2), iov = fixture_alloc(f, WASI_IOVEC_SIZE);
    uint32_t nread = fixture_alloc(f, 4);
    guest_put_u32(f->memory + iov, buf);
    guest_put_u32(f->memory + iov + 4, 2);
    assert_int_equal(CALL(f, fd_read, fd, iov, 1, nread), WASI_ESUCCESS);
    assert_int_equal(fixture_u32(f, nread), 2);

    uint32_t subs = fixture_alloc(f, 3 * WASI_SUBSCRIPTION_SIZE);
    uint32_t events = fixture_alloc(f, 3 * WASI_EVENT_SIZE), nevents = fixture_alloc(f, 4);
    static const uint8_t tags[3] = {WASI_EVENT_FD_READ, WASI_EVENT_FD_WRITE, WASI_EVENT_CLOCK};
    for (int i = 0; i < 3; i++) {
        uint8_t *s = f->memory + subs + i * WASI_SUBSCRIPTION_SIZE;
        guest_put_u64(s + WASI_SUB_USERDATA, 7 + (uint64_t)i);
        guest_put_u8(s + WASI_SUB_TAG, tags[i]);
        if (tags[i] == WASI_EVENT_CLOCK) {
            guest_put_u32(s + WASI_SUB_CLOCK_ID, WASI_CLOCK_MONOTONIC);
            guest_put_u64(s + WASI_SUB_CLOCK_TIMEOUT, 10ull * 1000000000); /* 10 s: never waited */
        } else {
            guest_put_u32(s + WASI_SUB_FD, fd);
        }
    }
    assert_int_equal(CALL(f, poll_oneoff, subs, events, 3, nevents), WASI_ESUCCESS);
    assert_int_equal(fixture_u32(f, nevents), 2);
    bool seen_read = false, seen_write = false;
    for (int i = 0; i < 2; i++) {
        const uint8_t *e = f->memory + events + i * WASI_EVENT_SIZE;
        assert_int_equal(guest_get_u16(e + WASI_EVENT_ERROR), WASI_ESUCCESS);
        uint8_t type = e[WASI_EVENT_TYPE];
        if (type == WASI_EVENT_FD_READ) {
            seen_read = true;
            assert_int_equal(guest_get_u64(e + WASI_EVENT_USERDATA), 7);
            assert_int_equal(guest_get_u64(e + WASI_EVENT_NBYTES), 3);
        } else {
            assert_int_equal(type, WASI_EVENT_FD_WRITE);
            seen_write = true;
            assert_int_equal(guest_get_u64(e + WASI_EVENT_USERDATA), 8);
        }
    }
    assert_true(seen_read && seen_write);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_timestamps_to_the_nanosecond, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fdflags_as_set, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_readdir_dots_and_cookies, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_poll_regular_file_ready, fixture_setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
