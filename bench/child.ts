/**
 * The measuring process: `node --expose-gc --import tsx bench/child.ts SYSTEM TRIAL N WARMUP [PARAM]`.
 * Loads one system's trials, runs TRIAL once at WARMUP (unless 0) for the JIT to settle, collects
 * garbage, runs it at N, and prints one result line with the figure and the peak RSS.
 */
import { collect, peakRss, RESULT_TAG, type ChildResult, type Trials } from "./lib.js";

/** One system's trials; each import is a literal so that the bundler can see it. */
async function trialsOf(system: string): Promise<Trials> {
  switch (system) {
    case "tsdill":
      return {
        ...(await import("./systems/tsdill-core.js")).trials,
        ...(await import("./systems/tsdill-ipc.js")).trials,
        ...(await import("./systems/tsdill-msg.js")).trials,
        ...(await import("./systems/tsdill-tls.js")).trials,
        ...(await import("./systems/tsdill-http.js")).trials,
        ...(await import("./systems/ws.js")).tsdill,
        ...(await import("./systems/server.js")).trials,
      };
    case "floor":
      return (await import("./systems/floor.js")).trials;
    case "effection":
      return (await import("./systems/effection.js")).trials;
    case "effect":
      return (await import("./systems/effect.js")).trials;
    case "async":
      return (await import("./systems/async.js")).trials;
    case "net":
      return {
        ...(await import("./systems/net.js")).trials,
        ...(await import("./systems/net-msg.js")).trials,
        ...(await import("./systems/net-tls.js")).trials,
        ...(await import("./systems/net-http.js")).trials,
        ...(await import("./systems/ws.js")).net,
      };
    default:
      throw new Error(`no such system: ${system}`);
  }
}

const [system, key, n, warm, param] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const trial = (await trialsOf(system))[key];
if (trial === undefined) throw new Error(`${system} has no trial ${key}`);
const p = Number(param ?? 0);
if (Number(warm) > 0) await trial(Number(warm), p);
await collect();
const r = await trial(Number(n), p);
const res: ChildResult =
  typeof r === "number" ? { value: r, maxRss: 0 } : { value: r.value, maxRss: 0, extra: r.extra };
res.maxRss = peakRss();
process.stdout.write(`${RESULT_TAG}${JSON.stringify(res)}\n`);
// Sockets and timers left by a trial must not keep the process alive.
process.exit(0);
