/* chan: ping-pong over two unbuffered channels with an echo coroutine; ns per message
   (half a round trip). */
#include <libdill.h>
#include "bench.h"

coroutine void echo(int in, int out) {
    long v;
    for (;;) {
        if (chrecv(in, &v, sizeof(v), -1) != 0) return;
        if (chsend(out, &v, sizeof(v), -1) != 0) return;
    }
}

static double measure(long n, long param) {
    (void)param;
    int a[2], b[2];
    bench_check(chmake(a) == 0, "chmake");
    bench_check(chmake(b) == 0, "chmake");
    int cr = go(echo(a[1], b[0]));
    bench_check(cr >= 0, "go");
    long trips = n / 2, v = 0;
    int64_t t = bench_ns();
    for (long i = 0; i < trips; i++) {
        bench_check(chsend(a[0], &v, sizeof(v), -1) == 0, "chsend");
        bench_check(chrecv(b[1], &v, sizeof(v), -1) == 0, "chrecv");
        v++;
    }
    int64_t dt = bench_ns() - t;
    hclose(cr);
    hclose(a[0]);
    hclose(a[1]);
    hclose(b[0]);
    hclose(b[1]);
    bench_check(v == trips, "chan: lost messages");
    return (double)dt / (double)(2 * trips);
}

BENCH_MAIN(measure)
