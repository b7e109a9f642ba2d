/* args_* and environ_*: the program's arguments and environment, as lists of NUL-terminated
 * strings written into guest memory (witx: args_get(argv, argv_buf), args_sizes_get). */
#include "calls.h"

#include <string.h>

/* Writes the list's pointers at ptrs and its strings at buf. Both areas are checked whole before
 * anything is written, so a bad pointer leaves memory as it was. */
static wasi_errno list_get(const string_list *list, const guest_memory *mem, uint32_t ptrs,
                           uint32_t buf) {
    if (list->count > UINT32_MAX || list->bytes > UINT32_MAX) return WASI_EOVERFLOW;
    uint8_t *ptr_area = guest_array(mem, ptrs, (uint32_t)list->count, 4);
    uint8_t *buf_area = guest_span(mem, buf, list->bytes);
    if (!ptr_area || !buf_area) return WASI_EFAULT;
    uint64_t offset = 0;
    for (size_t i = 0; i < list->count; i++) {
        size_t len = strlen(list->items[i]) + 1;
        guest_put_u32(ptr_area + 4 * i, (uint32_t)(buf + offset));
        memmove(buf_area + offset, list->items[i], len);
        offset += len;
    }
    return WASI_ESUCCESS;
}

static wasi_errno list_sizes(const string_list *list, const guest_memory *mem, uint32_t count_ptr,
                             uint32_t bytes_ptr) {
    if (list->count > UINT32_MAX || list->bytes > UINT32_MAX) return WASI_EOVERFLOW;
    uint8_t *count_at = guest_span(mem, count_ptr, 4), *bytes_at = guest_span(mem, bytes_ptr, 4);
    if (!count_at || !bytes_at) return WASI_EFAULT;
    guest_put_u32(count_at, (uint32_t)list->count);
    guest_put_u32(bytes_at, (uint32_t)list->bytes);
    return WASI_ESUCCESS;
}

WASI_IMPL(args_get) { return list_get(&wasi->args, mem, ARG32(0), ARG32(1)); }
WASI_IMPL(args_sizes_get) { return list_sizes(&wasi->args, mem, ARG32(0), ARG32(1)); }
WASI_IMPL(environ_get) { return list_get(&wasi->environ, mem, ARG32(0), ARG32(1)); }
WASI_IMPL(environ_sizes_get) { return list_sizes(&wasi->environ, mem, ARG32(0), ARG32(1)); }
