/* timer: n coroutines in a bundle, each sleeping until its own deadline 1-51 ms away in a
   scrambled order (the same sequence as the TypeScript workload); CPU ns per timer. */
#include <libdill.h>
#include "bench.h"

coroutine void sleeper(int64_t deadline) {
    msleep(deadline);
}

static double measure(long n, long param) {
    (void)param;
    int b = bundle();
    bench_check(b >= 0, "bundle");
    int64_t c = bench_cpu_ns();
    int64_t base = now() + 1;
    uint32_t x = 12345;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        bench_check(bundle_go(b, sleeper(base + (int64_t)(x % 51))) >= 0, "bundle_go");
    }
    bench_check(bundle_wait(b, -1) == 0, "bundle_wait");
    int64_t cpu = bench_cpu_ns() - c;
    hclose(b);
    return (double)cpu / (double)n;
}

BENCH_MAIN(measure)
