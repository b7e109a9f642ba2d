/* Reading choices from the input bytes (gen_input.h). */
#include "gen_input.h"

uint8_t gen_u8(gen_input *in) {
    if (in->left == 0) return 0;
    in->left--;
    return *in->bytes++;
}

uint32_t gen_u32(gen_input *in) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)gen_u8(in) << (8 * i);
    return v;
}

uint64_t gen_u64(gen_input *in) {
    uint64_t lo = gen_u32(in);
    return lo | (uint64_t)gen_u32(in) << 32;
}

uint64_t gen_below(gen_input *in, uint64_t n) {
    if (n <= 1) return 0;
    if (n <= 256) return gen_u8(in) % n;
    if (n <= UINT32_MAX) return gen_u32(in) % n;
    return gen_u64(in) % n;
}

uint64_t gen_range(gen_input *in, uint64_t lo, uint64_t hi) {
    if (hi <= lo) return lo;
    if (hi - lo == UINT64_MAX) return gen_u64(in);
    return lo + gen_below(in, hi - lo + 1);
}

bool gen_chance(gen_input *in, unsigned num, unsigned den) {
    /* Counted from the top so that a zero byte means "no". */
    return gen_below(in, den) >= (uint64_t)den - num;
}
