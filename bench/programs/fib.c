/* Recursive calls: naive Fibonacci, nothing but calls, compares and adds. */
#include "bench.h"

#define N 35

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

BENCH_RUN {
    uint64_t sum = 0;
    for (uint32_t i = N - 3; i <= N; i++)
        sum = sum * 31 + fib(i);
    return sum;
}
