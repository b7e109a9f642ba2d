/* The growing text buffer: see text_buf.h. */
#include "text_buf.h"

#include <stdlib.h>
#include <string.h>

bool text_buf_append(text_buf *buf, const char *bytes, size_t n) {
    if (buf->len + n + 1 > buf->capacity) {
        size_t capacity = buf->capacity ? buf->capacity : 4096;
        while (capacity < buf->len + n + 1) capacity *= 2;
        char *data = realloc(buf->data, capacity);
        if (!data) return false;
        buf->data = data;
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->len, bytes, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return true;
}
