/* Data in and out of descriptors and their offsets (witx: fd_read, fd_write, fd_pread,
 * fd_pwrite, fd_seek, fd_tell). The guest's iovecs become host iovecs pointing straight into
 * linear memory, each buffer checked first; the transfer is then one readv/writev. */
#include "calls.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host.h"

#define IOVECS_ON_STACK 16

typedef struct host_iovecs {
    struct iovec on_stack[IOVECS_ON_STACK];
    struct iovec *v;
    int count;
} host_iovecs;

/* Every one of the count guest iovecs at ptr is checked; the first IOV_MAX are used (more would
 * make the host refuse the call; a shorter transfer is what POSIX allows anyway). */
static wasi_errno iovecs_take(const guest_memory *mem, uint32_t ptr, uint32_t count,
                              host_iovecs *out) {
    out->v = out->on_stack;
    out->count = 0;
    const uint8_t *guest = guest_array(mem, ptr, count, WASI_IOVEC_SIZE);
    if (!guest) return WASI_EFAULT;
    uint32_t used = count > IOV_MAX ? IOV_MAX : count;
    if (used > IOVECS_ON_STACK) {
        out->v = malloc(used * sizeof *out->v);
        if (!out->v) return WASI_ENOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint32_t buf = guest_get_u32(guest + i * WASI_IOVEC_SIZE);
        uint32_t len = guest_get_u32(guest + i * WASI_IOVEC_SIZE + 4);
        uint8_t *host = guest_span(mem, buf, len);
        if (!host) {
            if (out->v != out->on_stack) free(out->v);
            out->v = out->on_stack;
            return WASI_EFAULT;
        }
        if (i < used) out->v[i] = (struct iovec){.iov_base = host, .iov_len = len};
    }
    out->count = (int)used;
    return WASI_ESUCCESS;
}

static void iovecs_drop(host_iovecs *iov) {
    if (iov->v != iov->on_stack) free(iov->v);
}

typedef enum transfer { TRANSFER_READ, TRANSFER_WRITE } transfer;

/* One readv/writev (at offset, or at the descriptor's position when offset is negative), retried
 * when a signal interrupts it before any byte moved. */
static ssize_t host_transfer(transfer dir, int fd, const host_iovecs *iov, int64_t offset) {
    ssize_t n;
    do {
        if (dir == TRANSFER_READ)
            n = offset < 0 ? readv(fd, iov->v, iov->count) : preadv(fd, iov->v, iov->count, offset);
        else
            n = offset < 0 ? writev(fd, iov->v, iov->count)
                           : pwritev(fd, iov->v, iov->count, offset);
    } while (n < 0 && errno == EINTR);
    return n;
}

static wasi_errno transfer_call(wafer_wasi *wasi, const guest_memory *mem, transfer dir,
                                uint32_t fd, uint32_t iovs, uint32_t iovs_len, bool positioned,
                                uint64_t offset, uint32_t result_ptr) {
    wasi_rights needed = dir == TRANSFER_READ ? WASI_RIGHT_FD_READ : WASI_RIGHT_FD_WRITE;
    if (positioned) needed |= WASI_RIGHT_FD_SEEK;
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, fd, needed, &entry);
    if (err) return err;
    if (positioned && offset > INT64_MAX) return WASI_EINVAL;
    uint8_t *result = guest_span(mem, result_ptr, 4);
    if (!result) return WASI_EFAULT;
    host_iovecs iov;
    err = iovecs_take(mem, iovs, iovs_len, &iov);
    if (err) return err;
    ssize_t n = host_transfer(dir, entry->host, &iov, positioned ? (int64_t)offset : -1);
    err = n < 0 ? host_errno_now() : WASI_ESUCCESS;
    iovecs_drop(&iov);
    if (err) return err;
    /* A host call moves at most 0x7ffff000 bytes, so the count fits the guest's u32. */
    guest_put_u32(result, (uint32_t)n);
    return WASI_ESUCCESS;
}

WASI_IMPL(fd_read) {
    return transfer_call(wasi, mem, TRANSFER_READ, ARG32(0), ARG32(1), ARG32(2), false, 0,
                         ARG32(3));
}

WASI_IMPL(fd_write) {
    return transfer_call(wasi, mem, TRANSFER_WRITE, ARG32(0), ARG32(1), ARG32(2), false, 0,
                         ARG32(3));
}

WASI_IMPL(fd_pread) {
    return transfer_call(wasi, mem, TRANSFER_READ, ARG32(0), ARG32(1), ARG32(2), true, args[3],
                         ARG32(4));
}

WASI_IMPL(fd_pwrite) {
    return transfer_call(wasi, mem, TRANSFER_WRITE, ARG32(0), ARG32(1), ARG32(2), true, args[3],
                         ARG32(4));
}

/* fd_seek(fd, offset: filedelta (signed), whence, newoffset). Asking only for the position
 * (offset 0 from the current one) needs FD_TELL, as the witx says; any other seek FD_SEEK. */
WASI_IMPL(fd_seek) {
    int64_t delta = (int64_t)args[1];
    uint32_t whence = ARG32(2);
    int host_whence;
    switch (whence) {
    case WASI_WHENCE_SET: host_whence = SEEK_SET; break;
    case WASI_WHENCE_CUR: host_whence = SEEK_CUR; break;
    case WASI_WHENCE_END: host_whence = SEEK_END; break;
    default: return WASI_EINVAL;
    }
    wasi_rights needed =
        delta == 0 && whence == WASI_WHENCE_CUR ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), needed, &entry);
    if (err) return err;
    uint8_t *out = guest_span(mem, ARG32(3), 8);
    if (!out) return WASI_EFAULT;
    off_t pos = lseek(entry->host, (off_t)delta, host_whence);
    if (pos < 0) return host_errno_now();
    guest_put_u64(out, (uint64_t)pos);
    return WASI_ESUCCESS;
}

WASI_IMPL(fd_tell) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, ARG32(0), WASI_RIGHT_FD_TELL, &entry);
    if (err) return err;
    uint8_t *out = guest_span(mem, ARG32(1), 8);
    if (!out) return WASI_EFAULT;
    off_t pos = lseek(entry->host, 0, SEEK_CUR);
    if (pos < 0) return host_errno_now();
    guest_put_u64(out, (uint64_t)pos);
    return WASI_ESUCCESS;
}
