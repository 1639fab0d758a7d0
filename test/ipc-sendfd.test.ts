/**
 * ipc_sendfd and ipc_recvfd: descriptors passed with the bytes of an IPC connection, in order
 * (the fd-passing part of libdill's tests/ipc.c, ported), their errors, and a C program that
 * passes descriptors both ways with plain sendmsg/recvmsg.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, readSync, writeSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import {
  await_promise,
  brecv,
  bsend,
  fdclean,
  fdin,
  go,
  hclose,
  ipc_accept,
  ipc_connect,
  ipc_done,
  ipc_listen,
  ipc_pair,
  ipc_recvfd,
  ipc_sendfd,
  msleep,
  now,
  run,
} from "../src/index.js";
import { nativeOrNull } from "../src/fd/native.js";
import { codeOf, expectNoFdLeak, pattern, tempDirPerFile, TEST_DIR } from "./ipc-helpers.js";
import { onPath, when } from "./prerequisites.js";

expectNoFdLeak();
let dir = "";
tempDirPerFile((d) => (dir = d));
const n = nativeOrNull();
const withNative = when(
  n !== null,
  "tsdill's native part is not built (npm rebuild builds it; needs cc, make, python3)",
);
const withPeer = when(n !== null && onPath("cc"), "needs tsdill's native part and cc (apt-get install gcc)");

function socketpair(): [number, number] {
  const out = new Int32Array(2);
  expect(n!.socketpair(out)).toBe(0);
  return [out[0]!, out[1]!];
}

function closeAll(...fds: number[]): void {
  for (const fd of fds) {
    fdclean(fd);
    closeSync(fd);
  }
}

function text(buf: Uint8Array): string {
  return Buffer.from(buf).toString();
}

function* recvText(s: number, len: number): Generator<unknown, string, unknown> {
  const buf = new Uint8Array(len);
  yield* brecv(s, buf, len, now() + 5000);
  return text(buf);
}

/** Write one byte through `fd` and read it back from `other`: the two ends of one socketpair. */
function sameSocket(fd: number, other: number): boolean {
  writeSync(fd, Buffer.from([0x55]));
  const b = Buffer.alloc(1);
  return readSync(other, b) === 1 && b[0] === 0x55;
}

withNative.describe("ipc_sendfd and ipc_recvfd", () => {
  it("pass a socket between the bytes sent before and after it (libdill's test)", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [sp0, sp1] = socketpair();
      yield* bsend(a, "ABC", 3, -1);
      yield* ipc_sendfd(a, sp0, -1);
      yield* bsend(a, "DEF", 3, -1);
      expect(yield* recvText(b, 3)).toBe("ABC");
      const rfd = yield* ipc_recvfd(b, -1);
      expect(rfd).toBeGreaterThanOrEqual(0);
      expect(yield* recvText(b, 3)).toBe("DEF");
      expect(sameSocket(rfd, sp1)).toBe(true);
      for (const fd of [rfd, sp0, sp1]) closeSync(fd);
      hclose(a);
      hclose(b);
    });
  });

  it("keep many descriptors in order with the data around them, over a socket file, while the receiver waits", async () => {
    await run(function* () {
      const ls = yield* ipc_listen(path.join(dir, "order.ipc"), 10);
      const sender = go(
        (function* () {
          const s = yield* ipc_accept(ls, now() + 5000);
          const pairs: number[][] = [];
          for (let i = 0; i < 20; i++) {
            const sp = socketpair();
            pairs.push(sp);
            const data = pattern(1000 * i + 1, i);
            yield* bsend(s, data, data.length, now() + 5000);
            yield* ipc_sendfd(s, sp[0]!, now() + 5000);
          }
          // The receiver writes i through the i-th descriptor: it arrives at the other end of pair i.
          const b = Buffer.alloc(1);
          for (let i = 0; i < pairs.length; i++) {
            const y = pairs[i]![1]!;
            yield* fdin(y, now() + 5000);
            expect(readSync(y, b)).toBe(1);
            expect(b[0]).toBe(i);
          }
          for (const sp of pairs) closeAll(...sp);
          hclose(s);
        })(),
      );
      const s = yield* ipc_connect(path.join(dir, "order.ipc"), now() + 5000);
      for (let i = 0; i < 20; i++) {
        const want = pattern(1000 * i + 1, i);
        const got = new Uint8Array(want.length);
        yield* brecv(s, got, got.length, now() + 5000);
        expect(Buffer.compare(Buffer.from(got), want)).toBe(0);
        const fd = yield* ipc_recvfd(s, now() + 5000);
        writeSync(fd, Buffer.from([i]));
        closeSync(fd);
      }
      yield* msleep(now() + 50);
      hclose(sender);
      hclose(s);
      hclose(ls);
    });
  });

  it("wait in ipc_recvfd until the descriptor comes, with deadline 0 taking one that is already there", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [sp0, sp1] = socketpair();
      const got = { fd: -1 };
      const cr = go(
        (function* () {
          got.fd = yield* ipc_recvfd(b, now() + 5000);
        })(),
      );
      yield* msleep(now() + 20);
      yield* ipc_sendfd(a, sp0, -1);
      yield* msleep(now() + 20);
      expect(got.fd).toBeGreaterThanOrEqual(0);
      yield* ipc_sendfd(a, sp0, -1);
      yield* msleep(now() + 20);
      const again = yield* ipc_recvfd(b, 0);
      expect(sameSocket(again, sp1)).toBe(true);
      for (const fd of [got.fd, again, sp0, sp1]) closeSync(fd);
      hclose(cr);
      hclose(a);
      hclose(b);
    });
  });

  it("fail with EPROTO when the next byte came without a descriptor; receiving is then over (ECONNRESET)", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, "X", 1, -1);
      expect(yield* codeOf(ipc_recvfd(b, now() + 5000))).toBe("EPROTO");
      expect(yield* codeOf(brecv(b, new Uint8Array(1), 1, 0))).toBe("ECONNRESET");
      const [c, d] = yield* ipc_pair();
      const cr = go(
        (function* () {
          expect(yield* codeOf(ipc_recvfd(d, now() + 5000))).toBe("EPROTO");
        })(),
      );
      yield* bsend(c, "Y", 1, -1);
      yield* msleep(now() + 20);
      hclose(cr);
      for (const h of [a, b, c, d]) hclose(h);
    });
  });

  it("close a descriptor whose marker byte was received as data, as libdill's reads do", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [sp0, sp1] = socketpair();
      yield* ipc_sendfd(a, sp0, -1);
      yield* bsend(a, "Z", 1, -1);
      const buf = new Uint8Array(2);
      yield* brecv(b, buf, 2, now() + 5000);
      expect([...buf]).toEqual([0xcc, 0x5a]);
      closeSync(sp0);
      // The passed copy was closed too: the other end sees the end of the stream.
      yield* fdin(sp1, now() + 5000);
      expect(readSync(sp1, Buffer.alloc(1))).toBe(0);
      fdclean(sp1);
      closeSync(sp1);
      hclose(a);
      hclose(b);
    });
  });

  it("time out and are cancelled without spoiling the stream; EBUSY beside another receiver", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      expect(yield* codeOf(ipc_recvfd(b, now() + 10))).toBe("ETIMEDOUT");
      expect(yield* codeOf(ipc_recvfd(b, 0))).toBe("ETIMEDOUT");
      const code = { v: "" };
      const cr = go(
        (function* () {
          code.v = yield* codeOf(ipc_recvfd(b, -1));
        })(),
      );
      expect(yield* codeOf(brecv(b, new Uint8Array(1), 1, 0))).toBe("EBUSY");
      expect(yield* codeOf(ipc_recvfd(b, 0))).toBe("EBUSY");
      hclose(cr);
      expect(code.v).toBe("ECANCELED");
      const [sp0, sp1] = socketpair();
      yield* ipc_sendfd(a, sp0, -1);
      const fd = yield* ipc_recvfd(b, now() + 5000);
      expect(sameSocket(fd, sp1)).toBe(true);
      for (const x of [fd, sp0, sp1]) closeSync(x);
      hclose(a);
      hclose(b);
    });
  });

  it("wait in ipc_sendfd while the socket is full (ETIMEDOUT at 0, the stream intact), until the peer reads", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [sp0, sp1] = socketpair();
      const data = pattern(340_000, 5);
      yield* bsend(a, data, data.length, now() + 5000); // b queues 320 KB and stops reading, the kernel holds the rest
      let sent = 0;
      while ((yield* codeOf(ipc_sendfd(a, sp0, 0))) === "OK") sent++;
      expect(sent).toBeGreaterThan(0);
      const late = { code: "" };
      const cr = go(
        (function* () {
          late.code = yield* codeOf(ipc_sendfd(a, sp0, now() + 10_000));
        })(),
      );
      yield* msleep(now() + 20);
      expect(late.code).toBe("");
      const got = new Uint8Array(data.length);
      yield* brecv(b, got, got.length, now() + 5000);
      expect(Buffer.compare(Buffer.from(got), data)).toBe(0);
      for (let i = 0; i <= sent; i++) closeSync(yield* ipc_recvfd(b, now() + 5000));
      expect(late.code).toBe("OK");
      for (const x of [sp0, sp1]) closeSync(x);
      hclose(cr);
      hclose(a);
      hclose(b);
    });
  });

  it("fail with EPIPE after the peer's ipc_done, and on a sending half that is done", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [sp0, sp1] = socketpair();
      yield* ipc_done(a, -1);
      expect(yield* codeOf(ipc_sendfd(a, sp0, -1))).toBe("EPIPE");
      expect(yield* codeOf(ipc_recvfd(b, now() + 5000))).toBe("EPIPE");
      expect(yield* codeOf(ipc_recvfd(b, 0))).toBe("EPIPE");
      for (const x of [sp0, sp1]) closeSync(x);
      hclose(a);
      hclose(b);
    });
  });

  it("wake a coroutine waiting in ipc_recvfd with EBADF when the handle is closed", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const code = { v: "" };
      const cr = go(
        (function* () {
          code.v = yield* codeOf(ipc_recvfd(b, -1));
        })(),
      );
      hclose(b);
      yield* msleep(now() + 1);
      expect(code.v).toBe("EBADF");
      hclose(cr);
      hclose(a);
    });
  });

  it("close the descriptors nobody took when the connection closes", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [sp0, sp1] = socketpair();
      yield* ipc_sendfd(a, sp0, -1);
      yield* ipc_sendfd(a, sp0, -1);
      yield* bsend(a, "!", 1, -1);
      yield* msleep(now() + 20); // read by b's side, queued with their descriptors
      hclose(b);
      closeSync(sp0);
      yield* fdin(sp1, now() + 5000);
      expect(readSync(sp1, Buffer.alloc(1))).toBe(0);
      fdclean(sp1);
      closeSync(sp1);
      hclose(a);
    });
  });

  it("keep the order across backpressure: a descriptor after 1 MiB that waited in the kernel", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [sp0, sp1] = socketpair();
      const data = pattern(1 << 20, 3);
      const sender = go(
        (function* () {
          yield* bsend(a, data, data.length, now() + 10_000);
          yield* ipc_sendfd(a, sp0, now() + 10_000);
          yield* bsend(a, "end", 3, now() + 10_000);
        })(),
      );
      yield* msleep(now() + 30); // the receiver's queue fills, the socket pauses, the sender waits
      const got = new Uint8Array(data.length);
      yield* brecv(b, got, got.length, now() + 10_000);
      expect(Buffer.compare(Buffer.from(got), data)).toBe(0);
      const fd = yield* ipc_recvfd(b, now() + 10_000);
      expect(yield* recvText(b, 3)).toBe("end");
      expect(sameSocket(fd, sp1)).toBe(true);
      for (const x of [fd, sp0, sp1]) closeSync(x);
      hclose(sender);
      hclose(a);
      hclose(b);
    });
  });
});

withPeer.describe("with a C program passing descriptors by sendmsg and recvmsg", () => {
  let bin = "";
  function build(): string {
    if (bin !== "") return bin;
    bin = path.join(dir, "fd-peer");
    const r = spawnSync("cc", ["-O1", "-o", bin, path.join(TEST_DIR, "fd-peer.c")], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cc failed: ${r.stderr}`);
    return bin;
  }

  function peer(mode: string, addr: string): Promise<{ code: number | null; out: string }> {
    const p = spawn(build(), [mode, addr], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    return new Promise((resolve) => p.on("close", (code) => resolve({ code, out })));
  }

  it("receives the C program's socket between its bytes, and writes through it", async () => {
    const addr = path.join(dir, "give.ipc");
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10);
      const done = peer("give", addr);
      const s = yield* ipc_accept(ls, now() + 10_000);
      expect(yield* recvText(s, 3)).toBe("ABC");
      const fd = yield* ipc_recvfd(s, now() + 10_000);
      expect(yield* recvText(s, 3)).toBe("DEF");
      writeSync(fd, Buffer.from([0x5a]));
      closeSync(fd);
      const r = yield* await_promise(done, now() + 10_000);
      expect(r.out.trim()).toBe("ok 5a");
      expect(r.code).toBe(0);
      hclose(s);
      hclose(ls);
    });
  });

  it("passes the C program a socket between tsdill's bytes, and reads what it writes there", async () => {
    const addr = path.join(dir, "take.ipc");
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10);
      const done = peer("take", addr);
      const s = yield* ipc_accept(ls, now() + 10_000);
      const [sp0, sp1] = socketpair();
      yield* bsend(s, "XYZ", 3, -1);
      yield* ipc_sendfd(s, sp0, -1);
      yield* bsend(s, "END", 3, -1);
      closeSync(sp0);
      yield* fdin(sp1, now() + 10_000);
      const buf = Buffer.alloc(5);
      expect(readSync(sp1, buf)).toBe(5);
      expect(buf.toString()).toBe("hello");
      const r = yield* await_promise(done, now() + 10_000);
      expect(r.out.trim()).toBe("ok");
      fdclean(sp1);
      closeSync(sp1);
      hclose(s);
      hclose(ls);
    });
  });

  it("fails with EPROTO when the C program sends a byte with no descriptor", async () => {
    const addr = path.join(dir, "bare.ipc");
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10);
      const done = peer("bare", addr);
      const s = yield* ipc_accept(ls, now() + 10_000);
      expect(yield* codeOf(ipc_recvfd(s, now() + 10_000))).toBe("EPROTO");
      hclose(s);
      const r = yield* await_promise(done, now() + 10_000);
      expect(r.code).toBe(0);
      hclose(ls);
    });
  });
});
