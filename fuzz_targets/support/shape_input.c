/* Fuzzer bytes read as choices: see shape_input.h. */
#include "support/shape_input.h"

#include <string.h>

void shape_input_init(shape_input *in, const uint8_t *data, size_t size) {
    in->data = data;
    in->size = size;
    in->pos = 0;
}

bool shape_input_empty(const shape_input *in) { return in->pos >= in->size; }

uint8_t shape_u8(shape_input *in) { return in->pos < in->size ? in->data[in->pos++] : 0; }

/* Little endian, so a short tail still gives the low bytes. */
static uint64_t read_le(shape_input *in, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) v |= (uint64_t)shape_u8(in) << (8 * i);
    return v;
}

uint16_t shape_u16(shape_input *in) { return (uint16_t)read_le(in, 2); }
uint32_t shape_u32(shape_input *in) { return (uint32_t)read_le(in, 4); }
uint64_t shape_u64(shape_input *in) { return read_le(in, 8); }
bool shape_bool(shape_input *in) { return shape_u8(in) & 1; }

uint32_t shape_below(shape_input *in, uint32_t n) {
    if (n <= 256) return shape_u8(in) % n;
    if (n <= 65536) return shape_u16(in) % n;
    return shape_u32(in) % n;
}

void shape_fill(shape_input *in, uint8_t *out, size_t len) {
    size_t left = in->pos < in->size ? in->size - in->pos : 0;
    size_t n = len < left ? len : left;
    if (n) memcpy(out, in->data + in->pos, n);
    memset(out + n, 0, len - n);
    in->pos += n;
}
