/**
 * UDP sockets: the case of libdill's tests/udp.c (a datagram each way between a socket with a
 * remote address and one without), IPv6 on ::1, every errno, deadlines and cancellation, iolists,
 * storages, and socat as a peer that is not tsdill.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import {
  dill_configure,
  dill_stats,
  go,
  hclose,
  hquery,
  type IoList,
  IpAddr,
  ipaddr_equal,
  ipaddr_local,
  ipaddr_port,
  ipaddr_remote,
  ipaddr_str,
  MSOCK_TYPE,
  mrecv,
  msend,
  msleep,
  now,
  run,
  term_attach,
  term_done,
  UDP_TYPE,
  UdpStorage,
  udp_open,
  udp_open_mem,
  udp_recv,
  udp_recvl,
  udp_send,
  udp_sendl,
} from "../src/index.js";
import { codeOf, failure, thrown } from "./expect-dill.js";
import { expectNoFdLeak } from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";

expectNoFdLeak();

const text = (b: Uint8Array, n: number) => Buffer.from(b.subarray(0, n)).toString();

describe("udp_open, udp_send, udp_recv, msend, mrecv (libdill's tests/udp.c)", () => {
  for (const [family, host] of [
    ["IPv4", "127.0.0.1"],
    ["IPv6", "::1"],
  ] as const) {
    it(`sends a datagram each way over ${family}, the one with a remote address as a message socket`, async () => {
      await run(function* () {
        const addr1 = ipaddr_local(host, 0, 0);
        const s1 = yield* udp_open(addr1, null);
        expect(ipaddr_port(addr1)).toBeGreaterThan(0); // the port the system chose, written back
        const addr2 = ipaddr_local(host, 0, 0);
        const mem = new UdpStorage();
        const s2 = yield* udp_open_mem(addr2, addr1, mem);
        const dst = yield* ipaddr_remote(host, ipaddr_port(addr2), 0, -1);
        udp_send(s1, dst, "ABC", 3);
        const buf = new Uint8Array(16);
        expect(yield* mrecv(s2, buf, buf.length, now() + 5000)).toBe(3);
        expect(text(buf, 3)).toBe("ABC");
        yield* msend(s2, "DEF", 3, -1);
        const from = new IpAddr();
        expect(yield* udp_recv(s1, from, buf, buf.length, now() + 5000)).toBe(3);
        expect(text(buf, 3)).toBe("DEF");
        expect(ipaddr_equal(from, addr2, false)).toBe(true); // the sender, filled in place
        expect(hquery(s2, MSOCK_TYPE)).toBe(hquery(s2, UDP_TYPE));
        hclose(s2);
        hclose(s1);
        expect(mem.inUse).toBe(false);
      });
    });
  }

  it("drops datagrams from other addresses when a remote address is set", async () => {
    await run(function* () {
      const a1 = ipaddr_local("127.0.0.1", 0, 0);
      const a2 = ipaddr_local("127.0.0.1", 0, 0);
      const a3 = ipaddr_local("127.0.0.1", 0, 0);
      const s1 = yield* udp_open(a1, null);
      const s2 = yield* udp_open(a2, a1);
      const s3 = yield* udp_open(a3, null);
      const buf = new Uint8Array(16);
      // s3's datagram to s2 has reached s2 once s3's next one has reached s1: loopback keeps order.
      udp_send(s3, a2, "stranger", 8);
      udp_send(s3, a1, "mark", 4);
      expect(yield* udp_recv(s1, null, buf, 16, now() + 5000)).toBe(4);
      udp_send(s1, a2, "friend", 6);
      expect(text(buf, yield* mrecv(s2, buf, 16, now() + 5000))).toBe("friend");
      hclose(s1);
      hclose(s2);
      hclose(s3);
    });
  });

  it("binds an ephemeral port of the any address when there is no local address", async () => {
    await run(function* () {
      const a1 = ipaddr_local("127.0.0.1", 0, 0);
      const s1 = yield* udp_open(a1, null);
      const s2 = yield* udp_open(null, a1);
      yield* msend(s2, "hi", 2, -1);
      const from = new IpAddr();
      const buf = new Uint8Array(4);
      expect(yield* udp_recv(s1, from, buf, 4, now() + 5000)).toBe(2);
      expect(ipaddr_str(from)).toBe("127.0.0.1");
      udp_send(s1, from, "yo", 2); // the reply reaches s2 at the port the system gave it
      expect(yield* mrecv(s2, buf, 4, now() + 5000)).toBe(2);
      hclose(s1);
      hclose(s2);
    });
  });
});

describe("udp_sendl and udp_recvl", () => {
  it("send a datagram made of a list and receive it into a list, skipping bytes, or drop it", async () => {
    await run(function* () {
      const a1 = ipaddr_local("127.0.0.1", 0, 0);
      const s1 = yield* udp_open(a1, null);
      const s2 = yield* udp_open(null, a1);
      const b: IoList = { iol_base: Buffer.from("World"), iol_len: 5, iol_next: null, iol_rsvd: 0 };
      const a: IoList = { iol_base: Buffer.from("Hello, "), iol_len: 7, iol_next: b, iol_rsvd: 0 };
      udp_sendl(s2, null, a, b);
      udp_sendl(s2, a1, a, a.iol_next === b ? b : a);
      const tail: IoList = { iol_base: new Uint8Array(10), iol_len: 10, iol_next: null, iol_rsvd: 0 };
      const skip: IoList = { iol_base: null, iol_len: 7, iol_next: tail, iol_rsvd: 0 };
      const from = new IpAddr();
      expect(yield* udp_recvl(s1, from, skip, tail, now() + 5000)).toBe(12);
      expect(text(tail.iol_base!, 5)).toBe("World");
      expect(skip.iol_next).toBe(tail); // the list is as it was
      expect(yield* udp_recvl(s1, null, null, null, now() + 5000)).toBe(12); // dropped, size known
      hclose(s1);
      hclose(s2);
    });
  });
});

describe("UDP errors", () => {
  it("EINVAL: sending without an address and no remote one, or to the other family; mixed families", async () => {
    await run(function* () {
      const s = yield* udp_open(ipaddr_local("127.0.0.1", 0, 0), null);
      expect(thrown(() => udp_send(s, null, "x", 1)).code).toBe("EINVAL");
      expect(yield* codeOf(msend(s, "x", 1, -1))).toBe("EINVAL");
      expect(thrown(() => udp_send(s, ipaddr_local("::1", 9, 0), "x", 1)).code).toBe("EINVAL");
      expect(yield* codeOf(udp_open(ipaddr_local("127.0.0.1", 0, 0), ipaddr_local("::1", 9, 0)))).toBe("EINVAL");
      expect(thrown(() => udp_send(s, ipaddr_local("127.0.0.1", 0, 0), "x", 1)).code).toBe("EINVAL"); // port 0
      hclose(s);
    });
  });

  it("EMSGSIZE: a datagram larger than UDP carries, or larger than the receiver's buffer (then dropped)", async () => {
    await run(function* () {
      const a1 = ipaddr_local("127.0.0.1", 0, 0);
      const s1 = yield* udp_open(a1, null);
      const s2 = yield* udp_open(null, a1);
      expect(thrown(() => udp_send(s2, null, new Uint8Array(65508), 65508)).code).toBe("EMSGSIZE");
      udp_send(s2, null, "too long", 8);
      udp_send(s2, null, "ok", 2);
      const buf = new Uint8Array(4);
      const e = yield* failure(udp_recv(s1, null, buf, 4, now() + 5000));
      expect(e.code).toBe("EMSGSIZE");
      expect(yield* udp_recv(s1, null, buf, 4, now() + 5000)).toBe(2); // the socket goes on
      const v6 = yield* udp_open(ipaddr_local("::1", 0, 0), null);
      expect(thrown(() => udp_send(v6, ipaddr_local("::1", 9, 0), new Uint8Array(65528), 65528)).code).toBe("EMSGSIZE");
      hclose(v6);
      hclose(s1);
      hclose(s2);
    });
  });

  it("EADDRINUSE and EADDRNOTAVAIL from udp_open, with nothing left open", async () => {
    await run(function* () {
      const a = ipaddr_local("127.0.0.1", 0, 0);
      const s = yield* udp_open(a, null);
      const before = dill_stats().pool.used;
      expect(yield* codeOf(udp_open(ipaddr_local("127.0.0.1", ipaddr_port(a), 0), null))).toBe("EADDRINUSE");
      expect(yield* codeOf(udp_open(ipaddr_local("192.0.2.1", 0, 0), null))).toBe("EADDRNOTAVAIL");
      expect(dill_stats().pool.used).toBe(before);
      hclose(s);
    });
  });

  it("ETIMEDOUT at the deadline, at once for deadline 0; ECANCELED when the coroutine is cancelled", async () => {
    await run(function* () {
      const s = yield* udp_open(ipaddr_local("127.0.0.1", 0, 0), null);
      const buf = new Uint8Array(4);
      expect(yield* codeOf(udp_recv(s, null, buf, 4, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(udp_recv(s, null, buf, 4, now() + 10))).toBe("ETIMEDOUT");
      let code = "";
      const cr = go(
        (function* () {
          code = yield* codeOf(udp_recv(s, null, buf, 4, -1));
        })(),
      );
      hclose(cr);
      expect(code).toBe("ECANCELED");
      const before = dill_stats().pool.used;
      const opening = go(
        (function* () {
          code = yield* codeOf(udp_open(ipaddr_local("127.0.0.1", 0, 0), null)); // parked in the bind
        })(),
      );
      hclose(opening);
      expect(code).toBe("ECANCELED");
      expect(dill_stats().pool.used).toBe(before); // the half-made socket is gone
      code = "";
      const cancelled = go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            code = yield* codeOf(udp_open(null, null)); // cleanup cannot block
          }
        })(),
      );
      hclose(cancelled);
      expect(code).toBe("ECANCELED");
      hclose(s);
    });
  });

  it("EBUSY for a second receiver; EBADF for a receiver whose socket is closed under it", async () => {
    await run(function* () {
      const s = yield* udp_open(ipaddr_local("127.0.0.1", 0, 0), null);
      const buf = new Uint8Array(4);
      let code = "";
      const cr = go(
        (function* () {
          code = yield* codeOf(udp_recv(s, null, buf, 4, -1));
        })(),
      );
      expect(yield* codeOf(udp_recv(s, null, buf, 4, -1))).toBe("EBUSY");
      hclose(s);
      yield* msleep(now() + 1);
      expect(code).toBe("EBADF");
      hclose(cr);
    });
  });

  it("ENOMEM when the pool is used up; EBUSY for a storage in use", async () => {
    await run(function* () {
      const mem = new UdpStorage();
      const s = yield* udp_open_mem(null, null, mem);
      expect(yield* codeOf(udp_open_mem(null, null, mem))).toBe("EBUSY");
      dill_configure({ pool: dill_stats().pool.used });
      try {
        expect(yield* codeOf(udp_open(null, null))).toBe("ENOMEM");
      } finally {
        dill_configure({ pool: 1 << 20 });
      }
      hclose(s);
    });
  });
});

/** A UDP port free now (bound and released). */
async function freePort(type: "udp4" | "udp6", host: string): Promise<number> {
  const s = createSocket(type);
  await new Promise<void>((r) => s.bind(0, host, r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

needs("socat").describe("tsdill and socat over UDP", () => {
  for (const [v, host] of [
    ["4", "127.0.0.1"],
    ["6", "::1"],
  ] as const) {
    it(`exchanges datagrams with socat's UDP${v} echo, the reply from socat's address`, async () => {
      const port = await freePort(v === "4" ? "udp4" : "udp6", host);
      const bind = v === "4" ? host : `[${host}]`;
      const p = spawn("socat", ["-T", "10", `UDP${v}-RECVFROM:${port},bind=${bind}`, "EXEC:cat"], { stdio: "ignore" });
      const exited = new Promise((r) => p.on("exit", r));
      try {
        await run(function* () {
          const peer = ipaddr_local(host, port, 0);
          const s = yield* udp_open(null, peer);
          const buf = new Uint8Array(64);
          const from = new IpAddr();
          let n = -1;
          // socat may not be listening yet: send until the echo comes (UDP drops the early ones).
          for (let i = 0; i < 100 && n < 0; i++) {
            udp_send(s, null, "datagram from tsdill", 20);
            try {
              n = yield* udp_recv(s, from, buf, buf.length, now() + 100);
            } catch (e) {
              if ((e as { code?: string }).code !== "ETIMEDOUT") throw e;
            }
          }
          expect(text(buf, n)).toBe("datagram from tsdill");
          expect(ipaddr_equal(from, peer, false)).toBe(true);
          hclose(s);
        });
      } finally {
        p.kill();
        await exited;
      }
    });
  }
});

describe("UDP under a protocol", () => {
  it("carries TERM: messages, then the terminal message ends the peer's receiving with EPIPE", async () => {
    await run(function* () {
      const a1 = ipaddr_local("127.0.0.1", 0, 0);
      const a2 = ipaddr_local("127.0.0.1", 0, 0);
      // Learn two free ports first: each socket's remote is the other's address.
      hclose(yield* udp_open(a1, null));
      hclose(yield* udp_open(a2, null));
      const s1 = yield* udp_open(a1, a2);
      const s2 = yield* udp_open(a2, a1);
      const t1 = term_attach(s1, "BYE", 3);
      const t2 = term_attach(s2, "BYE", 3);
      yield* msend(t1, "one", 3, -1);
      const buf = new Uint8Array(16);
      expect(text(buf, yield* mrecv(t2, buf, 16, now() + 5000))).toBe("one");
      yield* term_done(t1, -1);
      expect(yield* codeOf(mrecv(t2, buf, 16, now() + 5000))).toBe("EPIPE");
      hclose(t1);
      hclose(t2);
    });
  });
});
