/**
 * The server workloads: the built `tsdill serve --workers N` in a child process, driven by the
 * built `tsdill load --json` in another, on a fresh Unix socket. The trial's parameter is N.
 * A run counts only if every request succeeded and the server, stopped with SIGINT, exits with
 * code 0 and removes its socket file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SERVER_CLIENTS } from "../catalogue.js";
import type { Measured, Trials } from "../lib.js";
import { parseLoadSummary } from "../serverload.js";
import { CLI } from "../tsdill.js";

/** How long the server may take to answer its first PING, and to exit after SIGINT. */
const START_MS = 15_000;
const STOP_MS = 15_000;
/**
 * No run of the load generator may take longer (it is killed, and the run fails). With the two
 * above, a trial ends within 15 + 2 × 60 + 2 × 15 s, before the runner's timeout of 180 s.
 */
const LOAD_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process with its output collected and its exit as a promise. `group`: in a process
 * group of its own, which its workers join, so that a failed run can kill them all at once.
 */
function start(
  args: readonly string[],
  group = false,
): { child: ChildProcess; exit: Promise<Exit>; out: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], detached: group });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exit = new Promise<Exit>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  return { child, exit, out: () => out };
}

/** Whether the server at `sock` answers PING with PONG on a fresh connection. */
function pings(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(sock);
    let got = "";
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.on("error", () => done(false));
    s.on("connect", () => s.write("PING\n"));
    s.setEncoding("utf8").on("data", (d: string) => {
      got += d;
      if (got.includes("\n")) done(got.startsWith("PONG"));
    });
    s.on("end", () => done(false));
  });
}

/** Resolves once the server answers; throws if it exits first or takes longer than START_MS. */
async function waitServing(sock: string, exited: () => boolean, out: () => string): Promise<void> {
  const until = Date.now() + START_MS;
  while (Date.now() < until) {
    if (exited()) throw new Error(`the server exited before it served:\n${out().slice(-1000)}`);
    if (existsSync(sock) && (await pings(sock))) return;
    await sleep(20);
  }
  throw new Error(`the server did not answer within ${START_MS} ms:\n${out().slice(-1000)}`);
}

/** One run of the load generator against `sock`: `requests` per client. */
async function load(sock: string, requests: number): Promise<ReturnType<typeof parseLoadSummary>> {
  const p = start([
    "load",
    "--socket",
    sock,
    "--clients",
    String(SERVER_CLIENTS),
    "--requests",
    String(requests),
    "--json",
    "--quiet",
  ]);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), LOAD_MS);
  const e = await p.exit.finally(() => clearTimeout(timer));
  if (e.code !== 0) throw new Error(`tsdill load exited with ${e.signal ?? e.code}:\n${p.out().slice(-1000)}`);
  return parseLoadSummary(p.out());
}

async function serve(n: number, workers: number): Promise<Measured> {
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: build first (npm run build)`);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`bad number of workers: ${workers}`);
  const dir = mkdtempSync(join(tmpdir(), "tsdill-bench-serve-"));
  const sock = join(dir, "kv.sock");
  const server = start(["serve", "--socket", sock, "--workers", String(workers)], true);
  let exited = false;
  let clean = false;
  void server.exit.then(
    () => (exited = true),
    () => (exited = true),
  );
  // The server and its workers must not outlive this run, nor this process if it must leave early
  // (its own group does not get the terminal's Ctrl-C, so that is passed on here).
  const reap = () => {
    try {
      if (server.child.pid !== undefined) process.kill(-server.child.pid, "SIGKILL");
    } catch {
      // the group is gone already
    }
  };
  const interrupted = () => {
    reap();
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.on("exit", reap);
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", interrupted);
  try {
    await waitServing(sock, () => exited, server.out);
    // Warm-up on the same server, for its JIT (and the load generator's, in a process of its own).
    await load(sock, Math.max(2, Math.floor(n / 10)));
    const r = await load(sock, n);
    server.child.kill("SIGINT");
    const timer = setTimeout(reap, STOP_MS);
    const e = await server.exit.finally(() => clearTimeout(timer));
    if (e.code !== 0)
      throw new Error(
        `the server exited with ${e.signal ?? e.code} after SIGINT${e.signal === "SIGKILL" ? ` (not within ${STOP_MS} ms)` : ""}:\n${server.out().slice(-1000)}`,
      );
    if (existsSync(sock)) throw new Error(`the server exited 0 but left its socket file ${sock}`);
    clean = true;
    return { value: r.requestsPerSecond, extra: { p99Ms: r.p99Ms } };
  } finally {
    if (!exited) {
      server.child.kill("SIGINT");
      await Promise.race([server.exit.catch(() => undefined), sleep(STOP_MS)]);
    }
    // workers a failed server may have left behind (a clean exit means they all exited)
    if (!clean) reap();
    process.off("exit", reap);
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const trials: Trials = {
  server: (n, workers) => serve(n, workers),
};
