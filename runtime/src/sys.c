/* The OS memory calls with a counter and a one-shot failure per kind: see sys.h. The counters are
 * relaxed atomics, so threads instantiating in parallel pay one uncontended add per call. */
#include "sys.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t call_count[SYS_CALL_KINDS];
static uint64_t fail_at[SYS_CALL_KINDS]; /* the count at which a call fails; 0: none */

/* Counts a call of this kind and says whether it is the one to fail. */
static bool sys_should_fail(sys_call kind) {
    uint64_t n = __atomic_add_fetch(&call_count[kind], 1, __ATOMIC_RELAXED);
    uint64_t at = __atomic_load_n(&fail_at[kind], __ATOMIC_RELAXED);
    if (at == 0 || n != at) return false;
    __atomic_store_n(&fail_at[kind], 0, __ATOMIC_RELAXED);
    errno = ENOMEM;
    return true;
}

void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset) {
    if (sys_should_fail(SYS_MMAP)) return MAP_FAILED;
    return mmap(addr, len, prot, flags, fd, offset);
}

int sys_munmap(void *addr, size_t len) {
    if (sys_should_fail(SYS_MUNMAP)) return -1;
    return munmap(addr, len);
}

int sys_mprotect(void *addr, size_t len, int prot) {
    if (sys_should_fail(SYS_MPROTECT)) return -1;
    return mprotect(addr, len, prot);
}

int sys_madvise(void *addr, size_t len, int advice) {
    if (sys_should_fail(SYS_MADVISE)) return -1;
    return madvise(addr, len, advice);
}

int sys_memfd_create(const char *name, unsigned flags) {
    if (sys_should_fail(SYS_MEMFD_CREATE)) return -1;
    return memfd_create(name, flags);
}

int sys_ftruncate(int fd, off_t len) {
    if (sys_should_fail(SYS_FTRUNCATE)) return -1;
    return ftruncate(fd, len);
}

size_t sys_page_size(void) {
    static size_t cached;
    size_t size = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (size == 0) {
        long p = sysconf(_SC_PAGESIZE);
        size = p > 0 ? (size_t)p : 4096;
        __atomic_store_n(&cached, size, __ATOMIC_RELAXED);
    }
    return size;
}

void sys_fail_after(sys_call kind, uint64_t n) {
    uint64_t at = n == 0 ? 0 : __atomic_load_n(&call_count[kind], __ATOMIC_RELAXED) + n;
    __atomic_store_n(&fail_at[kind], at, __ATOMIC_RELAXED);
}

uint64_t sys_call_count(sys_call kind) {
    return __atomic_load_n(&call_count[kind], __ATOMIC_RELAXED);
}
