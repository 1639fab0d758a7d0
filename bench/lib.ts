/**
 * What every measuring process shares: clocks, garbage collection, the shape of a trial and the
 * one result line a measuring process prints (the C workloads print the same line).
 */

/** A monotonic timestamp in nanoseconds. */
export function hrnow(): bigint {
  return process.hrtime.bigint();
}

/** Nanoseconds elapsed since `start` (a {@link hrnow} value). */
export function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/** CPU time (user + system) of this process in nanoseconds. */
export function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Deadlines spread over 0-50 ms in a scrambled order (a fixed LCG, so every run is the same). */
export function spread(n: number, base: number): Float64Array {
  const out = new Float64Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = base + (x % 51);
  }
  return out;
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
