/* Clocks, randomness, scheduling and exit (witx: clock_res_get, clock_time_get, random_get,
 * sched_yield, proc_exit, proc_raise). */
#include "calls.h"

#include <errno.h>
#include <sched.h>
#include <sys/random.h>
#include <time.h>

#include "host.h"

/* Writes what query (clock_getres or clock_gettime) says of WASI clock `id` to the u64 at addr. */
static wasi_errno clock_query(const guest_memory *mem, uint32_t id, uint32_t addr,
                              int (*query)(clockid_t, struct timespec *)) {
    clockid_t clock;
    if (!host_clock(id, &clock)) return WASI_EINVAL;
    uint8_t *out = guest_span(mem, addr, 8);
    if (!out) return WASI_EFAULT;
    struct timespec ts;
    if (query(clock, &ts) != 0) return host_errno_now();
    guest_put_u64(out, host_timespec_ns(&ts));
    return WASI_ESUCCESS;
}

WASI_IMPL(clock_res_get) { return clock_query(mem, ARG32(0), ARG32(1), clock_getres); }

/* args[1], the precision, is a hint the host clocks have no use for. */
WASI_IMPL(clock_time_get) { return clock_query(mem, ARG32(0), ARG32(2), clock_gettime); }

/* getrandom may return fewer bytes than asked (above 32 MiB, or on a signal): loop until done. */
WASI_IMPL(random_get) {
    uint32_t len = ARG32(1);
    uint8_t *buf = guest_span(mem, ARG32(0), len);
    if (!buf) return WASI_EFAULT;
    uint32_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return host_errno_now();
        }
        done += (uint32_t)n;
    }
    return WASI_ESUCCESS;
}

WASI_IMPL(sched_yield) {
    sched_yield();
    return WASI_ESUCCESS;
}

/* Recorded here; the binding (imports.c) then unwinds the guest with a trap that
 * wafer_wasi_exit_code tells apart from a real one. */
WASI_IMPL(proc_exit) {
    wasi->exited = true;
    wasi->exit_code = ARG32(0);
    return WASI_ESUCCESS;
}

/* Signals are a host matter; a guest cannot raise one (wasi-libc no longer imports this). */
WASI_IMPL(proc_raise) { return WASI_ENOSYS; }
