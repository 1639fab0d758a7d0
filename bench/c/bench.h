/*
 * Shared by the C workloads of the tsdill benchmark suite: clocks, arguments and the one result
 * line the harness (bench/index.ts) reads. Each program is run as
 *
 *     ./prog N WARMUP [PARAM]
 *
 * It measures once at WARMUP (unless 0) to settle caches and the allocator, then once at N, and
 * prints `BENCH_RESULT {"value":V,"maxRss":BYTES}` (with `"extra":{...}` when the workload has side
 * figures): the same line as the Node measuring process.
 *
 * Needs nothing but the C library, so that the harness's tests can build a program with it where
 * libdill is not installed.
 */
#ifndef TSDILL_BENCH_H
#define TSDILL_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/*
 * Peak resident set size of this process, in bytes: VmHWM of /proc/self/status. Not getrusage's
 * ru_maxrss, which Linux carries across exec, so that a program started by a large Node process
 * reports that parent's peak instead of its own. exec gives the process a fresh address space,
 * and VmHWM belongs to the address space. Falls back to ru_maxrss without /proc.
 */
static inline long bench_peak_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f != NULL) {
        char line[256];
        long kb = -1;
        while (fgets(line, sizeof(line), f) != NULL)
            if (strncmp(line, "VmHWM:", 6) == 0) {
                kb = atol(line + 6);
                break;
            }
        fclose(f);
        if (kb >= 0) return kb * 1024L;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (long)ru.ru_maxrss * 1024L;
}

/* A side figure of a result (for example the wall time beside the CPU time of the timers). */
static const char *bench_extra_name = NULL;
static double bench_extra_value = 0;

static inline void bench_extra(const char *name, double value) {
    bench_extra_name = name;
    bench_extra_value = value;
}

static inline void bench_report(double value) {
    long rss = bench_peak_rss();
    if (bench_extra_name != NULL)
        printf("BENCH_RESULT {\"value\":%.6f,\"maxRss\":%ld,\"extra\":{\"%s\":%.6f}}\n", value, rss,
               bench_extra_name, bench_extra_value);
    else
        printf("BENCH_RESULT {\"value\":%.6f,\"maxRss\":%ld}\n", value, rss);
    fflush(stdout);
}

/*
 * The scrambled sequence of the timer workloads, the same as spread() in bench/lib.ts: a 32-bit
 * linear congruential generator, x = x * 1103515245 + 12345 mod 2^32 from x = 12345, each value
 * taken mod 51 (an offset of 0 to 50 ms).
 */
static inline uint32_t bench_lcg(uint32_t *x) {
    *x = *x * 1103515245u + 12345u;
    return *x;
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
