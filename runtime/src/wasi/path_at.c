/* Resolving a path_* call's directory and path: see path_at.h. */
#include "path_at.h"

#include <limits.h>
#include <stdlib.h>

wasi_errno path_at(wafer_wasi *wasi, const guest_memory *mem, uint32_t fd, wasi_rights needed,
                   uint32_t path_ptr, uint32_t path_len, bool follow_final, resolved_path *out) {
    wasi_fd *dir;
    wasi_errno err = fd_table_get(&wasi->fds, fd, needed, &dir);
    if (err) return err;
    if (dir->filetype != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
    char *path;
    if ((err = guest_string(mem, path_ptr, path_len, PATH_MAX, &path))) return err;
    err = resolve_path(dir->host, path, follow_final, out);
    free(path);
    return err;
}
