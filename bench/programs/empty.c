/* No work: each engine's fixed cost (start-up, decoding, compiling, instantiation), measured
 * the same way as the benchmarks and left out of the geometric means. */
#include "bench.h"

BENCH_RUN { return 42; }
