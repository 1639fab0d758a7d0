/* ctxswitch: ns per switch, in one of two shapes.
   PARAM 0, as libdill's perf/ctxswitch.c: the main coroutine and one other call yield() in turn.
   PARAM 1: two coroutines of a bundle call yield() in turn while the main one waits for them. */
#include <libdill.h>
#include "bench.h"

coroutine void yielder(long n) {
    for (long i = 0; i < n; i++)
        if (yield() != 0) return;
}

static double measure(long n, long shape) {
    long half = n / 2;
    int64_t t, dt;
    if (shape == 0) {
        t = bench_ns();
        int h = go(yielder(half));
        bench_check(h >= 0, "go");
        for (long i = 0; i < half; i++) bench_check(yield() == 0, "yield");
        dt = bench_ns() - t;
        hclose(h);
    } else {
        int b = bundle();
        bench_check(b >= 0, "bundle");
        t = bench_ns();
        bench_check(bundle_go(b, yielder(half)) >= 0, "bundle_go");
        bench_check(bundle_go(b, yielder(half)) >= 0, "bundle_go");
        bench_check(bundle_wait(b, -1) == 0, "bundle_wait");
        dt = bench_ns() - t;
        hclose(b);
    }
    return (double)dt / (double)(2 * half);
}

BENCH_MAIN(measure)
