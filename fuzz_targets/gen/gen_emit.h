/* Binary encoding helpers: a growable byte buffer with LEB128, floats, names and sections.
 * Allocation failure is sticky: the buffer records it and ignores later writes, so encoders
 * check once at the end (gen_buf.failed). */
#ifndef WAFER_GEN_EMIT_H
#define WAFER_GEN_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gen_buf {
    uint8_t *bytes;
    size_t len, cap;
    bool failed;
} gen_buf;

void gen_buf_free(gen_buf *b);
void gen_byte(gen_buf *b, uint8_t v);
void gen_bytes(gen_buf *b, const uint8_t *p, size_t n);
void gen_uleb(gen_buf *b, uint64_t v);
void gen_sleb(gen_buf *b, int64_t v);
void gen_f32_bits(gen_buf *b, uint32_t bits);
void gen_f64_bits(gen_buf *b, uint64_t bits);
void gen_name(gen_buf *b, const char *s);
/* Appends section id with content's bytes (size-prefixed) and empties content. */
void gen_section(gen_buf *out, uint8_t id, gen_buf *content);

#endif
