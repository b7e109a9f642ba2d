/* Checked access to guest memory: see guest.h. */
#include "guest.h"

#include <stdlib.h>
#include <string.h>

uint8_t *guest_span(const guest_memory *mem, uint32_t ptr, uint64_t len) {
    /* ptr < 2^32 and len < 2^38 (guest_array's largest product), so the sum cannot wrap. */
    if ((uint64_t)ptr + len > mem->size) return NULL;
    return mem->base + ptr;
}

uint8_t *guest_array(const guest_memory *mem, uint32_t ptr, uint32_t count, uint32_t elem_size) {
    return guest_span(mem, ptr, (uint64_t)count * elem_size);
}

void guest_put_u8(uint8_t *at, uint8_t value) { at[0] = value; }

void guest_put_u16(uint8_t *at, uint16_t value) {
    at[0] = (uint8_t)value;
    at[1] = (uint8_t)(value >> 8);
}

void guest_put_u32(uint8_t *at, uint32_t value) {
    for (int i = 0; i < 4; i++) at[i] = (uint8_t)(value >> (8 * i));
}

void guest_put_u64(uint8_t *at, uint64_t value) {
    for (int i = 0; i < 8; i++) at[i] = (uint8_t)(value >> (8 * i));
}

uint16_t guest_get_u16(const uint8_t *at) { return (uint16_t)(at[0] | (unsigned)at[1] << 8); }

uint32_t guest_get_u32(const uint8_t *at) {
    uint32_t value = 0;
    for (int i = 3; i >= 0; i--) value = value << 8 | at[i];
    return value;
}

uint64_t guest_get_u64(const uint8_t *at) {
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--) value = value << 8 | at[i];
    return value;
}

wasi_errno guest_store_u32(const guest_memory *mem, uint32_t ptr, uint32_t value) {
    uint8_t *at = guest_span(mem, ptr, 4);
    if (!at) return WASI_EFAULT;
    guest_put_u32(at, value);
    return WASI_ESUCCESS;
}

wasi_errno guest_store_u64(const guest_memory *mem, uint32_t ptr, uint64_t value) {
    uint8_t *at = guest_span(mem, ptr, 8);
    if (!at) return WASI_EFAULT;
    guest_put_u64(at, value);
    return WASI_ESUCCESS;
}

wasi_errno guest_string(const guest_memory *mem, uint32_t ptr, uint32_t len, size_t max_len,
                        char **out) {
    *out = NULL;
    const uint8_t *bytes = guest_span(mem, ptr, len);
    if (!bytes) return WASI_EFAULT;
    if (len > max_len) return WASI_ENAMETOOLONG;
    if (memchr(bytes, '\0', len)) return WASI_EINVAL;
    char *copy = malloc((size_t)len + 1);
    if (!copy) return WASI_ENOMEM;
    memcpy(copy, bytes, len);
    copy[len] = '\0';
    *out = copy;
    return WASI_ESUCCESS;
}
