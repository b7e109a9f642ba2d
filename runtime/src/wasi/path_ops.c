/* The path_* calls other than path_open: each resolves its path beneath its directory
 * (path_at.h) and then acts on the (directory, last name) pair with an *at call that does not
 * follow a final link, so the entry acted on is the one the resolver checked (resolve.h). */
#include "calls.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "path_at.h"

/* Runs the common shape: resolve (fd, path), then act. */
#define WITH_PATH(fd, right, ptr, len, follow, r, action)                                          \
    do {                                                                                           \
        wasi_errno err_ = path_at(wasi, mem, (fd), (right), (ptr), (len), (follow), &(r));         \
        if (err_) return err_;                                                                     \
        err_ = (action);                                                                           \
        resolved_path_free(&(r));                                                                  \
        return err_;                                                                               \
    } while (0)

static wasi_errno host_result(int status) { return status == 0 ? WASI_ESUCCESS : host_errno_now(); }

WASI_IMPL(path_create_directory) {
    resolved_path r;
    WITH_PATH(ARG32(0), WASI_RIGHT_PATH_CREATE_DIRECTORY, ARG32(1), ARG32(2), false, r,
              host_result(mkdirat(r.dir, r.name, 0777)));
}

WASI_IMPL(path_remove_directory) {
    resolved_path r;
    WITH_PATH(ARG32(0), WASI_RIGHT_PATH_REMOVE_DIRECTORY, ARG32(1), ARG32(2), false, r,
              host_result(unlinkat(r.dir, r.name, AT_REMOVEDIR)));
}

/* "name/" names a directory: for a file that is ENOTDIR, for a directory unlinkat's EISDIR. */
static wasi_errno unlink_file(const resolved_path *r) {
    wasi_errno err = resolved_check_dir(r);
    if (err) return err;
    return host_result(unlinkat(r->dir, r->name, 0));
}

WASI_IMPL(path_unlink_file) {
    resolved_path r;
    WITH_PATH(ARG32(0), WASI_RIGHT_PATH_UNLINK_FILE, ARG32(1), ARG32(2), false, r,
              unlink_file(&r));
}

static wasi_errno filestat_get(const resolved_path *r, uint8_t *out) {
    struct stat st;
    if (fstatat(r->dir, r->name, &st, AT_SYMLINK_NOFOLLOW) != 0) return host_errno_now();
    if (r->must_be_dir && !S_ISDIR(st.st_mode)) return WASI_ENOTDIR;
    host_filestat_put(out, &st);
    return WASI_ESUCCESS;
}

WASI_IMPL(path_filestat_get) {
    uint8_t *out = guest_span(mem, ARG32(4), WASI_FILESTAT_SIZE);
    if (!out) return WASI_EFAULT;
    resolved_path r;
    WITH_PATH(ARG32(0), WASI_RIGHT_PATH_FILESTAT_GET, ARG32(2), ARG32(3),
              ARG32(1) & WASI_LOOKUP_SYMLINK_FOLLOW, r, filestat_get(&r, out));
}

static wasi_errno set_times(const resolved_path *r, const struct timespec times[2]) {
    wasi_errno err = resolved_check_dir(r);
    if (err) return err;
    return host_result(utimensat(r->dir, r->name, times, AT_SYMLINK_NOFOLLOW));
}

WASI_IMPL(path_filestat_set_times) {
    struct timespec times[2];
    wasi_errno err = host_set_times(args[4], args[5], ARG32(6), times);
    if (err) return err;
    resolved_path r;
    WITH_PATH(ARG32(0), WASI_RIGHT_PATH_FILESTAT_SET_TIMES, ARG32(2), ARG32(3),
              ARG32(1) & WASI_LOOKUP_SYMLINK_FOLLOW, r, set_times(&r, times));
}

/* readlink's truncation is POSIX's: as much of the target as fits, no NUL, no error. */
static wasi_errno read_link(const resolved_path *r, uint8_t *buf, uint32_t len, uint8_t *used) {
    ssize_t n = readlinkat(r->dir, r->name, (char *)buf, len);
    if (n < 0) return host_errno_now();
    guest_put_u32(used, (uint32_t)n);
    return WASI_ESUCCESS;
}

WASI_IMPL(path_readlink) {
    uint8_t *buf = guest_span(mem, ARG32(3), ARG32(4)), *used = guest_span(mem, ARG32(5), 4);
    if (!buf || !used) return WASI_EFAULT;
    resolved_path r;
    WITH_PATH(ARG32(0), WASI_RIGHT_PATH_READLINK, ARG32(1), ARG32(2), false, r,
              read_link(&r, buf, ARG32(4), used));
}

/* Two paths, each beneath its own directory; a trailing '/' on either means the source must be
 * a directory, as POSIX rename and link read it. */
typedef enum two_path_op { OP_RENAME, OP_LINK } two_path_op;

static wasi_errno two_paths(const resolved_path *from, const resolved_path *to, two_path_op op) {
    if (from->must_be_dir || to->must_be_dir) {
        resolved_path source = *from;
        source.must_be_dir = true;
        wasi_errno err = resolved_check_dir(&source);
        if (err) return err;
    }
    if (op == OP_RENAME) return host_result(renameat(from->dir, from->name, to->dir, to->name));
    return host_result(linkat(from->dir, from->name, to->dir, to->name, 0));
}

static wasi_errno two_path_call(wafer_wasi *wasi, const guest_memory *mem, two_path_op op,
                                uint32_t from_fd, bool follow, uint32_t from_ptr,
                                uint32_t from_len, uint32_t to_fd, uint32_t to_ptr,
                                uint32_t to_len) {
    wasi_rights from_right = op == OP_RENAME ? WASI_RIGHT_PATH_RENAME_SOURCE
                                             : WASI_RIGHT_PATH_LINK_SOURCE;
    wasi_rights to_right = op == OP_RENAME ? WASI_RIGHT_PATH_RENAME_TARGET
                                           : WASI_RIGHT_PATH_LINK_TARGET;
    resolved_path from, to;
    wasi_errno err = path_at(wasi, mem, from_fd, from_right, from_ptr, from_len, follow, &from);
    if (err) return err;
    err = path_at(wasi, mem, to_fd, to_right, to_ptr, to_len, false, &to);
    if (err) {
        resolved_path_free(&from);
        return err;
    }
    err = two_paths(&from, &to, op);
    resolved_path_free(&from);
    resolved_path_free(&to);
    return err;
}

WASI_IMPL(path_rename) {
    return two_path_call(wasi, mem, OP_RENAME, ARG32(0), false, ARG32(1), ARG32(2), ARG32(3),
                         ARG32(4), ARG32(5));
}

/* path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len): a link with
 * SYMLINK_FOLLOW links the file the old path's links lead to (within its directory). */
WASI_IMPL(path_link) {
    return two_path_call(wasi, mem, OP_LINK, ARG32(0), ARG32(1) & WASI_LOOKUP_SYMLINK_FOLLOW,
                         ARG32(2), ARG32(3), ARG32(4), ARG32(5), ARG32(6));
}

/* A link the guest makes must be one it could follow: an absolute target never resolves inside
 * a sandbox (resolve.h refuses it) and would point host programs outside it, so it is refused
 * up front. Relative targets are checked each time they are followed. */
static wasi_errno make_symlink(const resolved_path *r, const char *target) {
    if (r->must_be_dir) {
        struct stat st;
        return fstatat(r->dir, r->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? WASI_EEXIST
                                                                       : WASI_ENOENT;
    }
    return host_result(symlinkat(target, r->dir, r->name));
}

WASI_IMPL(path_symlink) {
    char *target;
    wasi_errno err = guest_string(mem, ARG32(0), ARG32(1), PATH_MAX, &target);
    if (err) return err;
    resolved_path r;
    err = path_at(wasi, mem, ARG32(2), WASI_RIGHT_PATH_SYMLINK, ARG32(3), ARG32(4), false, &r);
    if (!err) {
        err = target[0] == '/' ? WASI_ENOTCAPABLE : make_symlink(&r, target);
        resolved_path_free(&r);
    }
    free(target);
    return err;
}
