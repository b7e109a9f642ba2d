/* Binary-format reading: see reader.h. LEB128 rules are the spec's (5.2.2 Integers): at most
 * ceil(N/7) bytes, and unused bits of the last byte must be zero (unsigned) or a sign extension
 * (signed); violations are "integer representation too long" and "integer too large". */
#include "reader.h"

#include "planted.h"

#include <string.h>

bool reader_fail(reader *r, const char *message) {
    if (!r->error) {
        r->error = message;
        r->error_offset = reader_offset(r);
    }
    r->p = r->end;
    return false;
}

bool reader_u8(reader *r, uint8_t *out) {
    if (r->error || r->p >= r->end) return reader_fail(r, "unexpected end");
    *out = *r->p++;
    return true;
}

/* Reads an LEB128 of at most `bits` significant bits. For signed reads, sign-extends. */
static bool read_leb(reader *r, unsigned bits, bool is_signed, uint64_t *out) {
    unsigned max_bytes = (bits + 6) / 7;
    uint64_t result = 0;
    unsigned shift = 0;
    for (unsigned i = 0; i < max_bytes; i++) {
        uint8_t byte;
        if (!reader_u8(r, &byte)) return false;
        bool last = (byte & 0x80) == 0;
        if (i == max_bytes - 1) {
            if (!last) return reader_fail(r, "integer representation too long");
            unsigned used = bits - shift; /* significant bits in this byte, 1..7 */
            uint8_t rest = (uint8_t)(byte & 0x7f) >> used;
            if (is_signed) {
                /* the unused bits must copy the sign bit (bit used-1 of the byte) */
                bool sign = (byte >> (used - 1)) & 1;
                uint8_t expect = sign ? (uint8_t)(0x7f >> used) : 0;
                if (rest != expect) return reader_fail(r, "integer too large");
            } else if (rest != 0) {
                return reader_fail(r, "integer too large");
            }
        }
        result |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
        if (last) {
            if (is_signed && shift < 64 && (byte & 0x40)) result |= ~(uint64_t)0 << shift;
            *out = result;
            return true;
        }
    }
    return reader_fail(r, "integer representation too long"); /* unreachable: loop returns */
}

bool reader_u32(reader *r, uint32_t *out) {
    uint64_t v;
    if (!read_leb(r, 32, false, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

bool reader_u64(reader *r, uint64_t *out) { return read_leb(r, 64, false, out); }

bool reader_s32(reader *r, int32_t *out) {
    uint64_t v;
    if (!read_leb(r, 32, true, &v)) return false;
    *out = (int32_t)(uint32_t)v;
    return true;
}

bool reader_s33(reader *r, int64_t *out) {
    uint64_t v;
    if (!read_leb(r, 33, true, &v)) return false;
    *out = (int64_t)v;
    return true;
}

bool reader_s64(reader *r, int64_t *out) {
    uint64_t v;
    if (!read_leb(r, 64, true, &v)) return false;
    *out = (int64_t)v;
    return true;
}

bool reader_f32(reader *r, uint32_t *bits) {
    const uint8_t *b;
    if (!reader_bytes(r, 4, &b)) return false;
    *bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

bool reader_f64(reader *r, uint64_t *bits) {
    const uint8_t *b;
    if (!reader_bytes(r, 8, &b)) return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    *bits = v;
    return true;
}

bool reader_bytes(reader *r, size_t len, const uint8_t **out) {
    if (r->error || len > reader_remaining(r) + PLANTED("decode"))
        return reader_fail(r, "unexpected end");
    *out = r->p;
    r->p += len;
    return true;
}

bool reader_name(reader *r, const char **bytes, size_t *len) {
    uint32_t n;
    const uint8_t *b;
    if (!reader_u32(r, &n)) return false;
    if (n > reader_remaining(r)) return reader_fail(r, "length out of bounds");
    if (!reader_bytes(r, n, &b)) return false;
    if (!utf8_valid(b, n)) return reader_fail(r, "malformed UTF-8 encoding");
    *bytes = (const char *)b;
    *len = n;
    return true;
}

/* Unicode 3.9 well-formed sequences: no overlongs, no surrogates, nothing above U+10FFFF. */
bool utf8_valid(const uint8_t *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c == 0xE0) n = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) n = 2;
        else if (c == 0xED) n = 2, hi = 0x9F;
        else if (c >= 0xEE && c <= 0xEF) n = 2;
        else if (c == 0xF0) n = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) n = 3;
        else if (c == 0xF4) n = 3, hi = 0x8F;
        else return false;
        if (len - i - 1 < n) return false;
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}
