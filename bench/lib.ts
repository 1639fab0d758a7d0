/**
 * What every measuring process shares: clocks, garbage collection, the shape of a trial and the
 * one result line a measuring process prints (the C workloads print the same line).
 */
import { readFileSync } from "node:fs";

/** A monotonic timestamp in nanoseconds. */
export function hrnow(): bigint {
  return process.hrtime.bigint();
}

/** Nanoseconds elapsed since `start` (a {@link hrnow} value). */
export function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/** A monotonic time in nanoseconds as a number (exact enough for spans of minutes). */
export function wallNow(): number {
  return performance.now() * 1e6;
}

/** CPU time (user + system) of this process in nanoseconds. */
export function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/**
 * Deadlines spread over 0-50 ms in a scrambled order: a fixed 32-bit linear congruential generator
 * (x = x * 1103515245 + 12345 mod 2^32 from x = 12345, each value mod 51), so that every run is the
 * same and the C timer workload (`bench_lcg` in bench/c/bench.h) draws the same sequence. The
 * product is taken with Math.imul: in doubles it would exceed 2^53 and lose its low bits.
 */
export function spread(n: number, base: number): Float64Array {
  const out = new Float64Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = base + (x % 51);
  }
  return out;
}

/**
 * Peak resident set size of this process in bytes: VmHWM of /proc/self/status, which belongs to
 * the address space that exec made fresh. (`getrusage`'s maxrss, and so
 * `process.resourceUsage().maxRSS`, carries the peak of the parent across exec on Linux.) Falls
 * back to maxRSS where /proc is absent.
 */
export function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // no /proc: below
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Run a full garbage collection when `--expose-gc` is on; otherwise give the collector a chance. */
export async function collect(): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 4; i++) {
    if (gc) gc();
    await new Promise((r) => setImmediate(r));
  }
  return gc !== undefined;
}

/** Heap in use and resident set size, in bytes, after a collection. */
export async function memAfterGc(): Promise<{ heap: number; rss: number }> {
  await collect();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

/**
 * Bytes per object: `make(n)` creates n objects and keeps them alive until the returned release
 * function is called. Heap (JS heap plus external memory) and RSS deltas after a collection.
 */
export async function bytesPer(n: number, make: (n: number) => Promise<() => Promise<void>>): Promise<Measured> {
  const before = await memAfterGc();
  const release = await make(n);
  const after = await memAfterGc();
  await release();
  return { value: (after.heap - before.heap) / n, extra: { rssPerObject: (after.rss - before.rss) / n } };
}

/** A trial's figure, with optional side figures (for example RSS beside heap). */
export interface Measured {
  value: number;
  extra?: Record<string, number>;
}

/** One measurement at size `n` (and the workload's parameter, if it has one). */
export type Trial = (n: number, param: number) => Promise<number | Measured> | number | Measured;

/** A system's trials by workload key. */
export type Trials = Record<string, Trial>;

/** Prefix of the one result line a measuring process prints. */
export const RESULT_TAG = "BENCH_RESULT ";

/** What a measuring process reports: the figure, side figures, and its peak RSS in bytes. */
export interface ChildResult {
  value: number;
  maxRss: number;
  extra?: Record<string, number>;
}

/** Find and check the result line in a measuring process's output. */
export function parseResult(out: string): ChildResult {
  const line = out.split("\n").find((l) => l.startsWith(RESULT_TAG));
  if (line === undefined) throw new Error(`no ${RESULT_TAG.trim()} line in output:\n${out.slice(-2000)}`);
  const r = JSON.parse(line.slice(RESULT_TAG.length)) as ChildResult;
  if (typeof r.value !== "number" || !Number.isFinite(r.value)) throw new Error(`bad result value in: ${line}`);
  if (typeof r.maxRss !== "number") r.maxRss = NaN;
  return r;
}
