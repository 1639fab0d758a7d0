/* choose: the chan ping-pong with every send and receive made through choose() with one
   clause; ns per message. */
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
    struct chclause out = {CHSEND, a[0], &v, sizeof(v)};
    struct chclause in = {CHRECV, b[1], &v, sizeof(v)};
    int64_t t = bench_ns();
    for (long i = 0; i < trips; i++) {
        bench_check(choose(&out, 1, -1) == 0, "choose send");
        bench_check(choose(&in, 1, -1) == 0, "choose recv");
        v++;
    }
    int64_t dt = bench_ns() - t;
    hclose(cr);
    hclose(a[0]);
    hclose(a[1]);
    hclose(b[0]);
    hclose(b[1]);
    bench_check(v == trips, "choose: lost messages");
    return (double)dt / (double)(2 * trips);
}

BENCH_MAIN(measure)
