/* The generator's source of choices: the input bytes read front to back. Once they run out every
 * read returns zero, so choices made from an exhausted input are the smallest ones. */
#ifndef WAFER_GEN_INPUT_H
#define WAFER_GEN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gen_input {
    const uint8_t *bytes;
    size_t left;
} gen_input;

uint8_t gen_u8(gen_input *in);
uint32_t gen_u32(gen_input *in);
uint64_t gen_u64(gen_input *in);
/* A number in [0, n); 0 when n is 0. Reads one byte for n <= 256, else four or eight. */
uint64_t gen_below(gen_input *in, uint64_t n);
/* A number in [lo, hi] (lo when hi < lo). */
uint64_t gen_range(gen_input *in, uint64_t lo, uint64_t hi);
/* True with probability num/den; false on an exhausted input. */
bool gen_chance(gen_input *in, unsigned num, unsigned den);

#endif
