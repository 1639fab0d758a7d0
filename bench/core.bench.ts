/**
 * libdill's perf/ workloads, ported: tsdill beside effection 4 and plain async/await, with the
 * libdill figures and the targets of the performance plan.
 *
 * Every (workload, peer) pair is measured in a fresh Node process (`--expose-gc`), so that one
 * peer's JIT state and garbage never weigh on another: one warm-up run, then the median of
 * five runs (three for effection, whose runs are long). Run with no arguments;
 * `--child <workload> <peer> <n> <warmup> <runs>` is the measuring process.
 */
import { TSDILL_FROM } from "./tsdill.js";
import { fileURLToPath } from "node:url";
import {
  emitResult,
  fmtBytes,
  fmtCount,
  fmtNs,
  fmtRatio,
  libdillFigures,
  markdownTable,
  parseResult,
  QUICK,
  RUNS,
  runTs,
  sample,
  type Sampled,
  type Trial,
} from "./lib.js";

type Peer = "tsdill" | "effection" | "async";
const PEERS: readonly Peer[] = ["tsdill", "effection", "async"];

interface Spec {
  key: string;
  title: string;
  /** Operation counts per peer, [full, quick]; absent: the peer has no equivalent. */
  sizes: Partial<Record<Peer, [number, number]>>;
  /** Memory (bytes per coroutine) instead of time. */
  bytes?: boolean;
  /** Key of the libdill figure and the target, tsdill ÷ libdill ≤ max. */
  libdill?: string;
  maxVsLibdill?: number;
}

const K = 1000;
const M = 1_000_000;

const SPECS: readonly Spec[] = [
  { key: "go", title: "go + hclose (worker never ran)", sizes: { tsdill: [M, 20 * K], effection: [10 * K, 500], async: [M, 20 * K] }, libdill: "go", maxVsLibdill: 1.5 },
  { key: "goRun", title: "go, run, hclose (waves of 1000)", sizes: { tsdill: [M, 20 * K], effection: [10 * K, 1 * K], async: [M, 20 * K] }, libdill: "go", maxVsLibdill: 1.5 },
  { key: "ctxswitch", title: "ctxswitch (dill_yield)", sizes: { tsdill: [2 * M, 20 * K], effection: [100 * K, 2 * K], async: [2 * M, 20 * K] }, libdill: "ctxswitch", maxVsLibdill: 2 },
  { key: "chan", title: "chan ping-pong, per message", sizes: { tsdill: [M, 20 * K], effection: [100 * K, 2 * K], async: [M, 20 * K] }, libdill: "chan", maxVsLibdill: 2 },
  { key: "choose", title: "choose ping-pong, per message", sizes: { tsdill: [M, 20 * K], effection: [2 * K, 200] }, libdill: "choose", maxVsLibdill: 2 },
  { key: "done", title: "done: cancel a coroutine parked in chrecv", sizes: { tsdill: [200 * K, 2 * K], effection: [2 * K, 1 * K], async: [200 * K, 2 * K] }, libdill: "done", maxVsLibdill: 2 },
  { key: "whispers", title: "whispers, per link (incl. chmake + go)", sizes: { tsdill: [100 * K, 2 * K], effection: [10 * K, 500], async: [100 * K, 2 * K] }, libdill: "whispers" },
  { key: "timer", title: "timer: sleeps of 0-50 ms, CPU per timer", sizes: { tsdill: [100 * K, 2 * K], effection: [10 * K, 500], async: [100 * K, 2 * K] }, libdill: "timer", maxVsLibdill: 1 },
  { key: "mem", title: "memory per idle coroutine (heap)", sizes: { tsdill: [100 * K, 5 * K], effection: [10 * K, 500], async: [100 * K, 5 * K] }, bytes: true },
];

/** Effection's ratio target: tsdill at least this many times faster. */
const VS_EFFECTION = 20;
/** Memory aim, bytes per idle coroutine. */
const MEM_AIM = 1024;

// ---- the measuring child ------------------------------------------------------------------------
async function child(args: string[]): Promise<void> {
  const [key, peer, n, warm, runs] = args as [string, Peer, string, string, string];
  let trials: Record<string, Trial>;
  if (peer === "tsdill") trials = (await import("./core-tsdill.js")).tsdill;
  else if (peer === "effection") trials = (await import("./core-effection.js")).effection;
  else trials = (await import("./core-async.js")).asyncAwait;
  const trial = trials[key];
  if (trial === undefined) throw new Error(`no ${peer} trial for ${key}`);
  emitResult(await sample(trial, Number(n), Number(warm), Number(runs)));
}

// ---- the orchestrating parent -------------------------------------------------------------------
const SELF = fileURLToPath(import.meta.url);

async function measure(spec: Spec, peer: Peer): Promise<Sampled | null> {
  const size = spec.sizes[peer];
  if (size === undefined) return null;
  const n = QUICK ? size[1] : size[0];
  // Memory is measured once, cold: a warm-up would leave records in the pools.
  const warm = spec.bytes ? 0 : Math.max(1, Math.floor(n / 10));
  // effection's runs are long and steady; the sub-microsecond peers get five runs against noise.
  const runs = spec.bytes ? 1 : peer === "effection" ? RUNS : QUICK ? 1 : 5;
  const flags = ["--expose-gc", "--max-old-space-size=8192"];
  const out = await runTs(SELF, ["--child", spec.key, peer, String(n), String(warm), String(runs)], flags);
  return parseResult<Sampled>(out);
}

async function parent(): Promise<void> {
  const lib = libdillFigures();
  const fmt = (spec: Spec, v: number) => (spec.bytes ? fmtBytes(v) : fmtNs(v));
  const [{ EFFECTION_NOTES }, { ASYNC_NOTES }] = await Promise.all([import("./core-effection.js"), import("./core-async.js")]);
  const rows: string[][] = [];
  const sizeRows: string[][] = [];
  const t0 = Date.now();
  for (const spec of SPECS) {
    const r: Partial<Record<Peer, Sampled | null>> = {};
    for (const peer of PEERS) {
      r[peer] = await measure(spec, peer);
      const s = r[peer];
      if (s) console.log(`  ${spec.key.padEnd(9)} ${peer.padEnd(9)} ${fmt(spec, s.median).padStart(10)}   runs: ${s.samples.map((x) => fmt(spec, x)).join(", ")}`);
    }
    const ts = r.tsdill!.median;
    const ef = r.effection?.median ?? NaN;
    const as = r.async?.median ?? NaN;
    const ld = spec.libdill ? (lib.figures[spec.libdill] ?? NaN) : NaN;
    const targets: string[] = [];
    if (spec.maxVsLibdill !== undefined) targets.push(`≤ ×${spec.maxVsLibdill} libdill: ${ts / ld <= spec.maxVsLibdill ? "met" : "missed"}`);
    if (spec.bytes) targets.push(`≤ 1 KB: ${ts <= MEM_AIM ? "met" : "missed"}`);
    if (Number.isFinite(ef)) targets.push(`≥ ×${VS_EFFECTION} vs effection: ${ef / ts >= VS_EFFECTION ? "met" : "missed"}`);
    rows.push([
      spec.title,
      fmt(spec, ts),
      Number.isFinite(ef) ? fmt(spec, ef) : "n/a",
      fmtRatio(ef / ts),
      Number.isFinite(as) ? fmt(spec, as) : "n/a",
      Number.isFinite(ld) ? fmtNs(ld) : "—",
      fmtRatio(ts / ld),
      targets.join("; ") || "report",
    ]);
    const n = (p: Peer) => {
      const s = spec.sizes[p];
      return s ? fmtCount(QUICK ? s[1] : s[0]) : "—";
    };
    sizeRows.push([spec.title, n("tsdill"), n("effection"), EFFECTION_NOTES[spec.key] ?? "no equivalent", n("async"), ASYNC_NOTES[spec.key] ?? "no sensible equivalent"]);
  }
  console.log("");
  console.log(
    markdownTable(
      ["workload", "tsdill", "effection 4", "effection ÷ tsdill", "async/await", "libdill (recorded)", "tsdill ÷ libdill", "targets"],
      rows,
    ),
  );
  console.log("");
  console.log(markdownTable(["workload", "n tsdill", "n effection", "effection stand-in", "n async", "async/await stand-in"], sizeRows));
  console.log("");
  console.log(`Median of ${QUICK ? 1 : 5} runs (effection: ${RUNS}) after one warm-up, each peer in a fresh process; memory: one cold run with --expose-gc.`);
  console.log(TSDILL_FROM === "dist" ? "tsdill: the built package (dist/)." : "tsdill: the sources (no build in dist/: run `npm run build` to measure what users run).");
  console.log(`${lib.label}. Reference machine: ${lib.machine}.`);
  console.log(`core: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") await child(argv.slice(1));
else await parent();
