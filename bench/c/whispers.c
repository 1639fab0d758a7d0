/* whispers: a chain of n coroutines, each receiving a number from its right neighbour and
   passing it plus one to the left; ns per link, including its chmake and go. */
#include <libdill.h>
#include "bench.h"

coroutine void whisper(int left, int right) {
    long v;
    if (chrecv(right, &v, sizeof(v), -1) != 0) return;
    v++;
    chsend(left, &v, sizeof(v), -1);
}

static double measure(long n, long param) {
    (void)param;
    int (*ch)[2] = malloc(sizeof(*ch) * (size_t)(n + 1));
    int *hs = malloc(sizeof(int) * (size_t)n);
    bench_check(ch != NULL && hs != NULL, "malloc");
    int64_t t = bench_ns();
    for (long i = 0; i <= n; i++) bench_check(chmake(ch[i]) == 0, "chmake");
    /* Link i receives on channel i+1 and sends on channel i. */
    for (long i = 0; i < n; i++) {
        hs[i] = go(whisper(ch[i][0], ch[i + 1][1]));
        bench_check(hs[i] >= 0, "go");
    }
    long v = 1;
    bench_check(chsend(ch[n][0], &v, sizeof(v), -1) == 0, "chsend");
    bench_check(chrecv(ch[0][1], &v, sizeof(v), -1) == 0, "chrecv");
    int64_t dt = bench_ns() - t;
    bench_check(v == n + 1, "whispers: wrong result");
    for (long i = 0; i < n; i++) hclose(hs[i]);
    for (long i = 0; i <= n; i++) {
        hclose(ch[i][0]);
        hclose(ch[i][1]);
    }
    free(hs);
    free(ch);
    return (double)dt / (double)n;
}

BENCH_MAIN(measure)
