/**
 * Helpers of the server tests: `tsdill serve` in a child process that leads its own process
 * group (so that a test can signal the group, as a terminal or a service manager does), raw
 * clients, and what /proc says about a process (its fds, its memory, its children).
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { createConnection, type Socket } from "node:net";
import path from "node:path";
import { ROOT } from "./ipc-helpers.js";

/** How to run the command: node's arguments before `serve` (the sources through tsx, or a bundle). */
export const FROM_SOURCES = ["--import", "tsx", path.join(ROOT, "src/cli/main.ts")];

/**
 * The command bundled into `dir` with esbuild (as the published build bundles it), for tests that
 * start many processes: a bundle starts in a fraction of the time the sources take through tsx.
 */
export async function bundleCli(dir: string): Promise<string[]> {
  const { build } = await import("esbuild");
  const out = path.join(dir, "cli.mjs");
  await build({
    entryPoints: [path.join(ROOT, "src/cli/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: out,
    logLevel: "warning",
  });
  return [out];
}

export async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  socket: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<Exit>;
  /** Signal the server's whole process group (what a terminal's Ctrl-C does). */
  group(sig: NodeJS.Signals): void;
  /** Signal the server's process only. */
  kill(sig: NodeJS.Signals): void;
}

export interface StartOptions {
  /** node's arguments that run the command (default: the sources through tsx). */
  cli?: string[];
  /** Extra arguments of node itself, before the command (`--require` a preload). */
  node?: string[];
  /** Run under `ulimit -n N`. */
  fdLimit?: number;
  /** What stdout must show before the server counts as started (default "listening on"). */
  ready?: string;
  /** Not killed by {@link killLeftovers} (a server shared by several tests, killed by its own afterAll). */
  shared?: boolean;
}

const running = new Set<Running>();

/** Start `tsdill serve --socket SOCKET ...args` as the leader of a process group of its own. */
export async function startServer(socket: string, args: string[], o: StartOptions = {}): Promise<Running> {
  const argv = [...(o.node ?? []), ...(o.cli ?? FROM_SOURCES), "serve", "--socket", socket, ...args];
  const q = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const child =
    o.fdLimit !== undefined
      ? spawn("bash", ["-c", `ulimit -n ${o.fdLimit}; exec ${[process.execPath, ...argv].map(q).join(" ")}`], {
          cwd: ROOT,
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
        })
      : spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exit = new Promise<Exit>((r) => child.on("exit", (code, signal) => r({ code, signal })));
  const pid = child.pid!;
  const r: Running = {
    child,
    pid,
    socket,
    stdout: () => out,
    stderr: () => err,
    exit,
    group: (sig) => process.kill(-pid, sig),
    kill: (sig) => process.kill(pid, sig),
  };
  if (o.shared !== true) {
    running.add(r);
    void exit.then(() => running.delete(r));
  }
  const ready = o.ready ?? "listening on";
  await until(() => out.includes(ready) || child.exitCode !== null, `the server to print "${ready}"`, 30_000).catch(
    (e: Error) => {
      throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`);
    },
  );
  return r;
}

/** Kill `r`'s process group, if it is still there. */
export function killGroup(r: Running): void {
  try {
    process.kill(-r.pid, "SIGKILL");
  } catch {
    // gone
  }
}

/** Kill every server a test left running (and its process group). */
export function killLeftovers(): void {
  for (const r of running) killGroup(r);
}

export interface Client {
  sock: Socket;
  got: () => string;
  closed: Promise<void>;
}

/** A raw client: connect, and read what arrives. */
export async function connect(socket: string): Promise<Client> {
  const sock = createConnection(socket);
  let got = "";
  sock.setEncoding("latin1").on("data", (d: string) => (got += d));
  const closed = new Promise<void>((r) => sock.on("close", () => r()));
  sock.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", () => resolve());
    sock.once("error", reject);
  });
  return { sock, got: () => got, closed };
}

/** Send `lines` on a fresh connection, wait for `n` answer lines, close. */
export async function ask(socket: string, text: string, n = 1): Promise<string[]> {
  const c = await connect(socket);
  c.sock.write(text, "latin1");
  await until(() => c.got().split("\n").length > n, `${n} answer lines to ${JSON.stringify(text.slice(0, 40))}`);
  c.sock.end();
  await c.closed;
  return c.got().split("\n").slice(0, n);
}

/**
 * Connect, send `text` at once (queued until connected) and resolve with the first answer line
 * (with its newline), or with what came before the connection closed ("" for nothing), or with
 * `connect: CODE` when the connection failed. Event-driven: thousands can run at once.
 */
export function probe(socket: string, text: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = createConnection(socket);
    let got = "";
    let connected = false;
    let code = "";
    sock.on("connect", () => (connected = true));
    sock.setEncoding("latin1").on("data", (d: string) => {
      got += d;
      if (got.includes("\n")) sock.end();
    });
    sock.on("error", (e: NodeJS.ErrnoException) => (code = e.code ?? "error"));
    sock.on("close", () => resolve(connected ? got.slice(0, got.indexOf("\n") + 1) : `connect: ${code}`));
    sock.write(text);
  });
}

/** The server's STATS answer, as numbers by name. */
export async function stats(socket: string): Promise<Record<string, number>> {
  const [line] = await ask(socket, "STATS\n");
  const out: Record<string, number> = {};
  for (const m of line!.matchAll(/ (\w+)=(\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

/** Open file descriptors of process `pid`. */
export function fdsOf(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident memory of process `pid`, in bytes. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
}

/** True while process `pid` exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** The numbers `re` (with one group) finds in `text`. */
export function numbers(text: string, re: RegExp): number[] {
  return [...text.matchAll(re)].map((m) => Number(m[1]));
}

/** Wait until the server's fds are back to `n` (the handlers close their sockets as the peers go). */
export async function fdsBackTo(pid: number, n: number, what: string): Promise<void> {
  await until(() => fdsOf(pid) <= n, `${what}: the server's fds to return to ${n} (now ${fdsOf(pid)})`, 15_000);
}
