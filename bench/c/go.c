/* go + hclose: launch an empty coroutine and close its handle, n times; ns per coroutine.
   libdill's go() switches to the new coroutine at once, so the worker has run when go() returns. */
#include <libdill.h>
#include "bench.h"

coroutine void empty(void) {}

static double measure(long n, long param) {
    (void)param;
    int64_t t = bench_ns();
    for (long i = 0; i < n; i++) {
        int h = go(empty());
        bench_check(h >= 0, "go");
        bench_check(hclose(h) == 0, "hclose");
    }
    return (double)(bench_ns() - t) / (double)n;
}

BENCH_MAIN(measure)
