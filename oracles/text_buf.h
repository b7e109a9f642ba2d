/* A growing text buffer for a child process's output (subprocess.c, coprocess.c): always
 * NUL-terminated after the first append, though it may hold other NULs (len counts them).
 */
#ifndef WAFER_ORACLE_TEXT_BUF_H
#define WAFER_ORACLE_TEXT_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct text_buf {
    char *data; /* malloc'd; the caller frees it */
    size_t len;
    size_t capacity;
} text_buf;

/* Appends n bytes; false when memory runs out (the buffer is left as it was). */
bool text_buf_append(text_buf *buf, const char *bytes, size_t n);

#endif
