/* A float kernel over memory: dense double-precision matrix multiply, row by column. */
#include "bench.h"

#define N 360

static double a[N][N], b[N][N], c[N][N];

BENCH_RUN {
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (double)(bench_rand(&seed) % 2000) / 1000.0 - 1.0;
            b[i][j] = (double)(bench_rand(&seed) % 2000) / 1000.0 - 1.0;
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < N; k++)
                s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
    double trace = 0.0, total = 0.0;
    for (int i = 0; i < N; i++) {
        trace += c[i][i];
        for (int j = 0; j < N; j++)
            total += c[i][j];
    }
    return bench_bits(trace) ^ (bench_bits(total) * 3);
}
