/* done: in waves of 1000, make a channel and a coroutine parked in chrecv on it, then close the
   coroutine (cancelling the parked call) and both ends; ns per coroutine with its channel. */
#include <libdill.h>
#include "bench.h"

#define WAVE 1000

coroutine void reader(int ch) {
    long v;
    chrecv(ch, &v, sizeof(v), -1); /* fails with ECANCELED when closed */
}

static double measure(long n, long param) {
    (void)param;
    static int hs[WAVE], ends[WAVE][2];
    int64_t t = bench_ns();
    for (long done = 0; done < n; done += WAVE) {
        for (int k = 0; k < WAVE; k++) {
            bench_check(chmake(ends[k]) == 0, "chmake");
            hs[k] = go(reader(ends[k][0]));
            bench_check(hs[k] >= 0, "go");
        }
        yield(); /* as in the TypeScript workload; every reader is parked already */
        for (int k = 0; k < WAVE; k++) {
            bench_check(hclose(hs[k]) == 0, "hclose");
            hclose(ends[k][1]);
            hclose(ends[k][0]);
        }
    }
    long total = (n + WAVE - 1) / WAVE * WAVE;
    return (double)(bench_ns() - t) / (double)total;
}

BENCH_MAIN(measure)
