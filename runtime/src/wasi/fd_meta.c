/* Descriptors themselves: closing, renumbering, flags, rights, status, sizes, times, advice,
 * syncing and the names of preopens (witx: fd_close, fd_renumber, fd_fdstat_*, fd_filestat_*,
 * fd_advise, fd_allocate, fd_datasync, fd_sync, fd_prestat_get, fd_prestat_dir_name). */
#include "calls.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

WASI_IMPL(fd_close) { return fd_table_close(&wasi->fds, ARG32(0)); }

WASI_IMPL(fd_renumber) { return fd_table_renumber(&wasi->fds, ARG32(0), ARG32(1)); }

static uint16_t fdflags_of_host(int flags) {
    uint16_t out = 0;
    if (flags & O_APPEND) out |= WASI_FDFLAG_APPEND;
    if (flags & O_NONBLOCK) out |= WASI_FDFLAG_NONBLOCK;
    /* O_SYNC contains O_DSYNC's bit on Linux, and O_RSYNC is O_SYNC: report the strongest. */
    if ((flags & O_SYNC) == O_SYNC)
        out |= WASI_FDFLAG_SYNC;
    else if (flags & O_DSYNC)
        out |= WASI_FDFLAG_DSYNC;
    return out;
}

WASI_IMPL(fd_fdstat_get) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), 0, &entry);
    if (err) return err;
    uint8_t *out = guest_span(mem, ARG32(1), WASI_FDSTAT_SIZE);
    if (!out) return WASI_EFAULT;
    int flags = fcntl(entry->host, F_GETFL);
    if (flags < 0) return host_errno_now();
    memset(out, 0, WASI_FDSTAT_SIZE);
    guest_put_u8(out + WASI_FDSTAT_FILETYPE, entry->filetype);
    guest_put_u16(out + WASI_FDSTAT_FLAGS, fdflags_of_host(flags));
    guest_put_u64(out + WASI_FDSTAT_RIGHTS_BASE, entry->base);
    guest_put_u64(out + WASI_FDSTAT_RIGHTS_INHERITING, entry->inheriting);
    return WASI_ESUCCESS;
}

/* Linux changes only O_APPEND and O_NONBLOCK on an open descriptor (F_SETFL ignores the sync
 * flags), so asking for a sync flag is ENOTSUP rather than a silent no-op. */
WASI_IMPL(fd_fdstat_set_flags) {
    uint32_t flags = ARG32(1);
    const uint32_t known = WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK |
                           WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC;
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &entry);
    if (err) return err;
    if (flags & ~known) return WASI_EINVAL;
    if (flags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC)) return WASI_ENOTSUP;
    int host = fcntl(entry->host, F_GETFL);
    if (host < 0) return host_errno_now();
    host &= ~(O_APPEND | O_NONBLOCK);
    if (flags & WASI_FDFLAG_APPEND) host |= O_APPEND;
    if (flags & WASI_FDFLAG_NONBLOCK) host |= O_NONBLOCK;
    if (fcntl(entry->host, F_SETFL, host) != 0) return host_errno_now();
    return WASI_ESUCCESS;
}

/* Rights only ever shrink: asking for one the descriptor lacks is ENOTCAPABLE. */
WASI_IMPL(fd_fdstat_set_rights) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), 0, &entry);
    if (err) return err;
    wasi_rights base = args[1], inheriting = args[2];
    if ((base & ~entry->base) || (inheriting & ~entry->inheriting)) return WASI_ENOTCAPABLE;
    entry->base = base;
    entry->inheriting = inheriting;
    return WASI_ESUCCESS;
}

WASI_IMPL(fd_filestat_get) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_FILESTAT_GET, &entry);
    if (err) return err;
    uint8_t *out = guest_span(mem, ARG32(1), WASI_FILESTAT_SIZE);
    if (!out) return WASI_EFAULT;
    struct stat st;
    if (fstat(entry->host, &st) != 0) return host_errno_now();
    host_filestat_put(out, &st);
    return WASI_ESUCCESS;
}

WASI_IMPL(fd_filestat_set_size) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_FILESTAT_SET_SIZE, &entry);
    if (err) return err;
    if (args[1] > INT64_MAX) return WASI_EINVAL;
    if (ftruncate(entry->host, (off_t)args[1]) != 0) return host_errno_now();
    return WASI_ESUCCESS;
}

WASI_IMPL(fd_filestat_set_times) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_FILESTAT_SET_TIMES, &entry);
    if (err) return err;
    struct timespec times[2];
    err = host_set_times(args[1], args[2], ARG32(3), times);
    if (err) return err;
    if (futimens(entry->host, times) != 0) return host_errno_now();
    return WASI_ESUCCESS;
}

/* An offset and length as the host's off_t, which is signed: WASI_EINVAL past INT64_MAX. */
static wasi_errno host_range(uint64_t offset, uint64_t len, off_t *host_offset, off_t *host_len) {
    if (offset > INT64_MAX || len > INT64_MAX) return WASI_EINVAL;
    *host_offset = (off_t)offset;
    *host_len = (off_t)len;
    return WASI_ESUCCESS;
}

WASI_IMPL(fd_advise) {
    static const int advice_of[] = {
        [WASI_ADVICE_NORMAL] = POSIX_FADV_NORMAL,     [WASI_ADVICE_SEQUENTIAL] = POSIX_FADV_SEQUENTIAL,
        [WASI_ADVICE_RANDOM] = POSIX_FADV_RANDOM,     [WASI_ADVICE_WILLNEED] = POSIX_FADV_WILLNEED,
        [WASI_ADVICE_DONTNEED] = POSIX_FADV_DONTNEED, [WASI_ADVICE_NOREUSE] = POSIX_FADV_NOREUSE,
    };
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_ADVISE, &entry);
    if (err) return err;
    uint32_t advice = ARG32(3);
    if (advice >= sizeof advice_of / sizeof advice_of[0]) return WASI_EINVAL;
    off_t offset, len;
    err = host_range(args[1], args[2], &offset, &len);
    if (err) return err;
    /* posix_fadvise returns its error instead of setting errno. */
    return host_errno(posix_fadvise(entry->host, offset, len, advice_of[advice]));
}

WASI_IMPL(fd_allocate) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_ALLOCATE, &entry);
    if (err) return err;
    off_t offset, len;
    err = host_range(args[1], args[2], &offset, &len);
    if (err) return err;
    if (args[1] + args[2] > INT64_MAX) return WASI_EFBIG;
    return host_errno(posix_fallocate(entry->host, offset, len));
}

WASI_IMPL(fd_datasync) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_DATASYNC, &entry);
    if (err) return err;
    return fdatasync(entry->host) == 0 ? WASI_ESUCCESS : host_errno_now();
}

WASI_IMPL(fd_sync) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_SYNC, &entry);
    if (err) return err;
    return fsync(entry->host) == 0 ? WASI_ESUCCESS : host_errno_now();
}

/* A descriptor that is not a preopen is EBADF: wasi-libc scans from 3 until it meets one. */
static wasi_errno preopen_of(wafer_wasi *wasi, uint32_t fd, const char **name) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, fd, 0, &entry);
    if (err) return err;
    if (!entry->preopen) return WASI_EBADF;
    *name = entry->preopen;
    return WASI_ESUCCESS;
}

WASI_IMPL(fd_prestat_get) {
    const char *name;
    wasi_errno err = preopen_of(wasi, ARG32(0), &name);
    if (err) return err;
    uint8_t *out = guest_span(mem, ARG32(1), WASI_PRESTAT_SIZE);
    if (!out) return WASI_EFAULT;
    memset(out, 0, WASI_PRESTAT_SIZE);
    guest_put_u8(out + WASI_PRESTAT_TAG, WASI_PREOPENTYPE_DIR);
    guest_put_u32(out + WASI_PRESTAT_NAME_LEN, (uint32_t)strlen(name));
    return WASI_ESUCCESS;
}

/* The name without a NUL (fd_prestat_get gave its length); a buffer too short for it is
 * ENAMETOOLONG and nothing is written. */
WASI_IMPL(fd_prestat_dir_name) {
    const char *name;
    wasi_errno err = preopen_of(wasi, ARG32(0), &name);
    if (err) return err;
    uint32_t len = ARG32(2);
    uint8_t *out = guest_span(mem, ARG32(1), len);
    if (!out) return WASI_EFAULT;
    size_t name_len = strlen(name);
    if (len < name_len) return WASI_ENAMETOOLONG;
    memcpy(out, name, name_len);
    return WASI_ESUCCESS;
}
