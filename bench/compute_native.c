/* The native peer of the compute benchmarks: linked with one program of bench/programs (built with
 * gcc -O2), calls its `run` once and prints the checksum in decimal. */
#include <inttypes.h>
#include <stdio.h>

uint64_t run(void);

int main(void) {
    printf("%" PRIu64 "\n", run());
    return 0;
}
