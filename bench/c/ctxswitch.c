/* ctxswitch: two coroutines calling yield() in turn; ns per switch. */
#include <libdill.h>
#include "bench.h"

coroutine void yielder(long n) {
    for (long i = 0; i < n; i++)
        if (yield() != 0) return;
}

static double measure(long n, long param) {
    (void)param;
    long half = n / 2;
    int b = bundle();
    bench_check(b >= 0, "bundle");
    int64_t t = bench_ns();
    bench_check(bundle_go(b, yielder(half)) >= 0, "bundle_go");
    bench_check(bundle_go(b, yielder(half)) >= 0, "bundle_go");
    bench_check(bundle_wait(b, -1) == 0, "bundle_wait");
    int64_t dt = bench_ns() - t;
    hclose(b);
    return (double)dt / (double)(2 * half);
}

BENCH_MAIN(measure)
