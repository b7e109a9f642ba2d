/* The (directory descriptor, path) argument pair of the path_* calls, checked and resolved in one
 * step: the descriptor must be open (EBADF), hold the rights asked for (ENOTCAPABLE) and be a
 * directory (ENOTDIR); the path must lie in guest memory (EFAULT), fit PATH_MAX (ENAMETOOLONG)
 * and resolve beneath the directory (resolve.h).
 */
#ifndef WAFER_WASI_PATH_AT_H
#define WAFER_WASI_PATH_AT_H

#include "context.h"
#include "resolve.h"

wasi_errno path_at(wafer_wasi *wasi, const guest_memory *mem, uint32_t fd, wasi_rights needed,
                   uint32_t path_ptr, uint32_t path_len, bool follow_final, resolved_path *out);

#endif
