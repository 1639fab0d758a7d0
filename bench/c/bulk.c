/* IPC bulk: n MiB one way over a Unix socket in 64 KiB bsend calls, the receiver reading 64 KiB
   at a time, in two coroutines of one process; MB/s. */
#include <libdill.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"

#define CHUNK (64 * 1024)

coroutine void receiver(int s, long total) {
    static char buf[CHUNK];
    for (long got = 0; got < total; got += CHUNK)
        if (brecv(s, buf, CHUNK, -1) != 0) break;
    hclose(s);
}

static double measure(long mib, long param) {
    (void)param;
    static int serial = 0;
    static char buf[CHUNK];
    long total = mib * 1024 * 1024;
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
    int b = bundle();
    bench_check(b >= 0, "bundle");
    bench_check(bundle_go(b, receiver(s, total)) >= 0, "bundle_go");
    memset(buf, 'x', CHUNK);
    int64_t t = bench_ns();
    for (long sent = 0; sent < total; sent += CHUNK)
        bench_check(bsend(c, buf, CHUNK, -1) == 0, "bsend");
    bench_check(bundle_wait(b, -1) == 0, "bundle_wait");
    double secs = (double)(bench_ns() - t) / 1e9;
    hclose(c);
    hclose(b);
    hclose(ls);
    unlink(path);
    return (double)total / 1e6 / secs;
}

BENCH_MAIN(measure)
