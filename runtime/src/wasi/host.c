/* Host <-> WASI translations: see host.h. */
#include "host.h"

#include <errno.h>
#include <string.h>

#include "guest.h"

wasi_errno host_errno(int e) {
    switch (e) {
    case 0: return WASI_ESUCCESS;
    case E2BIG: return WASI_E2BIG;
    case EACCES: return WASI_EACCES;
    case EADDRINUSE: return WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
    case EAGAIN: return WASI_EAGAIN;
    case EALREADY: return WASI_EALREADY;
    case EBADF: return WASI_EBADF;
    case EBADMSG: return WASI_EBADMSG;
    case EBUSY: return WASI_EBUSY;
    case ECANCELED: return WASI_ECANCELED;
    case ECHILD: return WASI_ECHILD;
    case ECONNABORTED: return WASI_ECONNABORTED;
    case ECONNREFUSED: return WASI_ECONNREFUSED;
    case ECONNRESET: return WASI_ECONNRESET;
    case EDEADLK: return WASI_EDEADLK;
    case EDESTADDRREQ: return WASI_EDESTADDRREQ;
    case EDOM: return WASI_EDOM;
    case EDQUOT: return WASI_EDQUOT;
    case EEXIST: return WASI_EEXIST;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EHOSTUNREACH: return WASI_EHOSTUNREACH;
    case EIDRM: return WASI_EIDRM;
    case EILSEQ: return WASI_EILSEQ;
    case EINPROGRESS: return WASI_EINPROGRESS;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EIO: return WASI_EIO;
    case EISCONN: return WASI_EISCONN;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ELOOP;
    case EMFILE: return WASI_EMFILE;
    case EMLINK: return WASI_EMLINK;
    case EMSGSIZE: return WASI_EMSGSIZE;
    case EMULTIHOP: return WASI_EMULTIHOP;
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENETDOWN: return WASI_ENETDOWN;
    case ENETRESET: return WASI_ENETRESET;
    case ENETUNREACH: return WASI_ENETUNREACH;
    case ENFILE: return WASI_ENFILE;
    case ENOBUFS: return WASI_ENOBUFS;
    case ENODEV: return WASI_ENODEV;
    case ENOENT: return WASI_ENOENT;
    case ENOEXEC: return WASI_ENOEXEC;
    case ENOLCK: return WASI_ENOLCK;
    case ENOLINK: return WASI_ENOLINK;
    case ENOMEM: return WASI_ENOMEM;
    case ENOMSG: return WASI_ENOMSG;
    case ENOPROTOOPT: return WASI_ENOPROTOOPT;
    case ENOSPC: return WASI_ENOSPC;
    case ENOSYS: return WASI_ENOSYS;
    case ENOTCONN: return WASI_ENOTCONN;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return WASI_ENOTSOCK;
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP:
#endif
    case ENOTSUP: return WASI_ENOTSUP;
    case ENOTTY: return WASI_ENOTTY;
    case ENXIO: return WASI_ENXIO;
    case EOVERFLOW: return WASI_EOVERFLOW;
    case EOWNERDEAD: return WASI_EOWNERDEAD;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case EPROTO: return WASI_EPROTO;
    case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return WASI_EPROTOTYPE;
    case ERANGE: return WASI_ERANGE;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case ESRCH: return WASI_ESRCH;
    case ESTALE: return WASI_ESTALE;
    case ETIMEDOUT: return WASI_ETIMEDOUT;
    case ETXTBSY: return WASI_ETXTBSY;
    case EXDEV: return WASI_EXDEV;
    default: return WASI_EIO;
    }
}

wasi_errno host_errno_now(void) { return host_errno(errno); }

uint8_t host_filetype(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

uint64_t host_timespec_ns(const struct timespec *ts) {
    if (ts->tv_sec < 0) return 0;
    uint64_t sec = (uint64_t)ts->tv_sec;
    if (sec > (UINT64_MAX - (uint64_t)ts->tv_nsec) / 1000000000u) return UINT64_MAX;
    return sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

void host_filestat_put(uint8_t *out, const struct stat *st) {
    memset(out, 0, WASI_FILESTAT_SIZE);
    guest_put_u64(out + WASI_FILESTAT_DEV, (uint64_t)st->st_dev);
    guest_put_u64(out + WASI_FILESTAT_INO, (uint64_t)st->st_ino);
    guest_put_u8(out + WASI_FILESTAT_FILETYPE, host_filetype(st->st_mode));
    guest_put_u64(out + WASI_FILESTAT_NLINK, (uint64_t)st->st_nlink);
    guest_put_u64(out + WASI_FILESTAT_FILESIZE, (uint64_t)st->st_size);
    guest_put_u64(out + WASI_FILESTAT_ATIM, host_timespec_ns(&st->st_atim));
    guest_put_u64(out + WASI_FILESTAT_MTIM, host_timespec_ns(&st->st_mtim));
    guest_put_u64(out + WASI_FILESTAT_CTIM, host_timespec_ns(&st->st_ctim));
}

static wasi_errno one_time(uint64_t ns, bool given, bool now, struct timespec *out) {
    if (given && now) return WASI_EINVAL;
    if (now) {
        out->tv_sec = 0;
        out->tv_nsec = UTIME_NOW;
    } else if (given) {
        out->tv_sec = (time_t)(ns / 1000000000u);
        out->tv_nsec = (long)(ns % 1000000000u);
    } else {
        out->tv_sec = 0;
        out->tv_nsec = UTIME_OMIT;
    }
    return WASI_ESUCCESS;
}

wasi_errno host_set_times(uint64_t atim, uint64_t mtim, uint32_t fst_flags,
                          struct timespec out[2]) {
    const uint32_t known = WASI_FST_ATIM | WASI_FST_ATIM_NOW | WASI_FST_MTIM | WASI_FST_MTIM_NOW;
    if (fst_flags & ~known) return WASI_EINVAL;
    wasi_errno err = one_time(atim, fst_flags & WASI_FST_ATIM, fst_flags & WASI_FST_ATIM_NOW,
                              &out[0]);
    if (err) return err;
    return one_time(mtim, fst_flags & WASI_FST_MTIM, fst_flags & WASI_FST_MTIM_NOW, &out[1]);
}

bool host_clock(uint32_t id, clockid_t *out) {
    switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}
