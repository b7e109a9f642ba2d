/* Path resolution beneath a directory descriptor: see resolve.h. */
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

/* O_PATH opens a directory for use as a dirfd without needing read permission on it, as
 * traversal needs only search permission. Without it, O_RDONLY is the closest. */
#ifndef O_PATH
#define O_PATH O_RDONLY
#endif

static int top(const resolved_path *r, int root) {
    return r->nopened ? r->opened[r->nopened - 1] : root;
}

static bool push(resolved_path *r, int fd) {
    if (r->nopened == r->opened_capacity) {
        size_t capacity = r->opened_capacity ? r->opened_capacity * 2 : 8;
        int *grown = realloc(r->opened, capacity * sizeof *grown);
        if (!grown) return false;
        r->opened = grown;
        r->opened_capacity = capacity;
    }
    r->opened[r->nopened++] = fd;
    return true;
}

void resolved_path_free(resolved_path *r) {
    for (size_t i = 0; i < r->nopened; i++) close(r->opened[i]);
    free(r->opened);
    free(r->name);
    memset(r, 0, sizeof *r);
    r->dir = -1;
}

/* The target of the link `name` in dir: WASI_ESUCCESS with *target (owned) if it is one,
 * WASI_EINVAL if the entry is not a link, else the error. */
static wasi_errno read_link(int dir, const char *name, char **target) {
    char *buf = malloc(PATH_MAX);
    if (!buf) return WASI_ENOMEM;
    ssize_t n = readlinkat(dir, name, buf, PATH_MAX);
    if (n < 0) {
        wasi_errno err = host_errno_now();
        free(buf);
        return err;
    }
    if (n >= PATH_MAX) {
        free(buf);
        return WASI_ENAMETOOLONG;
    }
    buf[n] = '\0';
    *target = buf;
    return WASI_ESUCCESS;
}

/* Replaces the path still to resolve by target + "/" + remainder (remainder may be empty: then
 * target + tail, tail being "/" for a path that ended in one). */
static wasi_errno splice_link(char **rest, size_t *pos, char *target, const char *remainder,
                              const char *tail, unsigned *links) {
    wasi_errno err = WASI_ESUCCESS;
    if (++*links > RESOLVE_MAX_SYMLINKS)
        err = WASI_ELOOP;
    else if (target[0] == '/')
        err = WASI_ENOTCAPABLE;
    else if (target[0] == '\0')
        err = WASI_ENOENT;
    if (err) {
        free(target);
        return err;
    }
    size_t tlen = strlen(target), rlen = strlen(remainder), taillen = strlen(tail);
    char *joined = malloc(tlen + 1 + rlen + taillen + 1);
    if (!joined) {
        free(target);
        return WASI_ENOMEM;
    }
    memcpy(joined, target, tlen);
    size_t at = tlen;
    if (rlen) {
        joined[at++] = '/';
        memcpy(joined + at, remainder, rlen);
        at += rlen;
    } else {
        memcpy(joined + at, tail, taillen);
        at += taillen;
    }
    joined[at] = '\0';
    free(target);
    free(*rest);
    *rest = joined;
    *pos = 0;
    return WASI_ESUCCESS;
}

static wasi_errno finish(resolved_path *r, int root, const char *name, size_t len,
                         bool must_be_dir) {
    r->name = malloc(len + 1);
    if (!r->name) return WASI_ENOMEM;
    memcpy(r->name, name, len);
    r->name[len] = '\0';
    r->dir = top(r, root);
    r->must_be_dir = must_be_dir;
    return WASI_ESUCCESS;
}

static wasi_errno resolve_rest(int root, char **rest, bool follow_final, resolved_path *r) {
    unsigned links = 0;
    size_t pos = 0;
    char name[NAME_MAX + 1];
    for (;;) {
        char *s = *rest;
        while (s[pos] == '/') pos++;
        if (s[pos] == '\0') return finish(r, root, ".", 1, true);
        size_t start = pos;
        while (s[pos] != '\0' && s[pos] != '/') pos++;
        size_t len = pos - start, after = pos;
        while (s[after] == '/') after++;
        bool trailing = after > pos, last = s[after] == '\0';

        if (len == 1 && s[start] == '.') {
            if (last) return finish(r, root, ".", 1, trailing);
            continue;
        }
        if (len == 2 && s[start] == '.' && s[start + 1] == '.') {
            if (r->nopened == 0) return WASI_ENOTCAPABLE;
            close(r->opened[--r->nopened]);
            if (last) return finish(r, root, ".", 1, trailing);
            continue;
        }
        if (len > NAME_MAX) return WASI_ENAMETOOLONG;
        memcpy(name, s + start, len);
        name[len] = '\0';
        int dir = top(r, root);

        if (!last) {
            int fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0) {
                if (!push(r, fd)) {
                    close(fd);
                    return WASI_ENOMEM;
                }
                continue;
            }
            int e = errno;
            if (e != ENOTDIR && e != ELOOP) return host_errno(e);
            char *target;
            wasi_errno err = read_link(dir, name, &target);
            if (err == WASI_EINVAL) return WASI_ENOTDIR; /* a file where a directory must be */
            if (err) return err;
            err = splice_link(rest, &pos, target, s + after, "", &links);
            if (err) return err;
            continue;
        }
        if (follow_final || trailing) {
            char *target;
            wasi_errno err = read_link(dir, name, &target);
            if (err == WASI_ESUCCESS) {
                err = splice_link(rest, &pos, target, "", trailing ? "/" : "", &links);
                if (err) return err;
                continue;
            }
            if (err != WASI_EINVAL && err != WASI_ENOENT) return err;
        }
        return finish(r, root, name, len, trailing);
    }
}

wasi_errno resolve_path(int root, const char *path, bool follow_final, resolved_path *out) {
    memset(out, 0, sizeof *out);
    out->dir = -1;
    if (path[0] == '\0') return WASI_ENOENT;
    if (path[0] == '/') return WASI_ENOTCAPABLE;
    char *rest = strdup(path);
    if (!rest) return WASI_ENOMEM;
    wasi_errno err = resolve_rest(root, &rest, follow_final, out);
    free(rest);
    if (err) resolved_path_free(out);
    return err;
}

wasi_errno resolved_check_dir(const resolved_path *r) {
    if (!r->must_be_dir) return WASI_ESUCCESS;
    struct stat st;
    if (fstatat(r->dir, r->name, &st, AT_SYMLINK_NOFOLLOW) != 0) return host_errno_now();
    return S_ISDIR(st.st_mode) ? WASI_ESUCCESS : WASI_ENOTDIR;
}
