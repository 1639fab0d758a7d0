/*
 * NOT libdill. This header exists only so that the C workloads of the benchmark suite can be
 * syntax-checked (`cc -fsyntax-only`) on a machine where libdill is not installed. It declares,
 * in this project's own words, the part of libdill's public API (as its man pages describe it)
 * that the workloads use. It is never used to build or link a program: a live run compiles
 * against the real <libdill.h> found by pkg-config or LIBDILL_PREFIX.
 */
#ifndef TSDILL_BENCH_LIBDILL_CHECK_H
#define TSDILL_BENCH_LIBDILL_CHECK_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Clock: milliseconds, the time base of every deadline. */
int64_t now(void);

/* Handles. */
int hclose(int h);

/* Coroutines. In libdill, `go(fn)` is a macro that starts `fn` on a new stack and yields its
   handle; for a syntax check, evaluating the call and giving an int is enough. */
#define coroutine __attribute__((noinline))
#define go(fn) ((fn), 0)
#define bundle_go(b, fn) ((void)(b), (fn), 0)
int bundle(void);
int bundle_wait(int bndl, int64_t deadline);
int yield(void);
int msleep(int64_t deadline);

/* Channels: chmake fills two handles, one per end. */
#define CHSEND 1
#define CHRECV 2
struct chclause {
    int op;
    int ch;
    void *val;
    size_t len;
};
int chmake(int chv[2]);
int chsend(int ch, const void *val, size_t len, int64_t deadline);
int chrecv(int ch, void *val, size_t len, int64_t deadline);
int chdone(int ch);
int choose(struct chclause *clauses, int nclauses, int64_t deadline);

/* Bytestream sockets. */
int bsend(int s, const void *buf, size_t len, int64_t deadline);
int brecv(int s, void *buf, size_t len, int64_t deadline);

/* IPC (Unix-domain) sockets. */
int ipc_listen(const char *addr, int backlog);
int ipc_accept(int s, int64_t deadline);
int ipc_connect(const char *addr, int64_t deadline);
int ipc_close(int s, int64_t deadline);
int ipc_pair(int s[2]);

/* Message sockets, and the PREFIX and SUFFIX protocols over a bytestream. */
#include <sys/types.h>
int msend(int s, const void *buf, size_t len, int64_t deadline);
ssize_t mrecv(int s, void *buf, size_t len, int64_t deadline);
int prefix_attach(int s, size_t hdrlen, int flags);
int suffix_attach(int s, const void *suffix, size_t suffixlen);

#endif
