/**
 * `tsdill demo` (what `npm start` runs): the key-value server and the load generator in one
 * process, one structured tree. Halfway through it prints the live tree; at the end both
 * summaries and what was left open (nothing, when structured concurrency did its job).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundle, bundle_go, bundle_wait, dill_stats, dill_tree, hclose, ipc_listen, now, run } from "../index.js";
import { optionHelp, parseArgs, type Spec } from "./args.js";
import { clean, formatLoad, type LoadSummary, runLoad } from "./loadgen.js";
import { serveListener } from "./server.js";
import { DEFAULT_OPTIONS, Server, summary } from "./state.js";
import { onSignals } from "./signals.js";

const SPEC: Spec = {
  clients: { kind: "count", help: "concurrent clients (default 20)" },
  requests: { kind: "count", help: "requests per client (default 250)" },
};

const HELP = `Usage: tsdill demo [options]

A first look at tsdill: a key-value server and a crowd of clients in one process, as one tree of
coroutines. Every answer is checksummed; at the end both summaries are printed, and what was
left open afterwards.

Options:
${optionHelp(SPEC)}`;

/**
 * The tree, indented, with runs of alike siblings (same line but for the numbers) folded after
 * the first two: twenty handlers read better as two and "… 18 more like these".
 */
function folded(tree: string): string {
  const out: string[] = [];
  const lines = tree.split("\n");
  for (let i = 0; i < lines.length;) {
    const shape = lines[i]!.replace(/\d+/g, "#").replace("└", "├");
    let j = i + 1;
    while (j < lines.length && lines[j]!.replace(/\d+/g, "#").replace("└", "├") === shape) j++;
    const run = j - i;
    if (run > 3) {
      out.push(lines[i]!, lines[i + 1]!);
      const bar = lines[i]!.search(/[├└]/);
      out.push(`${lines[i]!.slice(0, bar)}${lines[j - 1]!.includes("└") ? "└" : "├"}── … ${run - 2} more like these`);
    } else {
      for (let k = i; k < j; k++) out.push(lines[k]!);
    }
    i = j;
  }
  return out.map((l) => `  ${l}`).join("\n");
}

export async function demo(argv: readonly string[]): Promise<number> {
  const { opts: o, help } = parseArgs(argv, SPEC);
  if (help) {
    console.log(HELP);
    return 0;
  }
  const clients = (o.clients as number | undefined) ?? 20;
  const requests = (o.requests as number | undefined) ?? 250;
  const dir = mkdtempSync(join(tmpdir(), "tsdill-demo-"));
  const path = join(dir, "demo.sock");
  const srv = new Server({ ...DEFAULT_OPTIONS, grace: 1000 });
  const stop = onSignals(["SIGINT", "SIGTERM"]);
  console.log(`tsdill demo: a key-value server and ${clients} clients in one process, one structured tree`);
  let result: LoadSummary | null = null;
  try {
    await run(function* demoMain() {
      const ls = yield* ipc_listen(path, 1024);
      console.log(`server listening on ${path}`);
      const server = bundle();
      bundle_go(server, serveListener(ls, srv, stop));
      let shown = false;
      try {
        result = yield* runLoad({
          socket: path,
          clients,
          requests,
          size: [16, 4096],
          verify: true,
          timeout: 10_000,
          progressEvery: 20,
          progress: (p) => {
            if (shown || p.done < p.total / 2) return;
            shown = true;
            console.log(
              `the live tree halfway through (dill_tree(); coroutine ids, handle numbers):\n${folded(dill_tree())}`,
            );
          },
        });
      } finally {
        stop.fire("the load is done");
        try {
          yield* bundle_wait(server, now() + 5000);
        } finally {
          hclose(server);
        }
      }
    });
  } finally {
    stop.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const s = result as LoadSummary | null;
  if (s === null) return 1;
  console.log(formatLoad(s, path));
  console.log(summary(srv));
  const st = dill_stats();
  console.log(
    `left open afterwards: ${st.coroutines} coroutines, ${st.handles} handles, ${st.pool.used} pool storages`,
  );
  return clean(s) && st.coroutines === 0 && st.handles === 0 ? 0 : 1;
}
