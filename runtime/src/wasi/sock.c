/* sock_accept, sock_recv, sock_send, sock_shutdown. Preview 1 has no call that makes a socket; a
 * host could only pass one in (as stdio, say), and this implementation does no socket
 * operations. So: a closed descriptor is EBADF, a descriptor that is not a socket ENOTSOCK (as
 * POSIX answers), and one that is a socket ENOTSUP. The guest's pointers are never touched. */
#include "calls.h"

static wasi_errno unsupported(wafer_wasi *wasi, uint32_t fd) {
    wasi_fd *entry;
    wasi_errno err = fd_table_get(&wasi->fds, fd, 0, &entry);
    if (err) return err;
    bool socket = entry->filetype == WASI_FILETYPE_SOCKET_STREAM ||
                  entry->filetype == WASI_FILETYPE_SOCKET_DGRAM;
    return socket ? WASI_ENOTSUP : WASI_ENOTSOCK;
}

WASI_IMPL(sock_accept) { return unsupported(wasi, ARG32(0)); }
WASI_IMPL(sock_recv) { return unsupported(wasi, ARG32(0)); }
WASI_IMPL(sock_send) { return unsupported(wasi, ARG32(0)); }
WASI_IMPL(sock_shutdown) { return unsupported(wasi, ARG32(0)); }
