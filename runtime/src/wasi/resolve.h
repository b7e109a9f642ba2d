/* Path resolution beneath a directory descriptor: the sandbox of every path_* call. What it
 * promises, for a guest path and a host directory descriptor `root`:
 * - The result names one entry, as a directory descriptor (`dir`) and one component (`name`,
 *   never containing '/', possibly "."), that lies beneath root: every directory on the way was
 *   opened with openat(..., O_NOFOLLOW | O_DIRECTORY) from the one before, starting at root, and
 *   ".." pops back to the descriptor it came from, so no string manipulation decides where a path
 *   leads and a directory swapped for a symbolic link mid-way fails the open instead of being
 *   followed.
 * - Refused with WASI_ENOTCAPABLE: an absolute path, ".." at root, a symbolic link whose target
 *   is absolute or climbs above root. More than RESOLVE_MAX_SYMLINKS links in one resolution is
 *   WASI_ELOOP; a link where a directory is needed that is not one, WASI_ENOTDIR.
 * - Symbolic links in the middle of a path are always followed (within root); the last
 *   component's only when follow_final is set or the path ends in '/'. Callers then act on
 *   (dir, name) with *at calls that do not follow a final link themselves (AT_SYMLINK_NOFOLLOW,
 *   O_NOFOLLOW, or calls that never follow), so the check and the use cannot be split by a race
 *   into following a link the check did not see.
 * Why not openat2(RESOLVE_BENEATH): it serves open only, while unlink, rename, mkdir, link,
 * symlink, readlink, stat and utimens need the parent directory and the last name; it fails
 * absolute link targets with EXDEV rather than the ENOTCAPABLE WASI wants; and it needs Linux
 * 5.6. Resolving by hand gives one rule for every call on every kernel.
 */
#ifndef WAFER_WASI_RESOLVE_H
#define WAFER_WASI_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "abi.h"

#define RESOLVE_MAX_SYMLINKS 40

typedef struct resolved_path {
    int dir;          /* holds the last component: root or one of opened */
    char *name;       /* the last component, NUL-terminated; owned */
    bool must_be_dir; /* the path ended in '/': the entry must be a directory */
    int *opened;      /* the directories opened on the way, innermost last; owned */
    size_t nopened;
    size_t opened_capacity;
} resolved_path;

/* Resolves path (NUL-terminated, from guest_string) beneath root. On success the caller frees
 * *out with resolved_path_free; on failure there is nothing to free. */
wasi_errno resolve_path(int root, const char *path, bool follow_final, resolved_path *out);
void resolved_path_free(resolved_path *resolved);

/* For callers whose final operation must see a directory (the path ended in '/'): WASI_ESUCCESS
 * when must_be_dir is unset or the entry is a directory, WASI_ENOTDIR when it is something else,
 * WASI_ENOENT when it does not exist. */
wasi_errno resolved_check_dir(const resolved_path *resolved);

#endif
