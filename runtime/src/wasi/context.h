/* What a WASI context holds (the struct behind wafer_wasi.h's handle), and the shape every WASI
 * function's implementation has. Internal to runtime/src/wasi.
 */
#ifndef WAFER_WASI_CONTEXT_H
#define WAFER_WASI_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "fd_table.h"
#include "guest.h"
#include "wafer_wasi.h"

/* A list of NUL-terminated strings as args_get and environ_get hand them out. */
typedef struct string_list {
    size_t count;
    char **items;
    uint64_t bytes; /* the sum of the lengths, NULs included */
} string_list;

/* One function of wasi_snapshot_preview1: its name, its type and its implementation, which gets
 * the arguments as unsigned 64-bit numbers (i32 ones zero-extended) and returns the errno. */
typedef wasi_errno (*wasi_impl)(wafer_wasi *wasi, const guest_memory *mem, const uint64_t *args);
typedef struct wasi_function {
    const char *name;
    const char *params; /* one letter per parameter: 'i' i32, 'I' i64 */
    bool returns_errno; /* false only for proc_exit, which returns nothing */
    wasi_impl impl;
} wasi_function;

/* functions.c: every function of preview 1, in the witx's order. */
extern const wasi_function wasi_functions[];
extern const size_t wasi_function_count;
#define WASI_FUNCTION_MAX 48

/* What a host function made for an import is bound to. */
typedef struct wasi_binding {
    wafer_wasi *wasi;
    const wasi_function *function;
} wasi_binding;

struct wafer_wasi {
    string_list args;
    string_list environ;
    fd_table fds;
    bool exited;
    uint32_t exit_code;
    wasi_binding bindings[WASI_FUNCTION_MAX];
};

#define ARG32(i) ((uint32_t)args[i])

#endif
