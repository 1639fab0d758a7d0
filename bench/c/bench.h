/*
 * Shared by the C workloads of the tsdill benchmark suite: clocks, arguments and the one result
 * line the harness (bench/index.ts) reads. Each program is run as
 *
 *     ./prog N WARMUP [PARAM]
 *
 * It measures once at WARMUP (unless 0) to settle caches and the allocator, then once at N, and
 * prints `BENCH_RESULT {"value":V,"maxRss":BYTES}`: the same line as the Node measuring process.
 */
#ifndef TSDILL_BENCH_H
#define TSDILL_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* Wall-clock time from a monotonic clock, in nanoseconds. */
static inline int64_t bench_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time used by this process (user + system), in nanoseconds. */
static inline int64_t bench_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Stop with a message when a libdill call failed (they return -1 and set errno). */
#define bench_check(cond, what) \
    do { \
        if (!(cond)) { \
            perror(what); \
            exit(1); \
        } \
    } while (0)

static inline long bench_arg(int argc, char *argv[], int i, long dflt) {
    return argc > i ? atol(argv[i]) : dflt;
}

static inline void bench_report(double value) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("BENCH_RESULT {\"value\":%.6f,\"maxRss\":%ld}\n", value, (long)ru.ru_maxrss * 1024L);
    fflush(stdout);
}

/* The main function of every workload: `measure(n, param)` returns the figure of one run. */
#define BENCH_MAIN(measure) \
    int main(int argc, char *argv[]) { \
        long n = bench_arg(argc, argv, 1, 1000); \
        long warm = bench_arg(argc, argv, 2, 0); \
        long param = bench_arg(argc, argv, 3, 0); \
        if (warm > 0) measure(warm, param); \
        bench_report(measure(n, param)); \
        return 0; \
    }

#endif
