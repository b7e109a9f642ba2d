/* The guest's linear memory as a WASI call sees it. What it promises:
 * - No byte outside [base, base + size) is ever read or written: every pointer and length from the
 *   guest goes through guest_span (or a helper built on it), which checks ptr + len <= size in
 *   64-bit arithmetic, where a 32-bit pointer plus a 32-bit length (or a count times an element
 *   size below 2^32) cannot wrap.
 * - Values are read and written little-endian byte by byte, so no pointer needs any alignment
 *   (the witx aligns its structs, but guests are not trusted to).
 * The view is taken when a call starts and stays valid for it: memory grows only by wasm code,
 * which does not run while a WASI function does.
 */
#ifndef WAFER_WASI_GUEST_H
#define WAFER_WASI_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

typedef struct guest_memory {
    uint8_t *base;
    uint64_t size; /* bytes */
} guest_memory;

/* The bytes [ptr, ptr + len) of memory, or NULL if any of them lies outside. A span of length 0
 * is valid at any ptr <= size (it is never dereferenced). */
uint8_t *guest_span(const guest_memory *mem, uint32_t ptr, uint64_t len);
/* count elements of elem_size bytes at ptr; count * elem_size is computed without overflow. */
uint8_t *guest_array(const guest_memory *mem, uint32_t ptr, uint32_t count, uint32_t elem_size);

void guest_put_u8(uint8_t *at, uint8_t value);
void guest_put_u16(uint8_t *at, uint16_t value);
void guest_put_u32(uint8_t *at, uint32_t value);
void guest_put_u64(uint8_t *at, uint64_t value);
uint16_t guest_get_u16(const uint8_t *at);
uint32_t guest_get_u32(const uint8_t *at);
uint64_t guest_get_u64(const uint8_t *at);

/* Stores value at guest address ptr: WASI_EFAULT if it does not fit, else WASI_ESUCCESS. */
wasi_errno guest_store_u32(const guest_memory *mem, uint32_t ptr, uint32_t value);
wasi_errno guest_store_u64(const guest_memory *mem, uint32_t ptr, uint64_t value);

/* A guest string (ptr, len: not NUL-terminated) copied out as a NUL-terminated host string the
 * caller frees. Errors: WASI_EFAULT (out of bounds), WASI_EINVAL (a NUL byte inside: a host path
 * cannot hold one), WASI_ENAMETOOLONG (longer than max_len), WASI_ENOMEM. */
wasi_errno guest_string(const guest_memory *mem, uint32_t ptr, uint32_t len, size_t max_len,
                        char **out);

#endif
