/**
 * SOCKS5: the cases of libdill's tests/socks5.c (client by address and by IP string against a
 * proxy that resolves or not, with and without a username and password, over ipc_pair), then a
 * real proxy written with tsdill over TCP, with curl (--socks5, --socks5-hostname, -U) and
 * tsdill's own client going through it to a tsdill server; and every errno.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  await_promise,
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  go,
  hclose,
  IpAddr,
  ipaddr_local,
  ipaddr_port,
  ipaddr_remote,
  ipaddr_str,
  ipc_pair,
  msleep,
  now,
  type Op,
  run,
  SOCKS5_COMMAND_NOT_SUPPORTED,
  SOCKS5_CONNECT,
  SOCKS5_CONNECTION_REFUSED,
  SOCKS5_GENERAL_FAILURE,
  SOCKS5_HOST_UNREACHABLE,
  SOCKS5_NETWORK_UNREACHABLE,
  SOCKS5_SUCCESS,
  type Socks5AuthFunction,
  socks5_client_connect,
  socks5_client_connectbyname,
  socks5_proxy_auth,
  socks5_proxy_recvcommand,
  socks5_proxy_recvcommandbyname,
  socks5_proxy_sendreply,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_done,
  tcp_listen,
  tcp_recv_some,
} from "../src/index.js";
import { codeOf, failure } from "./expect-dill.js";
import { expectNoFdLeak } from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";
import { closedPort } from "./tcp-helpers.js";

const run$ = promisify(execFile);
expectNoFdLeak();

const ANY = () => ipaddr_local("0.0.0.0", 0, 0);
const checker =
  (user: string, pass: string): Socks5AuthFunction =>
  (u, p) =>
    u === user && p === pass;

/** The end-to-end check of libdill's test: the client says hello, the far side answers olleh. */
function* sayHello(s: number) {
  yield* bsend(s, "hello", 5, now() + 5000);
  const buf = new Uint8Array(5);
  yield* brecv(s, buf, 5, now() + 5000);
  expect(Buffer.from(buf).toString()).toBe("olleh");
}
function* answerHello(s: number) {
  const buf = new Uint8Array(5);
  yield* brecv(s, buf, 5, now() + 5000);
  expect(Buffer.from(buf).toString()).toBe("hello");
  yield* bsend(s, "olleh", 5, now() + 5000);
}

describe("the handshake both ways over ipc_pair (libdill's tests/socks5.c)", () => {
  const creds: [string | null, string | null][] = [
    [null, null],
    ["user", "pass"],
  ];
  for (const byname of [false, true])
    for (const client of ["address", "IP string", "host name"] as const)
      for (const [user, pass] of creds) {
        it(`a client by ${client} and a proxy that ${byname ? "does not resolve" : "resolves"}, ${user === null ? "no authentication" : "username and password"}`, async () => {
          await run(function* () {
            const [p, c] = yield* ipc_pair();
            const b = bundle();
            bundle_go(
              b,
              (function* () {
                yield* socks5_proxy_auth(p, user === null ? null : checker(user, pass!), now() + 5000);
                if (byname) {
                  const [cmd, host, port] = yield* socks5_proxy_recvcommandbyname(p, now() + 5000);
                  expect(cmd).toBe(SOCKS5_CONNECT);
                  expect(host).toBe(client === "host name" ? "localhost" : "127.0.0.1");
                  expect(port).toBe(5555);
                } else {
                  const dst = new IpAddr();
                  expect(yield* socks5_proxy_recvcommand(p, dst, now() + 5000)).toBe(SOCKS5_CONNECT);
                  expect([ipaddr_str(dst), ipaddr_port(dst)]).toEqual(["127.0.0.1", 5555]);
                }
                yield* socks5_proxy_sendreply(p, SOCKS5_SUCCESS, ANY(), now() + 5000);
                yield* answerHello(p);
              })(),
            );
            bundle_go(
              b,
              (function* () {
                if (client === "address") {
                  const addr = yield* ipaddr_remote("127.0.0.1", 5555, 0, -1);
                  yield* socks5_client_connect(c, user, pass, addr, now() + 5000);
                } else {
                  const host = client === "host name" ? "localhost" : "127.0.0.1";
                  yield* socks5_client_connectbyname(c, user, pass, host, 5555, now() + 5000);
                }
                yield* sayHello(c);
              })(),
            );
            yield* bundle_wait(b, now() + 10000);
            hclose(b);
            hclose(p);
            hclose(c);
          });
        });
      }

  it("sends an IPv6 destination as an address, and the proxy reads it back", async () => {
    await run(function* () {
      const [p, c] = yield* ipc_pair();
      let got: [number, string, number] | null = null;
      const cr = go(
        (function* () {
          yield* socks5_proxy_auth(p, null, now() + 5000);
          got = yield* socks5_proxy_recvcommandbyname(p, now() + 5000);
          yield* socks5_proxy_sendreply(p, SOCKS5_SUCCESS, ipaddr_local("::1", 1080, 0), now() + 5000);
        })(),
      );
      yield* socks5_client_connectbyname(c, null, null, "2001:DB8::1", 443, now() + 5000);
      expect(got).toEqual([SOCKS5_CONNECT, "2001:db8::1", 443]);
      const dst = ipaddr_local("::ffff:10.0.0.1", 80, 0);
      const cr2 = go(
        (function* () {
          yield* socks5_proxy_auth(p, null, now() + 5000);
          const a = new IpAddr();
          yield* socks5_proxy_recvcommand(p, a, now() + 5000);
          got = [0, ipaddr_str(a), ipaddr_port(a)];
          yield* socks5_proxy_sendreply(p, SOCKS5_SUCCESS, ANY(), now() + 5000);
        })(),
      );
      yield* socks5_client_connect(c, null, null, dst, now() + 5000);
      expect(got).toEqual([0, "::ffff:10.0.0.1", 80]);
      hclose(cr);
      hclose(cr2);
      hclose(p);
      hclose(c);
    });
  });
});

describe("SOCKS5 errors", () => {
  /** Run a proxy side `proxy` against a client side `client` on an ipc_pair; the client's error code and the proxy's. */
  function* pair(
    proxy: (p: number) => Generator<unknown, unknown, unknown>,
    client: (c: number) => Generator<unknown, unknown, unknown>,
  ) {
    const [p, c] = yield* ipc_pair();
    let pcode = "OK";
    const cr = go(
      (function* () {
        try {
          yield* proxy(p);
        } catch (e) {
          pcode = (e as { code: string }).code;
        }
      })(),
    );
    let ccode = "OK";
    try {
      yield* client(c);
    } catch (e) {
      ccode = (e as { code: string }).code;
    }
    yield* bundle_wait(cr, now() + 5000);
    hclose(cr);
    hclose(p);
    hclose(c);
    return [ccode, pcode];
  }
  const connect = (user: string | null, pass: string | null) =>
    function* (c: number) {
      yield* socks5_client_connectbyname(c, user, pass, "example.org", 80, now() + 5000);
    };

  it("EACCES both sides: a wrong password, or no method in common", async () => {
    await run(function* () {
      const auth = function* (p: number) {
        yield* socks5_proxy_auth(p, checker("user", "pass"), now() + 5000);
      };
      expect(yield* pair(auth, connect("user", "wrong"))).toEqual(["EACCES", "EACCES"]);
      expect(yield* pair(auth, connect(null, null))).toEqual(["EACCES", "EACCES"]);
    });
  });

  it("maps each failure reply to its errno, as libdill does", async () => {
    const cases: [number, string][] = [
      [SOCKS5_GENERAL_FAILURE, "EIO"],
      [0x02, "EACCES"],
      [SOCKS5_NETWORK_UNREACHABLE, "ENETUNREACH"],
      [SOCKS5_HOST_UNREACHABLE, "EHOSTUNREACH"],
      [SOCKS5_CONNECTION_REFUSED, "ECONNREFUSED"],
      [0x06, "ETIMEDOUT"],
      [SOCKS5_COMMAND_NOT_SUPPORTED, "ENOTSUP"],
      [0x08, "EAFNOSUPPORT"],
    ];
    await run(function* () {
      for (const [reply, code] of cases) {
        const proxy = function* (p: number) {
          yield* socks5_proxy_auth(p, null, now() + 5000);
          yield* socks5_proxy_recvcommandbyname(p, now() + 5000);
          yield* socks5_proxy_sendreply(p, reply, ANY(), now() + 5000);
        };
        expect(yield* pair(proxy, connect(null, null))).toEqual([code, "OK"]);
      }
    });
  });

  it("EPROTO for a peer that does not speak SOCKS5; EADDRNOTAVAIL for a name that does not resolve", async () => {
    await run(function* () {
      const socks4 = function* (p: number) {
        yield* bsend(p, Uint8Array.from([4, 0]), 2, now() + 5000); // a SOCKS4-style answer
      };
      expect(yield* pair(socks4, connect(null, null))).toEqual(["EPROTO", "OK"]);
      const client4 = function* (c: number) {
        yield* bsend(c, Uint8Array.from([4, 1, 0, 80, 127, 0, 0, 1, 0]), 9, now() + 5000);
      };
      const auth = function* (p: number) {
        yield* socks5_proxy_auth(p, null, now() + 5000);
      };
      expect(yield* pair(auth, client4)).toEqual(["OK", "EPROTO"]);
      const resolving = function* (p: number) {
        yield* socks5_proxy_auth(p, null, now() + 5000);
        yield* socks5_proxy_recvcommand(p, new IpAddr(), now() + 5000);
      };
      const bogus = function* (c: number) {
        yield* socks5_client_connectbyname(c, null, null, "no-such-host.invalid", 80, now() + 300);
      };
      const [, pcode] = yield* pair(resolving, bogus);
      expect(pcode).toBe("EADDRNOTAVAIL");
    });
  });

  it("ETIMEDOUT when the proxy does not answer by the deadline; ECANCELED when cancelled in the handshake", async () => {
    await run(function* () {
      const [p, c] = yield* ipc_pair();
      expect(yield* codeOf(socks5_client_connectbyname(c, null, null, "example.org", 80, now() + 20))).toBe(
        "ETIMEDOUT",
      );
      hclose(p);
      hclose(c);
      const [p2, c2] = yield* ipc_pair(); // a fresh pair: the first one has the client's greeting in it
      let code = "";
      const cr = go(
        (function* () {
          code = yield* codeOf(socks5_proxy_auth(p2, null, -1));
        })(),
      );
      hclose(cr);
      expect(code).toBe("ECANCELED");
      hclose(p2);
      hclose(c2);
    });
  });

  it("every blocking call: ETIMEDOUT at its deadline with nothing to read, ECANCELED in a cancelled coroutine", async () => {
    const calls: [string, (s: number, d: number) => Op<unknown>][] = [
      ["socks5_client_connect", (s, d) => socks5_client_connect(s, null, null, ANY(), d)],
      ["socks5_client_connectbyname", (s, d) => socks5_client_connectbyname(s, "u", "p", "h", 80, d)],
      ["socks5_proxy_auth", (s, d) => socks5_proxy_auth(s, null, d)],
      ["socks5_proxy_recvcommand", (s, d) => socks5_proxy_recvcommand(s, new IpAddr(), d)],
      ["socks5_proxy_recvcommandbyname", (s, d) => socks5_proxy_recvcommandbyname(s, d)],
      ["socks5_proxy_sendreply", (s, d) => socks5_proxy_sendreply(s, SOCKS5_SUCCESS, ANY(), d)],
    ];
    await run(function* () {
      for (const [name, call] of calls) {
        const [p, c] = yield* ipc_pair();
        if (name !== "socks5_proxy_sendreply") {
          // sendreply only sends, which a socket with room does at once: it has no wait to time out.
          expect(yield* codeOf(call(c, now() + 10)), name).toBe("ETIMEDOUT");
        }
        let code = "";
        const cr = go(
          (function* () {
            try {
              yield* msleep(-1);
            } finally {
              code = yield* codeOf(call(p, -1));
            }
          })(),
        );
        hclose(cr);
        expect(code, name).toBe("ECANCELED");
        hclose(p);
        hclose(c);
      }
    });
  });

  it("EINVAL for credentials or a host name over 255 bytes, a bad port or reply code; ENOTSUP for a non-stream", async () => {
    await run(function* () {
      const [p, c] = yield* ipc_pair();
      const long = "x".repeat(256);
      expect((yield* failure(socks5_client_connectbyname(c, long, "p", "h", 80, -1))).message).toContain("username");
      expect(yield* codeOf(socks5_client_connectbyname(c, "u", long, "h", 80, -1))).toBe("EINVAL");
      expect(yield* codeOf(socks5_client_connectbyname(c, null, null, long, 80, -1))).toBe("EINVAL");
      expect(yield* codeOf(socks5_client_connectbyname(c, null, null, "h", 0, -1))).toBe("EINVAL");
      expect(yield* codeOf(socks5_proxy_sendreply(p, 9, ANY(), -1))).toBe("EINVAL");
      const cr: number = go((function* () {})());
      expect(yield* codeOf(socks5_proxy_auth(cr, null, -1))).toBe("ENOTSUP");
      hclose(cr);
      hclose(p);
      hclose(c);
    });
  });
});

// ---- A real proxy over TCP ---------------------------------------------------------------------

/** The reply for a failed connect to the destination. */
function replyFor(code: string): number {
  if (code === "ECONNREFUSED") return SOCKS5_CONNECTION_REFUSED;
  if (code === "ENETUNREACH") return SOCKS5_NETWORK_UNREACHABLE;
  if (code === "EHOSTUNREACH" || code === "EADDRNOTAVAIL") return SOCKS5_HOST_UNREACHABLE;
  return SOCKS5_GENERAL_FAILURE;
}

/** Copy `from` to `to` until `from` ends, then end `to`'s sending half. */
function* pump(from: number, to: number) {
  const buf = new Uint8Array(16384);
  for (;;) {
    let n: number;
    try {
      n = yield* tcp_recv_some(from, buf, buf.length, now() + 10000);
    } catch (e) {
      if ((e as { code?: string }).code === "EPIPE") {
        yield* tcp_done(to, now() + 10000);
        return;
      }
      throw e;
    }
    yield* bsend(to, buf, n, now() + 10000);
  }
}

/** One client of the proxy: authenticate, read the request, connect, reply, relay. */
function* proxyClient(s: number, auth: Socks5AuthFunction | null, errors: string[]) {
  try {
    yield* socks5_proxy_auth(s, auth, now() + 5000);
    const dst = new IpAddr();
    const cmd = yield* socks5_proxy_recvcommand(s, dst, now() + 5000);
    if (cmd !== SOCKS5_CONNECT) {
      yield* socks5_proxy_sendreply(s, SOCKS5_COMMAND_NOT_SUPPORTED, ANY(), now() + 5000);
      return;
    }
    let t: number;
    try {
      t = yield* tcp_connect(dst, now() + 5000);
    } catch (e) {
      yield* socks5_proxy_sendreply(s, replyFor((e as { code: string }).code), ANY(), now() + 5000);
      return;
    }
    try {
      yield* socks5_proxy_sendreply(s, SOCKS5_SUCCESS, ANY(), now() + 5000);
      const b = bundle();
      bundle_go(b, pump(s, t));
      bundle_go(b, pump(t, s));
      try {
        yield* bundle_wait(b, now() + 20000);
      } finally {
        hclose(b);
      }
    } finally {
      hclose(t);
    }
  } catch (e) {
    errors.push((e as { code?: string }).code ?? String(e));
  } finally {
    hclose(s);
  }
}

/** A SOCKS5 proxy on 127.0.0.1: its listener, the port, and the errors its clients met. */
function* startProxy(auth: Socks5AuthFunction | null) {
  const addr = ipaddr_local("127.0.0.1", 0, 0);
  const ls = yield* tcp_listen(addr, 16);
  const errors: string[] = [];
  const clients = bundle();
  const acceptor = go(
    (function* () {
      for (;;) bundle_go(clients, proxyClient(yield* tcp_accept(ls, null, -1), auth, errors));
    })(),
  );
  return {
    port: ipaddr_port(addr),
    errors,
    close() {
      hclose(acceptor);
      hclose(clients);
      hclose(ls);
    },
  };
}

/** A tiny HTTP server: reads a request's head, answers "hello", closes. Also answers "hello" with "olleh". */
function* startServer() {
  const addr = ipaddr_local("127.0.0.1", 0, 0);
  const ls = yield* tcp_listen(addr, 16);
  const conns = bundle();
  const acceptor = go(
    (function* () {
      for (;;) {
        const s = yield* tcp_accept(ls, null, -1);
        bundle_go(
          conns,
          (function* () {
            let closing = false;
            try {
              const buf = new Uint8Array(4096);
              let got = "";
              while (!got.includes("\r\n\r\n") && got !== "hello") {
                const n = yield* tcp_recv_some(s, buf, buf.length, now() + 5000);
                got += Buffer.from(buf.subarray(0, n)).toString();
              }
              if (got === "hello") yield* bsend(s, "olleh", 5, now() + 5000);
              else {
                const res = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
                yield* bsend(s, res, res.length, now() + 5000);
              }
              closing = true;
              yield* tcp_close(s, now() + 5000); // closes s even when it fails
            } catch {
              // the test's end cancels a close still waiting for the proxy's FIN
              if (!closing) hclose(s);
            }
          })(),
        );
      }
    })(),
  );
  return {
    port: ipaddr_port(addr),
    close() {
      hclose(acceptor);
      hclose(conns);
      hclose(ls);
    },
  };
}

needs("curl").describe("curl through a tsdill SOCKS5 proxy to a tsdill server", () => {
  const cases: [string, string[], boolean][] = [
    ["--socks5, no authentication", ["--socks5"], false],
    ["--socks5-hostname (the proxy resolves localhost)", ["--socks5-hostname"], false],
    ["--socks5 with -U user:pass", ["--socks5"], true],
    ["--socks5-hostname with -U user:pass", ["--socks5-hostname"], true],
  ];
  for (const [name, flag, withAuth] of cases) {
    it(name, async () => {
      await run(function* () {
        const proxy = yield* startProxy(withAuth ? checker("user", "pass") : null);
        const server = yield* startServer();
        try {
          const host = flag[0] === "--socks5-hostname" ? "localhost" : "127.0.0.1";
          const args = ["-sS", "--max-time", "10", ...flag, `127.0.0.1:${proxy.port}`];
          if (withAuth) args.push("-U", "user:pass");
          args.push(`http://${host}:${server.port}/`);
          const { stdout } = yield* await_promise(run$("curl", args), now() + 15000);
          expect(stdout).toBe("hello");
          expect(proxy.errors).toEqual([]);
        } finally {
          proxy.close();
          server.close();
        }
      });
    });
  }

  it("a wrong password: curl fails, the proxy's socks5_proxy_auth fails with EACCES", async () => {
    await run(function* () {
      const proxy = yield* startProxy(checker("user", "pass"));
      const server = yield* startServer();
      try {
        const args = ["-sS", "--max-time", "10", "--socks5", `127.0.0.1:${proxy.port}`, "-U", "user:nope"];
        const failed = yield* await_promise(
          run$("curl", [...args, `http://127.0.0.1:${server.port}/`]).then(
            () => false,
            () => true,
          ),
          now() + 15000,
        );
        expect(failed).toBe(true);
        expect(proxy.errors).toEqual(["EACCES"]);
      } finally {
        proxy.close();
        server.close();
      }
    });
  });
});

describe("tsdill's client through the tsdill proxy over TCP", () => {
  it("connects by address and by name, with and without authentication, and talks through it", async () => {
    await run(function* () {
      for (const auth of [null, checker("alice", "s3cret")]) {
        const proxy = yield* startProxy(auth);
        const server = yield* startServer();
        const [user, pass] = auth === null ? [null, null] : ["alice", "s3cret"];
        try {
          const proxyAddr = ipaddr_local("127.0.0.1", proxy.port, 0);
          const s1 = yield* tcp_connect(proxyAddr, now() + 5000);
          yield* socks5_client_connect(s1, user, pass, ipaddr_local("127.0.0.1", server.port, 0), now() + 5000);
          yield* sayHello(s1);
          yield* tcp_close(s1, now() + 5000);
          const s2 = yield* tcp_connect(proxyAddr, now() + 5000);
          yield* socks5_client_connectbyname(s2, user, pass, "localhost", server.port, now() + 5000);
          yield* sayHello(s2);
          yield* tcp_close(s2, now() + 5000);
          expect(proxy.errors).toEqual([]);
        } finally {
          proxy.close();
          server.close();
        }
      }
    });
  });

  it("gets ECONNREFUSED when the proxy cannot reach the destination", async () => {
    const port = await closedPort();
    await run(function* () {
      const proxy = yield* startProxy(null);
      try {
        const s = yield* tcp_connect(ipaddr_local("127.0.0.1", proxy.port, 0), now() + 5000);
        expect(
          yield* codeOf(socks5_client_connect(s, null, null, ipaddr_local("127.0.0.1", port, 0), now() + 5000)),
        ).toBe("ECONNREFUSED");
        hclose(s);
      } finally {
        proxy.close();
      }
    });
  });
});
