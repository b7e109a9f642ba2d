/* The wasm2c peer of the compute benchmarks: linked with wasm2c's translation of one benchmark
 * (module.c, module name "bench", symbols as wabt 1.0.32 names them) and wasm2c's runtime
 * (/usr/src/wasm2c/wasm-rt-impl.c); instantiates it, calls `run` once and prints the checksum
 * in decimal. */
#include <inttypes.h>
#include <stdio.h>

#include "module.h"

int main(void) {
    wasm_rt_init();
    Z_bench_init_module();
    Z_bench_instance_t instance;
    Z_bench_instantiate(&instance);
    printf("%" PRIu64 "\n", Z_benchZ_run(&instance));
    Z_bench_free(&instance);
    wasm_rt_free();
    return 0;
}
