/** Shared helpers of the IPC tests: temp dirs, fd counts, error codes, child processes. */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
import {
  DillError,
  bsend,
  dill_configure,
  dill_stats,
  hclose,
  hmake,
  ipc_pair,
  type IoList,
  type Op,
  run,
} from "../src/index.js";

export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(TEST_DIR);

/** A fresh temp directory; remove it with `fs.rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tsdill-ipc-"));
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

/** Run `op`; its DillError code, or "OK". Other exceptions pass through. */
export function* codeOf(op: Op<unknown>): Generator<unknown, string, unknown> {
  try {
    yield* op;
    return "OK";
  } catch (e) {
    if (e instanceof DillError) return e.code;
    throw e;
  }
}

/** One element of an iolist. */
export const iol = (base: Uint8Array | null, len: number, next: IoList | null = null): IoList => ({
  iol_base: base,
  iol_len: len,
  iol_next: next,
  iol_rsvd: 0,
});

/** Send `data` on the bytestream `s` in `chunk`-byte bsends; `out` gets the outcome and the bytes sent. */
export function* sendAll(
  s: number,
  data: Uint8Array,
  chunk: number,
  deadline: number,
  out: { code: string; sent: number },
) {
  out.code = yield* codeOf(
    (function* () {
      for (let off = 0; off < data.length; off += chunk) {
        const part = data.subarray(off, Math.min(data.length, off + chunk));
        yield* bsend(s, part, part.length, deadline);
        out.sent += part.length;
      }
    })(),
  );
}

/** The DillError code a plain call throws, or "OK". */
export function codeOfCall(f: () => unknown): string {
  try {
    f();
    return "OK";
  } catch (e) {
    if (e instanceof DillError) return e.code;
    throw e;
  }
}

/** Deterministic test bytes: `n` bytes from a seed. */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** Compile the C peer (test/ipc-peer.c) into `dir`; its path. */
export function buildPeer(dir: string): string {
  const out = path.join(dir, "peer");
  const r = spawnSync("cc", ["-O1", "-o", out, path.join(TEST_DIR, "ipc-peer.c")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cc failed: ${r.stderr}`);
  return out;
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run test/ipc-child.ts with tsx in a child process. `prelude` is shell code run first (ulimit...),
 * `wrap` a command that runs the child (the C peer handing it an fd).
 */
export function runChild(
  args: string[],
  opts: {
    prelude?: string;
    wrap?: string[];
    uid?: number;
    gid?: number;
    stdio?: (number | "pipe" | "ignore")[];
    timeoutMs?: number;
  } = {},
): Promise<ChildResult> {
  const node = process.execPath;
  const script = path.join(TEST_DIR, "ipc-child.ts");
  const cmd = [...(opts.wrap ?? []), node, "--import", "tsx", script, ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ");
  const stdio = opts.stdio ?? ["ignore", "pipe", "pipe"];
  const child = spawn("bash", ["-c", `${opts.prelude ?? ""} exec ${cmd}`], {
    cwd: ROOT,
    stdio,
    uid: opts.uid,
    gid: opts.gid,
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child ${args.join(" ")} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 15_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last JSON line a child printed. */
export function childJson(r: ChildResult): Record<string, string> {
  const lines = r.stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"));
  if (lines.length === 0)
    throw new Error(`child printed no result (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(lines[lines.length - 1]!) as Record<string, string>;
}

/**
 * Register, for the calling test file, the check that it ends with as many open file
 * descriptors as it began with (sockets closed by Node a moment late get 20 ms). The one
 * descriptor tsdill keeps for the whole process (its native part's poller, opened at the first
 * IPC connection) is opened before counting.
 */
export function expectNoFdLeak(): void {
  let before = 0;
  beforeAll(async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      hclose(a);
      hclose(b);
    });
    await new Promise((r) => setTimeout(r, 20));
    before = openFds();
  });
  afterAll(async () => {
    await new Promise((r) => setTimeout(r, 20));
    expect(openFds()).toBe(before);
  });
}

/** Register a fresh temporary directory for the calling test file, removed after it; `use` gets its path. */
export function tempDirPerFile(use: (dir: string) => void): void {
  let dir = "";
  beforeAll(() => {
    dir = tempDir();
    use(dir);
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** True when this process may write `file`. */
export function isWritable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Wait until `file` exists (a peer process is starting). */
export async function waitForFile(file: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`${file} did not appear`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Fill the handle table: lower its bound to what is in use and take every free slot left.
 * `leave` slots are left free. Returns the function that undoes it.
 */
export function fillHandleTable(leave = 0): () => void {
  const max = dill_stats().maxHandles;
  for (let k = Math.max(1, dill_stats().handles); ; k++) {
    try {
      dill_configure({ handles: k });
      break;
    } catch {
      // a handle above k is open: try a higher bound
    }
  }
  const fillers: number[] = [];
  try {
    for (;;) fillers.push(hmake({ query: () => undefined, close() {} }));
  } catch {
    // full
  }
  for (let i = 0; i < leave && fillers.length > 0; i++) hclose(fillers.pop()!);
  return () => {
    for (const h of fillers) hclose(h);
    dill_configure({ handles: max });
  };
}

/** Lower the pool's capacity to what is in use now; returns the function that restores it. */
export function exhaustPool(): () => void {
  const cap = dill_stats().pool.capacity;
  dill_configure({ pool: dill_stats().pool.used });
  return () => dill_configure({ pool: cap });
}

/** The uid of the files an unprivileged child must not be able to write. */
export const NOBODY = 65534;

/**
 * How to run a child that permission bits apply to, when this process is root (root bypasses
 * them). With `setpriv`, the child stays root (it can read the repository wherever it is) but
 * loses the capabilities that override file permissions, so files owned by `NOBODY` are "other"
 * to it. Without `setpriv`, the child runs as `NOBODY` (then the repository must be readable).
 */
export function unprivileged(): { wrap?: string[]; uid?: number; gid?: number } {
  if (hasCommand("setpriv")) return { wrap: ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"] };
  return { uid: NOBODY, gid: NOBODY };
}
