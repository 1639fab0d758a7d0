/**
 * happyeyeballs_connect over real sockets on the loopback. This machine's /etc/hosts gives
 * "localhost" IPv4 only, so most tests put a resolver in place that answers "localhost" with
 * ::1 and 127.0.0.1, the way many systems do; the connections themselves are real. One of the
 * two addresses refuses (nobody listens on it) or is black-holed: a Python listener that never
 * accepts, its one-slot queue held full, so the kernel drops further SYNs and a connect there
 * hangs. The winner must be connected, the loser's coroutine closed, and nothing left open (the
 * suite's setup checks dill_stats after every test).
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  AF_INET,
  AF_INET6,
  brecv,
  bsend,
  dill_stats,
  go,
  hclose,
  happyeyeballs_connect,
  IpAddr,
  IPADDR_IPV4,
  IPADDR_IPV6,
  ipaddr_family,
  ipaddr_local,
  ipaddr_port,
  msleep,
  now,
  type Op,
  run,
  tcp_accept,
  tcp_close,
  tcp_listen,
} from "../src/index.js";
import { setHappyEyeballsResolver } from "../src/tcp/happyeyeballs.js";
import { codeOf, failure } from "./expect-dill.js";
import { expectNoFdLeak } from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";

expectNoFdLeak();
afterEach(() => setHappyEyeballsResolver(null));

/** Answers `name` with these addresses of each family; every lookup is recorded in `asked`. */
function hosts(v6: string[], v4: string[], asked: number[] = []) {
  setHappyEyeballsResolver(function* (_name: string, port: number, mode: number): Op<IpAddr[]> {
    asked.push(mode);
    yield* msleep(now() + 1); // an answer takes a moment, as a real lookup does
    return (mode === IPADDR_IPV6 ? v6 : mode === IPADDR_IPV4 ? v4 : []).map((a) => ipaddr_local(a, port, 0));
  });
  return asked;
}

/** A Python listener on `host` that never accepts, its queue held full: SYNs to it are dropped. */
async function blackHole(host: string): Promise<{ port: number; close(): Promise<void> }> {
  const family = host.includes(":") ? "AF_INET6" : "AF_INET";
  const py = spawn(
    "python3",
    [
      "-c",
      `import socket, sys
s = socket.socket(socket.${family}, socket.SOCK_STREAM)
s.bind((${JSON.stringify(host)}, 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
sys.stdin.read()`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve) =>
    py.stdout!.once("data", (d: Buffer) => resolve(Number(String(d)))),
  );
  // Fill the one slot of the accept queue with a connection that stays there.
  const filler = net.connect({ host, port });
  await new Promise<void>((r) => filler.once("connect", () => r()));
  return {
    port,
    async close() {
      filler.destroy();
      await stop(py);
    },
  };
}

async function stop(p: ChildProcess): Promise<void> {
  const exited = new Promise((r) => p.once("exit", r));
  p.stdin?.end();
  p.kill();
  await exited;
}

/** Accept one connection on `ls` and echo 5 bytes; the peer's family goes to `family`. */
function* echoOnce(ls: number, seen: { family: number }) {
  const peer = new IpAddr();
  const s = yield* tcp_accept(ls, peer, now() + 5000);
  seen.family = ipaddr_family(peer);
  const buf = new Uint8Array(5);
  yield* brecv(s, buf, 5, now() + 5000);
  yield* bsend(s, buf, 5, now() + 5000);
  yield* tcp_close(s, now() + 5000);
}

function* talk(s: number) {
  yield* bsend(s, "hello", 5, now() + 5000);
  const buf = new Uint8Array(5);
  yield* brecv(s, buf, 5, now() + 5000);
  expect(Buffer.from(buf).toString()).toBe("hello");
  yield* tcp_close(s, now() + 5000);
}

describe("happyeyeballs_connect", () => {
  it("connects to the real localhost of this machine, without a resolver in place", async () => {
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      const seen = { family: 0 };
      const cr = go(echoOnce(ls, seen));
      yield* talk(yield* happyeyeballs_connect("localhost", ipaddr_port(addr), now() + 5000));
      hclose(cr);
      hclose(ls);
      expect(seen.family).toBe(AF_INET);
    });
  });

  it("prefers IPv6 when both families listen, and asks for both families at once", async () => {
    await run(function* () {
      const a6 = ipaddr_local("::1", 0, 0);
      const ls6 = yield* tcp_listen(a6, 10);
      const ls4 = yield* tcp_listen(ipaddr_local("127.0.0.1", ipaddr_port(a6), 0), 10);
      const asked = hosts(["::1"], ["127.0.0.1"]);
      const seen = { family: 0 };
      const cr = go(echoOnce(ls6, seen));
      yield* talk(yield* happyeyeballs_connect("localhost", ipaddr_port(a6), now() + 5000));
      expect(seen.family).toBe(AF_INET6);
      expect(asked.sort()).toEqual([IPADDR_IPV4, IPADDR_IPV6].sort());
      hclose(cr);
      hclose(ls4);
      hclose(ls6);
    });
  });

  it("falls back to IPv4 at once when ::1 refuses", async () => {
    await run(function* () {
      const a4 = ipaddr_local("127.0.0.1", 0, 0);
      const ls4 = yield* tcp_listen(a4, 10); // nothing on [::1] at that port: refused
      hosts(["::1"], ["127.0.0.1"]);
      const seen = { family: 0 };
      const cr = go(echoOnce(ls4, seen));
      yield* talk(yield* happyeyeballs_connect("localhost", ipaddr_port(a4), now() + 5000));
      expect(seen.family).toBe(AF_INET);
      hclose(cr);
      hclose(ls4);
    });
  });

  needs("python3").it("wins over IPv4 when ::1 is black-holed, and cancels the hanging IPv6 attempt", async () => {
    const hole = await blackHole("::1");
    try {
      await run(function* () {
        const ls4 = yield* tcp_listen(ipaddr_local("127.0.0.1", hole.port, 0), 10);
        hosts(["::1"], ["127.0.0.1"]);
        const seen = { family: 0 };
        const cr = go(echoOnce(ls4, seen));
        const before = dill_stats().coroutines;
        const s = yield* happyeyeballs_connect("localhost", hole.port, now() + 10000);
        // The race is over: the coordinator, the resolvers and the IPv6 attempt are gone.
        expect(dill_stats().coroutines).toBe(before);
        yield* talk(s);
        expect(seen.family).toBe(AF_INET);
        hclose(cr);
        hclose(ls4);
      });
    } finally {
      await hole.close();
    }
  });

  needs("python3").it("wins over IPv6 when 127.0.0.1 is black-holed", async () => {
    const hole = await blackHole("127.0.0.1");
    try {
      await run(function* () {
        const ls6 = yield* tcp_listen(ipaddr_local("::1", hole.port, 0), 10);
        hosts(["::1"], ["127.0.0.1"]);
        const seen = { family: 0 };
        const cr = go(echoOnce(ls6, seen));
        yield* talk(yield* happyeyeballs_connect("localhost", hole.port, now() + 10000));
        expect(seen.family).toBe(AF_INET6);
        hclose(cr);
        hclose(ls6);
      });
    } finally {
      await hole.close();
    }
  });

  needs("python3").it(
    "fails with ETIMEDOUT at the deadline when the only address is black-holed, leaving nothing",
    async () => {
      const hole = await blackHole("127.0.0.1");
      try {
        await run(function* () {
          hosts([], ["127.0.0.1"]);
          const before = dill_stats();
          expect(yield* codeOf(happyeyeballs_connect("localhost", hole.port, now() + 100))).toBe("ETIMEDOUT");
          expect(dill_stats().coroutines).toBe(before.coroutines);
          expect(dill_stats().handles).toBe(before.handles);
        });
      } finally {
        await hole.close();
      }
    },
  );

  needs("python3").it(
    "fails with ECANCELED when its coroutine is closed during the race, leaving nothing",
    async () => {
      const hole = await blackHole("::1");
      try {
        await run(function* () {
          hosts(["::1"], []);
          let code = "";
          const before = dill_stats();
          const cr = go(
            (function* () {
              code = yield* codeOf(happyeyeballs_connect("localhost", hole.port, -1));
            })(),
          );
          yield* msleep(now() + 20); // let the attempt start and hang
          hclose(cr);
          expect(code).toBe("ECANCELED");
          expect(dill_stats().coroutines).toBe(before.coroutines);
          expect(dill_stats().handles).toBe(before.handles);
        });
      } finally {
        await hole.close();
      }
    },
  );

  it("fails with the attempts' error when every address refuses, and EADDRNOTAVAIL when there is none", async () => {
    await run(function* () {
      const probe = ipaddr_local("127.0.0.1", 0, 0);
      const l2 = yield* tcp_listen(probe, 1);
      const closed = ipaddr_port(probe);
      hclose(l2); // a port nobody listens on, on both families
      hosts(["::1"], ["127.0.0.1"]);
      const e = yield* failure(happyeyeballs_connect("localhost", closed, now() + 5000));
      expect(e.code).toBe("ECONNREFUSED");
      hosts([], []);
      expect(yield* codeOf(happyeyeballs_connect("nowhere", 80, now() + 5000))).toBe("EADDRNOTAVAIL");
    });
  });

  it("checks its arguments: EINVAL, ENAMETOOLONG", async () => {
    await run(function* () {
      expect(yield* codeOf(happyeyeballs_connect("", 80, -1))).toBe("EINVAL");
      expect(yield* codeOf(happyeyeballs_connect("localhost", 0, -1))).toBe("EINVAL");
      expect(yield* codeOf(happyeyeballs_connect("localhost", 80, NaN))).toBe("EINVAL");
      expect(yield* codeOf(happyeyeballs_connect("x".repeat(254), 80, -1))).toBe("ENAMETOOLONG");
    });
  });
});
