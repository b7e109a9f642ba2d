/* Binary encoding helpers (gen_emit.h). */
#include "gen_emit.h"

#include <stdlib.h>
#include <string.h>

void gen_buf_free(gen_buf *b) {
    free(b->bytes);
    *b = (gen_buf){0};
}

static bool reserve(gen_buf *b, size_t n) {
    if (b->failed) return false;
    if (b->cap - b->len >= n) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n) cap *= 2;
    uint8_t *p = realloc(b->bytes, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->bytes = p;
    b->cap = cap;
    return true;
}

void gen_byte(gen_buf *b, uint8_t v) {
    if (reserve(b, 1)) b->bytes[b->len++] = v;
}

void gen_bytes(gen_buf *b, const uint8_t *p, size_t n) {
    if (n && reserve(b, n)) {
        memcpy(b->bytes + b->len, p, n);
        b->len += n;
    }
}

void gen_uleb(gen_buf *b, uint64_t v) {
    do {
        uint8_t byte = v & 0x7F;
        v >>= 7;
        gen_byte(b, byte | (v ? 0x80 : 0));
    } while (v);
}

void gen_sleb(gen_buf *b, int64_t v) {
    for (;;) {
        uint8_t byte = (uint8_t)(v & 0x7F);
        v >>= 7; /* arithmetic shift: gcc and clang define it for negative values */
        bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        gen_byte(b, byte | (done ? 0 : 0x80));
        if (done) return;
    }
}

void gen_f32_bits(gen_buf *b, uint32_t bits) {
    for (int i = 0; i < 4; i++) gen_byte(b, (uint8_t)(bits >> (8 * i)));
}

void gen_f64_bits(gen_buf *b, uint64_t bits) {
    for (int i = 0; i < 8; i++) gen_byte(b, (uint8_t)(bits >> (8 * i)));
}

void gen_name(gen_buf *b, const char *s) {
    size_t n = strlen(s);
    gen_uleb(b, n);
    gen_bytes(b, (const uint8_t *)s, n);
}

void gen_section(gen_buf *out, uint8_t id, gen_buf *content) {
    gen_byte(out, id);
    gen_uleb(out, content->len);
    gen_bytes(out, content->bytes, content->len);
    if (content->failed) out->failed = true;
    content->len = 0;
}
