/* The guest's descriptor table: WASI descriptor numbers -> host descriptors with the file type
 * and the rights the guest holds on them. What it promises:
 * - A descriptor number is open or not; fd_table_get never hands out a closed one (EBADF), nor
 *   one lacking a right asked for (ENOTCAPABLE).
 * - New descriptors take the lowest free number, as POSIX open does; 0, 1, 2 are stdio and the
 *   preopens follow from 3 without gaps, as wasi-libc's preopen scan (stop at the first EBADF)
 *   needs.
 * - Every host descriptor and directory stream the table holds is closed exactly once: by
 *   fd_table_close, by fd_table_renumber (the one replaced) or by fd_table_free.
 */
#ifndef WAFER_WASI_FD_TABLE_H
#define WAFER_WASI_FD_TABLE_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi.h"

/* Rights by kind of object: what a descriptor of that kind may ever hold. */
#define WASI_RIGHTS_FILE                                                                           \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |                            \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL |                    \
     WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |                         \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |                                \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_DIRECTORY                                                                      \
    (WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_ADVISE |                  \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                              \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN |            \
     WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE |            \
     WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |                                \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |                      \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK |     \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |                              \
     WASI_RIGHT_POLL_FD_READWRITE)
/* Streams (pipes, sockets, terminals) cannot seek: wasi-libc's isatty tells a terminal by a
 * character device without FD_SEEK and FD_TELL. */
#define WASI_RIGHTS_STREAM                                                                         \
    (WASI_RIGHTS_FILE & ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL |                                \
                          WASI_RIGHT_FD_FILESTAT_SET_SIZE | WASI_RIGHT_FD_ALLOCATE))

typedef struct wasi_fd {
    bool open;
    int host;             /* the host descriptor, owned */
    uint8_t filetype;     /* WASI_FILETYPE_* */
    wasi_rights base;       /* rights on this descriptor */
    wasi_rights inheriting; /* rights descriptors opened through it may get */
    char *preopen;        /* for a preopened directory, its name as the guest sees it; owned */
    DIR *dir;             /* fd_readdir's stream (readdir.c), made on first use; owned */
    uint64_t dir_next;    /* the cookie of the entry dir reads next */
} wasi_fd;

typedef struct fd_table {
    wasi_fd *fds;
    uint32_t capacity;
} fd_table;

/* The most rights a descriptor for host descriptor `host` of WASI file type `filetype` may hold,
 * in *base and *inheriting. */
void fd_rights_for(int host, uint8_t filetype, wasi_rights *base, wasi_rights *inheriting);

/* Puts entry (its resources now the table's) at the lowest free number, or at exactly `at` when
 * at >= 0 (which must be free). On failure (WASI_EMFILE, WASI_ENOMEM) the entry's resources are
 * closed, so the caller never has to. */
wasi_errno fd_table_insert(fd_table *table, wasi_fd entry, int64_t at, uint32_t *out);
/* The open descriptor fd holding every right of `needed`: WASI_EBADF if it is not open,
 * WASI_ENOTCAPABLE if it lacks one of them. */
wasi_errno fd_table_get(fd_table *table, uint32_t fd, wasi_rights needed, wasi_fd **out);
wasi_errno fd_table_close(fd_table *table, uint32_t fd);
/* Moves from onto to (both must be open: EBADF otherwise), closing what to held. */
wasi_errno fd_table_renumber(fd_table *table, uint32_t from, uint32_t to);
void fd_table_free(fd_table *table);

#endif
