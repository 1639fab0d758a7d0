import path from "node:path";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import {
  brecv,
  bsend,
  chmake,
  dill_stats,
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
  run,
} from "../src/index.js";
import { codeOf, expectNoFdLeak, pattern, tempDirPerFile } from "./ipc-helpers.js";

let dir: string;
expectNoFdLeak();
tempDirPerFile((d) => (dir = d));

function* closer(s: number, out: { code: string }) {
  out.code = yield* codeOf(ipc_close(s, -1));
}

function* drainer(s: number, n: number, out: { code: string; got?: Buffer }) {
  const buf = new Uint8Array(n);
  out.code = yield* codeOf(brecv(s, buf, n, now() + 5000));
  out.got = Buffer.from(buf);
  out.code += "/" + (yield* codeOf(ipc_close(s, now() + 5000)));
}

describe("ipc_done", () => {
  it("closes the sending half: the peer reads everything, then EPIPE; a second call is EPIPE", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, "data", 4, -1);
      yield* ipc_done(a, -1);
      expect(yield* codeOf(ipc_done(a, -1))).toBe("EPIPE");
      const buf = new Uint8Array(4);
      yield* brecv(b, buf, 4, now() + 1000);
      expect(yield* codeOf(brecv(b, buf, 1, now() + 1000))).toBe("EPIPE");
      hclose(a);
      hclose(b);
    });
  });

  it("fails with EBADF, ENOTSUP (a listener, a channel), EINVAL (deadline) and ECONNRESET after a failed send", async () => {
    const addr = path.join(dir, "done.ipc");
    await run(function* () {
      const ls: number = yield* ipc_listen(addr, 10); // plain numbers: the run-time check is under test
      const [c, d]: number[] = chmake();
      expect(yield* codeOf(ipc_done(9999, -1))).toBe("EBADF");
      expect(yield* codeOf(ipc_done(ls, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(ipc_done(c, -1))).toBe("ENOTSUP");
      const [a, b] = yield* ipc_pair();
      expect(yield* codeOf(ipc_done(a, NaN))).toBe("EINVAL");
      expect(yield* codeOf(bsend(a, new Uint8Array(32 << 20), 32 << 20, now() + 50))).toBe("ETIMEDOUT");
      expect(yield* codeOf(ipc_done(a, -1))).toBe("ECONNRESET");
      for (const h of [ls, c, d, a, b]) hclose(h);
    });
  });
});

describe("ipc_done when cancelled", () => {
  it("fails with ECANCELED from a cancelled coroutine and leaves the socket as it was", async () => {
    function* late(s: number, o: { code: string }) {
      try {
        yield* msleep(-1);
      } finally {
        o.code = yield* codeOf(ipc_done(s, -1));
      }
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const o = { code: "" };
      const cr = go(late(a, o));
      yield* msleep(now() + 5);
      hclose(cr);
      expect(o.code).toBe("ECANCELED");
      yield* ipc_done(a, -1);
      expect(yield* codeOf(brecv(b, null, 1, now() + 1000))).toBe("EPIPE");
      hclose(a);
      hclose(b);
    });
  });
});

describe("ipc_close", () => {
  it("delivers everything sent before it and returns once the peer closed too", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const data = pattern(300_000, 9);
      const out: { code: string; got?: Buffer } = { code: "" };
      const cr = go(drainer(b, data.length, out));
      yield* bsend(a, data, data.length, -1);
      yield* ipc_close(a, now() + 5000);
      yield* msleep(now() + 10);
      expect(out.code).toBe("OK/OK");
      expect(Buffer.compare(out.got!, data)).toBe(0);
      expect(dill_stats().handles).toBe(1); // only the finished coroutine's handle
      hclose(cr);
    });
  });

  it("reads and drops what the peer still sends until its end-of-stream", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(b, pattern(100_000), 100_000, -1);
      yield* ipc_done(b, -1);
      yield* ipc_close(a, now() + 5000);
      expect(yield* codeOf(brecv(b, null, 1, now() + 1000))).toBe("EPIPE");
      hclose(b);
    });
  });

  it("fails with ETIMEDOUT when the peer does not close in time, and closes the handle all the same", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      expect(yield* codeOf(ipc_close(a, now() + 50))).toBe("ETIMEDOUT");
      expect(yield* codeOf(bsend(a, "x", 1, -1))).toBe("EBADF");
      // the peer got the end-of-stream and then the close
      expect(yield* codeOf(brecv(b, null, 1, now() + 1000))).toBe("EPIPE");
      hclose(b);
    });
  });

  it("fails with ECONNRESET on a socket where a receive failed before, and closes the handle", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      expect(yield* codeOf(brecv(a, null, 1, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(ipc_close(a, now() + 1000))).toBe("ECONNRESET");
      expect(yield* codeOf(ipc_close(a, now() + 1000))).toBe("EBADF");
      hclose(b);
    });
  });

  it("fails with ECONNRESET when the peer closes without reading what was sent to it", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      // fills a's queue (then a stops reading) and part of its kernel buffer: bytes a never reads
      for (let i = 0; i < 100; i++) yield* bsend(b, pattern(4000, i + 1), 4000, now() + 2000);
      const out = { code: "" };
      const cr = go(closer(b, out));
      yield* msleep(now() + 20);
      hclose(a);
      yield* msleep(now() + 20);
      expect(out.code).toBe("ECONNRESET");
      hclose(cr);
    });
  });

  it("fails with ECONNRESET when another coroutine's send on the handle was still in progress", async () => {
    function* flood(s: number, out: { code: string }) {
      out.code = yield* codeOf(bsend(s, new Uint8Array(8 << 20), 8 << 20, -1));
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const f = { code: "" };
      const fcr = go(flood(b, f));
      yield* msleep(now() + 20);
      const fc = f.code;
      expect([fc, yield* codeOf(ipc_close(b, now() + 1000))]).toEqual(["", "ECONNRESET"]);
      yield* msleep(now() + 5);
      expect(f.code).toBe("EBADF");
      hclose(fcr);
      hclose(a);
    });
  });

  it("fails with ECANCELED when its coroutine is cancelled, and the socket is closed", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const out = { code: "" };
      const cr = go(closer(a, out));
      yield* msleep(now() + 20);
      hclose(cr);
      expect(out.code).toBe("ECANCELED");
      expect(dill_stats().handlesByKind.ipc).toBe(1);
      hclose(b);
    });
  });

  it("wakes another coroutine parked on the same handle with EBADF", async () => {
    function* reader(s: number, out: { code: string }) {
      out.code = yield* codeOf(brecv(s, null, 1, -1));
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const r = { code: "" };
      const rcr = go(reader(a, r));
      yield* msleep(now() + 10);
      const out = { code: "" };
      const ccr = go(closer(a, out));
      yield* msleep(now() + 10);
      expect(r.code).toBe("EBADF");
      yield* ipc_close(b, now() + 1000);
      yield* msleep(now() + 10);
      expect(out.code).toBe("OK");
      hclose(rcr);
      hclose(ccr);
    });
  });

  it("is hclose on a listener, and fails with ENOTSUP on a channel and EBADF on a bad handle", async () => {
    const addr = path.join(dir, "close-ls.ipc");
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10);
      yield* ipc_close(ls, -1);
      expect(fs.existsSync(addr)).toBe(false);
      const [c, d]: number[] = chmake(); // plain numbers: the run-time check is under test
      expect(yield* codeOf(ipc_close(c, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(ipc_close(12345, -1))).toBe("EBADF");
      hclose(c);
      hclose(d);
    });
  });

  it("works between a connected and an accepted socket closing at the same time", async () => {
    const addr = path.join(dir, "both.ipc");
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10);
      const c = yield* ipc_connect(addr, now() + 1000);
      const s = yield* ipc_accept(ls, now() + 1000);
      const out = { code: "" };
      const cr = go(closer(s, out));
      yield* ipc_close(c, now() + 1000);
      yield* msleep(now() + 10);
      expect(out.code).toBe("OK");
      hclose(cr);
      hclose(ls);
    });
  });
});

describe("hclose on a socket", () => {
  it("closes at once without a handshake: the peer sees end-of-stream", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, "x", 1, -1);
      hclose(a);
      const buf = new Uint8Array(1);
      yield* brecv(b, buf, 1, now() + 1000);
      expect(yield* codeOf(brecv(b, buf, 1, now() + 1000))).toBe("EPIPE");
      hclose(b);
    });
  });
});
