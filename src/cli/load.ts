/** `tsdill load`: the load generator as a command, with live progress and a summary (or JSON). */
import { run } from "../index.js";
import { optionHelp, parseArgs, type Spec } from "./args.js";
import { clean, formatLoad, type LoadProgress, runLoad } from "./loadgen.js";
import { DEFAULT_SOCKET } from "./serve.js";

export const LOAD_SPEC: Spec = {
  socket: { kind: "string", value: "PATH", help: `the server's socket (default ${DEFAULT_SOCKET})` },
  clients: { kind: "count", help: "concurrent clients, one connection each (default 50)" },
  requests: { kind: "count", help: "requests per client (default 1000)" },
  size: { kind: "range", value: "MIN-MAX", help: "payload size range in bytes (default 16-256)" },
  verify: { kind: "flag", help: "checksum every payload; count lost, duplicated and corrupted answers" },
  timeout: { kind: "count", value: "MS", help: "deadline of each request (default 10000)" },
  json: { kind: "flag", help: "print the summary as JSON on stdout" },
  quiet: { kind: "flag", help: "no progress on stderr" },
};

export const LOAD_HELP = `Usage: tsdill load [options]

Drives a tsdill server: N client coroutines, each with its own connection, each sending ECHO
requests of random sizes one after the other. Prints progress on stderr and a summary:
requests/s, latency percentiles, errors by errno, bytes. Exit code 0 when every request
succeeded (and, with --verify, every answer was right), else 1.

Options:
${optionHelp(LOAD_SPEC)}`;

function progressPrinter(): (p: LoadProgress) => void {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return (p) => {
    const line = `load: ${p.done}/${p.total} requests, ${p.errors} failed, ${p.elapsed.toFixed(1)} s, ${Math.round(p.done / Math.max(p.elapsed, 0.001))} requests/s`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (p.elapsed - last >= 1) {
      last = p.elapsed;
      process.stderr.write(`${line}\n`);
    }
  };
}

export async function load(argv: readonly string[]): Promise<number> {
  const { opts: o, help } = parseArgs(argv, LOAD_SPEC);
  if (help) {
    console.log(LOAD_HELP);
    return 0;
  }
  const socket = (o.socket as string | undefined) ?? DEFAULT_SOCKET;
  const tty = process.stderr.isTTY === true;
  const summary = await run(function* loadMain() {
    return yield* runLoad({
      socket,
      clients: (o.clients as number | undefined) ?? 50,
      requests: (o.requests as number | undefined) ?? 1000,
      size: (o.size as [number, number] | undefined) ?? [16, 256],
      verify: o.verify === true,
      timeout: (o.timeout as number | undefined) ?? 10_000,
      progress: o.quiet ? null : progressPrinter(),
      progressEvery: tty ? 200 : 250,
    });
  });
  if (tty && !o.quiet) process.stderr.write("\n");
  console.log(o.json ? JSON.stringify(summary, null, 2) : formatLoad(summary, socket));
  return clean(summary) ? 0 : 1;
}
