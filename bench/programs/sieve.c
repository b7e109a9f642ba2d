/* Integer loops over memory: the sieve of Eratosthenes on a byte array, repeated. Each round
 * marks with its own number, so no round spends its time clearing the array. */
#include "bench.h"

#define LIMIT (1u << 20)
#define ROUNDS 16

static uint8_t mark[LIMIT];

BENCH_RUN {
    uint64_t sum = 0;
    for (uint32_t round = 1; round <= ROUNDS; round++) {
        uint32_t limit = LIMIT - round * 1000, count = 0;
        for (uint32_t i = 2; i < limit; i++) {
            if (mark[i] == round)
                continue;
            count++;
            sum += i;
            for (uint32_t j = i * 2; j < limit; j += i)
                mark[j] = (uint8_t)round;
        }
        sum = sum * 1000003 + count;
    }
    return sum;
}
