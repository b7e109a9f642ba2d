/* A compute-bound program: SHA-256 (with its padding, checked on FIPS 180-4's "abc") over
 * generated data, qsort, a Mandelbrot set in double precision, an LZ77 round trip and libm, each
 * printing through stdio a checksum or a value that any change in integer, float or memory
 * semantics would alter. argv[1] scales the work (default 1), for timing runs; the test runs it
 * at 1. (bench/programs, run as commands beside it, covers n-body and the rest.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t xorshift(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* SHA-256, FIPS 180-4. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256(const unsigned char *data, size_t len, unsigned char out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    size_t full = len / 64 * 64;
    for (size_t i = 0; i < full; i += 64) sha256_block(h, data + i);
    unsigned char tail[128] = {0};
    size_t rest = len - full;
    memcpy(tail, data + full, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t i = 0; i < tail_len; i += 64) sha256_block(h, tail + i);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

static void print_digest(const char *what, const unsigned char d[32]) {
    printf("%s ", what);
    for (int i = 0; i < 32; i++) printf("%02x", d[i]);
    printf("\n");
}

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void mandelbrot(int w, int h) {
    uint32_t check = 0;
    long inside = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double cr = 2.0 * x / w - 1.5, ci = 2.0 * y / h - 1.0, zr = 0, zi = 0;
            int it = 0;
            while (it < 200 && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                it++;
            }
            inside += it == 200;
            check = check * 31 + (uint32_t)it;
        }
    printf("mandelbrot %dx%d: %ld points inside, checksum %08x\n", w, h, inside, check);
}

/* LZ77 with a 4 KiB window and a hash of three bytes: token 0 is a literal byte, token 1 a match
 * (distance, length). The round trip must give the input back. */
static size_t lz_compress(const unsigned char *in, size_t n, unsigned char *out) {
    static int32_t head[4096];
    for (int i = 0; i < 4096; i++) head[i] = -1;
    size_t o = 0, i = 0;
    while (i < n) {
        size_t best_len = 0, best_dist = 0;
        if (i + 3 <= n) {
            unsigned hash = (in[i] * 2654435761u ^ in[i + 1] * 40503u ^ in[i + 2]) & 4095;
            int32_t cand = head[hash];
            head[hash] = (int32_t)i;
            if (cand >= 0 && i - (size_t)cand < 4096) {
                size_t len = 0;
                while (i + len < n && len < 255 && in[cand + len] == in[i + len]) len++;
                if (len >= 4) { best_len = len; best_dist = i - (size_t)cand; }
            }
        }
        if (best_len) {
            out[o++] = 1; out[o++] = (unsigned char)(best_dist >> 8); out[o++] = (unsigned char)best_dist;
            out[o++] = (unsigned char)best_len;
            i += best_len;
        } else {
            out[o++] = 0; out[o++] = in[i++];
        }
    }
    return o;
}

static size_t lz_decompress(const unsigned char *in, size_t n, unsigned char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (in[i] == 0) { out[o++] = in[i + 1]; i += 2; continue; }
        size_t dist = (size_t)in[i + 1] << 8 | in[i + 2], len = in[i + 3];
        for (size_t k = 0; k < len; k++, o++) out[o] = out[o - dist];
        i += 4;
    }
    return o;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1) scale = 1;

    size_t size = (size_t)scale << 20;
    unsigned char *data = malloc(size);
    for (size_t i = 0; i < size; i += 8) {
        uint64_t r = xorshift();
        memcpy(data + i, &r, 8);
    }
    unsigned char digest[32];
    sha256((const unsigned char *)"abc", 3, digest);
    print_digest("sha256(abc)", digest);
    sha256(data, size, digest);
    print_digest("sha256(random MiBs)", digest);

    size_t count = (size_t)scale * 200000;
    uint32_t *keys = malloc(count * sizeof *keys);
    for (size_t i = 0; i < count; i++) keys[i] = (uint32_t)xorshift();
    qsort(keys, count, sizeof *keys, compare_u32);
    uint64_t sorted_sum = 0;
    int ordered = 1;
    for (size_t i = 0; i < count; i++) {
        sorted_sum = sorted_sum * 1000003 + keys[i];
        if (i && keys[i - 1] > keys[i]) ordered = 0;
    }
    printf("sorted %zu keys: %s, checksum %016llx\n", count, ordered ? "ordered" : "NOT ORDERED",
           (unsigned long long)sorted_sum);

    mandelbrot(160 * scale, 120);

    /* Compressible text: words drawn from a small vocabulary. */
    static const char *const words[] = {"wasm ", "runtime ", "sandbox ", "module ", "memory ",
                                        "table ", "trap ", "import ", "export ", "\n"};
    size_t text_len = (size_t)scale * 400000;
    unsigned char *text = malloc(text_len + 16), *packed = malloc(text_len * 2 + 16);
    unsigned char *unpacked = malloc(text_len + 16);
    size_t t = 0;
    while (t < text_len) {
        const char *w = words[xorshift() % 10];
        size_t l = strlen(w);
        if (t + l > text_len) l = text_len - t;
        memcpy(text + t, w, l);
        t += l;
    }
    size_t packed_len = lz_compress(text, text_len, packed);
    size_t unpacked_len = lz_decompress(packed, packed_len, unpacked);
    printf("lz77: %zu -> %zu bytes, round trip %s\n", text_len, packed_len,
           unpacked_len == text_len && memcmp(text, unpacked, text_len) == 0 ? "exact" : "BROKEN");
    sha256(packed, packed_len, digest);
    print_digest("sha256(packed)", digest);
    printf("libm: sin(1)=%.17g exp(-2.5)=%.17g pow(2,0.5)=%.17g log1p(1e-9)=%.17g\n", sin(1.0),
           exp(-2.5), pow(2, 0.5), log1p(1e-9));
    free(data); free(keys); free(text); free(packed); free(unpacked);
    return 0;
}
