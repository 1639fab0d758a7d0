/**
 * IPC under faults: a peer process killed in the middle of a call, a listener closed or its
 * socket file deleted under waiting coroutines, the process out of file descriptors, a peer that
 * stops reading, and the two sides closing at the same time. Every blocking call has a deadline
 * as a safety net: a regression fails with ETIMEDOUT instead of hanging the suite.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  DillError,
  go,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_done,
  ipc_listen,
  ipc_pair,
  msleep,
  now,
  type Op,
  run,
  await_promise,
} from "../src/index.js";
import { childJson, codeOf, expectNoFdLeak, pattern, ROOT, tempDirPerFile, TEST_DIR } from "./ipc-helpers.js";

let dir: string;
expectNoFdLeak();
tempDirPerFile((d) => (dir = d));

let n = 0;
const fresh = (): string => path.join(dir, `f${++n}.ipc`);

/** The safety net of every wait in this file. */
const SAFETY = 10_000;

/**
 * A peer process: connects to `addr`, prints "connected", never reads nor writes, and lives
 * until it is killed.
 */
function idlePeer(addr: string): { child: ChildProcess; connected: Promise<void> } {
  const script = `const s = require("net").createConnection(process.argv[1]);
    s.on("connect", () => { s.pause(); process.stdout.write("connected\\n"); });
    s.on("error", () => {});
    setInterval(() => {}, 1e6);`;
  const child = spawn(process.execPath, ["-e", script, addr], { stdio: ["ignore", "pipe", "inherit"] });
  const connected = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      if (d.includes("connected")) resolve();
    });
    child.on("exit", () => reject(new Error("the peer exited before it connected")));
  });
  return { child, connected };
}

/** Kill `child` with SIGKILL and wait until it is gone. */
function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** Run `op` in a coroutine of `b`; `into.code` gets its outcome ("OK" or the errno name). */
function launch(b: number, op: Op<unknown>, into: { code: string }): void {
  bundle_go(
    b,
    (function* () {
      try {
        yield* op;
        into.code = "OK";
      } catch (e) {
        if (!(e instanceof DillError)) throw e;
        into.code = e.code;
      }
    })(),
  );
}

/** A coroutine's view of a peer connection accepted on a fresh listener: [listener, socket, peer]. */
function* acceptIdlePeer(): Generator<unknown, [number, number, ChildProcess], unknown> {
  const addr = fresh();
  const ls = yield* ipc_listen(addr, 10);
  const { child, connected } = idlePeer(addr);
  yield* await_promise(connected, now() + SAFETY);
  const s = yield* ipc_accept(ls, now() + SAFETY);
  return [ls, s, child];
}

describe("a peer process killed with SIGKILL", () => {
  it("fails a brecv waiting on it with EPIPE or ECONNRESET, not a hang", async () => {
    await run(function* () {
      const [ls, s, child] = yield* acceptIdlePeer();
      const b = bundle();
      const r = { code: "" };
      launch(b, brecv(s, new Uint8Array(10), 10, now() + SAFETY), r);
      yield* msleep(now() + 50);
      expect(r.code).toBe(""); // still waiting
      yield* await_promise(kill(child), now() + SAFETY);
      yield* bundle_wait(b, now() + SAFETY);
      expect(["EPIPE", "ECONNRESET"]).toContain(r.code);
      hclose(b);
      hclose(s);
      hclose(ls);
    });
  });

  it("fails a large bsend blocked on backpressure with ECONNRESET or EPIPE, not a hang", async () => {
    await run(function* () {
      const [ls, s, child] = yield* acceptIdlePeer();
      const big = pattern(16 << 20);
      const b = bundle();
      const r = { code: "" };
      launch(b, bsend(s, big, big.length, now() + SAFETY), r);
      yield* msleep(now() + 100);
      expect(r.code).toBe(""); // blocked: the peer reads nothing
      yield* await_promise(kill(child), now() + SAFETY);
      yield* bundle_wait(b, now() + SAFETY);
      expect(["ECONNRESET", "EPIPE"]).toContain(r.code);
      // Sending stays failed; the socket can still be closed.
      expect(yield* codeOf(bsend(s, "x", 1, now() + SAFETY))).toBe("ECONNRESET");
      hclose(b);
      hclose(s);
      hclose(ls);
    });
  });
});

describe("a peer process killed during ipc_close", () => {
  it("ends the handshake at once, with success (the kernel closed the peer's end) or ECONNRESET, and frees the socket", async () => {
    await run(function* () {
      const [ls, s, child] = yield* acceptIdlePeer();
      yield* bsend(s, "unread", 6, now() + SAFETY); // the peer dies with these bytes unread
      const b = bundle();
      const r = { code: "" };
      launch(b, ipc_close(s, now() + SAFETY), r);
      yield* msleep(now() + 50);
      expect(r.code).toBe(""); // waiting for the peer's end of stream
      yield* await_promise(kill(child), now() + SAFETY);
      yield* bundle_wait(b, now() + SAFETY);
      expect(["OK", "ECONNRESET"]).toContain(r.code);
      expect(yield* codeOf(bsend(s, "x", 1, 0))).toBe("EBADF");
      hclose(b);
      hclose(ls);
    });
  });
});

describe("a listener closed under coroutines in ipc_accept", () => {
  it("fails the waiting ipc_accept with EBADF, the others at once with EBUSY, later calls with EBADF", async () => {
    await run(function* () {
      const ls = yield* ipc_listen(fresh(), 10);
      const b = bundle();
      const rs = [{ code: "" }, { code: "" }, { code: "" }, { code: "" }];
      for (const r of rs) launch(b, ipc_accept(ls, now() + SAFETY), r);
      yield* msleep(now() + 20);
      // One coroutine at a time waits on a listener (libdill: EBUSY for the others).
      expect(rs.map((r) => r.code).sort()).toEqual(["", "EBUSY", "EBUSY", "EBUSY"]);
      hclose(ls);
      yield* bundle_wait(b, now() + SAFETY);
      expect(rs.map((r) => r.code).sort()).toEqual(["EBADF", "EBUSY", "EBUSY", "EBUSY"]);
      expect(yield* codeOf(ipc_accept(ls, now() + SAFETY))).toBe("EBADF");
      hclose(b);
    });
  });

  it("fails every waiter of several listeners closed at once with EBADF; a cancelled waiter with ECANCELED", async () => {
    await run(function* () {
      const lss: number[] = [];
      for (let i = 0; i < 4; i++) lss.push(yield* ipc_listen(fresh(), 10));
      const b = bundle();
      const rs = lss.map(() => ({ code: "" }));
      lss.forEach((ls, i) => launch(b, ipc_accept(ls, now() + SAFETY), rs[i]!));
      const extra = yield* ipc_listen(fresh(), 10);
      const c = bundle();
      const cancelled = { code: "" };
      launch(c, ipc_accept(extra, now() + SAFETY), cancelled);
      yield* msleep(now() + 20);
      for (const ls of lss) hclose(ls);
      hclose(c); // cancels the coroutine waiting on `extra`
      yield* bundle_wait(b, now() + SAFETY);
      expect(rs.map((r) => r.code)).toEqual(["EBADF", "EBADF", "EBADF", "EBADF"]);
      expect(cancelled.code).toBe("ECANCELED");
      // The listener whose acceptor was cancelled still works.
      const cl = go(
        (function* () {
          hclose(yield* ipc_connect(path.join(dir, `f${n}.ipc`), now() + SAFETY));
        })(),
      );
      hclose(yield* ipc_accept(extra, now() + SAFETY));
      hclose(cl);
      hclose(extra);
      hclose(b);
    });
  });
});

describe("the socket file deleted under a live listener", () => {
  it("keeps the existing connections, refuses new ones with ENOENT, and closing the listener leaves a newer file at the path alone", async () => {
    await run(function* () {
      const addr = fresh();
      const ls = yield* ipc_listen(addr, 10);
      const c = yield* ipc_connect(addr, now() + SAFETY);
      const a = yield* ipc_accept(ls, now() + SAFETY);
      fs.unlinkSync(addr);
      // Existing connection: both ways.
      const buf = new Uint8Array(5);
      yield* bsend(c, "hello", 5, now() + SAFETY);
      yield* brecv(a, buf, 5, now() + SAFETY);
      yield* bsend(a, buf, 5, now() + SAFETY);
      yield* brecv(c, buf, 5, now() + SAFETY);
      expect(Buffer.from(buf).toString()).toBe("hello");
      // New connections: the path is gone.
      expect(yield* codeOf(ipc_connect(addr, now() + SAFETY))).toBe("ENOENT");
      // Someone else listens at the path now; closing the first listener does not remove their file.
      const ls2 = yield* ipc_listen(addr, 10);
      hclose(ls);
      expect(fs.existsSync(addr)).toBe(true);
      const c2 = yield* ipc_connect(addr, now() + SAFETY);
      const a2 = yield* ipc_accept(ls2, now() + SAFETY);
      yield* bsend(c2, "again", 5, now() + SAFETY);
      yield* brecv(a2, buf, 5, now() + SAFETY);
      expect(Buffer.from(buf).toString()).toBe("again");
      // And a regular file put at the path is left alone too.
      hclose(ls2);
      expect(fs.existsSync(addr)).toBe(false);
      const ls3 = yield* ipc_listen(addr, 10);
      fs.unlinkSync(addr);
      fs.writeFileSync(addr, "not ours");
      hclose(ls3);
      expect(fs.readFileSync(addr, "utf8")).toBe("not ours");
      fs.unlinkSync(addr);
      for (const h of [c, a, c2, a2]) hclose(h);
    });
  });
});

describe("the process out of file descriptors (a child under ulimit -n)", () => {
  it("drops the connection that arrived meanwhile (its peer sees the end), keeps ipc_accept waiting, and serves again once fds are freed", async () => {
    const script = path.join(TEST_DIR, "ipc-child.ts");
    const child = spawn(
      "bash",
      ["-c", `ulimit -n 256; exec '${process.execPath}' --import tsx '${script}' emfile-accept '${dir}'`],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NODE_OPTIONS: "" },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    const until = async (word: string): Promise<void> => {
      const end = Date.now() + 15_000;
      while (!stdout.includes(word)) {
        if (Date.now() > end || child.exitCode !== null)
          throw new Error(`the child did not print ${word}\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const addr = path.join(dir, "ea.ipc");
    try {
      await until("exhausted");
      const first = await run(function* () {
        // The kernel completes the connection (backlog); the child cannot take it without an fd.
        const s = yield* ipc_connect(addr, now() + SAFETY);
        const code = yield* codeOf(brecv(s, new Uint8Array(1), 1, now() + SAFETY));
        hclose(s);
        return code;
      });
      expect(["EPIPE", "ECONNRESET"]).toContain(first);
      fs.writeFileSync(path.join(dir, "dropped"), "");
      await until("freed");
      await run(function* () {
        const s = yield* ipc_connect(addr, now() + SAFETY);
        yield* bsend(s, "after", 5, now() + SAFETY);
        yield* ipc_close(s, now() + SAFETY);
      });
      await exited;
    } finally {
      child.kill("SIGKILL");
    }
    const out = childJson({ code: child.exitCode, stdout, stderr });
    expect(out).toEqual({ exhausted: "EMFILE", during: "ETIMEDOUT", after: "after" });
  });
});

describe("a peer that stops reading", () => {
  it("blocks bsend on backpressure and keeps the sender's memory bounded", async () => {
    await run(function* () {
      const [ls, s, child] = yield* acceptIdlePeer();
      const chunk = pattern(1 << 20);
      const b = bundle();
      const sent = { chunks: 0 };
      const r = { code: "" };
      launch(
        b,
        (function* () {
          for (;;) {
            yield* bsend(s, chunk, chunk.length, now() + SAFETY);
            sent.chunks++;
          }
        })(),
        r,
      );
      yield* msleep(now() + 200);
      const stalled = sent.chunks;
      const mem1 = process.memoryUsage().arrayBuffers;
      // Nothing more goes out while the peer reads nothing, and nothing piles up in memory.
      for (let i = 0; i < 5; i++) {
        yield* msleep(now() + 50);
        expect(sent.chunks).toBe(stalled);
      }
      const mem2 = process.memoryUsage().arrayBuffers;
      expect(stalled).toBeLessThan(8); // a few MB at most went into the kernel's buffers
      expect(mem2 - mem1).toBeLessThan(1 << 20);
      expect(r.code).toBe("");
      yield* await_promise(kill(child), now() + SAFETY);
      yield* bundle_wait(b, now() + SAFETY);
      expect(["ECONNRESET", "EPIPE"]).toContain(r.code);
      hclose(b);
      hclose(s);
      hclose(ls);
    });
  });
});

/** Send `data`, then ipc_done. */
function* sendAll(s: number, data: Uint8Array): Generator<unknown, void, unknown> {
  yield* bsend(s, data, data.length, now() + SAFETY);
  yield* ipc_done(s, now() + SAFETY);
}

/** Receive exactly `n` bytes, then expect EPIPE. */
function* recvAll(s: number, n: number, into: { data: Buffer | null; end: string }): Generator<unknown, void, unknown> {
  const buf = new Uint8Array(n);
  yield* brecv(s, buf, n, now() + SAFETY);
  into.data = Buffer.from(buf);
  into.end = yield* codeOf(brecv(s, new Uint8Array(1), 1, now() + SAFETY));
}

describe("half-close races", () => {
  it("ipc_done on both sides at once: each side gets every byte the other sent, then EPIPE", async () => {
    await run(function* () {
      for (const size of [0, 1, 300_000]) {
        const [x, y] = yield* ipc_pair();
        const dx = pattern(size, 3);
        const dy = pattern(size + 7, 4);
        const rx = { data: null as Buffer | null, end: "" };
        const ry = { data: null as Buffer | null, end: "" };
        const b = bundle();
        bundle_go(b, sendAll(x, dx));
        bundle_go(b, sendAll(y, dy));
        bundle_go(b, recvAll(x, dy.length, rx));
        bundle_go(b, recvAll(y, dx.length, ry));
        yield* bundle_wait(b, now() + SAFETY);
        expect(ry.data!.equals(dx)).toBe(true);
        expect(rx.data!.equals(dy)).toBe(true);
        expect([rx.end, ry.end]).toEqual(["EPIPE", "EPIPE"]);
        hclose(b);
        hclose(x);
        hclose(y);
      }
    });
  });

  it("ipc_done while the peer is in brecv: the peer gets what was sent, then EPIPE, also when it waits for more", async () => {
    await run(function* () {
      const [x, y] = yield* ipc_pair();
      const b = bundle();
      const got = { data: null as Buffer | null, end: "" };
      bundle_go(b, recvAll(y, 60, got));
      const short = { code: "" };
      yield* msleep(now() + 10); // y waits in brecv
      yield* sendAll(x, pattern(60, 9));
      yield* bundle_wait(b, now() + SAFETY);
      expect(got.data!.equals(pattern(60, 9))).toBe(true);
      expect(got.end).toBe("EPIPE");
      // A brecv that asks for more than was sent before ipc_done fails with EPIPE.
      const [u, v] = yield* ipc_pair();
      launch(b, brecv(v, new Uint8Array(100), 100, now() + SAFETY), short);
      yield* msleep(now() + 10);
      yield* sendAll(u, pattern(40));
      yield* bundle_wait(b, now() + SAFETY);
      expect(short.code).toBe("EPIPE");
      for (const h of [b, x, y, u, v]) hclose(h);
    });
  });

  it("ipc_close racing the peer's ipc_done: the peer gets every byte, then EPIPE; ipc_close succeeds", async () => {
    await run(function* () {
      const [x, y] = yield* ipc_pair();
      const dx = pattern(500_000, 5);
      const dy = pattern(200_000, 6);
      const b = bundle();
      const closed = { code: "" };
      launch(
        b,
        (function* () {
          yield* bsend(x, dx, dx.length, now() + SAFETY);
          yield* ipc_close(x, now() + SAFETY); // done, then drains y's bytes until y's done
        })(),
        closed,
      );
      const got = { data: null as Buffer | null, end: "" };
      bundle_go(b, sendAll(y, dy));
      bundle_go(b, recvAll(y, dx.length, got));
      yield* bundle_wait(b, now() + SAFETY);
      expect(closed.code).toBe("OK");
      expect(got.data!.equals(dx)).toBe(true);
      expect(got.end).toBe("EPIPE");
      hclose(b);
      hclose(y);
    });
  });
});
