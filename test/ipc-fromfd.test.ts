import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  await_promise,
  brecv,
  bsend,
  go,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_fromfd,
  ipc_fromfd_mem,
  ipc_listen,
  ipc_listener_fromfd,
  ipc_listener_fromfd_mem,
  IpcListenerStorage,
  IpcStorage,
  msleep,
  now,
  run,
} from "../src/index.js";
import {
  buildPeer,
  childJson,
  codeOf,
  codeOfCall,
  exhaustPool,
  expectNoFdLeak,
  hasCommand,
  pattern,
  runChild,
  tempDirPerFile,
} from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";

let dir: string;
let peerBin = "";
expectNoFdLeak();
tempDirPerFile((d) => {
  dir = d;
  if (hasCommand("cc")) peerBin = buildPeer(dir);
});

const N = 256 * 1024;

function* sender(s: number, data: Uint8Array) {
  yield* bsend(s, data, data.length, now() + 10_000);
}

describe("ipc_fromfd and ipc_listener_fromfd, checking the fd", () => {
  it("fail with EBADF for an fd that is not open and EINVAL for a bad number", async () => {
    expect(codeOfCall(() => ipc_fromfd(987654))).toBe("EBADF");
    expect(codeOfCall(() => ipc_fromfd(-1))).toBe("EINVAL");
    expect(codeOfCall(() => ipc_fromfd(1.5))).toBe("EINVAL");
    expect(await run(() => codeOf(ipc_listener_fromfd(987654)))).toBe("EBADF");
  });

  it("fail with EINVAL for a regular file, a TCP socket, and a Unix socket of the wrong kind", async () => {
    const fd = fs.openSync(path.join(dir, "plain"), "w");
    try {
      expect(codeOfCall(() => ipc_fromfd(fd))).toBe("EINVAL");
      expect(await run(() => codeOf(ipc_listener_fromfd(fd)))).toBe("EINVAL");
    } finally {
      fs.closeSync(fd);
    }
    const tcp = net.createServer();
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const unix = net.createServer();
    const addr = path.join(dir, "kind.ipc");
    await new Promise<void>((r) => unix.listen(addr, r));
    const client = net.createConnection(addr);
    await new Promise((r) => client.once("connect", r));
    try {
      const tcpFd = (tcp as unknown as { _handle: { fd: number } })._handle.fd;
      const unixFd = (unix as unknown as { _handle: { fd: number } })._handle.fd;
      const connFd = (client as unknown as { _handle: { fd: number } })._handle.fd;
      expect(codeOfCall(() => ipc_fromfd(tcpFd))).toBe("EINVAL");
      expect(codeOfCall(() => ipc_fromfd(unixFd))).toBe("EINVAL"); // listening: not a connection
      await run(function* () {
        expect(yield* codeOf(ipc_listener_fromfd(tcpFd))).toBe("EINVAL");
        expect(yield* codeOf(ipc_listener_fromfd(connFd))).toBe("EINVAL"); // a connection: not listening
      });
    } finally {
      client.destroy();
      await new Promise((r) => tcp.close(r));
      await new Promise((r) => unix.close(r));
    }
  });

  it("check the storage of the _mem variants before touching the fd's socket", async () => {
    const fd = fs.openSync(path.join(dir, "plain2"), "w");
    try {
      expect(codeOfCall(() => ipc_fromfd_mem(987654, new IpcStorage()))).toBe("EBADF");
      expect(await run(() => codeOf(ipc_listener_fromfd_mem(987654, new IpcListenerStorage())))).toBe("EBADF");
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe("ipc_fromfd and ipc_listener_fromfd, resources", () => {
  it("fail with ENOMEM when the storage pool is used up, and ECANCELED from a cancelled coroutine, leaving the fd open", async () => {
    const addr = path.join(dir, "res.ipc");
    const unix = net.createServer();
    await new Promise<void>((r) => unix.listen(addr, r));
    const client = net.createConnection(addr);
    await new Promise((r) => client.once("connect", r));
    const unixFd = (unix as unknown as { _handle: { fd: number } })._handle.fd;
    const connFd = (client as unknown as { _handle: { fd: number } })._handle.fd;
    function* late(o: { code: string }) {
      try {
        yield* msleep(-1);
      } finally {
        o.code = yield* codeOf(ipc_listener_fromfd(unixFd));
      }
    }
    try {
      await run(function* () {
        const restore = exhaustPool();
        try {
          expect(codeOfCall(() => ipc_fromfd(connFd))).toBe("ENOMEM");
          expect(yield* codeOf(ipc_listener_fromfd(unixFd))).toBe("ENOMEM");
        } finally {
          restore();
        }
        const o = { code: "" };
        const cr = go(late(o));
        yield* msleep(now() + 5);
        hclose(cr);
        expect(o.code).toBe("ECANCELED");
      });
      expect(fs.fstatSync(connFd).isSocket()).toBe(true);
      expect(fs.fstatSync(unixFd).isSocket()).toBe(true);
    } finally {
      client.destroy();
      await new Promise((r) => unix.close(r));
    }
  });
});

needs("cc").describe("handles around inherited fds (a C program passes the socket as fd 3 to a child)", () => {
  it("ipc_fromfd wraps an inherited connected socket: the child echoes 256 KiB over it, then closes it", async () => {
    const addr = path.join(dir, "inherit-conn.ipc");
    const data = pattern(N, 5);
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10);
      const child = runChild(["fromfd-echo", String(N)], { wrap: [peerBin, "exec-connected", addr] });
      const s = yield* ipc_accept(ls, now() + 10_000);
      const cr = go(sender(s, data));
      const got = new Uint8Array(N);
      yield* brecv(s, got, N, now() + 10_000);
      expect(Buffer.compare(got, data)).toBe(0);
      yield* ipc_close(s, now() + 5000); // both sides close at once: each sees the other's end
      const r = yield* await_promise(child, now() + 15_000);
      expect(childJson(r).result).toBe("OK");
      hclose(cr);
      hclose(ls);
    });
  });

  it("ipc_listener_fromfd wraps an inherited listening socket, and closing it removes no file", async () => {
    const addr = path.join(dir, "inherit-ls.ipc");
    const data = pattern(N, 6);
    await run(function* () {
      const child = runChild(["listener-fromfd", String(N)], { wrap: [peerBin, "exec-listening", addr] });
      let s = -1;
      for (let i = 0; i < 500 && s < 0; i++) {
        try {
          s = yield* ipc_connect(addr, now() + 1000);
        } catch {
          yield* msleep(now() + 10); // the child is still starting
        }
      }
      const cr = go(sender(s, data));
      const got = new Uint8Array(N);
      yield* brecv(s, got, N, now() + 10_000);
      expect(Buffer.compare(got, data)).toBe(0);
      yield* ipc_close(s, now() + 5000);
      const r = yield* await_promise(child, now() + 15_000);
      expect(childJson(r).result).toBe("OK");
      expect(fs.statSync(addr).isSocket()).toBe(true);
      hclose(cr);
    });
    fs.unlinkSync(addr);
  });
});
