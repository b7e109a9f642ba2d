/* Fuzzer bytes read as choices, for the targets that build focused module shapes (memory64_bounds,
 * multi_memory_pool, pool_isolation).
 *
 * What it promises: reading never fails; once the bytes run out every read returns 0, so any
 * prefix of an input is a valid, shorter input and libFuzzer's truncations stay meaningful.
 */
#ifndef WAFER_SHAPE_INPUT_H
#define WAFER_SHAPE_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct shape_input {
    const uint8_t *data;
    size_t size;
    size_t pos;
} shape_input;

void shape_input_init(shape_input *in, const uint8_t *data, size_t size);
bool shape_input_empty(const shape_input *in);
uint8_t shape_u8(shape_input *in);
uint16_t shape_u16(shape_input *in);
uint32_t shape_u32(shape_input *in);
uint64_t shape_u64(shape_input *in);
bool shape_bool(shape_input *in);
/* A number in [0, n): one byte for n <= 256, else as many as needed. n must be > 0. */
uint32_t shape_below(shape_input *in, uint32_t n);
/* Copies up to len bytes (zeros past the end). */
void shape_fill(shape_input *in, uint8_t *out, size_t len);

#endif
