/* SUFFIX framing: 1 KiB lines ended by CRLF, sent one way over a Unix socket with suffix_attach
   on both ends, sender and receiver as two coroutines of one process; MB/s of line payload.
   (libdill's suffix socket reads one byte per call to find the delimiter.) */
#include <libdill.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"

#define LINE 1024

coroutine void receiver(int ls, long n) {
    char buf[LINE];
    int s = ipc_accept(ls, -1);
    if (s < 0) return;
    s = suffix_attach(s, "\r\n", 2);
    if (s < 0) return;
    for (long i = 0; i < n; i++)
        if (mrecv(s, buf, LINE, -1) != LINE) break;
    hclose(s);
}

static double measure(long n, long param) {
    (void)param;
    static int serial = 0;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/tsdill-bench-suffix-%d-%d.ipc", (int)getpid(), ++serial);
    unlink(path);
    int ls = ipc_listen(path, 16);
    bench_check(ls >= 0, "ipc_listen");
    int b = bundle();
    bench_check(b >= 0, "bundle");
    bench_check(bundle_go(b, receiver(ls, n)) == 0, "bundle_go");
    int c = ipc_connect(path, -1);
    bench_check(c >= 0, "ipc_connect");
    c = suffix_attach(c, "\r\n", 2);
    bench_check(c >= 0, "suffix_attach");
    char line[LINE];
    memset(line, 'a', LINE);
    int64_t t = bench_ns();
    for (long i = 0; i < n; i++) bench_check(msend(c, line, LINE, -1) == 0, "msend");
    bench_check(bundle_wait(b, -1) == 0, "bundle_wait");
    double secs = (double)(bench_ns() - t) / 1e9;
    hclose(c);
    hclose(b);
    hclose(ls);
    unlink(path);
    return (double)n * LINE / 1e6 / secs;
}

BENCH_MAIN(measure)
