/* done: ns per cancelled coroutine with its channel, in one of two shapes.
   PARAM 0, as libdill's perf/done.c: make a channel, launch a coroutine that reads from it until
   EPIPE (it runs at once and parks in chrecv), chdone() the other end, hclose the coroutine and
   both ends; one coroutine at a time. (perf/done.c prints its total divided by twice the number of
   coroutines; this prints the time per coroutine.)
   PARAM > 0: in waves of PARAM, each coroutine parked in chrecv is cancelled by hclose (no
   chdone); waves of at most 64 stay within libdill's cache of 64 stacks. */
#include <errno.h>
#include <libdill.h>
#include "bench.h"

coroutine void drain(int ch) {
    long v;
    for (;;)
        if (chrecv(ch, &v, sizeof(v), -1) != 0) return; /* EPIPE once chdone was called */
}

coroutine void reader(int ch) {
    long v;
    chrecv(ch, &v, sizeof(v), -1); /* fails with ECANCELED when closed */
}

static double measure(long n, long wave) {
    int64_t t = bench_ns();
    if (wave <= 0) {
        for (long i = 0; i < n; i++) {
            int ch[2];
            bench_check(chmake(ch) == 0, "chmake");
            int h = go(drain(ch[0]));
            bench_check(h >= 0, "go");
            bench_check(chdone(ch[1]) == 0, "chdone");
            bench_check(hclose(h) == 0, "hclose");
            hclose(ch[1]);
            hclose(ch[0]);
        }
        return (double)(bench_ns() - t) / (double)n;
    }
    int *hs = malloc(sizeof(int) * (size_t)wave);
    int (*ends)[2] = malloc(sizeof(*ends) * (size_t)wave);
    bench_check(hs != NULL && ends != NULL, "malloc");
    for (long done = 0; done < n; done += wave) {
        for (long k = 0; k < wave; k++) {
            bench_check(chmake(ends[k]) == 0, "chmake");
            hs[k] = go(reader(ends[k][0]));
            bench_check(hs[k] >= 0, "go");
        }
        bench_check(yield() == 0, "yield"); /* as in the TypeScript workload */
        for (long k = 0; k < wave; k++) {
            bench_check(hclose(hs[k]) == 0, "hclose");
            hclose(ends[k][1]);
            hclose(ends[k][0]);
        }
    }
    free(hs);
    free(ends);
    long total = (n + wave - 1) / wave * wave;
    return (double)(bench_ns() - t) / (double)total;
}

BENCH_MAIN(measure)
