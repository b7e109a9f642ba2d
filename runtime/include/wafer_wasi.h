/* wafer_wasi: WASI preview 1 (wasi_snapshot_preview1) for wafer, built on wafer.h's embedding API.
 *
 * What it promises:
 * - Every function of wasi_snapshot_preview1 is provided with the type the witx gives it, and each
 *   returns the errno the witx numbers (never a host errno). Functions this implementation cannot
 *   support return the errno a real implementation without the capability would: proc_raise
 *   ENOSYS (signals are not delivered to guests), sock_accept/recv/send/shutdown EBADF for a
 *   closed descriptor and ENOTSOCK for any open one (no socket is ever given to the guest).
 * - Every pointer and length the guest passes is checked against its exported "memory" before
 *   use; out of bounds is WASI_EFAULT (21), never a host fault.
 * - The guest reaches the host filesystem only through the preopened directories, and only what
 *   lies beneath them: absolute paths, ".." past a directory descriptor's root, and symbolic links
 *   whose targets are absolute or climb out are refused with ENOTCAPABLE (76); a chain of more than
 *   40 links is ELOOP. Paths are resolved one component at a time from the descriptor with
 *   O_NOFOLLOW, so a link swapped in during resolution is never followed blindly. Every directory
 *   descriptor, preopened or opened by the guest, is a root of its own.
 * - Rights are enforced: a descriptor lacking the right an operation needs gives ENOTCAPABLE, and
 *   path_open cannot grant rights the directory's inheriting rights lack.
 * - proc_exit ends the program cleanly: the call traps out of wasm, and wafer_wasi_exit_code then
 *   says the program exited and with which status, which an embedder reports as an exit, not as a
 *   trap (wafer_wasi_run_start does this).
 * A context serves one program (one instance): it owns the descriptor table.
 */
#ifndef WAFER_WASI_H
#define WAFER_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wafer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wafer_wasi wafer_wasi;

/* A host directory the guest sees as a preopened descriptor named guest_path. */
typedef struct wafer_wasi_preopen {
    const char *host_path;
    const char *guest_path;
} wafer_wasi_preopen;

typedef struct wafer_wasi_config {
    size_t argc;
    const char *const *argv;    /* argv[0] is the program's name as the guest sees it */
    size_t envc;
    const char *const *environ; /* "NAME=VALUE" strings, given to the guest as they are */
    size_t npreopens;
    const wafer_wasi_preopen *preopens; /* descriptors 3, 4, ... in this order */
    /* Host descriptors for the guest's 0, 1 and 2: duplicated, so the guest closing them leaves
     * the embedder's open; -1 leaves that guest descriptor closed. */
    int stdin_fd, stdout_fd, stderr_fd;
} wafer_wasi_config;

/* Nothing given: no arguments, no environment, no preopens, stdio on the host's 0, 1 and 2. */
void wafer_wasi_config_default(wafer_wasi_config *config);

/* Copies the configuration and opens the preopened directories now: a directory that cannot be
 * opened is an error (WAFER_ERROR_RESOURCE, naming it), not a descriptor the guest misses. */
wafer_error *wafer_wasi_new(const wafer_wasi_config *config, wafer_wasi **out);
/* Closes every descriptor the context holds. The functions made by wafer_wasi_define_imports
 * point into the context: delete it only after the store that holds them. */
void wafer_wasi_delete(wafer_wasi *wasi);

/* For every import of module from "wasi_snapshot_preview1", makes a host function of store bound
 * to wasi and puts it in imports[i] (imports has one element per import of the module); other
 * imports are left as they are. An import of a name preview 1 lacks, or of another type than the
 * witx gives, is WAFER_ERROR_UNLINKABLE ("unknown import" / "incompatible import type"). */
wafer_error *wafer_wasi_define_imports(wafer_wasi *wasi, wafer_store *store,
                                       const wafer_module *module, wafer_extern *imports);

/* Whether the program called proc_exit, and if so with which status. */
bool wafer_wasi_exit_code(const wafer_wasi *wasi, uint32_t *code);

/* Calls the instance's "_start" (a WASI command). NULL when it returned (*exit_code 0) or called
 * proc_exit (*exit_code its status); otherwise the trap or error, which the caller frees. An
 * instance without a "_start" function is WAFER_ERROR_USAGE. */
wafer_error *wafer_wasi_run_start(wafer_wasi *wasi, wafer_store *store, wafer_instance *instance,
                                  uint32_t *exit_code);

#ifdef __cplusplus
}
#endif
#endif
