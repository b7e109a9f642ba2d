/* Clocks, randomness, scheduling and exit (witx: clock_res_get, clock_time_get, random_get,
 * sched_yield, proc_exit, proc_raise). */
#include "calls.h"

#include <errno.h>
#include <sched.h>
#include <sys/random.h>
#include <time.h>

#include "host.h"

WASI_IMPL(clock_res_get) {
    clockid_t clock;
    if (!host_clock(ARG32(0), &clock)) return WASI_EINVAL;
    uint8_t *out = guest_span(mem, ARG32(1), 8);
    if (!out) return WASI_EFAULT;
    struct timespec ts;
    if (clock_getres(clock, &ts) != 0) return host_errno_now();
    guest_put_u64(out, host_timespec_ns(&ts));
    return WASI_ESUCCESS;
}

/* args[1], the precision, is a hint the host clocks have no use for. */
WASI_IMPL(clock_time_get) {
    clockid_t clock;
    if (!host_clock(ARG32(0), &clock)) return WASI_EINVAL;
    uint8_t *out = guest_span(mem, ARG32(2), 8);
    if (!out) return WASI_EFAULT;
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return host_errno_now();
    guest_put_u64(out, host_timespec_ns(&ts));
    return WASI_ESUCCESS;
}

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
