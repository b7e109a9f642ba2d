/* path_open(dirfd, dirflags, path, path_len, oflags, rights_base, rights_inheriting, fdflags,
 * *fd): the one way a guest gets a new descriptor. The rules it keeps:
 * - The directory needs PATH_OPEN, plus PATH_CREATE_FILE for oflags CREAT and
 *   PATH_FILESTAT_SET_SIZE for TRUNC; the rights asked for must all be among the directory's
 *   inheriting rights (ENOTCAPABLE otherwise), and the descriptor gets those of them its kind of
 *   file can hold (fd_rights_for).
 * - fdflags DSYNC needs the right FD_DATASYNC, RSYNC and SYNC need FD_SYNC (witx).
 * - The host open mode follows the rights: writing rights open for writing, reading rights (or
 *   none) for reading. With oflags DIRECTORY it is reading only: a directory cannot be opened
 *   for writing, and the rights a directory may hold contain no writing ones anyway.
 * - The path is resolved beneath dirfd (resolve.h) and opened with O_NOFOLLOW. If the last
 *   component turns into a link between resolution and open (ELOOP while following), the path
 *   is resolved again, at most RESOLVE_MAX_SYMLINKS times, so a race cannot make the open follow
 *   a link the resolver did not check. CREAT|EXCL never follows a final link (POSIX).
 */
#include "calls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "resolve.h"

#define OPEN_WRITE_RIGHTS                                                                          \
    (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_ALLOCATE |                       \
     WASI_RIGHT_FD_FILESTAT_SET_SIZE)
#define OPEN_READ_RIGHTS (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR)

static int host_open_flags(uint32_t oflags, uint32_t fdflags, wasi_rights base) {
    int flags = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
    if (oflags & WASI_OFLAG_CREAT) flags |= O_CREAT;
    if (oflags & WASI_OFLAG_DIRECTORY) flags |= O_DIRECTORY;
    if (oflags & WASI_OFLAG_EXCL) flags |= O_EXCL;
    if (oflags & WASI_OFLAG_TRUNC) flags |= O_TRUNC;
    if (fdflags & WASI_FDFLAG_APPEND) flags |= O_APPEND;
    if (fdflags & WASI_FDFLAG_DSYNC) flags |= O_DSYNC;
    if (fdflags & WASI_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
    if (fdflags & WASI_FDFLAG_RSYNC) flags |= O_RSYNC;
    if (fdflags & WASI_FDFLAG_SYNC) flags |= O_SYNC;
    bool write = (base & OPEN_WRITE_RIGHTS) && !(oflags & WASI_OFLAG_DIRECTORY);
    bool read = base & OPEN_READ_RIGHTS;
    flags |= write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
    return flags;
}

static wasi_errno check_request(const wasi_fd *dir, uint32_t oflags, wasi_rights base,
                                wasi_rights inheriting, uint32_t fdflags) {
    const uint32_t known_oflags =
        WASI_OFLAG_CREAT | WASI_OFLAG_DIRECTORY | WASI_OFLAG_EXCL | WASI_OFLAG_TRUNC;
    const uint32_t known_fdflags = WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK |
                                   WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC;
    if ((oflags & ~known_oflags) || (fdflags & ~known_fdflags)) return WASI_EINVAL;
    wasi_rights needed = WASI_RIGHT_PATH_OPEN;
    if (oflags & WASI_OFLAG_CREAT) needed |= WASI_RIGHT_PATH_CREATE_FILE;
    if (oflags & WASI_OFLAG_TRUNC) needed |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
    if ((dir->base & needed) != needed) return WASI_ENOTCAPABLE;
    if ((base | inheriting) & ~dir->inheriting) return WASI_ENOTCAPABLE;
    if ((fdflags & WASI_FDFLAG_DSYNC) && !(base & WASI_RIGHT_FD_DATASYNC)) return WASI_ENOTCAPABLE;
    if ((fdflags & (WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC)) && !(base & WASI_RIGHT_FD_SYNC))
        return WASI_ENOTCAPABLE;
    if (dir->filetype != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
    return WASI_ESUCCESS;
}

/* Opens path beneath dir_host: the new host descriptor in *out. */
static wasi_errno open_beneath(int dir_host, const char *path, bool follow, int flags, int *out) {
    for (unsigned attempt = 0; attempt <= RESOLVE_MAX_SYMLINKS; attempt++) {
        resolved_path r;
        wasi_errno err = resolve_path(dir_host, path, follow, &r);
        if (err) return err;
        int fd = openat(r.dir, r.name, flags | (r.must_be_dir ? O_DIRECTORY : 0), 0666);
        int e = errno;
        resolved_path_free(&r);
        if (fd >= 0) {
            *out = fd;
            return WASI_ESUCCESS;
        }
        if (e != ELOOP || !follow) return host_errno(e);
    }
    return WASI_ELOOP;
}

WASI_IMPL(path_open) {
    uint32_t dirflags = ARG32(1), oflags = ARG32(4), fdflags = ARG32(7);
    wasi_rights base = args[5], inheriting = args[6];
    wasi_fd *dir;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), 0, &dir);
    if (err) return err;
    if ((err = check_request(dir, oflags, base, inheriting, fdflags))) return err;
    uint8_t *result = guest_span(mem, ARG32(8), 4);
    if (!result) return WASI_EFAULT;
    char *path;
    if ((err = guest_string(mem, ARG32(2), ARG32(3), PATH_MAX, &path))) return err;

    bool follow = (dirflags & WASI_LOOKUP_SYMLINK_FOLLOW) &&
                  (oflags & (WASI_OFLAG_CREAT | WASI_OFLAG_EXCL)) !=
                      (WASI_OFLAG_CREAT | WASI_OFLAG_EXCL);
    int host = -1;
    err = open_beneath(dir->host, path, follow, host_open_flags(oflags, fdflags, base), &host);
    free(path);
    if (err) return err;

    struct stat st;
    if (fstat(host, &st) != 0) {
        err = host_errno_now();
        close(host);
        return err;
    }
    wasi_fd entry = {.host = host, .filetype = host_filetype(st.st_mode)};
    wasi_rights max_base, max_inheriting;
    fd_rights_for(host, entry.filetype, &max_base, &max_inheriting);
    entry.base = base & max_base;
    entry.inheriting = inheriting & max_inheriting;
    uint32_t fd;
    /* dir may move if the table grows: it is not used past this point. */
    if ((err = fd_table_insert(&wasi->fds, entry, -1, &fd))) return err;
    guest_put_u32(result, fd);
    return WASI_ESUCCESS;
}
