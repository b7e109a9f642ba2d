/* Reading the binary format: bytes, LEB128 integers, floats and names, with the bounds and
 * encoding checks the spec requires. A reader that fails records the spec test suite's text for the
 * failure and the offset; later reads keep failing, so callers may check once after a run of reads.
 */
#ifndef WAFER_READER_H
#define WAFER_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct reader {
    const uint8_t *start; /* of the whole module, for offsets in messages */
    const uint8_t *p;
    const uint8_t *end;
    const char *error; /* NULL while all reads succeeded */
    size_t error_offset;
} reader;

static inline reader reader_make(const uint8_t *start, const uint8_t *p, const uint8_t *end) {
    reader r = {start, p, end, NULL, 0};
    return r;
}

/* Records the first failure only. Returns false so callers can `return reader_fail(...)`. */
bool reader_fail(reader *r, const char *message);

static inline size_t reader_offset(const reader *r) { return (size_t)(r->p - r->start); }
static inline size_t reader_remaining(const reader *r) { return (size_t)(r->end - r->p); }
static inline bool reader_at_end(const reader *r) { return r->p >= r->end; }

bool reader_u8(reader *r, uint8_t *out);
bool reader_u32(reader *r, uint32_t *out); /* unsigned LEB128, at most 5 bytes */
bool reader_u64(reader *r, uint64_t *out); /* unsigned LEB128, at most 10 bytes */
bool reader_s32(reader *r, int32_t *out);
bool reader_s33(reader *r, int64_t *out); /* block types */
bool reader_s64(reader *r, int64_t *out);
bool reader_f32(reader *r, uint32_t *bits);
bool reader_f64(reader *r, uint64_t *bits);
/* Takes len bytes; *out points into the input. "unexpected end" if fewer remain. */
bool reader_bytes(reader *r, size_t len, const uint8_t **out);
/* A length-prefixed name; checks it is valid UTF-8 ("malformed UTF-8 encoding"). */
bool reader_name(reader *r, const char **bytes, size_t *len);

bool utf8_valid(const uint8_t *s, size_t len);

#endif
