/* timer: n coroutines in a bundle, each sleeping until its own deadline 1-51 ms away in a
   scrambled order (bench_lcg: the same sequence as spread() in bench/lib.ts); CPU ns per timer.
   Beside it, "wallNs": the metric of libdill's perf/timer.c, the wall time from the first timer
   firing to the last, divided by n. */
#include <libdill.h>
#include "bench.h"

static int64_t first_wake = 0;

coroutine void sleeper(int64_t deadline) {
    msleep(deadline);
    if (first_wake == 0) first_wake = bench_ns();
}

static double measure(long n, long param) {
    (void)param;
    first_wake = 0;
    int b = bundle();
    bench_check(b >= 0, "bundle");
    int64_t c = bench_cpu_ns();
    int64_t base = now() + 1;
    uint32_t x = 12345;
    for (long i = 0; i < n; i++)
        bench_check(bundle_go(b, sleeper(base + (int64_t)(bench_lcg(&x) % 51))) >= 0, "bundle_go");
    bench_check(bundle_wait(b, -1) == 0, "bundle_wait");
    int64_t last = bench_ns();
    int64_t cpu = bench_cpu_ns() - c;
    hclose(b);
    bench_extra("wallNs", (double)(last - first_wake) / (double)n);
    return (double)cpu / (double)n;
}

BENCH_MAIN(measure)
