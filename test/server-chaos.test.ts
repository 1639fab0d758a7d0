/**
 * The server against what users, operators and attackers do: signals to the whole process group,
 * doubled and repeated signals, workers that die or are killed, a parent killed with SIGKILL,
 * files replaced under the server, slow and idle clients, a full store, the fd limit, fuzzed
 * bytes, long lines, floods of connections, readers that never read, peers killed mid-request.
 * Every case runs on loopback (Unix sockets in a temp dir) with small limits and short timeouts
 * given as flags, is bounded in time, and checks the exit code, that nothing is left open, and
 * where it matters the server's fds before and after and its memory.
 *
 * The command is bundled once with esbuild (see server-helpers.ts): the many processes started
 * here then take a fraction of a second each instead of seconds through tsx.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  alive,
  ask,
  bundleCli,
  connect,
  fdsBackTo,
  fdsOf,
  killGroup,
  killLeftovers,
  numbers,
  probe,
  rssOf,
  stats,
  type Running,
  startServer,
  until,
} from "./server-helpers.js";

let dir = "";
let cli: string[] = [];
let serial = 0;
const sock = () => path.join(dir, `c${++serial}.sock`);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsdill-chaos-"));
  cli = await bundleCli(dir);
});
afterEach(() => killLeftovers());
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const serve = (args: string[], o: Parameters<typeof startServer>[2] = {}) => startServer(sock(), args, { cli, ...o });

/** Everything a clean stop leaves: exit code 0, the summary, nothing open, no socket file. */
async function stoppedClean(s: Running, names = ["server"]): Promise<void> {
  const e = await s.exit;
  expect(e, `stdout: ${s.stdout()}\nstderr: ${s.stderr()}`).toEqual({ code: 0, signal: null });
  for (const n of names) expect(s.stdout()).toMatch(new RegExp(`${n}: stopped \\(`));
  const left = [...s.stdout().matchAll(/left open: (\d+) coroutines, (\d+) handles/g)];
  expect(left.length).toBe(names.length);
  for (const m of left) expect([m[1], m[2]]).toEqual(["0", "0"]);
  expect(fs.existsSync(s.socket)).toBe(false);
}

/** Send `sig` to the group every 2 ms until the process exits (Ctrl-C mashed, a service manager insisting). */
async function barrage(s: Running, sig: NodeJS.Signals): Promise<number> {
  let sent = 0;
  const t = setInterval(() => {
    try {
      s.group(sig);
      sent++;
    } catch {
      // the group is gone
    }
  }, 2);
  try {
    await s.exit;
  } finally {
    clearInterval(t);
  }
  return sent;
}

describe("signals to a single-process server", () => {
  it("exits 0 with its summary and removes its socket file under a barrage of SIGINTs to its group", async () => {
    const s = await serve(["--grace", "100"]);
    const c = await connect(s.socket);
    c.sock.write("PING\n");
    await until(() => c.got() === "PONG\n", "PONG");
    expect(await barrage(s, "SIGINT")).toBeGreaterThan(1);
    await stoppedClean(s);
  }, 30_000);

  it("takes a doubled signal (to the process and to its group at once) as one: the request in progress finishes", async () => {
    const s = await serve(["--grace", "10000"]);
    const c = await connect(s.socket);
    c.sock.write("SLEEP 400\n");
    while ((await stats(s.socket)).requests! < 2); // the SLEEP is in progress (and this STATS served)
    s.kill("SIGINT");
    s.group("SIGINT");
    await c.closed;
    expect(c.got()).toBe("OK\n"); // answered, then closed: the grace period was not cut short
    await stoppedClean(s);
    expect(s.stdout()).toContain("server: stopped (SIGINT) after");
    expect(s.stdout()).not.toContain("cut short");
  }, 30_000);

  it("cuts the grace period short at a second signal, and exits 0", async () => {
    const s = await serve(["--grace", "600000"]);
    const c = await connect(s.socket);
    c.sock.write("PING\n");
    await until(() => c.got() === "PONG\n", "PONG");
    s.group("SIGTERM");
    await until(() => !fs.existsSync(s.socket), "the listener to close"); // the first one was handled
    await new Promise((r) => setTimeout(r, 150)); // a second Ctrl-C, not the first delivered twice
    s.group("SIGTERM");
    await stoppedClean(s);
    await c.closed;
    expect(s.stdout()).toContain("server: stopped (SIGTERM, grace period cut short by SIGTERM)");
    expect(s.stdout()).toContain("1 cancelled at shutdown");
  }, 30_000);

  it("stops gracefully on SIGHUP", async () => {
    const s = await serve([]);
    s.group("SIGHUP");
    await stoppedClean(s);
    expect(s.stdout()).toContain("server: stopped (SIGHUP)");
  }, 30_000);
});

/** The pids of the workers a `--workers` server's output names, by worker number. */
function workerPids(out: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of out.matchAll(/worker (\d+): serving on fd 3 \(pid (\d+)\)/g)) m.set(Number(x[1]), Number(x[2]));
  return m;
}

describe("signals to a server with --workers", () => {
  it("exits 0 under a barrage of SIGINTs to its group (Ctrl-C): every worker's summary, no socket file", async () => {
    const s = await serve(["--workers", "2", "--grace", "100"]);
    const pids = [...workerPids(s.stdout()).values()];
    expect(pids.length).toBe(2);
    expect(await ask(s.socket, "PING\n")).toEqual(["PONG"]);
    expect(await barrage(s, "SIGINT")).toBeGreaterThan(1);
    await stoppedClean(s, ["worker 1", "worker 2"]);
    expect(s.stdout()).toMatch(/all 2 workers exited; removed /);
    for (const p of pids) expect(alive(p)).toBe(false);
  }, 60_000);

  it("on one SIGTERM to its group stops every worker, exits 0, and leaves alone a file that replaced the socket file", async () => {
    const s = await serve(["--workers", "2"]);
    fs.unlinkSync(s.socket);
    fs.writeFileSync(s.socket, "not the server's");
    s.group("SIGTERM");
    const e = await s.exit;
    expect(e).toEqual({ code: 0, signal: null });
    expect(s.stdout()).toContain("worker 1: stopped (SIGTERM)");
    expect(s.stdout()).toContain("worker 2: stopped (SIGTERM)");
    expect(s.stdout()).toContain(`left ${s.socket} alone: it is not the socket file this server made`);
    expect(fs.readFileSync(s.socket, "utf8")).toBe("not the server's");
    fs.unlinkSync(s.socket);
  }, 60_000);
});

describe("worker supervision", () => {
  it("restarts a worker killed with SIGKILL; --trace names each worker and the time", async () => {
    const s = await serve(["--workers", "2", "--restart-delay", "20", "--trace", "--trace-interval", "600000"]);
    const before = workerPids(s.stdout());
    process.kill(before.get(1)!, "SIGKILL");
    await until(() => (s.stdout().match(/worker 1: serving on/g) ?? []).length === 2, "worker 1 to be restarted");
    expect(s.stderr()).toMatch(
      new RegExp(`worker 1 \\(pid ${before.get(1)}\\) was killed by SIGKILL after [\\d.]+ s; restarting it in 20 ms`),
    );
    const after = workerPids(s.stdout());
    expect(after.get(1)).not.toBe(before.get(1));
    expect(alive(after.get(1)!)).toBe(true);
    // The new worker serves (the kernel spreads the connections among the workers).
    let pid = 0;
    for (let i = 0; i < 500 && pid !== after.get(1); i++)
      pid = Number(/pid=(\d+)/.exec((await ask(s.socket, "STATS\n"))[0]!)![1]);
    expect(pid).toBe(after.get(1));
    s.kill("SIGUSR2");
    await until(() => /worker 1 \(pid \d+\):\n/.test(s.stderr()), "the trace of worker 1");
    await until(() => /worker 2 \(pid \d+\):\n/.test(s.stderr()), "the trace of worker 2");
    expect(s.stderr()).toMatch(
      /\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] worker 1 \(pid \d+\):\ncoroutine \d+ \(serveMain\)/,
    );
    s.group("SIGINT");
    await stoppedClean(s, ["worker 1", "worker 2"]);
  }, 60_000);

  it("stops the supervisor and the workers, and removes the socket file, when the parent is killed with SIGKILL", async () => {
    const s = await serve(["--workers", "2", "--grace", "100"]);
    const sup = Number(/supervisor \(pid (\d+)\)/.exec(s.stdout())![1]);
    const pids = [...workerPids(s.stdout()).values(), sup];
    s.kill("SIGKILL");
    await s.exit;
    await until(() => pids.every((p) => !alive(p)), "the supervisor and the workers to exit");
    await until(() => !fs.existsSync(s.socket), "the socket file to go");
  }, 60_000);

  it("gives up with exit code 1 when workers keep dying at start-up", async () => {
    const crash = path.join(dir, "crash.cjs");
    // A worker (serve --listen-fd without --workers) that cannot start: it exits at once.
    fs.writeFileSync(
      crash,
      "const a = process.argv; if (a.includes('--listen-fd') && !a.some((x) => x.startsWith('--workers'))) process.exit(3);\n",
    );
    const s = await serve(["--workers", "2", "--restart-delay", "10", "--max-restarts", "2"], {
      node: ["--require", crash],
      ready: "supervisor (pid",
    });
    const e = await s.exit;
    expect(e).toEqual({ code: 1, signal: null });
    expect(s.stderr()).toMatch(/worker \d \(pid \d+\) exited with code 3 after [\d.]+ s; restarting it in 10 ms/);
    expect(s.stderr()).toMatch(/worker \d \(pid \d+\) exited with code 3 after [\d.]+ s; restarting it in 20 ms/);
    expect(s.stderr()).toMatch(/it died 3 times in a row within 10 s of its start: giving up/);
    expect(fs.existsSync(s.socket)).toBe(false);
  }, 60_000);

  it("honours a signal while it starts its workers: it stops starting them and exits 0", async () => {
    const s = await serve(["--workers", "32", "--max-workers", "32"], { ready: "supervisor (pid" });
    s.group("SIGTERM");
    const e = await s.exit;
    expect(e).toEqual({ code: 0, signal: null });
    const started = numbers(s.stdout(), /all (\d+) workers exited/g);
    expect(started.length).toBe(1);
    expect(started[0]).toBeLessThan(32);
    expect(fs.existsSync(s.socket)).toBe(false);
  }, 60_000);
});

describe("what is left on the file system", () => {
  it("leaves alone a file that replaced its socket file in a directory whose path leaves no room for a hidden name", async () => {
    const long = path.join(dir, "d".repeat(100 - dir.length - 1));
    fs.mkdirSync(long);
    const socket = path.join(long, "s");
    expect(Buffer.byteLength(socket)).toBeLessThanOrEqual(107);
    const s = await startServer(socket, [], { cli });
    expect(await ask(socket, "PING\n")).toEqual(["PONG"]);
    fs.unlinkSync(socket);
    fs.writeFileSync(socket, "not the server's");
    s.group("SIGINT");
    expect(await s.exit).toEqual({ code: 0, signal: null });
    expect(fs.readFileSync(socket, "utf8")).toBe("not the server's");
    expect(fs.readdirSync(long)).toEqual(["s"]);
  }, 30_000);
});

describe("keys", () => {
  it("are bytes: \\xff and \\xfe are two keys, and a key of 250 bytes \\xff is 250 bytes long", async () => {
    const s = await serve([]);
    const k = "\xff".repeat(250);
    const lines = await ask(
      s.socket,
      `SET \xff 1\na\nGET \xfe\nGET \xff\nSET ${k} 2\nbc\nGET ${k}\nSET ${k}\xff 1\nx\n`,
      8,
    );
    expect(lines).toEqual([
      "OK",
      "NOTFOUND",
      "VALUE 1",
      "a",
      "OK",
      "VALUE 2",
      "bc",
      "ERR EINVAL keys are at most 250 bytes",
    ]);
    s.group("SIGINT");
    await stoppedClean(s);
    expect(s.stdout()).toContain("store: 2 keys, 254 B");
  }, 30_000);
});

describe("slow and idle clients", () => {
  it("closes connections whose request line dribbles in (slowloris) and idle ones with ERR ETIMEDOUT, and serves again", async () => {
    const s = await serve(["--max-conns", "3", "--line-timeout", "300", "--idle-timeout", "600"]);
    const slow = await Promise.all([connect(s.socket), connect(s.socket), connect(s.socket)]);
    const drip = setInterval(() => {
      for (const c of slow) if (!c.sock.destroyed) c.sock.write("P");
    }, 50);
    try {
      // the server is full of them meanwhile
      expect((await ask(s.socket, "PING\n"))[0]).toMatch(/^ERR EBUSY /);
      await Promise.all(slow.map((c) => c.closed));
    } finally {
      clearInterval(drip);
    }
    for (const c of slow) expect(c.got()).toBe("ERR ETIMEDOUT the request line did not end within 300 ms\n");
    const idle = await connect(s.socket);
    await idle.closed;
    expect(idle.got()).toBe("ERR ETIMEDOUT no request for 600 ms, closing\n");
    const [stats] = await ask(s.socket, "STATS\n");
    expect(stats).toMatch(/ refused=1 .* idle_timeouts=1 line_timeouts=3 /);
    s.group("SIGINT");
    await stoppedClean(s);
    expect(s.stdout()).toContain("timeouts: 1 idle connections closed, 3 request lines too slow");
  }, 30_000);
});

describe("the store's limits", () => {
  it("answers ERR ENOMEM past --max-keys and --max-bytes, reads the refused body, and counts the refusals", async () => {
    const s = await serve(["--max-keys", "2", "--max-bytes", "100"]);
    const big = "x".repeat(90);
    const lines = await ask(
      s.socket,
      `SET a 1\n1\nSET b 1\n2\nSET c 1\n3\nSET a 98\n${"y".repeat(98)}\nPING\nDEL b\nSET c ${big.length}\n${big}\nGET c\n`,
      8,
    );
    expect(lines.slice(0, 2)).toEqual(["OK", "OK"]);
    expect(lines[2]).toMatch(/^ERR ENOMEM the store is full \(at most 2 keys and 100 bytes/);
    expect(lines[3]).toMatch(/^ERR ENOMEM /); // 1 + 98 and the other key's 2 bytes: 101
    expect(lines.slice(4, 8)).toEqual(["PONG", "OK", "OK", `VALUE ${big.length}`]);
    const [stats] = await ask(s.socket, "STATS\n");
    expect(stats).toMatch(/ nomem=2 keys=2 store_bytes=93 /);
    s.group("SIGINT");
    await stoppedClean(s);
    expect(s.stdout()).toContain("2 SETs refused with ENOMEM");
    expect(s.stdout()).toContain("store: 2 keys, 93 B");
  }, 30_000);
});

describe("the fd limit", () => {
  it("answers the connections it has no fd for with ERR EMFILE, and counts them: none is dropped unseen", async () => {
    const s = await serve(["--max-conns", "1000"], { fdLimit: 64 });
    const conns = [];
    const outcome = { pong: 0, emfile: 0, closed: 0 };
    for (let i = 0; i < 60; i++) {
      const c = await connect(s.socket);
      c.sock.write("PING\n");
      await until(() => c.got().includes("\n") || c.sock.destroyed, `an answer to connection ${i}`);
      if (c.got() === "PONG\n") outcome.pong++;
      else if (/^ERR EMFILE the server is out of file descriptors\n$/.test(c.got())) outcome.emfile++;
      // Closed before its PING went out (EPIPE): the answer was sent, this client could not read it.
      else if (c.got() === "") outcome.closed++;
      else throw new Error(`connection ${i} got ${JSON.stringify(c.got())}`);
      conns.push(c);
    }
    expect(outcome.pong).toBeGreaterThan(5);
    expect(outcome.emfile).toBeGreaterThan(0);
    for (const c of conns) c.sock.end();
    await Promise.all(conns.map((c) => c.closed));
    s.group("SIGINT");
    await stoppedClean(s);
    // Every connection reached the server: it accepted each, and counts each one it could not serve.
    expect(s.stdout()).toContain(
      `connections: 60 accepted, 0 refused (EBUSY), ${60 - outcome.pong} dropped (EMFILE), 0 cancelled at shutdown\n`,
    );
    expect(s.stdout()).toContain(`requests: ${outcome.pong} served`);
  }, 30_000);
});

/** A small deterministic PRNG (xorshift32), so that a failing fuzz run can be repeated. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** Sample `pid`'s RSS every 20 ms while `work` runs; resolves with the peak. */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<number> {
  let peak = rssOf(pid);
  const t = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  try {
    await work();
  } finally {
    clearInterval(t);
  }
  return Math.max(peak, rssOf(pid));
}

const MB = 1 << 20;

describe("attacks on one server, one after the other", () => {
  let s: Running;
  let fds0 = 0;
  let rss0 = 0;

  beforeAll(async () => {
    s = await serve(
      [
        "--backlog",
        "4096",
        "--max-conns",
        "50",
        "--request-timeout",
        "500",
        "--line-timeout",
        "1000",
        "--idle-timeout",
        "3000",
        "--grace",
        "200",
        "--max-body",
        "65536",
        "--max-bytes",
        String(8 * MB),
      ],
      { shared: true },
    );
    expect(await ask(s.socket, "PING\n")).toEqual(["PONG"]);
    await fdsBackTo(s.pid, fdsOf(s.pid), "start");
    fds0 = fdsOf(s.pid);
    rss0 = rssOf(s.pid);
  }, 30_000);
  afterAll(() => killGroup(s));

  /** After each attack: the server answers, holds the fds it held before, and its memory stayed bounded. */
  async function unharmed(what: string, peak: number): Promise<void> {
    expect(await ask(s.socket, "PING\n"), what).toEqual(["PONG"]);
    await fdsBackTo(s.pid, fds0, what);
    expect(peak - rss0, `${what}: the server's memory grew by ${((peak - rss0) / MB).toFixed(0)} MB`).toBeLessThan(
      96 * MB,
    );
  }

  it("survives fuzzed bytes: random requests, random bytes and newlines, on 30 connections", async () => {
    const next = rng(20240611);
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]!;
    const words = ["PING", "SET", "GET", "DEL", "ECHO", "SLEEP", "STATS", "QUIT", "k", "0", "5", "99999999999", "-1"];
    const peak = await peakRss(s.pid, async () => {
      await Promise.all(
        Array.from({ length: 30 }, async () => {
          const parts: Buffer[] = [];
          for (let n = 0; n < 64 * 1024;) {
            let b: Buffer;
            if (next() < 0.5) {
              b = Buffer.from(`${Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(words)).join(" ")}\n`);
            } else {
              b = Buffer.alloc(Math.floor(next() * 2048));
              for (let i = 0; i < b.length; i++) b[i] = next() < 0.02 ? 10 : Math.floor(next() * 256);
            }
            parts.push(b);
            n += b.length;
          }
          const c = await connect(s.socket);
          for (const p of parts) if (!c.sock.destroyed) c.sock.write(p);
          c.sock.end();
          await c.closed;
        }),
      );
    });
    await unharmed("fuzz", peak);
  }, 30_000);

  it("survives long lines: 10 clients streaming up to 100 MB without a newline are answered EMSGSIZE and closed", async () => {
    const chunk = Buffer.alloc(MB, "x");
    const answers: string[] = [];
    const peak = await peakRss(s.pid, async () => {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const c = await connect(s.socket);
          for (let sent = 0; sent < 100 && !c.sock.destroyed && !c.got(); sent++) {
            if (!c.sock.write(chunk)) await new Promise((r) => setTimeout(r, 5));
          }
          await until(() => c.got() !== "" || c.sock.destroyed, "the answer");
          c.sock.destroy();
          await c.closed;
          answers.push(c.got());
        }),
      );
    });
    // "": the server closed while this client was still writing (EPIPE), before it read the answer.
    for (const a of answers) expect(a).toMatch(/^(ERR EMSGSIZE a request line is at most 1024 bytes\n)?$/);
    expect(answers.filter((a) => a !== "").length).toBeGreaterThan(0);
    await unharmed("long lines", peak);
  }, 30_000);

  it("survives a flood: 2000 connections at once against --max-conns 50, each one served or refused with EBUSY", async () => {
    const before = await stats(s.socket);
    const outcome: Record<string, number> = { pong: 0, busy: 0, early: 0 };
    const peak = await peakRss(s.pid, async () => {
      const answers = await Promise.all(Array.from({ length: 2000 }, () => probe(s.socket, "PING\n")));
      for (const a of answers) {
        const k = a === "PONG\n" ? "pong" : /^ERR EBUSY /.test(a) ? "busy" : a === "" ? "early" : a;
        outcome[k] = (outcome[k] ?? 0) + 1;
      }
    });
    // "early": this process, busy with 2000 sockets, wrote its PING after the server had answered
    // EBUSY and closed (EPIPE): the answer went unread. Nothing else may happen to a connection.
    expect(outcome.pong! + outcome.busy! + outcome.early!, JSON.stringify(outcome)).toBe(2000);
    expect(outcome.pong).toBeGreaterThan(0);
    // Some were refused: read as EBUSY, or as "early" when this process's PING came after the close.
    expect(outcome.busy! + outcome.early!).toBeGreaterThan(0);
    // Every connection reached the server, and every one it did not serve was refused.
    const after = await stats(s.socket);
    expect(after.connections).toBe(before.connections! + 2000 + 1); // + 1: this STATS connection
    expect(after.refused).toBe(before.refused! + 2000 - outcome.pong!);
    await unharmed("flood", peak);
  }, 60_000);

  it("survives slow readers: a client that never reads its answers is cut off at the request deadline", async () => {
    expect(await ask(s.socket, `SET big 65536\n${"v".repeat(65536)}\n`, 1)).toEqual(["OK"]);
    const readers = await Promise.all(Array.from({ length: 5 }, () => connect(s.socket)));
    const peak = await peakRss(s.pid, async () => {
      for (const r of readers) {
        r.sock.pause(); // never reads: the server's sends block once the socket buffers are full
        r.sock.write("GET big\n".repeat(2000)); // 128 MB of answers asked for
      }
      // Meanwhile the others are served.
      expect(await ask(s.socket, "PING\n")).toEqual(["PONG"]);
      await until(() => fdsOf(s.pid) <= fds0, "the slow readers to be cut off", 20_000);
    });
    for (const r of readers) r.sock.destroy();
    await Promise.all(readers.map((r) => r.closed));
    expect((await stats(s.socket)).timeouts).toBeGreaterThanOrEqual(5);
    await unharmed("slow readers", peak);
  }, 30_000);

  it("survives peers killed with SIGKILL in the middle of a line, a body and a pipelined burst", async () => {
    const script = `
      const net = require("node:net");
      const parts = ["PIN", "SET k 60000\\n" + "a".repeat(1000), "ECHO 5000\\nabc", "GET big\\n".repeat(500)];
      let n = 0;
      for (let i = 0; i < 12; i++) {
        const c = net.createConnection(process.argv[1], () => {
          c.write(parts[i % parts.length]);
          if (++n === 12) console.log("ready");
        });
        c.on("error", () => {});
        c.pause();
      }
      setInterval(() => {}, 1e6);`;
    const peers = Array.from({ length: 2 }, () =>
      spawn(process.execPath, ["-e", script, s.socket], { stdio: ["ignore", "pipe", "inherit"] }),
    );
    const gone = peers.map((p) => new Promise((r) => p.on("exit", r)));
    try {
      await Promise.all(
        peers.map((p) => new Promise<void>((r) => p.stdout!.on("data", (d: Buffer) => d.includes("ready") && r()))),
      );
      await until(() => fdsOf(s.pid) >= fds0 + 24, "the server to hold the 24 connections");
    } finally {
      for (const p of peers) p.kill("SIGKILL");
    }
    await Promise.all(gone);
    await unharmed("killed peers", rssOf(s.pid));
  }, 30_000);

  it("stops with exit code 0 afterwards, nothing left open", async () => {
    s.group("SIGTERM");
    await stoppedClean(s);
  }, 30_000);
});
