/* The functions of wasi_snapshot_preview1 and their core types (witx: every pointer, size and
 * u32 is an i32; u64 values, timestamps, rights, offsets and cookies are i64; the errno result an
 * i32), in the witx's order. */
#include "calls.h"

#define FN(name, params) {#name, params, true, wasi_##name}

const wasi_function wasi_functions[] = {
    FN(args_get, "ii"),
    FN(args_sizes_get, "ii"),
    FN(environ_get, "ii"),
    FN(environ_sizes_get, "ii"),
    FN(clock_res_get, "ii"),
    FN(clock_time_get, "iIi"),
    FN(fd_advise, "iIIi"),
    FN(fd_allocate, "iII"),
    FN(fd_close, "i"),
    FN(fd_datasync, "i"),
    FN(fd_fdstat_get, "ii"),
    FN(fd_fdstat_set_flags, "ii"),
    FN(fd_fdstat_set_rights, "iII"),
    FN(fd_filestat_get, "ii"),
    FN(fd_filestat_set_size, "iI"),
    FN(fd_filestat_set_times, "iIIi"),
    FN(fd_pread, "iiiIi"),
    FN(fd_prestat_get, "ii"),
    FN(fd_prestat_dir_name, "iii"),
    FN(fd_pwrite, "iiiIi"),
    FN(fd_read, "iiii"),
    FN(fd_readdir, "iiiIi"),
    FN(fd_renumber, "ii"),
    FN(fd_seek, "iIii"),
    FN(fd_sync, "i"),
    FN(fd_tell, "ii"),
    FN(fd_write, "iiii"),
    FN(path_create_directory, "iii"),
    FN(path_filestat_get, "iiiii"),
    FN(path_filestat_set_times, "iiiiIIi"),
    FN(path_link, "iiiiiii"),
    FN(path_open, "iiiiiIIii"),
    FN(path_readlink, "iiiiii"),
    FN(path_remove_directory, "iii"),
    FN(path_rename, "iiiiii"),
    FN(path_symlink, "iiiii"),
    FN(path_unlink_file, "iii"),
    FN(poll_oneoff, "iiii"),
    {"proc_exit", "i", false, wasi_proc_exit},
    FN(proc_raise, "i"),
    FN(sched_yield, ""),
    FN(random_get, "ii"),
    FN(sock_accept, "iii"),
    FN(sock_recv, "iiiiii"),
    FN(sock_send, "iiiii"),
    FN(sock_shutdown, "ii"),
};

const size_t wasi_function_count = sizeof wasi_functions / sizeof wasi_functions[0];

_Static_assert(sizeof wasi_functions / sizeof wasi_functions[0] <= WASI_FUNCTION_MAX,
               "a binding per function");
