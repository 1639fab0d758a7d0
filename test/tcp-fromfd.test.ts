import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  await_promise,
  brecv,
  bsend,
  go,
  hclose,
  ipaddr_local,
  msleep,
  now,
  run,
  tcp_close,
  tcp_connect,
  tcp_fromfd,
  tcp_fromfd_mem,
  tcp_listen,
  tcp_listener_fd,
  tcp_listener_fromfd,
  tcp_listener_fromfd_mem,
  TcpListenerStorage,
  TcpStorage,
} from "../src/index.js";
import { codeOf, codeOfCall, exhaustPool, expectNoFdLeak, pattern, ROOT, TEST_DIR } from "./ipc-helpers.js";

expectNoFdLeak();

const N = 256 * 1024;
const fdOf = (x: net.Server | net.Socket): number => (x as unknown as { _handle: { fd: number } })._handle.fd;

/** Start test/tcp-child.ts with `fd` as its fd 3. */
function child(args: string[], fd: number): { proc: ChildProcess; out: Promise<string>; ready: Promise<void> } {
  const proc = spawn(process.execPath, ["--import", "tsx", path.join(TEST_DIR, "tcp-child.ts"), ...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit", fd],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let text = "";
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    text += d;
    if (text.includes("ready")) ready();
  });
  const out = new Promise<string>((resolve) => proc.on("close", () => resolve(text)));
  return { proc, out, ready: readyP };
}
const lastJson = (text: string): Record<string, number | string> =>
  JSON.parse(
    text
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .pop() ?? "{}",
  );

function* sender(s: number, data: Uint8Array) {
  yield* bsend(s, data, data.length, now() + 10_000);
}

describe("tcp_fromfd and tcp_listener_fromfd, checking the fd", () => {
  it("fail with EBADF for an fd that is not open and EINVAL naming fd for a bad number", async () => {
    expect(codeOfCall(() => tcp_fromfd(987654))).toBe("EBADF");
    expect(codeOfCall(() => tcp_fromfd(-1))).toBe("EINVAL");
    expect(() => tcp_fromfd(1.5)).toThrow(/'fd'/);
    expect(await run(() => codeOf(tcp_listener_fromfd(987654)))).toBe("EBADF");
  });

  it("fail with EINVAL for a regular file, a Unix-domain socket, and a TCP socket of the wrong kind", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsdill-tcp-"));
    const fd = fs.openSync(path.join(dir, "plain"), "w");
    const unix = net.createServer();
    await new Promise<void>((r) => unix.listen(path.join(dir, "u.ipc"), r));
    const tcp = net.createServer();
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const client = net.connect((tcp.address() as net.AddressInfo).port, "127.0.0.1");
    await new Promise((r) => client.once("connect", r));
    try {
      expect(codeOfCall(() => tcp_fromfd(fd))).toBe("EINVAL");
      expect(codeOfCall(() => tcp_fromfd(fdOf(unix)))).toBe("EINVAL");
      expect(codeOfCall(() => tcp_fromfd(fdOf(tcp)))).toBe("EINVAL"); // listening: not a connection
      await run(function* () {
        expect(yield* codeOf(tcp_listener_fromfd(fd))).toBe("EINVAL");
        expect(yield* codeOf(tcp_listener_fromfd(fdOf(unix)))).toBe("EINVAL");
        expect(yield* codeOf(tcp_listener_fromfd(fdOf(client)))).toBe("EINVAL"); // a connection: not listening
      });
    } finally {
      fs.closeSync(fd);
      client.destroy();
      await new Promise((r) => tcp.close(r));
      await new Promise((r) => unix.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fail with ENOMEM when the pool is used up, EINVAL for storage of another class, and leave the fd open", async () => {
    const tcp = net.createServer();
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const client = net.connect((tcp.address() as net.AddressInfo).port, "127.0.0.1");
    await new Promise((r) => client.once("connect", r));
    try {
      await run(function* () {
        const restore = exhaustPool();
        try {
          expect(codeOfCall(() => tcp_fromfd(fdOf(client)))).toBe("ENOMEM");
          expect(yield* codeOf(tcp_listener_fromfd(fdOf(tcp)))).toBe("ENOMEM");
        } finally {
          restore();
        }
        expect(codeOfCall(() => tcp_fromfd_mem(fdOf(client), {} as TcpStorage))).toBe("EINVAL");
        expect(yield* codeOf(tcp_listener_fromfd_mem(fdOf(tcp), {} as TcpListenerStorage))).toBe("EINVAL");
      });
      expect(fs.fstatSync(fdOf(client)).isSocket()).toBe(true);
      expect(fs.fstatSync(fdOf(tcp)).isSocket()).toBe(true);
    } finally {
      client.destroy();
      await new Promise((r) => tcp.close(r));
    }
  });
});

describe("tcp_listener_fd", () => {
  it("returns the listener's fd, and fails with EBADF and ENOTSUP for a bad handle or a connection", async () => {
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      const fd = tcp_listener_fd(ls);
      expect(fs.fstatSync(fd).isSocket()).toBe(true);
      const c: number = yield* tcp_connect(addr, now() + 5000); // plain numbers: the run-time check is under test
      expect(codeOfCall(() => tcp_listener_fd(c))).toBe("ENOTSUP");
      expect(codeOfCall(() => tcp_listener_fd(12345))).toBe("EBADF");
      hclose(c);
      hclose(ls);
    });
  });
});

describe("handles around TCP sockets passed to child processes", () => {
  it("tcp_fromfd: a child wraps a connection the parent accepted and echoes 256 KiB over it", async () => {
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const data = pattern(N, 21);
    try {
      await run(function* () {
        const s = yield* tcp_connect(ipaddr_local("127.0.0.1", port, 0), now() + 5000);
        const conn = yield* await_promise(accepted, now() + 5000);
        const c = child(["fromfd-echo", String(N)], fdOf(conn));
        conn.destroy(); // the child has its own copy of the fd now
        const cr = go(sender(s, data));
        const got = new Uint8Array(N);
        yield* brecv(s, got, N, now() + 10_000);
        expect(Buffer.compare(got, data)).toBe(0);
        yield* tcp_close(s, now() + 10_000);
        expect(lastJson(yield* await_promise(c.out, now() + 15_000)).result).toBe("OK");
        hclose(cr);
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("tcp_listener_fromfd: pre-forked workers share the parent's listening socket and serve every connection", async () => {
    // The parent listens, hands the listening socket to two workers and closes its own handle
    // before anyone connects: only the workers accept.
    const CLIENTS = 12;
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 64);
      const workers = [child(["worker"], tcp_listener_fd(ls)), child(["worker"], tcp_listener_fd(ls))];
      hclose(ls);
      const pids = workers.map((w) => w.proc.pid);
      for (const w of workers) yield* await_promise(w.ready, now() + 15_000);
      const answers: number[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        const s = yield* tcp_connect(addr, now() + 5000);
        yield* bsend(s, "who?", 4, now() + 5000);
        const buf = new Uint8Array(8);
        yield* brecv(s, buf, 8, now() + 5000);
        answers.push(Number(Buffer.from(buf).toString()));
        yield* tcp_close(s, now() + 5000);
      }
      for (const a of answers) expect(pids).toContain(a);
      for (const w of workers) w.proc.stdin!.end();
      let served = 0;
      for (const w of workers) served += Number(lastJson(yield* await_promise(w.out, now() + 15_000)).served);
      expect(served).toBe(CLIENTS);
      yield* msleep(now() + 10);
    });
  });
});
