/* The implementations of wasi_snapshot_preview1's functions, one declaration each, grouped by the
 * file that keeps them. Each checks its descriptor's rights and its guest pointers before it acts,
 * and returns a WASI errno. Their types are in functions.c.
 */
#ifndef WAFER_WASI_CALLS_H
#define WAFER_WASI_CALLS_H

#include "context.h"

#define WASI_IMPL(name)                                                                            \
    wasi_errno wasi_##name(wafer_wasi *wasi, const guest_memory *mem, const uint64_t *args)

/* args_env.c */
WASI_IMPL(args_get);
WASI_IMPL(args_sizes_get);
WASI_IMPL(environ_get);
WASI_IMPL(environ_sizes_get);

/* process.c: clocks, randomness, scheduling, exit */
WASI_IMPL(clock_res_get);
WASI_IMPL(clock_time_get);
WASI_IMPL(random_get);
WASI_IMPL(sched_yield);
WASI_IMPL(proc_exit);
WASI_IMPL(proc_raise);

/* fd_io.c: data in and out, offsets */
WASI_IMPL(fd_read);
WASI_IMPL(fd_write);
WASI_IMPL(fd_pread);
WASI_IMPL(fd_pwrite);
WASI_IMPL(fd_seek);
WASI_IMPL(fd_tell);

/* fd_meta.c: descriptors themselves, their flags, status and preopen names */
WASI_IMPL(fd_advise);
WASI_IMPL(fd_allocate);
WASI_IMPL(fd_close);
WASI_IMPL(fd_datasync);
WASI_IMPL(fd_sync);
WASI_IMPL(fd_fdstat_get);
WASI_IMPL(fd_fdstat_set_flags);
WASI_IMPL(fd_fdstat_set_rights);
WASI_IMPL(fd_filestat_get);
WASI_IMPL(fd_filestat_set_size);
WASI_IMPL(fd_filestat_set_times);
WASI_IMPL(fd_renumber);
WASI_IMPL(fd_prestat_get);
WASI_IMPL(fd_prestat_dir_name);

/* readdir.c */
WASI_IMPL(fd_readdir);

/* path_open.c */
WASI_IMPL(path_open);

/* path_ops.c: every other call on a path */
WASI_IMPL(path_create_directory);
WASI_IMPL(path_filestat_get);
WASI_IMPL(path_filestat_set_times);
WASI_IMPL(path_link);
WASI_IMPL(path_readlink);
WASI_IMPL(path_remove_directory);
WASI_IMPL(path_rename);
WASI_IMPL(path_symlink);
WASI_IMPL(path_unlink_file);

/* poll.c */
WASI_IMPL(poll_oneoff);

/* sock.c */
WASI_IMPL(sock_accept);
WASI_IMPL(sock_recv);
WASI_IMPL(sock_send);
WASI_IMPL(sock_shutdown);

#endif
