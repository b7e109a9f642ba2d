/* What every compute benchmark promises: one function, `run`, that takes no arguments, computes
 * for a fixed amount of work set by constants in its file, and returns a 64-bit checksum that
 * depends on every result it computed. The same source builds freestanding for wasm32 (no libc:
 * only the compiler's own headers) and natively with gcc, so the checksums must agree. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

#ifdef __wasm__
#define BENCH_RUN __attribute__((export_name("run"))) uint64_t run(void)
#else
#define BENCH_RUN uint64_t run(void)
#endif

BENCH_RUN;

/* xorshift64: the programs' inputs, identical on every engine. */
static inline uint64_t bench_rand(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* A double's bits, so float checksums compare exactly. */
static inline uint64_t bench_bits(double d) {
    union { double d; uint64_t u; } v = { .d = d };
    return v.u;
}

#endif
