/**
 * The soak test (`npm run soak`, not part of `npm test`): the server in a child process, then
 * 1,000 concurrent connections x 1,000 request/answer rounds of checksummed ECHO payloads of
 * random sizes (1 B to 64 KiB). It must end with zero lost, duplicated or corrupted answers (each
 * carries its client, sequence number, length and CRC-32, so reordered bytes show as corruption),
 * and the server must hold exactly the fds it held before the load. Takes minutes.
 *
 * Usage: npm run soak [-- --clients N --rounds N --size MIN-MAX]
 * Prints one summary; exit code 0 when every check passed.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "../src/cli/args.js";
import { clean, formatLoad, runLoad } from "../src/cli/loadgen.js";
import { run } from "../src/index.js";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { opts } = parseArgs(process.argv.slice(2), {
  clients: { kind: "count", help: "" },
  rounds: { kind: "count", help: "" },
  size: { kind: "range", help: "" },
});
const clients = (opts.clients as number | undefined) ?? 1000;
const rounds = (opts.rounds as number | undefined) ?? 1000;
const size = (opts.size as [number, number] | undefined) ?? [1, 65536];

const dir = mkdtempSync(join(tmpdir(), "tsdill-soak-"));
const socket = join(dir, "soak.sock");
const server = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    join(root, "src/cli/main.ts"),
    "serve",
    "--socket",
    socket,
    "--max-conns",
    String(clients + 16),
    "--grace",
    "5000",
  ],
  {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  },
);
let out = "";
server.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
const exited = new Promise<number | null>((r) => server.on("exit", (code) => r(code)));

function fds(): number {
  return readdirSync(`/proc/${server.pid}/fd`).length;
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let ok = false;
try {
  await until(() => out.includes("listening on"), "the server to listen");
  const before = fds();
  const summary = await run(function* soak() {
    return yield* runLoad({
      socket,
      clients,
      requests: rounds,
      size,
      verify: true,
      timeout: 120_000,
      progressEvery: 5000,
      progress: (p) =>
        process.stderr.write(`soak: ${p.done}/${p.total} rounds, ${p.errors} failed, ${p.elapsed.toFixed(0)} s\n`),
    });
  });
  // The handlers close their sockets once the clients' closes arrive.
  await until(() => fds() === before, "the server's fds to return to their number before the load", 10_000).catch(
    () => {},
  );
  const after = fds();
  server.kill("SIGINT");
  const code = await exited;
  console.log(formatLoad(summary, socket));
  console.log(`server fds: ${before} before the load, ${after} after it; server exit code ${code}`);
  ok = clean(summary) && after === before && code === 0;
  console.log(ok ? "soak: PASSED" : "soak: FAILED");
} finally {
  if (server.exitCode === null) server.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
