/**
 * tsdill against peers that are not tsdill: a C program with plain POSIX sockets (compiled here
 * with cc) and socat. 1 MiB is echoed each way and compared byte for byte. socat is told to use
 * 4 KiB blocks (`-b 4096`): then each of its blocking writes fits the room select() reported.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";
import {
  await_promise,
  brecv,
  bsend,
  go,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_done,
  ipc_listen,
  msleep,
  now,
  run,
} from "../src/index.js";
import { buildPeer, codeOf, expectNoFdLeak, pattern, tempDirPerFile } from "./ipc-helpers.js";
import { needs, onPath } from "./prerequisites.js";

const MiB = 1 << 20;
const CHUNK = 65536;
let dir: string;
let peerBin = "";
const haveCc = onPath("cc");

expectNoFdLeak();
tempDirPerFile((d) => {
  dir = d;
  if (haveCc) peerBin = buildPeer(dir);
});

interface Proc {
  done: Promise<{ code: number | null; stdout: Buffer; stderr: string }>;
  ready: Promise<void>;
}

/** Start a process; `ready` resolves at its first stdout byte (or at once when `waitReady` is false). */
function start(cmd: string, args: string[], input: Buffer | null, waitReady: boolean): Proc {
  const p = spawn(cmd, args, { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let err = "";
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  if (!waitReady) readyResolve();
  p.stdout!.on("data", (d: Buffer) => {
    out.push(d);
    readyResolve();
  });
  p.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  if (input) p.stdin!.end(input);
  const done = new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) =>
    p.on("close", (code) => {
      readyResolve();
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    }),
  );
  return { done, ready };
}

/** Echo exactly `n` bytes on `s` in 64 KiB pieces, expect the peer's end, close. */
function* echoServer(ls: number, n: number, out: { code: string }) {
  const s = yield* ipc_accept(ls, now() + 10_000);
  const buf = new Uint8Array(CHUNK);
  for (let left = n; left > 0; left -= CHUNK) {
    const k = Math.min(CHUNK, left);
    yield* brecv(s, buf, k, now() + 10_000);
    yield* bsend(s, buf, k, now() + 10_000);
  }
  out.code = yield* codeOf(brecv(s, null, 1, now() + 10_000));
  yield* ipc_close(s, now() + 10_000);
}

function* sendAll(s: number, data: Uint8Array) {
  for (let off = 0; off < data.length; off += CHUNK)
    yield* bsend(s, data.subarray(off, off + CHUNK), Math.min(CHUNK, data.length - off), now() + 10_000);
  yield* ipc_done(s, now() + 10_000);
}

/** Connect (retrying while the peer starts), send `data` while reading the echo, compare. */
function* echoClient(addr: string, data: Uint8Array): Generator<unknown, Buffer, unknown> {
  let s = -1;
  for (let i = 0; s < 0; i++) {
    try {
      s = yield* ipc_connect(addr, now() + 1000);
    } catch (e) {
      if (i > 300) throw e;
      yield* msleep(now() + 10);
    }
  }
  const cr = go(sendAll(s, data));
  const got = new Uint8Array(data.length);
  yield* brecv(s, got, got.length, now() + 10_000);
  expect(yield* codeOf(brecv(s, null, 1, now() + 10_000))).toBe("EPIPE");
  hclose(cr);
  hclose(s);
  return Buffer.from(got);
}

needs("cc").describe("tsdill and a C program with plain POSIX sockets", () => {
  it("a tsdill server echoes 1 MiB to the C client byte for byte", async () => {
    const addr = path.join(dir, "c-client.ipc");
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10);
      const out = { code: "" };
      const cr = go(echoServer(ls, MiB, out));
      const p = start(peerBin, ["echo-client", addr, String(MiB)], null, false);
      const r = yield* await_promise(p.done, now() + 20_000);
      expect(r.stdout.toString().trim()).toBe(`ok ${MiB}`);
      expect(r.code).toBe(0);
      yield* msleep(now() + 5);
      expect(out.code).toBe("EPIPE");
      hclose(cr);
      hclose(ls);
    });
  });

  it("a tsdill client gets 1 MiB echoed back by the C server byte for byte", async () => {
    const addr = path.join(dir, "c-server.ipc");
    const data = pattern(MiB, 11);
    await run(function* () {
      const p = start(peerBin, ["echo-server", addr], null, true);
      yield* await_promise(p.ready, now() + 10_000);
      const got = yield* echoClient(addr, data);
      expect(Buffer.compare(got, data)).toBe(0);
      const r = yield* await_promise(p.done, now() + 10_000);
      expect(r.code).toBe(0);
    });
  });
});

needs("socat").describe("tsdill and socat", () => {
  it("a tsdill server echoes 1 MiB to a socat client byte for byte", async () => {
    const addr = path.join(dir, "socat-client.ipc");
    const data = pattern(MiB, 12);
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10);
      const out = { code: "" };
      const cr = go(echoServer(ls, MiB, out));
      const p = start("socat", ["-t", "10", "-b", "4096", "-", `UNIX-CONNECT:${addr}`], data, false);
      const r = yield* await_promise(p.done, now() + 20_000);
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBe(MiB);
      expect(Buffer.compare(r.stdout, data)).toBe(0);
      expect(out.code).toBe("EPIPE");
      hclose(cr);
      hclose(ls);
    });
  });

  it("a tsdill client gets 1 MiB echoed back by a socat server byte for byte", async () => {
    const addr = path.join(dir, "socat-server.ipc");
    const data = pattern(MiB, 13);
    await run(function* () {
      // -b 4096: socat writes at most PIPE_BUF bytes once select() says there is room, so its
      // blocking writes never stall; with larger blocks its PIPE echo can deadlock on itself
      // (it does so with raw node:net clients too)
      const p = start("socat", ["-t", "10", "-b", "4096", `UNIX-LISTEN:${addr}`, "PIPE"], null, false);
      const got = yield* echoClient(addr, data);
      expect(Buffer.compare(got, data)).toBe(0);
      const r = yield* await_promise(p.done, now() + 10_000);
      expect(r.code).toBe(0);
    });
  });
});
