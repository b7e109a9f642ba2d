/* poll_oneoff(in, out, nsubscriptions, nevents): waits until at least one subscription is ready
 * and reports every one that is. Clocks (relative or ABSTIME, on any WASI clock), and reading or
 * writing on descriptors: streams (pipes, terminals, sockets) by the host's poll; regular files
 * and directories are always ready, readable by what lies past the position (as POSIX poll says
 * of regular files). A subscription that cannot be served (a closed descriptor, one without
 * POLL_FD_READWRITE, an unknown clock) is reported at once as an event carrying its errno,
 * which is how the witx reports per-subscription failures. No subscriptions at all is EINVAL:
 * it would wait forever.
 * The subscriptions are copied out of guest memory before any event is written, so the two
 * arrays may overlap. */
#include "calls.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

typedef struct subscription {
    uint64_t userdata;
    uint8_t type;         /* WASI_EVENT_* */
    wasi_errno error;     /* set: reported at once with this error */
    bool ready;           /* reported in this call */
    uint64_t deadline;    /* clocks: CLOCK_MONOTONIC nanoseconds when it fires */
    int host;             /* descriptors: the host descriptor, or -1 for an always-ready file */
    uint64_t nbytes;      /* descriptors: bytes available */
    uint16_t rw_flags;    /* descriptors: WASI_EVENTRW_HANGUP */
    int poll_index;       /* descriptors polled: index into the pollfd array, else -1 */
} subscription;

static uint64_t monotonic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return host_timespec_ns(&ts);
}

static uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static void parse_clock(const uint8_t *at, uint64_t start, subscription *sub) {
    uint32_t id = guest_get_u32(at + WASI_SUB_CLOCK_ID);
    uint64_t timeout = guest_get_u64(at + WASI_SUB_CLOCK_TIMEOUT);
    uint16_t flags = guest_get_u16(at + WASI_SUB_CLOCK_FLAGS);
    clockid_t clock;
    struct timespec ts;
    if (!host_clock(id, &clock) || clock_gettime(clock, &ts) != 0) {
        sub->error = WASI_EINVAL;
        return;
    }
    uint64_t relative = timeout;
    if (flags & WASI_SUBCLOCK_ABSTIME) {
        uint64_t now = host_timespec_ns(&ts);
        relative = timeout > now ? timeout - now : 0;
    }
    sub->deadline = saturating_add(start, relative);
}

/* Regular files and directories never block: what is left to read is size - position. */
static void file_readiness(const wasi_fd *entry, subscription *sub) {
    sub->host = -1;
    sub->ready = true;
    if (sub->type != WASI_EVENT_FD_READ) return;
    struct stat st;
    off_t pos = lseek(entry->host, 0, SEEK_CUR);
    if (fstat(entry->host, &st) == 0 && pos >= 0 && st.st_size > pos)
        sub->nbytes = (uint64_t)(st.st_size - pos);
}

static void parse_fd(wafer_wasi *wasi, const uint8_t *at, subscription *sub) {
    wasi_fd *entry;
    sub->error = fd_table_get(&wasi->fds, guest_get_u32(at + WASI_SUB_FD),
                              WASI_RIGHT_POLL_FD_READWRITE, &entry);
    if (sub->error) return;
    if (entry->filetype == WASI_FILETYPE_REGULAR_FILE ||
        entry->filetype == WASI_FILETYPE_DIRECTORY)
        file_readiness(entry, sub);
    else
        sub->host = entry->host;
}

/* Waits for the pollfds or until the earliest deadline, whichever comes first; a signal does
 * not cut the wait short. */
static wasi_errno wait_for(struct pollfd *fds, nfds_t nfds, uint64_t deadline, bool no_wait) {
    for (;;) {
        uint64_t now = monotonic_now();
        uint64_t left = no_wait || deadline <= now ? 0 : deadline - now;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000000000u),
                              .tv_nsec = (long)(left % 1000000000u)};
        int n = ppoll(fds, nfds, deadline == UINT64_MAX && !no_wait ? NULL : &ts, NULL);
        if (n >= 0) return WASI_ESUCCESS;
        if (errno != EINTR) return host_errno_now();
    }
}

static void stream_readiness(const struct pollfd *p, subscription *sub) {
    if (p->revents & POLLNVAL) {
        sub->error = WASI_EBADF;
    } else if (p->revents & (POLLHUP | POLLERR)) {
        sub->ready = true;
        sub->rw_flags = WASI_EVENTRW_HANGUP;
    } else if (p->revents & (POLLIN | POLLOUT)) {
        sub->ready = true;
        int available = 0;
        if (sub->type == WASI_EVENT_FD_READ && ioctl(sub->host, FIONREAD, &available) == 0 &&
            available > 0)
            sub->nbytes = (uint64_t)available;
    }
}

static void put_event(uint8_t *at, const subscription *sub) {
    memset(at, 0, WASI_EVENT_SIZE);
    guest_put_u64(at + WASI_EVENT_USERDATA, sub->userdata);
    guest_put_u16(at + WASI_EVENT_ERROR, sub->error);
    guest_put_u8(at + WASI_EVENT_TYPE, sub->type);
    if (sub->type != WASI_EVENT_CLOCK) {
        guest_put_u64(at + WASI_EVENT_NBYTES, sub->nbytes);
        guest_put_u16(at + WASI_EVENT_FLAGS, sub->rw_flags);
    }
}

/* Reads the subscriptions; the earliest clock deadline in *deadline, the streams in fds. */
static wasi_errno parse_all(wafer_wasi *wasi, const uint8_t *in, uint32_t count, subscription *subs,
                            struct pollfd *fds, nfds_t *nfds, uint64_t *deadline, bool *any_ready) {
    uint64_t start = monotonic_now();
    *deadline = UINT64_MAX;
    *nfds = 0;
    *any_ready = false;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *at = in + (size_t)i * WASI_SUBSCRIPTION_SIZE;
        subscription *sub = &subs[i];
        memset(sub, 0, sizeof *sub);
        sub->userdata = guest_get_u64(at + WASI_SUB_USERDATA);
        sub->type = at[WASI_SUB_TAG];
        sub->poll_index = -1;
        switch (sub->type) {
        case WASI_EVENT_CLOCK: parse_clock(at, start, sub); break;
        case WASI_EVENT_FD_READ:
        case WASI_EVENT_FD_WRITE: parse_fd(wasi, at, sub); break;
        default: return WASI_EINVAL;
        }
        if (sub->error || sub->ready) {
            *any_ready = true;
        } else if (sub->type == WASI_EVENT_CLOCK) {
            if (sub->deadline < *deadline) *deadline = sub->deadline;
        } else {
            sub->poll_index = (int)*nfds;
            fds[*nfds] = (struct pollfd){
                .fd = sub->host,
                .events = sub->type == WASI_EVENT_FD_READ ? POLLIN : POLLOUT,
            };
            ++*nfds;
        }
    }
    return WASI_ESUCCESS;
}

WASI_IMPL(poll_oneoff) {
    uint32_t count = ARG32(2);
    const uint8_t *in = guest_array(mem, ARG32(0), count, WASI_SUBSCRIPTION_SIZE);
    uint8_t *out = guest_array(mem, ARG32(1), count, WASI_EVENT_SIZE);
    uint8_t *nevents = guest_span(mem, ARG32(3), 4);
    if (!in || !out || !nevents) return WASI_EFAULT;
    if (count == 0) return WASI_EINVAL;
    subscription *subs = malloc((size_t)count * sizeof *subs);
    struct pollfd *fds = malloc((size_t)count * sizeof *fds);
    wasi_errno err = subs && fds ? WASI_ESUCCESS : WASI_ENOMEM;
    nfds_t nfds = 0;
    uint64_t deadline = UINT64_MAX;
    bool any_ready = false;
    if (!err) err = parse_all(wasi, in, count, subs, fds, &nfds, &deadline, &any_ready);
    if (!err) err = wait_for(fds, nfds, deadline, any_ready);
    if (!err) {
        uint64_t now = monotonic_now();
        uint32_t written = 0;
        for (uint32_t i = 0; i < count; i++) {
            subscription *sub = &subs[i];
            if (!sub->error && !sub->ready) {
                if (sub->type == WASI_EVENT_CLOCK)
                    sub->ready = sub->deadline <= now;
                else
                    stream_readiness(&fds[sub->poll_index], sub);
            }
            if (sub->error || sub->ready)
                put_event(out + (size_t)written++ * WASI_EVENT_SIZE, sub);
        }
        guest_put_u32(nevents, written);
    }
    free(subs);
    free(fds);
    return err;
}
