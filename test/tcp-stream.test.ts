import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  await_promise,
  brecv,
  brecvl,
  BSOCK_TYPE,
  bsend,
  bsendl,
  chmake,
  dill_stats,
  dill_tcp_close,
  dill_tcp_done,
  go,
  hclose,
  hquery,
  IPC_TYPE,
  ipaddr_local,
  ipaddr_port,
  ipc_close,
  ipc_done,
  ipc_pair,
  msleep,
  now,
  run,
  TCP_LISTENER_TYPE,
  TCP_TYPE,
  tcp_accept,
  tcp_close,
  tcp_done,
  tcp_listen,
  tcp_recv_some,
} from "../src/index.js";
import { codeOf, expectNoFdLeak, pattern, iol, sendAll } from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";
import { tcpPair } from "./tcp-helpers.js";

expectNoFdLeak();

function* closer(s: number, out: { code: string }) {
  out.code = yield* codeOf(tcp_close(s, now() + 5000));
}

describe("bsend and brecv on TCP connections", () => {
  it("carry bytes and UTF-8 strings; brecv with a null buffer skips; bsendl/brecvl carry fragments", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      yield* bsend(a, "héllo", 6, -1);
      yield* bsend(a, new Uint8Array([1, 2, 3, 4]), 2, -1);
      const buf = new Uint8Array(6);
      yield* brecv(b, buf, 6, now() + 5000);
      expect(Buffer.from(buf).toString()).toBe("héllo");
      yield* brecv(b, null, 1, now() + 5000);
      yield* brecv(b, buf, 1, now() + 5000);
      expect(buf[0]).toBe(2);
      const tail = iol(Buffer.from("world"), 5);
      yield* bsendl(a, iol(Buffer.from("hello "), 6, tail), tail, -1);
      const x = new Uint8Array(5);
      const rtail = iol(x, 5);
      yield* brecvl(b, iol(null, 6, rtail), rtail, now() + 5000);
      expect(Buffer.from(x).toString()).toBe("world");
      hclose(a);
      hclose(b);
    });
  });

  it("a TCP connection answers BSOCK_TYPE and TCP_TYPE (not IPC_TYPE), a listener TCP_LISTENER_TYPE only; both are counted by kind", async () => {
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      const [a, b] = yield* tcpPair();
      expect(hquery(a, TCP_TYPE)).toBe(hquery(a, BSOCK_TYPE));
      expect(yield* codeOf(ipc_done(a, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(ipc_close(a, -1))).toBe("ENOTSUP");
      expect(() => hquery(a, IPC_TYPE)).toThrow(/ENOTSUP/);
      expect(hquery(ls, TCP_LISTENER_TYPE)).toBeTruthy();
      expect(() => hquery(ls, BSOCK_TYPE)).toThrow(/ENOTSUP/);
      expect(dill_stats().handlesByKind).toMatchObject({ tcp: 2, tcp_listener: 1 });
      for (const h of [a, b, ls]) hclose(h);
    });
  });

  it("turn Nagle's algorithm off (TCP_NODELAY) on connected and accepted sockets", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      for (const h of [a, b]) {
        const sock = (hquery(h, TCP_TYPE) as { sock: object }).sock;
        const key = Object.getOwnPropertySymbols(sock).find((k) => k.description === "kSetNoDelay");
        expect(key && (sock as Record<symbol, unknown>)[key]).toBe(true);
      }
      hclose(a);
      hclose(b);
    });
  });

  it("brecv fails with ETIMEDOUT at its deadline (and at once with 0), after which the socket refuses receives", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const t0 = now();
      expect(yield* codeOf(brecv(b, null, 1, now() + 40))).toBe("ETIMEDOUT");
      expect(now() - t0).toBeGreaterThanOrEqual(35);
      yield* bsend(a, "xy", 2, -1);
      yield* msleep(now() + 10);
      expect(yield* codeOf(brecv(b, null, 1, 0))).toBe("ECONNRESET");
      expect(yield* codeOf(brecv(a, null, 1, 0))).toBe("ETIMEDOUT");
      hclose(a);
      hclose(b);
    });
  });

  it("bsend fails with ETIMEDOUT when the peer does not read, then refuses to send", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const w = { code: "", sent: 0 };
      yield* sendAll(a, new Uint8Array(64 << 20), 1 << 20, now() + 200, w);
      expect(w.code).toBe("ETIMEDOUT");
      expect(w.sent).toBeLessThan(64 << 20);
      expect(yield* codeOf(bsend(a, "x", 1, -1))).toBe("ECONNRESET");
      hclose(a);
      hclose(b);
    });
  });

  it("brecv and bsend fail with ECANCELED when their coroutine is cancelled", async () => {
    function* reader(s: number, out: { code: string }) {
      out.code = yield* codeOf(brecv(s, new Uint8Array(10), 10, -1));
    }
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const r = { code: "" };
      const rcr = go(reader(a, r));
      const w = { code: "", sent: 0 };
      const wcr = go(sendAll(a, new Uint8Array(64 << 20), 1 << 20, -1, w));
      yield* msleep(now() + 50);
      hclose(rcr);
      hclose(wcr);
      expect(r.code).toBe("ECANCELED");
      expect(w.code).toBe("ECANCELED");
      expect(yield* codeOf(brecv(a, null, 1, 0))).toBe("ECONNRESET");
      expect(yield* codeOf(bsend(a, "x", 1, 0))).toBe("ECONNRESET");
      hclose(a);
      hclose(b);
    });
  });

  it("fail with ECONNRESET when the peer closed with bytes it never read (the kernel sends a reset)", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const w = { code: "", sent: 0 };
      const wcr = go(sendAll(a, new Uint8Array(64 << 20), 1 << 20, now() + 5000, w));
      yield* msleep(now() + 50); // b's queue and kernel buffers fill up: bytes b never reads
      hclose(b);
      for (let i = 0; i < 100 && w.code === ""; i++) yield* msleep(now() + 10);
      expect(w.code).toBe("ECONNRESET");
      expect(yield* codeOf(brecv(a, null, 1, now() + 1000))).toBe("ECONNRESET");
      expect(yield* codeOf(bsend(a, "x", 1, -1))).toBe("ECONNRESET");
      hclose(wcr);
      hclose(a);
    });
  });

  needs("python3").it(
    "fail with ECONNRESET when the peer process is killed with bytes unread, EPIPE when it had read everything",
    async () => {
      // A peer that connects and then sleeps without reading (or reads everything first, when told "read").
      const peer = (port: number, read: boolean) =>
        spawn(
          "python3",
          [
            "-c",
            `import socket,sys,time\ns=socket.create_connection(('127.0.0.1',${port}))\nsys.stdout.write('c\\n');sys.stdout.flush()\n${read ? "s.recv(100)\n" : ""}time.sleep(60)`,
          ],
          { stdio: ["ignore", "pipe", "inherit"] },
        );
      await run(function* () {
        for (const read of [false, true]) {
          const addr = ipaddr_local("127.0.0.1", 0, 0);
          const ls = yield* tcp_listen(addr, 10);
          const proc = peer(ipaddr_port(addr), read);
          const exited = new Promise((r) => proc.once("close", r));
          const s = yield* tcp_accept(ls, null, now() + 10_000);
          yield* bsend(s, "unread", 6, now() + 5000);
          yield* msleep(now() + 100); // the peer has the bytes (and, with "read", has read them)
          proc.kill("SIGKILL");
          yield* await_promise(exited, now() + 10_000);
          expect(yield* codeOf(brecv(s, null, 1, now() + 5000))).toBe(read ? "EPIPE" : "ECONNRESET");
          hclose(s);
          hclose(ls);
        }
      });
    },
  );
});

describe("tcp_recv_some", () => {
  it("takes what has arrived, up to len, and reads a 1 MiB transfer whole and in order", async () => {
    await run(function* () {
      const [c, s] = yield* tcpPair();
      yield* bsend(c, "hello world", 11, -1);
      const buf = new Uint8Array(64 * 1024);
      let text = "";
      while (text.length < 11) {
        const n = yield* tcp_recv_some(s, buf, 5, now() + 5000);
        expect(n).toBeGreaterThan(0);
        expect(n).toBeLessThanOrEqual(5);
        text += Buffer.from(buf.subarray(0, n)).toString();
      }
      expect(text).toBe("hello world");
      const data = pattern(1 << 20);
      const sender = go(
        (function* () {
          yield* bsend(c, data, data.length, now() + 5000);
          yield* tcp_done(c, now() + 5000);
        })(),
      );
      const got = Buffer.alloc(data.length);
      let off = 0;
      for (;;) {
        let n: number;
        try {
          n = yield* tcp_recv_some(s, buf, buf.length, now() + 5000);
        } catch (e) {
          expect((e as { code: string }).code).toBe("EPIPE"); // the sender is done
          break;
        }
        got.set(buf.subarray(0, n), off);
        off += n;
      }
      expect(off).toBe(data.length);
      expect(Buffer.compare(got, data)).toBe(0);
      hclose(sender);
      hclose(c);
      hclose(s);
    });
  });

  it("fails with ETIMEDOUT when nothing arrives (then refuses to receive), and with ENOTSUP on an IPC socket", async () => {
    await run(function* () {
      const [c, s] = yield* tcpPair();
      const [a, b]: number[] = yield* ipc_pair(); // plain numbers: the run-time check is under test
      const buf = new Uint8Array(8);
      expect(yield* codeOf(tcp_recv_some(a, buf, 8, 0))).toBe("ENOTSUP");
      expect(yield* codeOf(tcp_recv_some(s, buf, 8, now() + 20))).toBe("ETIMEDOUT");
      expect(yield* codeOf(tcp_recv_some(s, buf, 8, -1))).toBe("ECONNRESET");
      expect(yield* tcp_recv_some(c, buf, 0, -1)).toBe(0);
      for (const h of [a, b, c, s]) hclose(h);
    });
  });
});

describe("tcp_done", () => {
  it("closes the sending half: the peer reads everything, then EPIPE; bsend after it and a second call are EPIPE", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      yield* bsend(a, pattern(100_000), 100_000, now() + 5000);
      yield* tcp_done(a, -1);
      expect(yield* codeOf(bsend(a, "x", 1, -1))).toBe("EPIPE");
      expect(yield* codeOf(dill_tcp_done(a, -1))).toBe("EPIPE");
      const got = new Uint8Array(100_000);
      yield* brecv(b, got, got.length, now() + 5000);
      expect(Buffer.compare(got, pattern(100_000))).toBe(0);
      expect(yield* codeOf(brecv(b, null, 1, now() + 5000))).toBe("EPIPE");
      expect(yield* codeOf(brecv(b, null, 1, now() + 5000))).toBe("EPIPE");
      // the other direction still works
      yield* bsend(b, "ok", 2, -1);
      yield* brecv(a, new Uint8Array(2), 2, now() + 5000);
      hclose(a);
      hclose(b);
    });
  });

  it("fails with EBADF, ENOTSUP (a listener, an IPC socket, a channel) and EINVAL (deadline)", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const ls: number = yield* tcp_listen(ipaddr_local("127.0.0.1", 0, 0), 10); // plain numbers: the run-time check is under test
      const [i0, i1]: number[] = yield* ipc_pair();
      const [c0, c1]: number[] = chmake();
      expect(yield* codeOf(tcp_done(12345, -1))).toBe("EBADF");
      for (const h of [ls, i0, c0]) expect(yield* codeOf(tcp_done(h, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(tcp_done(a, -7))).toBe("EINVAL");
      for (const h of [a, b, ls, i0, i1, c0, c1]) hclose(h);
    });
  });
});

describe("tcp_close", () => {
  it("delivers everything sent before it and returns once the peer closed too", async () => {
    function* drainer(s: number, n: number, out: { code: string; got?: Buffer }) {
      const buf = new Uint8Array(n);
      out.code = yield* codeOf(brecv(s, buf, n, now() + 5000));
      out.got = Buffer.from(buf);
      out.code += "/" + (yield* codeOf(tcp_close(s, now() + 5000)));
    }
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const data = pattern(1 << 20, 3);
      const out: { code: string; got?: Buffer } = { code: "" };
      const cr = go(drainer(b, data.length, out));
      yield* bsend(a, data, data.length, now() + 5000);
      yield* tcp_close(a, now() + 5000);
      yield* msleep(now() + 10);
      expect(out.code).toBe("OK/OK");
      expect(Buffer.compare(out.got!, data)).toBe(0);
      hclose(cr);
    });
  });

  it("reads and drops what the peer still sends until its end-of-stream", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      yield* bsend(b, pattern(300_000), 300_000, now() + 5000);
      const out = { code: "" };
      const cr = go(closer(b, out));
      yield* tcp_close(a, now() + 5000);
      yield* msleep(now() + 10);
      expect(out.code).toBe("OK");
      hclose(cr);
    });
  });

  it("fails with ETIMEDOUT when the peer does not close in time, and closes the handle all the same", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      expect(yield* codeOf(tcp_close(a, now() + 30))).toBe("ETIMEDOUT");
      expect(yield* codeOf(tcp_close(a, -1))).toBe("EBADF");
      // b saw a's end-of-stream
      expect(yield* codeOf(brecv(b, null, 1, now() + 5000))).toBe("EPIPE");
      hclose(b);
    });
  });

  it("fails with ECONNRESET on a socket where a receive failed before, and closes the handle", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      expect(yield* codeOf(brecv(a, null, 1, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(dill_tcp_close(a, now() + 1000))).toBe("ECONNRESET");
      expect(yield* codeOf(tcp_close(a, now() + 1000))).toBe("EBADF");
      hclose(b);
    });
  });

  it("fails with ECONNRESET when the peer closes without reading what was sent to it", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const w = { code: "", sent: 0 };
      const wcr = go(sendAll(b, new Uint8Array(64 << 20), 1 << 20, now() + 300, w)); // fills a's buffers
      yield* msleep(now() + 50);
      hclose(wcr);
      const out = { code: "" };
      const cr = go(closer(b, out));
      yield* msleep(now() + 20);
      hclose(a);
      for (let i = 0; i < 100 && out.code === ""; i++) yield* msleep(now() + 10);
      expect(out.code).toBe("ECONNRESET");
      hclose(cr);
    });
  });

  it("fails with ECANCELED when its coroutine is cancelled, and the socket is closed", async () => {
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const out = { code: "" };
      const cr = go(closer(a, out));
      yield* msleep(now() + 20);
      hclose(cr);
      expect(out.code).toBe("ECANCELED");
      expect(dill_stats().handlesByKind.tcp).toBe(1);
      hclose(b);
    });
  });

  it("wakes another coroutine parked on the same handle with EBADF", async () => {
    function* reader(s: number, out: { code: string }) {
      out.code = yield* codeOf(brecv(s, null, 1, -1));
    }
    await run(function* () {
      const [a, b] = yield* tcpPair();
      const r = { code: "" };
      const rcr = go(reader(a, r));
      yield* msleep(now() + 10);
      const out = { code: "" };
      const ccr = go(closer(a, out));
      yield* msleep(now() + 10);
      expect(r.code).toBe("EBADF");
      yield* tcp_close(b, now() + 5000);
      yield* msleep(now() + 10);
      expect(out.code).toBe("OK");
      hclose(rcr);
      hclose(ccr);
    });
  });

  it("is hclose on a listener, and fails with ENOTSUP on an IPC socket or a channel and EBADF on a bad handle", async () => {
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      yield* tcp_close(ls, -1);
      expect(yield* codeOf(tcp_close(ls, -1))).toBe("EBADF");
      const again = yield* tcp_listen(addr, 10); // the port is free again
      hclose(again);
      const [c, d]: number[] = chmake(); // plain numbers: the run-time check is under test
      const [i0, i1]: number[] = yield* ipc_pair();
      expect(yield* codeOf(tcp_close(c, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(tcp_close(i0, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(tcp_close(12345, -1))).toBe("EBADF");
      for (const h of [c, d, i0, i1]) hclose(h);
    });
  });
});
