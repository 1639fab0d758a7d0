import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import net from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AF_INET,
  AF_INET6,
  brecv,
  bsend,
  chmake,
  dill_tcp_connect,
  go,
  hclose,
  IpAddr,
  IPADDR_IPV6,
  ipaddr_family,
  ipaddr_local,
  ipaddr_port,
  ipaddr_str,
  ipc_pair,
  msleep,
  now,
  run,
  tcp_accept,
  tcp_accept_mem,
  tcp_close,
  tcp_connect,
  tcp_connect_mem,
  tcp_listen,
  tcp_listen_mem,
  TcpListenerStorage,
  TcpStorage,
} from "../src/index.js";
import { failure } from "./expect-dill.js";
import { childJson, codeOf, exhaustPool, expectNoFdLeak, fillHandleTable, ROOT, TEST_DIR } from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";
import { closedPort, haveIpv6Loopback } from "./tcp-helpers.js";

expectNoFdLeak();

let ipv6 = false;
beforeAll(async () => {
  ipv6 = await haveIpv6Loopback();
});

const local = (port = 0): IpAddr => ipaddr_local("127.0.0.1", port, 0);

/**
 * A listener with backlog 0 in a process that never accepts: once its queue holds one
 * connection, further connects wait (the kernel drops their SYNs). Prints its port.
 */
async function fullListener(): Promise<{ port: number; proc: ChildProcess }> {
  const code =
    "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()";
  const proc = spawn("python3", ["-c", code], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    proc.once("error", reject);
  });
  return { port, proc };
}
async function stop(p: ChildProcess): Promise<void> {
  const done = new Promise((r) => p.once("close", r));
  p.stdin!.end();
  await done;
}

describe("tcp_listen", () => {
  it("writes the port the system chose into addr when it asked for port 0", async () => {
    await run(function* () {
      const addr = local();
      const ls = yield* tcp_listen(addr, 10);
      expect(ipaddr_port(addr)).toBeGreaterThan(0);
      expect(ipaddr_str(addr)).toBe("127.0.0.1");
      const c = yield* tcp_connect(addr, now() + 5000);
      hclose(c);
      hclose(ls);
    });
  });

  it("fails with EADDRINUSE on a port another socket listens on, and leaves addr alone", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      await run(function* () {
        const addr = local(port);
        const e = yield* failure(tcp_listen(addr, 10));
        expect(e.code).toBe("EADDRINUSE");
        expect(e.message).toContain("tcp_listen");
        expect(ipaddr_port(addr)).toBe(port);
        const mine = local();
        const ls = yield* tcp_listen(mine, 10);
        expect(yield* codeOf(tcp_listen(local(ipaddr_port(mine)), 10))).toBe("EADDRINUSE");
        hclose(ls);
        // once closed, the port is free again
        const again = yield* tcp_listen(local(ipaddr_port(mine)), 10);
        hclose(again);
      });
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it("fails with EINVAL naming the argument for an addr that is not an IpAddr and a bad backlog", async () => {
    await run(function* () {
      const e = yield* failure(tcp_listen({ address: "127.0.0.1", port: 0 } as unknown as IpAddr, 10));
      expect(e.code).toBe("EINVAL");
      expect(e.message).toContain("'addr'");
      expect((yield* failure(tcp_listen(local(), -1))).message).toContain("'backlog'");
      expect(yield* codeOf(tcp_listen(local(), 1.5))).toBe("EINVAL");
    });
  });

  it("fails with ENOMEM when the storage pool is used up, and EMFILE when the handle table is full", async () => {
    await run(function* () {
      let restore = exhaustPool();
      try {
        expect(yield* codeOf(tcp_listen(local(), 10))).toBe("ENOMEM");
      } finally {
        restore();
      }
      restore = fillHandleTable();
      const addr = local();
      try {
        expect(yield* codeOf(tcp_listen(addr, 10))).toBe("EMFILE");
      } finally {
        restore();
      }
    });
  });

  it("fails with ECANCELED from a cancelled coroutine", async () => {
    function* late(out: { code: string }) {
      try {
        yield* msleep(-1);
      } finally {
        out.code = yield* codeOf(tcp_listen(local(), 10));
      }
    }
    await run(function* () {
      const out = { code: "" };
      const cr = go(late(out));
      yield* msleep(now() + 5);
      hclose(cr);
      expect(out.code).toBe("ECANCELED");
    });
  });
});

describe("out of file descriptors", () => {
  it("tcp_listen and tcp_connect fail with EMFILE in a child under ulimit -n, and work again once fds are free", async () => {
    const script = path.join(TEST_DIR, "tcp-child.ts");
    const r = spawnSync("bash", ["-c", `ulimit -n 256; exec '${process.execPath}' --import tsx '${script}' emfile`], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
      timeout: 30_000,
    });
    const out = childJson({ code: r.status, stdout: r.stdout, stderr: r.stderr });
    expect(out.exhausted).toBe("EMFILE");
    expect(out.listen).toBe("EMFILE");
    expect(out.connect).toBe("EMFILE");
    expect(out.after).toBe("OK");
  });
});

describe("TcpListenerStorage and TcpStorage", () => {
  it("are EBUSY while in use, free again after hclose and after a failed call, EINVAL when of another class", async () => {
    await run(function* () {
      const lmem = new TcpListenerStorage();
      const addr = local();
      const ls = yield* tcp_listen_mem(addr, 10, lmem);
      expect(yield* codeOf(tcp_listen_mem(local(), 10, lmem))).toBe("EBUSY");
      const cmem = new TcpStorage();
      const amem = new TcpStorage();
      const c = yield* tcp_connect_mem(addr, cmem, now() + 5000);
      expect(yield* codeOf(tcp_connect_mem(addr, cmem, now() + 5000))).toBe("EBUSY");
      const s = yield* tcp_accept_mem(ls, null, amem, now() + 5000);
      expect(yield* codeOf(tcp_accept_mem(ls, null, amem, 0))).toBe("EBUSY");
      hclose(c);
      hclose(s);
      expect(yield* codeOf(tcp_accept_mem(ls, null, amem, 0))).toBe("ETIMEDOUT");
      const c2 = yield* tcp_connect_mem(addr, cmem, now() + 5000);
      const s2 = yield* tcp_accept_mem(ls, null, amem, now() + 5000);
      expect(yield* codeOf(tcp_connect_mem(addr, {} as TcpStorage, -1))).toBe("EINVAL");
      expect(yield* codeOf(tcp_listen_mem(local(), 10, {} as TcpListenerStorage))).toBe("EINVAL");
      for (const h of [c2, s2, ls]) hclose(h);
      const again = yield* tcp_listen_mem(local(), 10, lmem);
      hclose(again);
    });
  });
});

describe("tcp_connect and tcp_accept", () => {
  it("connect; accept reports the peer's address and port; both sides exchange bytes", async () => {
    await run(function* () {
      const addr = local();
      const ls = yield* tcp_listen(addr, 10);
      const c = yield* tcp_connect(addr, now() + 5000);
      const from = new IpAddr();
      const s = yield* tcp_accept(ls, from, now() + 5000);
      expect(ipaddr_family(from)).toBe(AF_INET);
      expect(ipaddr_str(from)).toBe("127.0.0.1");
      expect(ipaddr_port(from)).toBeGreaterThan(0);
      expect(ipaddr_port(from)).not.toBe(ipaddr_port(addr));
      yield* bsend(c, "ping", 4, now() + 5000);
      const buf = new Uint8Array(4);
      yield* brecv(s, buf, 4, now() + 5000);
      expect(Buffer.from(buf).toString()).toBe("ping");
      yield* bsend(s, "pong", 4, now() + 5000);
      yield* brecv(c, buf, 4, now() + 5000);
      expect(Buffer.from(buf).toString()).toBe("pong");
      yield* go_close(c, s);
      hclose(ls);
    });
  });

  it("work over IPv6 loopback (::1), and a listener on :: takes IPv4 connections too", async (ctx) => {
    if (!ipv6) ctx.skip("::1 is not available on this machine (no IPv6 loopback)");
    await run(function* () {
      const addr = ipaddr_local("::1", 0, IPADDR_IPV6);
      const ls = yield* tcp_listen(addr, 10);
      expect(ipaddr_port(addr)).toBeGreaterThan(0);
      const c = yield* tcp_connect(addr, now() + 5000);
      const from = new IpAddr();
      const s = yield* tcp_accept(ls, from, now() + 5000);
      expect(ipaddr_family(from)).toBe(AF_INET6);
      expect(ipaddr_str(from)).toBe("::1");
      yield* bsend(c, "six", 3, now() + 5000);
      const buf = new Uint8Array(3);
      yield* brecv(s, buf, 3, now() + 5000);
      expect(Buffer.from(buf).toString()).toBe("six");
      yield* go_close(c, s);
      hclose(ls);

      const any = ipaddr_local(null, 0, IPADDR_IPV6);
      const dual = yield* tcp_listen(any, 10);
      const c4 = yield* tcp_connect(local(ipaddr_port(any)), now() + 5000);
      const from4 = new IpAddr();
      const s4 = yield* tcp_accept(dual, from4, now() + 5000);
      expect(ipaddr_family(from4)).toBe(AF_INET6);
      expect(ipaddr_str(from4)).toBe("::ffff:127.0.0.1"); // an IPv4 peer, mapped, as accept(2) reports it
      yield* go_close(c4, s4);
      hclose(dual);
    });
  });

  it("tcp_connect fails with ECONNREFUSED on a port nobody listens on", async () => {
    const port = await closedPort();
    await run(function* () {
      const e = yield* failure(tcp_connect(local(port), now() + 5000));
      expect(e.code).toBe("ECONNREFUSED");
      expect(e.message).toContain("tcp_connect");
      expect(yield* codeOf(dill_tcp_connect(local(port), -1))).toBe("ECONNREFUSED");
    });
  });

  it("tcp_connect fails with ETIMEDOUT at once for deadline 0, and EINVAL naming a bad addr or deadline", async () => {
    const port = await closedPort();
    await run(function* () {
      expect(yield* codeOf(tcp_connect(local(port), 0))).toBe("ETIMEDOUT");
      expect((yield* failure(tcp_connect(null as unknown as IpAddr, -1))).message).toContain("'addr'");
      expect((yield* failure(tcp_connect(local(port), -3))).message).toContain("'deadline'");
    });
  });

  needs("python3").it(
    "tcp_connect fails with ETIMEDOUT at its deadline and ECANCELED when cancelled, while the peer's queue is full",
    async () => {
      const { port, proc } = await fullListener();
      function* waiter(out: { code: string }) {
        out.code = yield* codeOf(tcp_connect(local(port), -1));
      }
      try {
        await run(function* () {
          const first = yield* tcp_connect(local(port), now() + 5000); // takes the only place in the queue
          yield* msleep(now() + 20);
          const t0 = now();
          expect(yield* codeOf(tcp_connect(local(port), now() + 100))).toBe("ETIMEDOUT");
          expect(now() - t0).toBeGreaterThanOrEqual(90);
          const out = { code: "" };
          const cr = go(waiter(out));
          yield* msleep(now() + 30);
          hclose(cr);
          expect(out.code).toBe("ECANCELED");
          hclose(first);
        });
      } finally {
        await stop(proc);
      }
    },
  );

  it("tcp_connect fails with ENOMEM when the pool is used up and EMFILE when the handle table is full", async () => {
    await run(function* () {
      const addr = local();
      const ls = yield* tcp_listen(addr, 10);
      let restore = exhaustPool();
      try {
        expect(yield* codeOf(tcp_connect(addr, now() + 5000))).toBe("ENOMEM");
      } finally {
        restore();
      }
      restore = fillHandleTable();
      try {
        expect(yield* codeOf(tcp_connect(addr, now() + 5000))).toBe("EMFILE");
      } finally {
        restore();
      }
      // the connection it made was closed: the listener's side sees end-of-stream
      const s = yield* tcp_accept(ls, null, now() + 5000);
      expect(yield* codeOf(brecv(s, new Uint8Array(1), 1, now() + 5000))).toBe("EPIPE");
      hclose(s);
      hclose(ls);
    });
  });

  it("tcp_accept fails with ETIMEDOUT at its deadline and with 0, and returns a waiting connection with 0", async () => {
    await run(function* () {
      const addr = local();
      const ls = yield* tcp_listen(addr, 10);
      expect(yield* codeOf(tcp_accept(ls, null, now() + 30))).toBe("ETIMEDOUT");
      expect(yield* codeOf(tcp_accept(ls, null, 0))).toBe("ETIMEDOUT");
      const c = yield* tcp_connect(addr, now() + 5000);
      yield* msleep(now() + 20);
      const s = yield* tcp_accept(ls, null, 0);
      for (const h of [c, s, ls]) hclose(h);
    });
  });

  it("tcp_accept fails with ECANCELED when cancelled, EBADF when the listener is closed under it, EBUSY beside another acceptor", async () => {
    function* acceptor(ls: number, out: { code: string }) {
      out.code = yield* codeOf(tcp_accept(ls, null, -1));
    }
    await run(function* () {
      const ls = yield* tcp_listen(local(), 10);
      const a = { code: "" };
      const cra = go(acceptor(ls, a));
      yield* msleep(now() + 10);
      expect(yield* codeOf(tcp_accept(ls, null, now() + 10))).toBe("EBUSY");
      hclose(cra);
      expect(a.code).toBe("ECANCELED");
      const b = { code: "" };
      const crb = go(acceptor(ls, b));
      yield* msleep(now() + 10);
      hclose(ls);
      yield* msleep(now() + 10);
      expect(b.code).toBe("EBADF");
      hclose(crb);
    });
  });

  it("tcp_accept fails with EBADF, ENOTSUP (an IPC socket, a channel, a TCP connection) and EINVAL (addr, deadline)", async () => {
    await run(function* () {
      const [ch0, ch1]: number[] = chmake(); // plain numbers: the run-time check is under test
      const [i0, i1]: number[] = yield* ipc_pair();
      const addr = local();
      const ls = yield* tcp_listen(addr, 10);
      const c: number = yield* tcp_connect(addr, now() + 5000);
      expect(yield* codeOf(tcp_accept(12345, null, 0))).toBe("EBADF");
      for (const h of [ch0, i0, c]) expect(yield* codeOf(tcp_accept(h, null, 0))).toBe("ENOTSUP");
      expect((yield* failure(tcp_accept(ls, {} as IpAddr, 0))).message).toContain("'addr'");
      expect(yield* codeOf(tcp_accept(ls, null, -2))).toBe("EINVAL");
      for (const h of [ch0, ch1, i0, i1, c, ls]) hclose(h);
    });
  });

  it("tcp_accept fails with ENOMEM when the pool is used up and EMFILE when the handle table is full, closing that connection", async () => {
    await run(function* () {
      const addr = local();
      const ls = yield* tcp_listen(addr, 10);
      let restore = exhaustPool();
      try {
        expect(yield* codeOf(tcp_accept(ls, null, 0))).toBe("ENOMEM");
      } finally {
        restore();
      }
      const c = yield* tcp_connect(addr, now() + 5000);
      yield* msleep(now() + 10);
      restore = fillHandleTable();
      try {
        expect(yield* codeOf(tcp_accept(ls, null, now() + 5000))).toBe("EMFILE");
      } finally {
        restore();
      }
      expect(yield* codeOf(brecv(c, new Uint8Array(1), 1, now() + 5000))).toBe("EPIPE");
      hclose(c);
      hclose(ls);
    });
  });

  it("a listener keeps connections that arrive before tcp_accept and hands them out in order", async () => {
    await run(function* () {
      const addr = local();
      const ls = yield* tcp_listen(addr, 10);
      const cs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const c = yield* tcp_connect(addr, now() + 5000);
        yield* bsend(c, String(i), 1, now() + 5000);
        yield* msleep(now() + 10);
        cs.push(c);
      }
      const buf = new Uint8Array(1);
      for (let i = 0; i < 3; i++) {
        const s = yield* tcp_accept(ls, null, now() + 5000);
        yield* brecv(s, buf, 1, now() + 5000);
        expect(String.fromCharCode(buf[0]!)).toBe(String(i));
        hclose(s);
      }
      for (const c of cs) hclose(c);
      hclose(ls);
    });
  });
});

/** Close both ends of a connection in order, each with tcp_close (both sides close at once). */
function* go_close(a: number, b: number) {
  function* closer(s: number) {
    yield* tcp_close(s, now() + 5000);
  }
  const cr = go(closer(b));
  yield* tcp_close(a, now() + 5000);
  hclose(cr);
}
