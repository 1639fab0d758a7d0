/* PREFIX ping-pong: one connection over a Unix socket with prefix_attach (a 4-byte size field,
   network byte order) on both ends, a 64-byte message each way per round trip, client and server
   as two coroutines of one process; round trips per second. */
#include <libdill.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"

#define MSG 64
#define HDRLEN 4

coroutine void pong(int ls, long n) {
    char buf[MSG];
    int s = ipc_accept(ls, -1);
    if (s < 0) return;
    s = prefix_attach(s, HDRLEN, 0);
    if (s < 0) return;
    for (long i = 0; i < n; i++) {
        ssize_t sz = mrecv(s, buf, MSG, -1);
        if (sz < 0) break;
        if (msend(s, buf, (size_t)sz, -1) != 0) break;
    }
    hclose(s);
}

static double measure(long n, long param) {
    (void)param;
    static int serial = 0;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/tsdill-bench-prefix-%d-%d.ipc", (int)getpid(), ++serial);
    unlink(path);
    int ls = ipc_listen(path, 16);
    bench_check(ls >= 0, "ipc_listen");
    int srv = go(pong(ls, n));
    bench_check(srv >= 0, "go");
    int c = ipc_connect(path, -1);
    bench_check(c >= 0, "ipc_connect");
    c = prefix_attach(c, HDRLEN, 0);
    bench_check(c >= 0, "prefix_attach");
    char buf[MSG];
    memset(buf, 'x', MSG);
    int64_t t = bench_ns();
    for (long i = 0; i < n; i++) {
        bench_check(msend(c, buf, MSG, -1) == 0, "msend");
        bench_check(mrecv(c, buf, MSG, -1) == MSG, "mrecv");
    }
    double secs = (double)(bench_ns() - t) / 1e9;
    hclose(c);
    hclose(srv);
    hclose(ls);
    unlink(path);
    return (double)n / secs;
}

BENCH_MAIN(measure)
