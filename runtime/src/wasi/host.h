/* Translations between the host (Linux, through libc) and WASI: errnos, file types, file status,
 * timestamps, clocks. Pure functions of their arguments.
 */
#ifndef WAFER_WASI_HOST_H
#define WAFER_WASI_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "abi.h"

/* The WASI errno for a host errno; one without a WASI counterpart is WASI_EIO. */
wasi_errno host_errno(int host_errno_value);
/* As host_errno(errno), for the call that just failed. */
wasi_errno host_errno_now(void);

/* The WASI file type of a host st_mode (a FIFO is UNKNOWN: WASI has no pipes). */
uint8_t host_filetype(mode_t mode);
/* Writes a filestat (WASI_FILESTAT_SIZE bytes) for st at out. */
void host_filestat_put(uint8_t *out, const struct stat *st);

/* The two timespecs utimensat/futimens take for a WASI set_times call: a time given (ATIM,
 * MTIM), now (ATIM_NOW, MTIM_NOW) or left alone (neither). Both a time and now for one field is
 * WASI_EINVAL, as are unknown flag bits. */
wasi_errno host_set_times(uint64_t atim, uint64_t mtim, uint32_t fst_flags, struct timespec out[2]);

/* The host clock of a WASI clock id; false for an unknown id. */
bool host_clock(uint32_t wasi_clock_id, clockid_t *out);
/* Nanoseconds of a timespec, saturating at UINT64_MAX (never negative for the clocks used). */
uint64_t host_timespec_ns(const struct timespec *ts);

#endif
