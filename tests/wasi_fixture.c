/* The WASI unit tests' fixture: see wasi_fixture.h. */
#include "wasi_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void text_add(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof buf);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    memcpy(t->s + t->len, buf, (size_t)n + 1);
    t->len += (size_t)n;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry below dir (relative names, sorted), skipping `skip` at the top level. */
static void describe(text *t, const char *dir, const char *rel, const char *skip) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[256];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (skip && !strcmp(e->d_name, skip)) continue;
        assert_true(count < 256);
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof names[0], compare_names);
    for (size_t i = 0; i < count; i++) {
        char path[512], relpath[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(relpath, sizeof relpath, "%s%s", rel, names[i]);
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        text_add(t, "%s mode=%o size=%lld mtime=%lld.%09ld", relpath, (unsigned)st.st_mode,
                 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        if (S_ISLNK(st.st_mode)) {
            char target[256];
            ssize_t n = readlink(path, target, sizeof target - 1);
            assert_true(n >= 0);
            target[n] = '\0';
            text_add(t, " -> %s\n", target);
        } else if (S_ISREG(st.st_mode)) {
            char content[256] = {0};
            FILE *file = fopen(path, "rb");
            assert_non_null(file);
            size_t n = fread(content, 1, sizeof content - 1, file);
            fclose(file);
            content[n] = '\0';
            text_add(t, " \"%s\"\n", content);
        } else {
            text_add(t, "\n");
            if (S_ISDIR(st.st_mode)) {
                char sub[512];
                snprintf(sub, sizeof sub, "%s/", relpath);
                describe(t, path, sub, NULL);
            }
        }
        free(names[i]);
    }
}

static char *describe_outside(const fixture *f) {
    text t = {0};
    text_add(&t, "");
    describe(&t, f->root, "", "sandbox");
    return t.s;
}

char *fixture_describe_sandbox(const fixture *f) {
    text t = {0};
    text_add(&t, "");
    describe(&t, f->sandbox, "", NULL);
    return t.s;
}

static void write_file(const char *dir, const char *name, const char *content) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    fputs(content, file);
    fclose(file);
}

static void make_link(const char *dir, const char *name, const char *target) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(symlink(target, path), 0);
}

static void make_tree(fixture *f) {
    char path[256];
    assert_int_equal(mkdir(f->sandbox, 0755), 0);
    assert_int_equal(mkdir(f->outside, 0755), 0);
    snprintf(path, sizeof path, "%s/sub", f->outside);
    assert_int_equal(mkdir(path, 0755), 0);
    write_file(f->outside, "secret.txt", "secret");
    write_file(f->sandbox, "file.txt", "hello");
    snprintf(path, sizeof path, "%s/sub", f->sandbox);
    assert_int_equal(mkdir(path, 0755), 0);
    write_file(path, "inner.txt", "inner");
    make_link(path, "dotdot", "..");
    make_link(path, "escape", "../..");
    make_link(f->sandbox, "abs", f->outside);
    make_link(f->sandbox, "up", "../outside");
    make_link(f->sandbox, "chain1", "chain2");
    make_link(f->sandbox, "chain2", "up");
    make_link(f->sandbox, "loop1", "loop2");
    make_link(f->sandbox, "loop2", "loop1");
    make_link(f->sandbox, "dangle", "../outside/new.txt");
    make_link(f->sandbox, "inlink", "sub/inner.txt");
}

static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0755);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int fixture_setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->root, sizeof f->root, "/tmp/wafer-wasi-test-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->sandbox, sizeof f->sandbox, "%s/sandbox", f->root);
    snprintf(f->outside, sizeof f->outside, "%s/outside", f->root);
    make_tree(f);
    f->snapshot = describe_outside(f);

    static const char *const argv[] = {"prog", "one", "two three"};
    static const char *const env[] = {"A=1", "EMPTY="};
    wafer_wasi_preopen preopen = {f->sandbox, "/sandbox"};
    wafer_wasi_config config;
    wafer_wasi_config_default(&config);
    config.argc = 3;
    config.argv = argv;
    config.envc = 2;
    config.environ = env;
    config.npreopens = 1;
    config.preopens = &preopen;
    wafer_error *err = wafer_wasi_new(&config, &f->wasi);
    assert_null(err);
    f->memory = calloc(1, FIXTURE_MEMORY_SIZE);
    assert_non_null(f->memory);
    f->mem = (guest_memory){f->memory, FIXTURE_MEMORY_SIZE};
    f->next = FIXTURE_SCRATCH;
    *state = f;
    return 0;
}

int fixture_teardown(void **state) {
    fixture *f = *state;
    wafer_wasi_delete(f->wasi);
    remove_tree(f->root);
    free(f->snapshot);
    free(f->memory);
    free(f);
    return 0;
}

uint32_t fixture_alloc(fixture *f, size_t len) {
    /* 8-aligned, so tests can also check that unaligned pointers work by adding 1. */
    uint32_t at = (f->next + 7) & ~7u;
    if (at + len + 64 > FIXTURE_MEMORY_SIZE) at = FIXTURE_SCRATCH; /* wrap: old data is dead */
    assert_true(at + len <= FIXTURE_MEMORY_SIZE);
    memset(f->memory + at, 0, len);
    f->next = at + (uint32_t)len;
    return at;
}

uint32_t fixture_put(fixture *f, const void *bytes, size_t len) {
    uint32_t at = fixture_alloc(f, len);
    memcpy(f->memory + at, bytes, len);
    return at;
}

uint32_t fixture_str(fixture *f, const char *s) { return fixture_put(f, s, strlen(s)); }

uint32_t fixture_u32(const fixture *f, uint32_t ptr) { return guest_get_u32(f->memory + ptr); }
uint64_t fixture_u64(const fixture *f, uint32_t ptr) { return guest_get_u64(f->memory + ptr); }

wasi_errno fixture_open_rights(fixture *f, uint32_t dirfd, const char *path, uint32_t lookup,
                               uint32_t oflags, wasi_rights base, wasi_rights inheriting,
                               uint32_t fdflags, uint32_t *fd) {
    uint32_t out = fixture_alloc(f, 4);
    wasi_errno err = CALL(f, path_open, dirfd, lookup, PATH(f, path), oflags, base, inheriting,
                          fdflags, out);
    *fd = err ? UINT32_MAX : fixture_u32(f, out);
    return err;
}

uint32_t fixture_open(fixture *f, const char *path, uint32_t oflags, uint32_t fdflags) {
    uint32_t fd;
    wasi_errno err = fixture_open_rights(f, FIXTURE_PREOPEN, path, WASI_LOOKUP_SYMLINK_FOLLOW,
                                         oflags, WASI_RIGHTS_FILE | WASI_RIGHTS_DIRECTORY,
                                         WASI_RIGHTS_FILE | WASI_RIGHTS_DIRECTORY, fdflags, &fd);
    assert_int_equal(err, WASI_ESUCCESS);
    return fd;
}

const char *fixture_host_path(const fixture *f, const char *relative, char *buf, size_t size) {
    snprintf(buf, size, "%s/%s", f->root, relative);
    return buf;
}

bool fixture_read_host(const fixture *f, const char *relative, char *buf, size_t size) {
    char path[256];
    FILE *file = fopen(fixture_host_path(f, relative, path, sizeof path), "rb");
    if (!file) return false;
    size_t n = fread(buf, 1, size - 1, file);
    buf[n] = '\0';
    fclose(file);
    return true;
}

void fixture_outside_unchanged(const fixture *f) {
    char *now = describe_outside(f);
    assert_string_equal(now, f->snapshot);
    free(now);
}
