/* The WASI sandbox under attack: every path_* call is tried with every way out of a preopened
 * directory (absolute paths, "..", links with absolute targets, links that climb out, chains,
 * loops, trailing slashes, a dangling link aimed outside, links swapped in by a racing thread),
 * and every capability check with a descriptor lacking the right it needs. Each attempt must fail
 * with the errno resolve.h and the witx promise, and afterwards nothing outside the sandbox may
 * differ from before (names, types, sizes, contents, modes, mtimes: wasi_fixture.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_fixture.h"

#define ALL_RIGHTS (WASI_RIGHTS_FILE | WASI_RIGHTS_DIRECTORY)

/* ---- Paths that lead out, and what resolving them (following links) must give ------------- */

typedef struct escape {
    const char *path;
    wasi_errno expected; /* following a final link */
} escape;

static const escape escapes[] = {
    {"/etc/passwd", WASI_ENOTCAPABLE},
    {"/", WASI_ENOTCAPABLE},
    {"..", WASI_ENOTCAPABLE},
    {"../", WASI_ENOTCAPABLE},
    {"../outside/secret.txt", WASI_ENOTCAPABLE},
    {"./../outside/secret.txt", WASI_ENOTCAPABLE},
    {"sub/../../outside/secret.txt", WASI_ENOTCAPABLE},
    {"sub/../sub/../../outside", WASI_ENOTCAPABLE},
    {"abs", WASI_ENOTCAPABLE},
    {"abs/", WASI_ENOTCAPABLE},
    {"abs/secret.txt", WASI_ENOTCAPABLE},
    {"up", WASI_ENOTCAPABLE},
    {"up/secret.txt", WASI_ENOTCAPABLE},
    {"up/sub/../secret.txt", WASI_ENOTCAPABLE},
    {"chain1", WASI_ENOTCAPABLE},
    {"chain1/secret.txt", WASI_ENOTCAPABLE},
    {"sub/escape", WASI_ENOTCAPABLE},
    {"sub/escape/outside/secret.txt", WASI_ENOTCAPABLE},
    {"sub/dotdot/../outside/secret.txt", WASI_ENOTCAPABLE},
    {"dangle", WASI_ENOTCAPABLE},
    {"loop1", WASI_ELOOP},
    {"loop1/secret.txt", WASI_ELOOP},
    {"file.txt/../../outside/secret.txt", WASI_ENOTDIR},
};
#define NESCAPES (sizeof escapes / sizeof escapes[0])

/* The directory descriptor the attacks start from: the preopen, or (where a test says) a
 * subdirectory opened through it, which must be a root of its own. */
static void test_path_open_escapes(void **state) {
    fixture *f = *state;
    for (size_t i = 0; i < NESCAPES; i++) {
        uint32_t fd;
        wasi_errno err = fixture_open_rights(f, FIXTURE_PREOPEN, escapes[i].path,
                                             WASI_LOOKUP_SYMLINK_FOLLOW, 0, ALL_RIGHTS,
                                             ALL_RIGHTS, 0, &fd);
        if (err != escapes[i].expected)
            fail_msg("path_open(\"%s\") gave %u, expected %u", escapes[i].path, err,
                     escapes[i].expected);
        /* Creating through it, truncating it, or both: no better. */
        err = fixture_open_rights(f, FIXTURE_PREOPEN, escapes[i].path, WASI_LOOKUP_SYMLINK_FOLLOW,
                                  WASI_OFLAG_CREAT | WASI_OFLAG_TRUNC, ALL_RIGHTS, ALL_RIGHTS, 0,
                                  &fd);
        if (err != escapes[i].expected)
            fail_msg("path_open(\"%s\", CREAT|TRUNC) gave %u, expected %u", escapes[i].path, err,
                     escapes[i].expected);
    }
    fixture_outside_unchanged(f);
    char path[256];
    struct stat st;
    assert_int_not_equal(lstat(fixture_host_path(f, "outside/new.txt", path, sizeof path), &st), 0);
}

/* Not following the final link does not help either: the link itself is opened as nothing
 * (O_NOFOLLOW's ELOOP), and links in the middle are still checked. */
static void test_path_open_nofollow(void **state) {
    fixture *f = *state;
    uint32_t fd;
    static const struct {
        const char *path;
        wasi_errno expected;
    } cases[] = {
        {"abs", WASI_ELOOP},      {"up", WASI_ELOOP},
        {"dangle", WASI_ELOOP},   {"abs/secret.txt", WASI_ENOTCAPABLE},
        {"up/", WASI_ENOTCAPABLE}, {"../outside", WASI_ENOTCAPABLE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wasi_errno err = fixture_open_rights(f, FIXTURE_PREOPEN, cases[i].path, 0,
                                             WASI_OFLAG_CREAT, ALL_RIGHTS, ALL_RIGHTS, 0, &fd);
        if (err != cases[i].expected)
            fail_msg("path_open(\"%s\", nofollow) gave %u, expected %u", cases[i].path, err,
                     cases[i].expected);
    }
    /* O_CREAT|O_EXCL never follows a final link, even when asked to. */
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "dangle", WASI_LOOKUP_SYMLINK_FOLLOW,
                                         WASI_OFLAG_CREAT | WASI_OFLAG_EXCL, ALL_RIGHTS,
                                         ALL_RIGHTS, 0, &fd),
                     WASI_EEXIST);
    fixture_outside_unchanged(f);
}

/* Links that stay inside work: the sandbox is not a refusal of all links. */
static void test_links_inside_are_followed(void **state) {
    fixture *f = *state;
    static const char *const inside[] = {"inlink", "sub/dotdot/file.txt",
                                         "sub/dotdot/sub/dotdot/sub/inner.txt", "sub/../file.txt",
                                         "./sub//inner.txt"};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        uint32_t fd;
        wasi_errno err = fixture_open_rights(f, FIXTURE_PREOPEN, inside[i],
                                             WASI_LOOKUP_SYMLINK_FOLLOW, 0, WASI_RIGHT_FD_READ, 0,
                                             0, &fd);
        if (err) fail_msg("path_open(\"%s\") gave %u", inside[i], err);
        assert_int_equal(CALL(f, fd_close, fd), WASI_ESUCCESS);
    }
}

/* Every directory descriptor is a root: ".." from a subdirectory opened through the preopen
 * does not reach the preopen, let alone beyond it. */
static void test_subdirectory_is_its_own_root(void **state) {
    fixture *f = *state;
    uint32_t sub = fixture_open(f, "sub", WASI_OFLAG_DIRECTORY, 0);
    uint32_t fd;
    assert_int_equal(fixture_open_rights(f, sub, "../file.txt", WASI_LOOKUP_SYMLINK_FOLLOW, 0,
                                         WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ENOTCAPABLE);
    assert_int_equal(fixture_open_rights(f, sub, "dotdot/file.txt", WASI_LOOKUP_SYMLINK_FOLLOW, 0,
                                         WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ENOTCAPABLE);
    assert_int_equal(fixture_open_rights(f, sub, "inner.txt", WASI_LOOKUP_SYMLINK_FOLLOW, 0,
                                         WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ESUCCESS);
    assert_int_equal(CALL(f, path_unlink_file, sub, PATH(f, "../file.txt")), WASI_ENOTCAPABLE);
    char buf[64];
    assert_true(fixture_read_host(f, "sandbox/file.txt", buf, sizeof buf));
}

/* ---- Every other path call, tried with the escapes ------------------------------------------ */

/* What each call would do to a path; `follow` for the calls that take lookup flags. */
static wasi_errno attack(fixture *f, const char *call, const char *path, bool follow) {
    uint32_t lookup = follow ? WASI_LOOKUP_SYMLINK_FOLLOW : 0;
    uint32_t out = fixture_alloc(f, 128);
    if (!strcmp(call, "path_create_directory"))
        return CALL(f, path_create_directory, FIXTURE_PREOPEN, PATH(f, path));
    if (!strcmp(call, "path_remove_directory"))
        return CALL(f, path_remove_directory, FIXTURE_PREOPEN, PATH(f, path));
    if (!strcmp(call, "path_unlink_file"))
        return CALL(f, path_unlink_file, FIXTURE_PREOPEN, PATH(f, path));
    if (!strcmp(call, "path_filestat_get"))
        return CALL(f, path_filestat_get, FIXTURE_PREOPEN, lookup, PATH(f, path), out);
    if (!strcmp(call, "path_filestat_set_times"))
        return CALL(f, path_filestat_set_times, FIXTURE_PREOPEN, lookup, PATH(f, path), 0, 0,
                    WASI_FST_ATIM | WASI_FST_MTIM);
    if (!strcmp(call, "path_readlink"))
        return CALL(f, path_readlink, FIXTURE_PREOPEN, PATH(f, path), out, 64, out + 64);
    if (!strcmp(call, "path_rename_from"))
        return CALL(f, path_rename, FIXTURE_PREOPEN, PATH(f, path), FIXTURE_PREOPEN,
                    PATH(f, "stolen"));
    if (!strcmp(call, "path_rename_to"))
        return CALL(f, path_rename, FIXTURE_PREOPEN, PATH(f, "file.txt"), FIXTURE_PREOPEN,
                    PATH(f, path));
    if (!strcmp(call, "path_link_from"))
        return CALL(f, path_link, FIXTURE_PREOPEN, lookup, PATH(f, path), FIXTURE_PREOPEN,
                    PATH(f, "stolen"));
    if (!strcmp(call, "path_link_to"))
        return CALL(f, path_link, FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), FIXTURE_PREOPEN,
                    PATH(f, path));
    if (!strcmp(call, "path_symlink_at"))
        return CALL(f, path_symlink, PATH(f, "file.txt"), FIXTURE_PREOPEN, PATH(f, path));
    fail_msg("no call %s", call);
    return 0;
}

/* The calls whose every path component is resolved (the last one too, for a path ending in '/'
 * or with follow): for these the escapes give exactly the resolver's errno. */
static const char *const calls_following[] = {"path_filestat_get", "path_filestat_set_times",
                                              "path_link_from"};
/* The calls that act on the last component itself: for a path whose only way out is its last
 * link ("abs", "up", "dangle", "chain1", "sub/escape", "loop1"), the call meets the link, not
 * its target, and fails or succeeds on the link inside the sandbox; every other escape fails
 * with the resolver's errno. */
static const char *const calls_on_entry[] = {
    "path_create_directory", "path_remove_directory", "path_unlink_file", "path_readlink",
    "path_rename_from",      "path_rename_to",        "path_link_to",     "path_symlink_at",
};

static bool escapes_only_by_last_link(const char *path) {
    static const char *const last_links[] = {"abs", "up", "dangle", "chain1", "sub/escape",
                                             "loop1"};
    for (size_t i = 0; i < sizeof last_links / sizeof last_links[0]; i++)
        if (!strcmp(path, last_links[i])) return true;
    return false;
}

static void test_path_calls_escapes_following(void **state) {
    fixture *f = *state;
    for (size_t c = 0; c < sizeof calls_following / sizeof calls_following[0]; c++) {
        for (size_t i = 0; i < NESCAPES; i++) {
            wasi_errno err = attack(f, calls_following[c], escapes[i].path, true);
            if (err != escapes[i].expected)
                fail_msg("%s(\"%s\", follow) gave %u, expected %u", calls_following[c],
                         escapes[i].path, err, escapes[i].expected);
        }
    }
    fixture_outside_unchanged(f);
}

static void test_path_calls_escapes_on_entry(void **state) {
    fixture *f = *state;
    for (size_t c = 0; c < sizeof calls_on_entry / sizeof calls_on_entry[0]; c++) {
        for (size_t i = 0; i < NESCAPES; i++) {
            if (escapes_only_by_last_link(escapes[i].path)) continue;
            wasi_errno err = attack(f, calls_on_entry[c], escapes[i].path, false);
            if (err != escapes[i].expected)
                fail_msg("%s(\"%s\") gave %u, expected %u", calls_on_entry[c], escapes[i].path,
                         err, escapes[i].expected);
        }
    }
    fixture_outside_unchanged(f);
}

/* Acting on a link that points out acts on the link, inside: unlinking "up" removes the link
 * and leaves what it pointed at; renaming "abs" moves the link; its target stays. */
static void test_last_link_is_acted_on_itself(void **state) {
    fixture *f = *state;
    assert_int_equal(attack(f, "path_unlink_file", "up", false), WASI_ESUCCESS);
    assert_int_equal(attack(f, "path_rename_from", "abs", false), WASI_ESUCCESS);
    assert_int_equal(attack(f, "path_readlink", "stolen", false), WASI_ESUCCESS);
    assert_int_equal(attack(f, "path_remove_directory", "sub/escape", false), WASI_ENOTDIR);
    assert_int_equal(attack(f, "path_create_directory", "dangle", false), WASI_EEXIST);
    /* The moved link still leads nowhere a guest may go. */
    assert_int_equal(attack(f, "path_filestat_get", "stolen/secret.txt", true), WASI_ENOTCAPABLE);
    fixture_outside_unchanged(f);
    char path[256];
    struct stat st;
    assert_int_equal(lstat(fixture_host_path(f, "sandbox/up", path, sizeof path), &st), -1);
    assert_int_equal(lstat(fixture_host_path(f, "sandbox/stolen", path, sizeof path), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

/* path_symlink: a link with an absolute target is refused; a relative one that climbs out may be
 * made (its target is checked whenever it is followed) but never leads out. */
static void test_symlink_targets(void **state) {
    fixture *f = *state;
    assert_int_equal(CALL(f, path_symlink, PATH(f, "/etc/passwd"), FIXTURE_PREOPEN,
                          PATH(f, "new")),
                     WASI_ENOTCAPABLE);
    assert_int_equal(CALL(f, path_symlink, PATH(f, f->outside), FIXTURE_PREOPEN, PATH(f, "new")),
                     WASI_ENOTCAPABLE);
    char path[256];
    struct stat st;
    assert_int_equal(lstat(fixture_host_path(f, "sandbox/new", path, sizeof path), &st), -1);
    assert_int_equal(CALL(f, path_symlink, PATH(f, "../outside/secret.txt"), FIXTURE_PREOPEN,
                          PATH(f, "climb")),
                     WASI_ESUCCESS);
    uint32_t fd;
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "climb", WASI_LOOKUP_SYMLINK_FOLLOW,
                                         0, WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ENOTCAPABLE);
    /* A link to itself and an empty-named target. */
    assert_int_equal(CALL(f, path_symlink, PATH(f, "self"), FIXTURE_PREOPEN, PATH(f, "self")),
                     WASI_ESUCCESS);
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "self", WASI_LOOKUP_SYMLINK_FOLLOW,
                                         0, WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ELOOP);
    fixture_outside_unchanged(f);
}

/* A chain of 40 links inside resolves; 41 is ELOOP (resolve.h's limit, Linux's too). */
static void test_link_chain_limit(void **state) {
    fixture *f = *state;
    char name[32], target[32];
    for (int i = 1; i <= 41; i++) {
        snprintf(name, sizeof name, "c%d", i);
        if (i == 1)
            snprintf(target, sizeof target, "file.txt");
        else
            snprintf(target, sizeof target, "c%d", i - 1);
        assert_int_equal(CALL(f, path_symlink, PATH(f, target), FIXTURE_PREOPEN, PATH(f, name)),
                         WASI_ESUCCESS);
    }
    uint32_t fd;
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "c40", WASI_LOOKUP_SYMLINK_FOLLOW, 0,
                                         WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ESUCCESS);
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "c41", WASI_LOOKUP_SYMLINK_FOLLOW, 0,
                                         WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ELOOP);
}

/* Paths that cannot be host paths: an embedded NUL, one longer than PATH_MAX, an empty one. */
static void test_malformed_paths(void **state) {
    fixture *f = *state;
    uint32_t fd = fixture_alloc(f, 4);
    uint32_t nul = fixture_put(f, "file.txt\0/../../x", 17);
    assert_int_equal(CALL(f, path_open, FIXTURE_PREOPEN, 0, nul, 17, 0, WASI_RIGHT_FD_READ, 0, 0,
                          fd),
                     WASI_EINVAL);
    uint32_t long_path = fixture_alloc(f, 5000);
    memset(f->memory + long_path, 'a', 5000);
    assert_int_equal(CALL(f, path_open, FIXTURE_PREOPEN, 0, long_path, 5000, 0,
                          WASI_RIGHT_FD_READ, 0, 0, fd),
                     WASI_ENAMETOOLONG);
    /* A single component longer than NAME_MAX. */
    assert_int_equal(CALL(f, path_create_directory, FIXTURE_PREOPEN, long_path, 300),
                     WASI_ENAMETOOLONG);
    assert_int_equal(CALL(f, path_create_directory, FIXTURE_PREOPEN, long_path, 0), WASI_ENOENT);
}

/* ---- Races: a link swapped in while the guest resolves ------------------------------------ */

typedef struct swapper {
    const fixture *f;
    const char *name;        /* in the sandbox */
    volatile bool stop;
} swapper;

/* Swaps sandbox/NAME between a real directory (or file) holding "inside" and a link to
 * ../outside, by renames, as fast as it can. */
static void *swap_loop(void *arg) {
    swapper *s = arg;
    char real[256], link_path[256], target[256];
    snprintf(real, sizeof real, "%s/%s.real", s->f->sandbox, s->name);
    snprintf(link_path, sizeof link_path, "%s/%s.link", s->f->sandbox, s->name);
    snprintf(target, sizeof target, "%s/%s", s->f->sandbox, s->name);
    while (!s->stop) {
        rename(real, target);
        rename(target, real);
        rename(link_path, target);
        rename(target, link_path);
    }
    return NULL;
}

static void race(fixture *f, const char *name, bool dir) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s.real", f->sandbox, name);
    if (dir) {
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/%s.real/secret.txt", f->sandbox, name);
    }
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    fputs("inside", file);
    fclose(file);
    snprintf(path, sizeof path, "%s/%s.link", f->sandbox, name);
    assert_int_equal(symlink(dir ? "../outside" : "../outside/secret.txt", path), 0);

    swapper s = {f, name, false};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, swap_loop, &s), 0);
    char guest_path[64];
    snprintf(guest_path, sizeof guest_path, dir ? "%s/secret.txt" : "%s", name);
    unsigned opened = 0, refused = 0;
    for (int i = 0; i < 4000; i++) {
        uint32_t fd;
        wasi_errno err = fixture_open_rights(f, FIXTURE_PREOPEN, guest_path,
                                             WASI_LOOKUP_SYMLINK_FOLLOW, 0, WASI_RIGHT_FD_READ, 0,
                                             0, &fd);
        if (err == WASI_ENOTCAPABLE || err == WASI_ENOENT || err == WASI_ELOOP ||
            err == WASI_ENOTDIR) {
            refused++;
            continue;
        }
        assert_int_equal(err, WASI_ESUCCESS);
        opened++;
        uint32_t buf = fixture_alloc(f, 16), iov = fixture_alloc(f, 8), nread = fixture_alloc(f, 4);
        guest_put_u32(f->memory + iov, buf);
        guest_put_u32(f->memory + iov + 4, 16);
        assert_int_equal(CALL(f, fd_read, fd, iov, 1, nread), WASI_ESUCCESS);
        if (memcmp(f->memory + buf, "inside", 6) != 0)
            fail_msg("a race read \"%.*s\" through %s", (int)fixture_u32(f, nread),
                     (char *)f->memory + buf, guest_path);
        assert_int_equal(CALL(f, fd_close, fd), WASI_ESUCCESS);
    }
    s.stop = true;
    pthread_join(thread, NULL);
    print_message("race on %s: %u opened inside, %u refused\n", guest_path, opened, refused);
    fixture_outside_unchanged(f);
}

static void test_race_directory_swapped_for_link(void **state) { race(*state, "racedir", true); }
static void test_race_file_swapped_for_link(void **state) { race(*state, "racefile", false); }

/* ---- Rights ------------------------------------------------------------------------------- */

/* Each path call needs one right of its directory; without it: ENOTCAPABLE and no effect. */
typedef struct path_right_case {
    const char *what;
    wasi_rights right;
} path_right_case;

static wasi_errno path_call_needing(fixture *f, wasi_rights right) {
    uint32_t out = fixture_alloc(f, 128);
    if (right == WASI_RIGHT_PATH_OPEN)
        return CALL(f, path_open, FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), 0, WASI_RIGHT_FD_READ,
                    0, 0, out);
    if (right == WASI_RIGHT_PATH_CREATE_FILE)
        return CALL(f, path_open, FIXTURE_PREOPEN, 0, PATH(f, "created"), WASI_OFLAG_CREAT,
                    WASI_RIGHT_FD_WRITE, 0, 0, out);
    if (right == WASI_RIGHT_PATH_FILESTAT_SET_SIZE)
        return CALL(f, path_open, FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), WASI_OFLAG_TRUNC,
                    WASI_RIGHT_FD_WRITE, 0, 0, out);
    if (right == WASI_RIGHT_PATH_CREATE_DIRECTORY)
        return CALL(f, path_create_directory, FIXTURE_PREOPEN, PATH(f, "created"));
    if (right == WASI_RIGHT_PATH_REMOVE_DIRECTORY)
        return CALL(f, path_remove_directory, FIXTURE_PREOPEN, PATH(f, "victim"));
    if (right == WASI_RIGHT_PATH_UNLINK_FILE)
        return CALL(f, path_unlink_file, FIXTURE_PREOPEN, PATH(f, "file.txt"));
    if (right == WASI_RIGHT_PATH_FILESTAT_GET)
        return CALL(f, path_filestat_get, FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), out);
    if (right == WASI_RIGHT_PATH_FILESTAT_SET_TIMES)
        return CALL(f, path_filestat_set_times, FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), 0, 0,
                    WASI_FST_MTIM);
    if (right == WASI_RIGHT_PATH_READLINK)
        return CALL(f, path_readlink, FIXTURE_PREOPEN, PATH(f, "inlink"), out, 64, out + 64);
    if (right == WASI_RIGHT_PATH_RENAME_SOURCE || right == WASI_RIGHT_PATH_RENAME_TARGET)
        return CALL(f, path_rename, FIXTURE_PREOPEN, PATH(f, "file.txt"), FIXTURE_PREOPEN,
                    PATH(f, "created"));
    if (right == WASI_RIGHT_PATH_LINK_SOURCE || right == WASI_RIGHT_PATH_LINK_TARGET)
        return CALL(f, path_link, FIXTURE_PREOPEN, 0, PATH(f, "file.txt"), FIXTURE_PREOPEN,
                    PATH(f, "created"));
    if (right == WASI_RIGHT_PATH_SYMLINK)
        return CALL(f, path_symlink, PATH(f, "file.txt"), FIXTURE_PREOPEN, PATH(f, "created"));
    if (right == WASI_RIGHT_FD_READDIR)
        return CALL(f, fd_readdir, FIXTURE_PREOPEN, out, 64, 0, out + 64);
    fail_msg("no call needs right %llx", (unsigned long long)right);
    return 0;
}

/* The sandbox as the rights tests start each case: file.txt holds "hello", victim/ is an empty
 * directory, created does not exist. */
static void reset_sandbox(fixture *f) {
    char path[256];
    FILE *file = fopen(fixture_host_path(f, "sandbox/file.txt", path, sizeof path), "wb");
    assert_non_null(file);
    fputs("hello", file);
    fclose(file);
    mkdir(fixture_host_path(f, "sandbox/victim", path, sizeof path), 0755);
    fixture_host_path(f, "sandbox/created", path, sizeof path);
    if (unlink(path) != 0) rmdir(path);
}

static void test_directory_rights(void **state) {
    fixture *f = *state;
    static const path_right_case cases[] = {
        {"path_open", WASI_RIGHT_PATH_OPEN},
        {"path_open CREAT", WASI_RIGHT_PATH_CREATE_FILE},
        {"path_open TRUNC", WASI_RIGHT_PATH_FILESTAT_SET_SIZE},
        {"path_create_directory", WASI_RIGHT_PATH_CREATE_DIRECTORY},
        {"path_remove_directory", WASI_RIGHT_PATH_REMOVE_DIRECTORY},
        {"path_unlink_file", WASI_RIGHT_PATH_UNLINK_FILE},
        {"path_filestat_get", WASI_RIGHT_PATH_FILESTAT_GET},
        {"path_filestat_set_times", WASI_RIGHT_PATH_FILESTAT_SET_TIMES},
        {"path_readlink", WASI_RIGHT_PATH_READLINK},
        {"path_rename (source)", WASI_RIGHT_PATH_RENAME_SOURCE},
        {"path_rename (target)", WASI_RIGHT_PATH_RENAME_TARGET},
        {"path_link (source)", WASI_RIGHT_PATH_LINK_SOURCE},
        {"path_link (target)", WASI_RIGHT_PATH_LINK_TARGET},
        {"path_symlink", WASI_RIGHT_PATH_SYMLINK},
        {"fd_readdir", WASI_RIGHT_FD_READDIR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset_sandbox(f);
        /* Descriptor 3 becomes a copy of the sandbox with every right but this case's; a second
         * copy with all of them is kept to put back afterwards. */
        uint32_t limited = fixture_open(f, ".", WASI_OFLAG_DIRECTORY, 0);
        uint32_t full = fixture_open(f, ".", WASI_OFLAG_DIRECTORY, 0);
        assert_int_equal(CALL(f, fd_fdstat_set_rights, limited,
                              WASI_RIGHTS_DIRECTORY & ~cases[i].right, ALL_RIGHTS),
                         WASI_ESUCCESS);
        assert_int_equal(CALL(f, fd_renumber, limited, FIXTURE_PREOPEN), WASI_ESUCCESS);
        char *before = fixture_describe_sandbox(f);
        wasi_errno err = path_call_needing(f, cases[i].right);
        if (err != WASI_ENOTCAPABLE) fail_msg("%s without its right gave %u", cases[i].what, err);
        char *after = fixture_describe_sandbox(f);
        assert_string_equal(before, after);
        free(before);
        free(after);
        /* With the right the same call works: the right was what stopped it. */
        assert_int_equal(CALL(f, fd_renumber, full, FIXTURE_PREOPEN), WASI_ESUCCESS);
        err = path_call_needing(f, cases[i].right);
        if (err != WASI_ESUCCESS) fail_msg("%s with its right gave %u", cases[i].what, err);
    }
    fixture_outside_unchanged(f);
}

/* path_open cannot grant what the directory may not hand out; a descriptor's rights only shrink;
 * the witx's fdflags rights. */
static void test_path_open_rights(void **state) {
    fixture *f = *state;
    uint32_t fd;
    /* A directory whose inheriting rights lack FD_WRITE. */
    uint32_t dir = fixture_open(f, ".", WASI_OFLAG_DIRECTORY, 0);
    assert_int_equal(CALL(f, fd_fdstat_set_rights, dir, WASI_RIGHTS_DIRECTORY,
                          ALL_RIGHTS & ~WASI_RIGHT_FD_WRITE),
                     WASI_ESUCCESS);
    assert_int_equal(fixture_open_rights(f, dir, "file.txt", 0, 0, WASI_RIGHT_FD_WRITE, 0, 0, &fd),
                     WASI_ENOTCAPABLE);
    assert_int_equal(fixture_open_rights(f, dir, "file.txt", 0, 0, WASI_RIGHT_FD_READ,
                                         WASI_RIGHT_FD_WRITE, 0, &fd),
                     WASI_ENOTCAPABLE);
    assert_int_equal(fixture_open_rights(f, dir, "file.txt", 0, 0, WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ESUCCESS);
    /* Its rights cannot come back. */
    assert_int_equal(CALL(f, fd_fdstat_set_rights, dir, WASI_RIGHTS_DIRECTORY, ALL_RIGHTS),
                     WASI_ENOTCAPABLE);
    /* A subdirectory opened through it inherits no more than it may give. */
    uint32_t sub;
    assert_int_equal(fixture_open_rights(f, dir, "sub", 0, WASI_OFLAG_DIRECTORY,
                                         WASI_RIGHTS_DIRECTORY, ALL_RIGHTS & ~WASI_RIGHT_FD_WRITE,
                                         0, &sub),
                     WASI_ESUCCESS);
    assert_int_equal(fixture_open_rights(f, sub, "inner.txt", 0, 0, WASI_RIGHT_FD_WRITE, 0, 0, &fd),
                     WASI_ENOTCAPABLE);
    /* DSYNC needs FD_DATASYNC, SYNC and RSYNC need FD_SYNC. */
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "file.txt", 0, 0, WASI_RIGHT_FD_WRITE,
                                         0, WASI_FDFLAG_DSYNC, &fd),
                     WASI_ENOTCAPABLE);
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "file.txt", 0, 0, WASI_RIGHT_FD_WRITE,
                                         0, WASI_FDFLAG_SYNC, &fd),
                     WASI_ENOTCAPABLE);
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "file.txt", 0, 0,
                                         WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SYNC, 0,
                                         WASI_FDFLAG_RSYNC, &fd),
                     WASI_ESUCCESS);
    /* A file is no directory to open through: it lacks PATH_OPEN. */
    uint32_t file = fixture_open(f, "file.txt", 0, 0);
    assert_int_equal(fixture_open_rights(f, file, "x", 0, 0, WASI_RIGHT_FD_READ, 0, 0, &fd),
                     WASI_ENOTCAPABLE);
    assert_int_equal(CALL(f, path_create_directory, file, PATH(f, "x")), WASI_ENOTCAPABLE);
    /* A file gets no directory rights, however many were asked for. */
    uint32_t stat = fixture_alloc(f, WASI_FDSTAT_SIZE);
    assert_int_equal(CALL(f, fd_fdstat_get, file, stat), WASI_ESUCCESS);
    assert_int_equal(fixture_u64(f, stat + WASI_FDSTAT_RIGHTS_BASE) & WASI_RIGHT_PATH_OPEN, 0);
}

/* Each fd_* call needs its right: a file opened with every file right but that one. */
typedef struct fd_right_case {
    const char *what;
    wasi_rights right;
} fd_right_case;

static wasi_errno fd_call_needing(fixture *f, uint32_t fd, wasi_rights right) {
    uint32_t buf = fixture_alloc(f, 64), iov = fixture_alloc(f, 8), out = fixture_alloc(f, 64);
    guest_put_u32(f->memory + iov, buf);
    guest_put_u32(f->memory + iov + 4, 4);
    switch (right) {
    case WASI_RIGHT_FD_READ: return CALL(f, fd_read, fd, iov, 1, out);
    case WASI_RIGHT_FD_WRITE: return CALL(f, fd_write, fd, iov, 1, out);
    case WASI_RIGHT_FD_SEEK: return CALL(f, fd_seek, fd, 1, WASI_WHENCE_SET, out);
    case WASI_RIGHT_FD_TELL: return CALL(f, fd_tell, fd, out);
    case WASI_RIGHT_FD_DATASYNC: return CALL(f, fd_datasync, fd);
    case WASI_RIGHT_FD_SYNC: return CALL(f, fd_sync, fd);
    case WASI_RIGHT_FD_ADVISE: return CALL(f, fd_advise, fd, 0, 0, WASI_ADVICE_NORMAL);
    case WASI_RIGHT_FD_ALLOCATE: return CALL(f, fd_allocate, fd, 0, 8);
    case WASI_RIGHT_FD_FDSTAT_SET_FLAGS: return CALL(f, fd_fdstat_set_flags, fd, 0);
    case WASI_RIGHT_FD_FILESTAT_GET: return CALL(f, fd_filestat_get, fd, out);
    case WASI_RIGHT_FD_FILESTAT_SET_SIZE: return CALL(f, fd_filestat_set_size, fd, 2);
    case WASI_RIGHT_FD_FILESTAT_SET_TIMES:
        return CALL(f, fd_filestat_set_times, fd, 0, 0, WASI_FST_MTIM);
    default: fail_msg("no call needs right %llx", (unsigned long long)right); return 0;
    }
}

static void test_file_rights(void **state) {
    fixture *f = *state;
    static const fd_right_case cases[] = {
        {"fd_read", WASI_RIGHT_FD_READ},
        {"fd_write", WASI_RIGHT_FD_WRITE},
        {"fd_seek", WASI_RIGHT_FD_SEEK},
        {"fd_tell", WASI_RIGHT_FD_TELL},
        {"fd_datasync", WASI_RIGHT_FD_DATASYNC},
        {"fd_sync", WASI_RIGHT_FD_SYNC},
        {"fd_advise", WASI_RIGHT_FD_ADVISE},
        {"fd_allocate", WASI_RIGHT_FD_ALLOCATE},
        {"fd_fdstat_set_flags", WASI_RIGHT_FD_FDSTAT_SET_FLAGS},
        {"fd_filestat_get", WASI_RIGHT_FD_FILESTAT_GET},
        {"fd_filestat_set_size", WASI_RIGHT_FD_FILESTAT_SET_SIZE},
        {"fd_filestat_set_times", WASI_RIGHT_FD_FILESTAT_SET_TIMES},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t fd;
        wasi_rights all = WASI_RIGHTS_FILE;
        assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "file.txt", 0, 0,
                                             all & ~cases[i].right, 0, 0, &fd),
                         WASI_ESUCCESS);
        wasi_errno err = fd_call_needing(f, fd, cases[i].right);
        if (err != WASI_ENOTCAPABLE) fail_msg("%s without its right gave %u", cases[i].what, err);
        assert_int_equal(CALL(f, fd_close, fd), WASI_ESUCCESS);
        /* Dropping the right later with fd_fdstat_set_rights has the same effect. */
        assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "file.txt", 0, 0, all, 0, 0, &fd),
                         WASI_ESUCCESS);
        assert_int_equal(fd_call_needing(f, fd, cases[i].right), WASI_ESUCCESS);
        assert_int_equal(CALL(f, fd_fdstat_set_rights, fd, all & ~cases[i].right, 0),
                         WASI_ESUCCESS);
        assert_int_equal(fd_call_needing(f, fd, cases[i].right), WASI_ENOTCAPABLE);
        assert_int_equal(CALL(f, fd_close, fd), WASI_ESUCCESS);
    }
    /* pread and pwrite need FD_SEEK as well as FD_READ / FD_WRITE. */
    uint32_t fd;
    assert_int_equal(fixture_open_rights(f, FIXTURE_PREOPEN, "file.txt", 0, 0,
                                         WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE, 0, 0, &fd),
                     WASI_ESUCCESS);
    uint32_t iov = fixture_alloc(f, 8), out = fixture_alloc(f, 4);
    assert_int_equal(CALL(f, fd_pread, fd, iov, 1, 0, out), WASI_ENOTCAPABLE);
    assert_int_equal(CALL(f, fd_pwrite, fd, iov, 1, 0, out), WASI_ENOTCAPABLE);
    /* A directory cannot be read or written as a file. */
    assert_int_equal(CALL(f, fd_read, FIXTURE_PREOPEN, iov, 1, out), WASI_ENOTCAPABLE);
    assert_int_equal(CALL(f, fd_write, FIXTURE_PREOPEN, iov, 1, out), WASI_ENOTCAPABLE);
    char buf[64];
    assert_true(fixture_read_host(f, "sandbox/file.txt", buf, sizeof buf));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_path_open_escapes, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_path_open_nofollow, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_links_inside_are_followed, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_subdirectory_is_its_own_root, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_path_calls_escapes_following, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_path_calls_escapes_on_entry, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_last_link_is_acted_on_itself, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_symlink_targets, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_link_chain_limit, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_paths, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_race_directory_swapped_for_link, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_race_file_swapped_for_link, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_directory_rights, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_path_open_rights, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_file_rights, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
