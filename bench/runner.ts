/**
 * Runs the measurements: one fresh process per (workload, system, run), the systems of a workload
 * interleaved round by round, progress on stderr. Collects every sample; summarizing is report.ts's.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SYSTEMS, sizeOf, type System, type Variant, type Workload } from "./catalogue.js";
import { fmtValue } from "./format.js";
import { parseResult, type ChildResult } from "./lib.js";
import { interleave } from "./stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** No single measuring process may take longer than this. */
const TIMEOUT_MS = 180_000;

/** Every sample of one system on one workload, in round order (NaN where a run failed). */
export interface Cell {
  n: number;
  values: number[];
  maxRss: number[];
  extra: Record<string, number[]>;
  errors: string[];
}

export interface WorkloadResult {
  workload: Workload;
  cells: Partial<Record<System, Cell>>;
  /** A workload with variants: a cell per variant key, all on tsdill (`cells` is then empty). */
  variants?: Record<string, Cell>;
}

export interface Plan {
  workloads: readonly Workload[];
  quick: boolean;
  /** Counted runs for a workload. */
  runsOf: (w: Workload) => number;
  /** Compiled C workloads by program name (empty: no live libdill). */
  cBins: Record<string, string>;
  /** Node arguments that start a measuring process (see bundle.ts). */
  child: readonly string[];
  /** Only these systems (`--systems`); absent or null: all. */
  systems?: readonly System[] | null;
}

/** The systems that run `w` in this plan (libdill only with a compiled program). */
export function systemsOf(w: Workload, plan: Pick<Plan, "quick" | "cBins" | "systems">): System[] {
  return SYSTEMS.filter((s) => {
    if (sizeOf(w, s, plan.quick) === 0) return false;
    if (plan.systems && !plan.systems.includes(s)) return false;
    if (s === "libdill") return w.c !== undefined && plan.cBins[w.c] !== undefined;
    return true;
  });
}

function collectOutput(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `exited with ${signal ?? code}${signal === "SIGKILL" ? " (timeout?)" : ""}: ${(err || out).trim().slice(-1500)}`,
          ),
        );
    });
  });
}

/** What is interleaved in a round: the systems of a workload, or its variants (on tsdill). */
export interface RunUnit {
  /** The system, or the variant's key. */
  key: string;
  system: System;
  variant?: Variant;
}

/** The units of `w` in this plan, in their order in round 0. */
export function unitsOf(w: Workload, plan: Pick<Plan, "quick" | "cBins" | "systems">): RunUnit[] {
  if (w.variants !== undefined)
    return sizeOf(w, "tsdill", plan.quick) === 0
      ? []
      : w.variants.map((v) => ({ key: v.key, system: "tsdill", variant: v }));
  return systemsOf(w, plan).map((s) => ({ key: s, system: s }));
}

/** One measuring process for `w` on `sys`, at size n with a warm-up run first. */
export async function measureOnce(
  w: Workload,
  sys: System,
  n: number,
  plan: Pick<Plan, "cBins" | "child">,
  param = w.param ?? 0,
): Promise<ChildResult> {
  // A tenth of the size, but at least min(n, 10k) operations: small sizes need as much to warm the JIT.
  const warm = w.cold ? 0 : Math.max(Math.floor(n / 10), Math.min(n, 10_000));
  const rest = [String(n), String(warm), String(param)];
  if (sys === "libdill") return parseResult(await collectOutput(plan.cBins[w.c!]!, rest));
  return parseResult(await collectOutput(process.execPath, [...plan.child, sys, w.trial, ...rest]));
}

function fmtElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** Runs the whole plan; never throws for a failed measurement (it is recorded in the cell). */
export async function runPlan(
  plan: Plan,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<WorkloadResult[]> {
  const total = plan.workloads.reduce((acc, w) => acc + unitsOf(w, plan).length * plan.runsOf(w), 0);
  const t0 = Date.now();
  let done = 0;
  const results: WorkloadResult[] = [];
  for (const w of plan.workloads) {
    const units = unitsOf(w, plan);
    const byKey: Record<string, Cell> = {};
    for (const u of units)
      byKey[u.key] = { n: sizeOf(w, u.system, plan.quick), values: [], maxRss: [], extra: {}, errors: [] };
    const runs = plan.runsOf(w);
    for (let round = 0; round < runs; round++) {
      for (const u of interleave(units, round)) {
        const cell = byKey[u.key]!;
        let shown: string;
        try {
          const r = await measureOnce(w, u.system, cell.n, plan, u.variant?.param ?? w.param ?? 0);
          cell.values[round] = r.value;
          cell.maxRss[round] = r.maxRss;
          for (const [k, v] of Object.entries(r.extra ?? {})) (cell.extra[k] ??= [])[round] = v;
          shown = fmtValue(r.value, w.unit);
        } catch (e) {
          cell.values[round] = NaN;
          cell.maxRss[round] = NaN;
          cell.errors.push(String((e as Error).message ?? e));
          shown = "FAILED";
        }
        done++;
        log(
          `[${String(done).padStart(3)}/${total}] ${fmtElapsed(Date.now() - t0)}  ${w.id.padEnd(12)} ${u.key.padEnd(9)} run ${round + 1}/${runs}  ${shown}`,
        );
        if (shown === "FAILED")
          log(`      ${cell.errors[cell.errors.length - 1]!.split("\n").slice(0, 6).join("\n      ")}`);
      }
    }
    if (w.variants !== undefined) results.push({ workload: w, cells: {}, variants: byKey });
    else results.push({ workload: w, cells: byKey as Partial<Record<System, Cell>> });
  }
  return results;
}
