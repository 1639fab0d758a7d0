/* go + hclose: launch a coroutine and close its handle, n times; ns per coroutine. libdill's go()
   switches to the new coroutine at once, which runs to its end (it counts itself, so that the
   program can check that every body ran) before go() returns; hclose then frees it.
   With PARAM > 0: in waves of PARAM, the handles of a wave closed after all of it was launched
   and one yield(); waves of at most 64 stay within libdill's cache of 64 stacks. */
#include <libdill.h>
#include "bench.h"

static long ran = 0;

coroutine void bump(void) {
    ran++;
}

static double measure(long n, long wave) {
    ran = 0;
    int64_t t = bench_ns();
    if (wave <= 0) {
        for (long i = 0; i < n; i++) {
            int h = go(bump());
            bench_check(h >= 0, "go");
            bench_check(hclose(h) == 0, "hclose");
        }
    } else {
        int *hs = malloc(sizeof(int) * (size_t)wave);
        bench_check(hs != NULL, "malloc");
        for (long done = 0; done < n; done += wave) {
            for (long k = 0; k < wave; k++) {
                hs[k] = go(bump());
                bench_check(hs[k] >= 0, "go");
            }
            bench_check(yield() == 0, "yield");
            for (long k = 0; k < wave; k++) bench_check(hclose(hs[k]) == 0, "hclose");
        }
        free(hs);
        n = (n + wave - 1) / wave * wave;
    }
    double ns = (double)(bench_ns() - t) / (double)n;
    bench_check(ran == n, "go: a worker did not run");
    return ns;
}

BENCH_MAIN(measure)
