/* The operating system's memory calls, as the runtime makes them. Every mmap, munmap, mprotect,
 * madvise, memfd_create and ftruncate of runtime/src goes through these wrappers, so that tests
 * can count them and make one fail (DESIGN.md section 3: a failed reset aborts, a failure midway
 * through instantiation leaks nothing). They behave exactly as the calls they wrap; a call made to
 * fail returns that call's failure value with errno set to ENOMEM.
 */
#ifndef WAFER_SYS_H
#define WAFER_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum sys_call {
    SYS_MMAP,
    SYS_MUNMAP,
    SYS_MPROTECT,
    SYS_MADVISE,
    SYS_MEMFD_CREATE,
    SYS_FTRUNCATE,
    SYS_CALL_KINDS,
} sys_call;

void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset);
int sys_munmap(void *addr, size_t len);
int sys_mprotect(void *addr, size_t len, int prot);
int sys_madvise(void *addr, size_t len, int advice);
int sys_memfd_create(const char *name, unsigned flags);
int sys_ftruncate(int fd, off_t len);

/* The OS page size (what mmap and mprotect align to). */
size_t sys_page_size(void);

/* ---- Test seam ------------------------------------------------------------------------------ */

/* Makes the n-th call of this kind from now fail (n = 1: the next one), once; n = 0 disarms.
 * Process-wide: meant for single-threaded tests. */
void sys_fail_after(sys_call kind, uint64_t n);
/* Calls of this kind made so far (failed ones included), process-wide. */
uint64_t sys_call_count(sys_call kind);

#endif
