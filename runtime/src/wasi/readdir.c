/* fd_readdir(fd, buf, buf_len, cookie, bufused): directory entries as a packed run of dirent
 * headers, each followed by its name (no NUL). The witx's rules:
 * - An entry's d_next is the cookie that resumes after it; cookie 0 is the start. Here the cookie
 *   of entry k (0-based, in the host's order) is k + 1.
 * - Entries are written until the buffer is full; the last one may be cut anywhere, header
 *   included, and then bufused == buf_len tells the guest to ask again (with a bigger buffer if
 *   the cut entry was its first).
 * "." and ".." are listed as the host lists them, as POSIX readdir does.
 * The host stream is kept with the descriptor and its position (dir_next) remembered, so reading
 * a directory front to back costs one pass; another cookie rewinds and skips. A cut entry is
 * stepped back over with seekdir, so the next call starts with it whole. */
#include "calls.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

static uint8_t filetype_of_dirent(DIR *dir, const struct dirent *e) {
    switch (e->d_type) {
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_FIFO: return WASI_FILETYPE_UNKNOWN;
    default: break;
    }
    /* DT_UNKNOWN: some filesystems leave the type to a stat. */
    struct stat st;
    if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return WASI_FILETYPE_UNKNOWN;
    return host_filetype(st.st_mode);
}

/* A stream of its own (openat ".": its own offset), so reading does not move anything the
 * descriptor's other users see. */
static wasi_errno stream_open(wasi_fd *entry) {
    if (entry->dir) return WASI_ESUCCESS;
    int fd = openat(entry->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return host_errno_now();
    entry->dir = fdopendir(fd);
    if (!entry->dir) {
        wasi_errno err = host_errno_now();
        close(fd);
        return err;
    }
    entry->dir_next = 0;
    return WASI_ESUCCESS;
}

/* Reads the next entry: *e NULL at the end. */
static wasi_errno stream_next(DIR *dir, struct dirent **e) {
    errno = 0;
    *e = readdir(dir);
    if (!*e && errno != 0) return host_errno_now();
    return WASI_ESUCCESS;
}

/* Positions the stream so that its next entry is the one with cookie `cookie` (or the end). */
static wasi_errno stream_seek(wasi_fd *entry, uint64_t cookie) {
    if (cookie < entry->dir_next) {
        rewinddir(entry->dir);
        entry->dir_next = 0;
    }
    while (entry->dir_next < cookie) {
        struct dirent *e;
        wasi_errno err = stream_next(entry->dir, &e);
        if (err) return err;
        if (!e) break;
        entry->dir_next++;
    }
    return WASI_ESUCCESS;
}

/* Copies what fits of src into the buffer at *used, returning whether all of it did. */
static bool put_cut(uint8_t *buf, uint32_t len, uint32_t *used, const void *src, size_t n) {
    size_t room = len - *used, take = n < room ? n : room;
    memcpy(buf + *used, src, take);
    *used += (uint32_t)take;
    return take == n;
}

WASI_IMPL(fd_readdir) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_READDIR, &entry);
    if (err) return err;
    uint32_t len = ARG32(2);
    uint8_t *buf = guest_span(mem, ARG32(1), len);
    uint8_t *bufused = guest_span(mem, ARG32(4), 4);
    if (!buf || !bufused) return WASI_EFAULT;
    if ((err = stream_open(entry)) || (err = stream_seek(entry, args[3]))) return err;

    uint32_t used = 0;
    while (used < len) {
        long before = telldir(entry->dir);
        struct dirent *e;
        if ((err = stream_next(entry->dir, &e))) return err;
        if (!e) break;
        size_t namlen = strlen(e->d_name);
        uint8_t header[WASI_DIRENT_SIZE] = {0};
        guest_put_u64(header + WASI_DIRENT_NEXT, entry->dir_next + 1);
        guest_put_u64(header + WASI_DIRENT_INO, (uint64_t)e->d_ino);
        guest_put_u32(header + WASI_DIRENT_NAMLEN, (uint32_t)namlen);
        guest_put_u8(header + WASI_DIRENT_TYPE, filetype_of_dirent(entry->dir, e));
        bool whole = put_cut(buf, len, &used, header, sizeof header) &&
                     put_cut(buf, len, &used, e->d_name, namlen);
        if (!whole) {
            seekdir(entry->dir, before);
            break;
        }
        entry->dir_next++;
    }
    guest_put_u32(bufused, used);
    return WASI_ESUCCESS;
}
