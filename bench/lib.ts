/**
 * Shared helpers of the benchmark suite: timing, warm-up and medians, child processes, markdown
 * tables, and the libdill reference figures.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cpus, platform, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

/** The repository root (bench/..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** `BENCH_QUICK=1`: small sizes, one measured run, for a fast smoke run. */
export const QUICK = process.env.BENCH_QUICK === "1";

/** Measured runs per workload (the median is reported). */
export const RUNS = QUICK ? 1 : 3;

// ---- timing ------------------------------------------------------------------------------------
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

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One measurement: returns a figure per operation (ns, or bytes for memory). */
export type Trial = (n: number) => Promise<number> | number;

export interface Sampled {
  median: number;
  samples: number[];
}

/**
 * Runs `trial` once at `warmupN` to let the JIT settle, then `runs` times at `n` (each after a
 * collection, when `--expose-gc` is on), and returns the median of the measured runs.
 */
export async function sample(trial: Trial, n: number, warmupN: number, runs = RUNS): Promise<Sampled> {
  if (warmupN > 0) await trial(warmupN);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    await collect(); // start each run with the previous one's garbage gone
    samples.push(await trial(n));
  }
  return { median: median(samples), samples };
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

/** Heap in use, in bytes, after a collection. */
export async function heapAfterGc(): Promise<number> {
  await collect();
  return process.memoryUsage().heapUsed;
}

// ---- formatting --------------------------------------------------------------------------------
/** A duration in ns, human-sized: `38 ns`, `12.1 µs`, `1.07 ms`. */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return "—";
  if (ns < 1000) return `${ns < 10 ? ns.toFixed(1) : Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/** A size in bytes: `246 B`, `8.2 KB`. */
export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return "—";
  if (b < 1024) return `${Math.round(b)} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KB`;
  return `${(b / 1024 / 1024).toFixed(1)} MB`;
}

/** A ratio: `×1.52`, `×240`. */
export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return "—";
  if (r >= 100) return `×${Math.round(r)}`;
  if (r >= 10) return `×${r.toFixed(1)}`;
  return `×${r.toFixed(2)}`;
}

/** A count: `100k`, `1M`. */
export function fmtCount(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** A markdown table with padded columns. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`;
  return [line(headers), `|${w.map((x) => "-".repeat(x + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

// ---- libdill figures ---------------------------------------------------------------------------
export interface LibdillFigures {
  /** `recorded` (from bench/libdill-recorded.json) or `live`. */
  source: "recorded" | "live";
  /** A sentence saying where the figures come from. */
  label: string;
  machine: string;
  /** ns per operation by workload name. */
  figures: Record<string, number>;
}

/** True when `pkg-config` knows libdill on this machine. */
export function libdillInstalled(): boolean {
  try {
    return spawnSync("pkg-config", ["--exists", "libdill"], { stdio: "ignore" }).status === 0;
  } catch {
    return false;
  }
}

/**
 * The libdill column. The suite ships the figures recorded on the project's reference machine;
 * when libdill is installed that is said too, since a live run would be the better comparison.
 */
export function libdillFigures(): LibdillFigures {
  const rec = JSON.parse(readFileSync(join(ROOT, "bench", "libdill-recorded.json"), "utf8")) as {
    machine: string;
    figures: Record<string, number>;
  };
  const installed = libdillInstalled();
  return {
    source: "recorded",
    label: installed
      ? "libdill: recorded figures (libdill is installed here, but this suite does not build its perf programs)"
      : "libdill: recorded figures (libdill not found by pkg-config)",
    machine: rec.machine,
    figures: rec.figures,
  };
}

// ---- child processes ---------------------------------------------------------------------------
/** Node arguments that run a TypeScript file with the project's tsx. */
export function tsNodeArgs(file: string, extra: readonly string[] = []): string[] {
  return [...extra, "--import", "tsx", file];
}

/**
 * Runs a TypeScript file in a fresh Node process (cwd = repository root) and resolves with its
 * stdout; stderr is passed through. Rejects when the process fails.
 */
export function runTs(file: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsNodeArgs(file, nodeFlags), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
      env: process.env,
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${file} ${args.join(" ")} exited with ${signal ?? code}\n${out}`));
    });
  });
}

/** Prefix of the one result line a measuring child prints. */
export const RESULT_TAG = "BENCH_RESULT ";

/** Print a child's result for the parent to pick up. */
export function emitResult(value: unknown): void {
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(value)}\n`);
}

/** Find the result line in a child's output. */
export function parseResult<T>(out: string): T {
  const line = out.split("\n").find((l) => l.startsWith(RESULT_TAG));
  if (line === undefined) throw new Error(`no result in child output:\n${out}`);
  return JSON.parse(line.slice(RESULT_TAG.length)) as T;
}

/** A description of this machine for the report header. */
export function machineLine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${platform()} ${release()}`;
}
