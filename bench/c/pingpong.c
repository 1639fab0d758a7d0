/* IPC ping-pong: one connection over a Unix socket, a 64-byte message each way per round trip,
   client and server as two coroutines of one process; round trips per second. */
#include <libdill.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"

#define MSG 64

coroutine void pong(int s, long n) {
    char buf[MSG];
    for (long i = 0; i < n; i++) {
        if (brecv(s, buf, MSG, -1) != 0) break;
        if (bsend(s, buf, MSG, -1) != 0) break;
    }
    hclose(s);
}

static double measure(long n, long param) {
    (void)param;
    static int serial = 0;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/tsdill-bench-%d-%d.ipc", (int)getpid(), ++serial);
    unlink(path);
    int ls = ipc_listen(path, 16);
    bench_check(ls >= 0, "ipc_listen");
    /* Connected and accepted before the clock starts, as in the Node workloads. */
    int c = ipc_connect(path, -1);
    bench_check(c >= 0, "ipc_connect");
    int s = ipc_accept(ls, -1);
    bench_check(s >= 0, "ipc_accept");
    int srv = go(pong(s, n));
    bench_check(srv >= 0, "go");
    char buf[MSG];
    memset(buf, 'x', MSG);
    int64_t t = bench_ns();
    for (long i = 0; i < n; i++) {
        bench_check(bsend(c, buf, MSG, -1) == 0, "bsend");
        bench_check(brecv(c, buf, MSG, -1) == 0, "brecv");
    }
    double secs = (double)(bench_ns() - t) / 1e9;
    hclose(c);
    hclose(srv);
    hclose(ls);
    unlink(path);
    return (double)n / secs;
}

BENCH_MAIN(measure)
