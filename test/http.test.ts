/**
 * http_attach, http_attach_mem, http_done, http_detach and the line calls: libdill's
 * tests/http.c, HTTP over each kind of bytestream (ipc_pair, TCP, TLS, a user's), the body read
 * on the detached socket, curl against a tsdill server, tsdill's client against Node's http
 * server, every errno for real, deadlines and cancellation on every blocking call.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  await_promise,
  brecv,
  bsend,
  bundle_wait,
  dill_stats,
  hclose,
  HttpStorage,
  http_attach,
  http_attach_mem,
  http_detach,
  http_done,
  http_recvfield,
  http_recvrequest,
  http_recvstatus,
  http_sendfield,
  http_sendrequest,
  http_sendstatus,
  ipaddr_local,
  ipaddr_port,
  ipaddr_remote,
  ipc_pair,
  isDillError,
  msleep,
  now,
  type Op,
  prefix_attach,
  run,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_listen,
  tls_attach_client,
  tls_attach_server,
} from "../src/index.js";
import { codeOf, codeOfCall, exhaustPool, expectNoFdLeak, fillHandleTable } from "./ipc-helpers.js";
import { spawn, userPair } from "./msg-helpers.js";
import { needs } from "./prerequisites.js";
import { tcpPair } from "./tcp-helpers.js";
import { type Certs, certsPerFile } from "./tls-helpers.js";

expectNoFdLeak();
const exec = promisify(execFile);
const D = () => now() + 5000;

/** Every field up to the empty line, as [name, value] pairs. */
function* recvFields(s: number, deadline = D()): Op<[string, string][]> {
  const out: [string, string][] = [];
  for (;;) {
    try {
      out.push(yield* http_recvfield(s, 256, 1024, deadline));
    } catch (e) {
      if (isDillError(e, "EPIPE")) return out;
      throw e;
    }
  }
}

/** Two HTTP sockets over an ipc_pair. */
function* httpPair(): Op<[number, number]> {
  const [a, b] = yield* ipc_pair();
  return [http_attach(a), http_attach(b)];
}

/** An HTTP socket whose peer sent `raw` and closed: the bytes a malformed peer would send. */
function* fed(raw: string): Op<number> {
  const [a, b] = yield* ipc_pair();
  yield* bsend(a, raw, Buffer.byteLength(raw), D());
  hclose(a);
  return http_attach(b);
}

function leftOpen(): number {
  return dill_stats().handles;
}

describe("libdill's tests/http.c", () => {
  it("sends a request, fields, a status and fields back, and detaches both sides", async () => {
    await run(function* () {
      const [s0, s1] = yield* httpPair();
      yield* http_sendrequest(s0, "GET", "/a/b/c", -1);
      expect(yield* http_recvrequest(s1, 16, 16, -1)).toEqual(["GET", "/a/b/c"]);
      const fields: [string, string, string][] = [
        ["foo", "bar", "bar"],
        ["baz", "quux", "quux"],
        ["Date", "Tue, 15 Nov 1994 08:12:31 GMT", "Tue, 15 Nov 1994 08:12:31 GMT"],
        ["valid-field-name", "  rpad", "rpad"],
        ["valid-field-name", "lpad  ", "lpad"],
        ["valid-field-name", "  both pad  ", "both pad"],
      ];
      for (const [name, sent, got] of fields) {
        yield* http_sendfield(s0, name, sent, -1);
        expect(yield* http_recvfield(s1, 32, 32, -1)).toEqual([name, got]);
      }
      expect(yield* codeOf(http_sendfield(s0, "invalid field name ", "bar", -1))).toBe("EINVAL");
      yield* http_done(s0, -1);
      expect(yield* codeOf(http_recvfield(s1, 32, 32, -1))).toBe("EPIPE");

      yield* http_sendstatus(s1, 200, "OK", -1);
      yield* http_sendfield(s1, "one", "two", -1);
      yield* http_done(s1, -1);
      expect(yield* http_recvstatus(s0, 16, -1)).toEqual([200, "OK"]);
      expect(yield* http_recvfield(s0, 32, 32, -1)).toEqual(["one", "two"]);
      expect(yield* codeOf(http_recvfield(s0, 32, 32, -1))).toBe("EPIPE");
      const h0 = yield* http_detach(s1, -1);
      const h1 = yield* http_detach(s0, -1);
      hclose(h1);
      hclose(h0);
    });
    expect(leftOpen()).toBe(0);
  });
});

describe("HTTP over any bytestream", () => {
  /** A request with a body and its answer with a body, between a client and a server socket. */
  function* exchange(c: number, s: number): Op<[number, number]> {
    let serverSide = -1;
    const server = spawn(
      (function* () {
        const h = http_attach(s);
        expect(yield* http_recvrequest(h, 16, 64, D())).toEqual(["POST", "/echo"]);
        expect(yield* recvFields(h)).toEqual([
          ["Host", "example.org"],
          ["Content-Length", "5"],
        ]);
        yield* http_sendstatus(h, 200, "OK", D());
        yield* http_sendfield(h, "Content-Length", "5", D());
        yield* http_done(h, D());
        const u = yield* http_detach(h, D());
        const body = new Uint8Array(5);
        yield* brecv(u, body, 5, D());
        yield* bsend(u, body.reverse(), 5, D());
        serverSide = u;
      })(),
    );
    const h = http_attach(c);
    yield* http_sendrequest(h, "POST", "/echo", D());
    yield* http_sendfield(h, "Host", "example.org", D());
    yield* http_sendfield(h, "Content-Length", "5", D());
    yield* http_done(h, D());
    // The body goes on the bytestream under HTTP, after the empty line.
    expect(yield* http_recvstatus(h, 32, D())).toEqual([200, "OK"]);
    expect(yield* recvFields(h)).toEqual([["Content-Length", "5"]]);
    const u = yield* http_detach(h, D());
    yield* bsend(u, "hello", 5, D());
    const body = new Uint8Array(5);
    yield* brecv(u, body, 5, D());
    expect(Buffer.from(body).toString()).toBe("olleh");
    yield* bundle_wait(server, D());
    hclose(server);
    return [u, serverSide];
  }

  it("runs over an ipc_pair", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [u, v] = yield* exchange(a, b);
      hclose(u);
      hclose(v);
    });
    expect(leftOpen()).toBe(0);
  });

  it("runs over TCP, and the connection closes in order after it", async () => {
    await run(function* () {
      const [c, s] = yield* tcpPair();
      const [u, v] = yield* exchange(c, s);
      const closer = spawn(tcp_close(v, D()));
      yield* tcp_close(u, D());
      yield* bundle_wait(closer, D());
      hclose(closer);
    });
    expect(leftOpen()).toBe(0);
  });

  it("runs over a user's bytestream, with and without the read-ahead calls", async () => {
    for (const ahead of [false, true]) {
      await run(function* () {
        const [a, b] = userPair(ahead);
        const [u, v] = yield* exchange(a, b);
        hclose(u);
        hclose(v);
      });
    }
    expect(leftOpen()).toBe(0);
  });

  describe("over TLS", () => {
    let c!: Certs;
    certsPerFile((x) => (c = x));
    it("runs over TLS over an ipc_pair", async () => {
      await run(function* () {
        const [a, b] = yield* ipc_pair();
        let tlsServer = -1;
        const srv = spawn(
          (function* () {
            tlsServer = yield* tls_attach_server(b, c.cert, c.key, D());
          })(),
        );
        const tc = yield* tls_attach_client(a, D());
        yield* bundle_wait(srv, D());
        hclose(srv);
        const [u, v] = yield* exchange(tc, tlsServer);
        hclose(u);
        hclose(v);
      });
      expect(leftOpen()).toBe(0);
    });

    needs("curl").it("serves curl over HTTPS: HTTP over TLS over TCP", async () => {
      await run(function* () {
        const addr = ipaddr_local("127.0.0.1", 0, 0);
        const ls = yield* tcp_listen(addr, 10);
        const server = spawn(
          (function* () {
            const conn = yield* tcp_accept(ls, null, D());
            const h = http_attach(yield* tls_attach_server(conn, c.cert, c.key, D()));
            const [, resource] = yield* http_recvrequest(h, 16, 256, D());
            yield* recvFields(h);
            const body = `secret ${resource}\n`;
            yield* http_sendstatus(h, 200, "OK", D());
            yield* http_sendfield(h, "Content-Length", String(body.length), D());
            yield* http_sendfield(h, "Connection", "close", D());
            yield* http_done(h, D());
            const t = yield* http_detach(h, D());
            yield* bsend(t, body, body.length, D());
            hclose(t);
          })(),
        );
        const out = yield* awaitExec("curl", ["-s", "-k", `https://127.0.0.1:${ipaddr_port(addr)}/x`]);
        expect(out).toBe("secret /x\n");
        yield* bundle_wait(server, D());
        hclose(server);
        hclose(ls);
      });
      expect(leftOpen()).toBe(0);
    });
  });

  it("hands back the bytes read beyond the header: pipelined requests each get theirs", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const raw = "GET /1 HTTP/1.1\r\nA: 1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nBODY";
      yield* bsend(a, raw, raw.length, D());
      let u: number = b;
      for (const path of ["/1", "/2"]) {
        const h = http_attach(u);
        expect(yield* http_recvrequest(h, 8, 8, D())).toEqual(["GET", path]);
        yield* recvFields(h);
        yield* http_sendstatus(h, 204, "No Content", D());
        yield* http_done(h, D());
        u = yield* http_detach(h, D());
      }
      const rest = new Uint8Array(4);
      yield* brecv(u, rest, 4, D());
      expect(Buffer.from(rest).toString()).toBe("BODY");
      hclose(u);
      hclose(a);
    });
  });

  it("keeps its socket in caller storage with http_attach_mem, and the storage is free again after", async () => {
    await run(function* () {
      const mem = new HttpStorage();
      for (let i = 0; i < 2; i++) {
        const [a, b] = yield* ipc_pair();
        const s = http_attach_mem(a, mem);
        expect(mem.inUse).toBe(true);
        const [x, y] = yield* ipc_pair();
        expect(codeOfCall(() => http_attach_mem(x, mem))).toBe("EBUSY"); // x was taken over: closed
        expect(codeOfCall(() => hclose(x))).toBe("EBADF");
        hclose(y);
        if (i === 0) hclose(s);
        else {
          yield* bsend(b, "\r\n", 2, D()); // the peer's empty header
          hclose(yield* http_detach(s, D()));
        }
        hclose(b);
        expect(mem.inUse).toBe(false);
      }
    });
    expect(leftOpen()).toBe(0);
  });
});

describe("real peers", () => {
  needs("curl").it("serves curl over TCP: status, fields and body, two requests on one connection", async () => {
    let seen: string[] = [];
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      const port = ipaddr_port(addr);
      const server = spawn(
        (function* () {
          let u: number = yield* tcp_accept(ls, null, D());
          for (let i = 0; i < 2; i++) {
            const h = http_attach(u);
            const [cmd, res] = yield* http_recvrequest(h, 16, 256, D());
            const fields = yield* recvFields(h);
            seen.push(`${cmd} ${res} ${fields.find(([n]) => n === "User-Agent")![1].split("/")[0]}`);
            const body = `you asked for ${res}\n`;
            yield* http_sendstatus(h, 200, "OK", D());
            yield* http_sendfield(h, "Content-Type", "text/plain", D());
            yield* http_sendfield(h, "Content-Length", String(body.length), D());
            yield* http_done(h, D());
            u = yield* http_detach(h, D());
            yield* bsend(u, body, body.length, D());
          }
          yield* codeOf(tcp_close(u, D()));
        })(),
      );
      const out = yield* awaitExec("curl", [
        "-s",
        "-i",
        `http://127.0.0.1:${port}/first`,
        `http://127.0.0.1:${port}/second`,
      ]);
      expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(out).toContain("Content-Length: 22\r\n");
      expect(out).toContain("you asked for /first\n");
      expect(out).toContain("you asked for /second\n");
      yield* bundle_wait(server, D());
      hclose(server);
      hclose(ls);
    });
    expect(seen).toEqual(["GET /first curl", "GET /second curl"]);
    seen = [];
  });

  it("talks to Node's http server as a client", async () => {
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        res.setHeader("X-Method", req.method!);
        res.setHeader("X-Thing", String(req.headers["x-thing"]));
        res.end(`${req.url}:${body}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      await run(function* () {
        const addr = yield* ipaddr_remote("127.0.0.1", port, 0, D());
        let h = http_attach(yield* tcp_connect(addr, D()));
        yield* http_sendrequest(h, "PUT", "/thing?x=1", D());
        yield* http_sendfield(h, "Host", `127.0.0.1:${port}`, D());
        yield* http_sendfield(h, "X-Thing", "  padded value  ", D());
        yield* http_sendfield(h, "Content-Length", "3", D());
        yield* http_sendfield(h, "Connection", "close", D());
        // Node answers once it has the body: detach (the empty line goes), send it, attach again.
        let u = yield* http_detach(h, D());
        yield* bsend(u, "abc", 3, D());
        h = http_attach(u);
        const [status, reason] = yield* http_recvstatus(h, 64, D());
        expect([status, reason]).toEqual([200, "OK"]);
        const fields = new Map((yield* recvFields(h)).map(([n, v]) => [n.toLowerCase(), v]));
        expect(fields.get("x-method")).toBe("PUT");
        expect(fields.get("x-thing")).toBe("padded value");
        u = yield* http_detach(h, D());
        const len = Number(fields.get("content-length"));
        const body = new Uint8Array(len);
        yield* brecv(u, body, len, D());
        expect(Buffer.from(body).toString()).toBe("/thing?x=1:abc");
        hclose(u);
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("reads Node's 404 with its reason, and Node refuses a malformed request with 400", async () => {
    const server = http.createServer((_req, res) => {
      res.statusCode = 404;
      res.statusMessage = "Nothing Here";
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      await run(function* () {
        const addr = yield* ipaddr_remote("127.0.0.1", port, 0, D());
        let h = http_attach(yield* tcp_connect(addr, D()));
        yield* http_sendrequest(h, "GET", "/", D());
        yield* http_sendfield(h, "Host", "x", D());
        yield* http_done(h, D());
        expect(yield* http_recvstatus(h, 64, D())).toEqual([404, "Nothing Here"]);
        hclose(h);
        h = http_attach(yield* tcp_connect(addr, D()));
        yield* http_sendrequest(h, "GET", "/", D());
        yield* http_sendfield(h, "Bad Name".replace(" ", "-"), "x", D());
        yield* http_sendfield(h, "Content-Length", "nope", D());
        yield* http_done(h, D());
        expect((yield* http_recvstatus(h, 64, D()))[0]).toBe(400);
        hclose(h);
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

function* awaitExec(cmd: string, args: string[]): Op<string> {
  const r = yield* await_promise(exec(cmd, args, { timeout: 10_000 }), D());
  return r.stdout;
}

describe("errors", () => {
  it("EPROTO for malformed request lines, status lines and fields; the next line still comes", async () => {
    await run(function* () {
      const cases: [string, (s: number) => Op<unknown>][] = [
        ["GET\r\n", (s) => http_recvrequest(s, 16, 16, D())],
        ["GET /\r\n", (s) => http_recvrequest(s, 16, 16, D())],
        ["GET / HTTP/2.0\r\n", (s) => http_recvrequest(s, 16, 16, D())],
        ["GET / HTTP/1.1 extra\r\n", (s) => http_recvrequest(s, 16, 16, D())],
        ["HTTP/1.1\r\n", (s) => http_recvstatus(s, 16, D())],
        ["SPDY/3 200 OK\r\n", (s) => http_recvstatus(s, 16, D())],
        ["HTTP/1.1 2000 OK\r\n", (s) => http_recvstatus(s, 16, D())],
        ["HTTP/1.1 2x0 OK\r\n", (s) => http_recvstatus(s, 16, D())],
        ["no colon here\r\n", (s) => http_recvfield(s, 16, 16, D())],
        [": no name\r\n", (s) => http_recvfield(s, 16, 16, D())],
        ["name value\r\n", (s) => http_recvfield(s, 16, 16, D())],
      ];
      for (const [line, call] of cases) {
        const s = yield* fed(line + "GET / HTTP/1.0\r\n");
        expect(yield* codeOf(call(s)), line).toBe("EPROTO");
        expect(yield* http_recvrequest(s, 16, 16, D())).toEqual(["GET", "/"]);
        hclose(s);
      }
      const [s0, s1] = yield* httpPair();
      expect(yield* codeOf(http_sendfield(s0, "empty", "   ", D()))).toBe("EPROTO");
      expect(yield* codeOf(http_sendfield(s0, "empty", "", D()))).toBe("EPROTO");
      hclose(s0);
      hclose(s1);
      // A status line without a reason has an empty one.
      const s = yield* fed("HTTP/1.1 204\r\n");
      expect(yield* http_recvstatus(s, 16, D())).toEqual([204, ""]);
      hclose(s);
    });
    expect(leftOpen()).toBe(0);
  });

  it("EMSGSIZE when a piece is over its limit (the line is consumed), or a line is over 1023 bytes (receiving is over)", async () => {
    await run(function* () {
      let s = yield* fed("GET /abc HTTP/1.1\r\nGET /abc HTTP/1.1\r\nGET /abc HTTP/1.1\r\n");
      expect(yield* codeOf(http_recvrequest(s, 3, 16, D()))).toBe("EMSGSIZE");
      expect(yield* codeOf(http_recvrequest(s, 16, 4, D()))).toBe("EMSGSIZE");
      expect(yield* http_recvrequest(s, 4, 5, D())).toEqual(["GET", "/abc"]); // exactly fits with the NUL
      hclose(s);
      s = yield* fed("HTTP/1.1 200 A long reason\r\nName: value\r\nName: value\r\n");
      expect(yield* codeOf(http_recvstatus(s, 5, D()))).toBe("EMSGSIZE");
      expect(yield* codeOf(http_recvfield(s, 4, 16, D()))).toBe("EMSGSIZE");
      expect(yield* codeOf(http_recvfield(s, 16, 5, D()))).toBe("EMSGSIZE");
      hclose(s);
      s = yield* fed(`X: ${"v".repeat(1020)}\r\nX: y\r\n`); // 1023 bytes: fits
      expect((yield* http_recvfield(s, 8, 2000, D()))[1].length).toBe(1020);
      hclose(s);
      s = yield* fed(`X: ${"v".repeat(1021)}\r\nX: y\r\n`);
      expect(yield* codeOf(http_recvfield(s, 8, 2000, D()))).toBe("EMSGSIZE");
      expect(yield* codeOf(http_recvfield(s, 8, 8, D()))).toBe("ECONNRESET");
      expect(yield* codeOf(http_detach(s, D()))).toBe("ECONNRESET");
    });
    expect(leftOpen()).toBe(0);
  });

  it("EPIPE at the end of the stream, and on sending after http_done", async () => {
    await run(function* () {
      const s = yield* fed("GET / HTTP/1.1\r\n");
      yield* http_recvrequest(s, 8, 8, D());
      expect(yield* codeOf(http_recvfield(s, 8, 8, D()))).toBe("EPIPE");
      hclose(s);
      const [s0, s1] = yield* httpPair();
      yield* http_done(s0, D());
      expect(yield* codeOf(http_sendrequest(s0, "GET", "/", D()))).toBe("EPIPE");
      expect(yield* codeOf(http_sendstatus(s0, 200, "OK", D()))).toBe("EPIPE");
      expect(yield* codeOf(http_sendfield(s0, "a", "b", D()))).toBe("EPIPE");
      expect(yield* codeOf(http_done(s0, D()))).toBe("EPIPE");
      expect(yield* codeOf(http_recvrequest(s1, 8, 8, D()))).toBe("EPIPE");
      hclose(s0);
      hclose(s1);
    });
  });

  it("ECONNRESET when the peer resets the connection", async () => {
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      const peer = net.connect(ipaddr_port(addr), "127.0.0.1");
      const h = http_attach(yield* tcp_accept(ls, null, D()));
      hclose(ls);
      yield* await_promise(new Promise((r) => peer.once("connect", r)), D());
      peer.write("GET / HTTP/1.1\r\n");
      expect(yield* http_recvrequest(h, 8, 8, D())).toEqual(["GET", "/"]);
      peer.resetAndDestroy(); // an RST instead of a FIN
      expect(yield* codeOf(http_recvfield(h, 8, 8, D()))).toBe("ECONNRESET");
      expect(yield* codeOf(http_recvfield(h, 8, 8, D()))).toBe("ECONNRESET");
      hclose(h);
    });
  });

  it("EINVAL for bad arguments, ENOTSUP for a handle of another kind, EBADF for no handle", async () => {
    await run(function* () {
      const [s0, s1] = yield* httpPair();
      const bad: Op<unknown>[] = [
        http_sendrequest(s0, "GE T", "/", D()),
        http_sendrequest(s0, "GET", "/a b", D()),
        http_sendrequest(s0, "", "/", D()),
        http_sendrequest(s0, "GET", "/\r\n", D()),
        http_sendrequest(s0, 5 as never, "/", D()),
        http_sendstatus(s0, 99, "x", D()),
        http_sendstatus(s0, 600, "x", D()),
        http_sendstatus(s0, 200.5, "x", D()),
        http_sendstatus(s0, 200, "a\nb", D()),
        http_sendfield(s0, "a:b", "x", D()),
        http_sendfield(s0, "", "x", D()),
        http_sendfield(s0, "a", "x\r\ny", D()),
        http_recvrequest(s0, -1, 8, D()),
        http_recvstatus(s0, 1.5, D()),
        http_recvfield(s0, 8, NaN, D()),
        http_done(s0, -2),
        http_detach(s0, NaN),
      ];
      for (const op of bad) expect(yield* codeOf(op)).toBe("EINVAL");
      const [ipc, q] = yield* ipc_pair();
      const p: number = ipc;
      expect(yield* codeOf(http_recvfield(p, 8, 8, D()))).toBe("ENOTSUP");
      expect(yield* codeOf(http_detach(p, D()))).toBe("ENOTSUP");
      expect(yield* codeOf(http_done(9999, D()))).toBe("EBADF");
      expect(codeOfCall(() => http_attach(9999))).toBe("EBADF");
      // A message socket is not a bytestream: EPROTO, and it is closed.
      const m: number = prefix_attach(q, 4, 0);
      expect(codeOfCall(() => http_attach(m))).toBe("EPROTO");
      expect(codeOfCall(() => hclose(m))).toBe("EBADF");
      expect(codeOfCall(() => http_attach_mem(p, {} as never))).toBe("EINVAL");
      expect(codeOfCall(() => hclose(p))).toBe("EBADF");
      hclose(s0);
      hclose(s1);
    });
    expect(leftOpen()).toBe(0);
  });

  it("ENOMEM when the pool is used up, and the bytestream is closed", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const restore = exhaustPool();
      try {
        expect(codeOfCall(() => http_attach(a))).toBe("ENOMEM");
      } finally {
        restore();
      }
      expect(codeOfCall(() => hclose(a))).toBe("EBADF");
      hclose(b);
    });
    expect(leftOpen()).toBe(0);
  });

  it("EMFILE when the handle table is full, and the bytestream is closed", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const restore = fillHandleTable();
      try {
        expect(codeOfCall(() => http_attach(a))).toBe("EMFILE");
      } finally {
        restore();
      }
      expect(codeOfCall(() => hclose(a))).toBe("EBADF");
      hclose(b);
    });
    expect(leftOpen()).toBe(0);
  });

  it("EPERM for a blocking call outside a coroutine", async () => {
    let s = -1;
    let peer = -1;
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      s = http_attach(a);
      peer = b;
    });
    const calls: Op<unknown>[] = [
      http_sendrequest(s, "GET", "/", -1),
      http_recvrequest(s, 8, 8, -1),
      http_sendstatus(s, 200, "OK", -1),
      http_recvstatus(s, 8, -1),
      http_sendfield(s, "a", "b", -1),
      http_recvfield(s, 8, 8, -1),
      http_done(s, -1),
    ];
    for (const op of calls) expect(codeOfCall(() => op[Symbol.iterator]().next(undefined))).toBe("EPERM");
    hclose(s);
    hclose(peer);
  });

  it("EBUSY for a second receiver or sender, and for http_detach while one is there", async () => {
    await run(function* () {
      const [a, b] = userPair();
      const s0 = http_attach(a);
      const s1 = http_attach(b);
      const r = spawn(http_recvrequest(s1, 8, 8, -1));
      expect(yield* codeOf(http_recvfield(s1, 8, 8, D()))).toBe("EBUSY");
      expect(yield* codeOf(http_detach(s1, D()))).toBe("EBUSY");
      hclose(r);
      const w = spawn(http_sendrequest(s0, "GET", "/", -1)); // blocks: a channel bytestream waits for its reader
      expect(yield* codeOf(http_sendfield(s0, "a", "b", D()))).toBe("EBUSY");
      expect(yield* codeOf(http_done(s0, D()))).toBe("EBUSY");
      expect(yield* codeOf(http_detach(s0, D()))).toBe("EBUSY");
      hclose(w);
      hclose(s0);
      hclose(s1);
    });
    expect(leftOpen()).toBe(0);
  });

  it("wakes a call parked on a socket that is closed, which then leaves the storage to its next user", async () => {
    await run(function* () {
      const mem = new HttpStorage();
      const [a, b] = yield* ipc_pair();
      const s = http_attach_mem(a, mem);
      let code = "";
      const cr = spawn(
        (function* () {
          code = yield* codeOf(http_recvrequest(s, 8, 8, -1));
        })(),
      );
      hclose(s);
      hclose(b);
      const [c, d] = yield* ipc_pair();
      const again = http_attach_mem(c, mem); // the same storage, for another connection
      let got: [string, string] = ["", ""];
      const receiver = spawn(
        (function* () {
          got = yield* http_recvrequest(again, 8, 8, D());
        })(),
      );
      yield* bundle_wait(cr, D());
      hclose(cr);
      expect(code).not.toBe("OK");
      // Nothing of the closed socket touches the new one: it is still receiving.
      expect(yield* codeOf(http_recvfield(again, 8, 8, D()))).toBe("EBUSY");
      yield* bsend(d, "GET / HTTP/1.1\r\n", 16, D());
      yield* bundle_wait(receiver, D());
      hclose(receiver);
      expect(got).toEqual(["GET", "/"]);
      hclose(again);
      hclose(d);
    });
    expect(leftOpen()).toBe(0);
  });

  it("closes everything when http_detach fails", async () => {
    await run(function* () {
      const [a, b] = userPair(); // a send waits until the peer reads, which it does not
      const s0 = http_attach(a);
      expect(yield* codeOf(http_detach(s0, now() + 20))).toBe("ETIMEDOUT");
      expect(codeOfCall(() => hclose(s0))).toBe("EBADF");
      expect(yield* codeOf(brecv(b, new Uint8Array(1), 1, D()))).toBe("EPIPE"); // a was closed
      hclose(b);
    });
    expect(leftOpen()).toBe(0);
  });
});

describe("deadlines and cancellation", () => {
  /** Every blocking call, on a socket whose peer neither reads nor writes. */
  const calls: [string, (s: number, d: number) => Op<unknown>][] = [
    ["http_sendrequest", (s, d) => http_sendrequest(s, "GET", "/", d)],
    ["http_recvrequest", (s, d) => http_recvrequest(s, 8, 8, d)],
    ["http_sendstatus", (s, d) => http_sendstatus(s, 200, "OK", d)],
    ["http_recvstatus", (s, d) => http_recvstatus(s, 8, d)],
    ["http_sendfield", (s, d) => http_sendfield(s, "a", "b", d)],
    ["http_recvfield", (s, d) => http_recvfield(s, 8, 8, d)],
    ["http_done", (s, d) => http_done(s, d)],
    ["http_detach", (s, d) => http_detach(s, d)],
  ];

  it("the empty line's EPIPE: the receive is busy until it comes, cancellation before it wins, the line is taken either way", async () => {
    for (const cancel of [false, true]) {
      await run(function* () {
        const [a, b] = yield* ipc_pair();
        const raw = "GET / HTTP/1.1\r\nA: b\r\n\r\nBODY";
        yield* bsend(a, raw, raw.length, D());
        const s = http_attach(b);
        expect(yield* http_recvrequest(s, 8, 8, D())).toEqual(["GET", "/"]);
        expect(yield* http_recvfield(s, 8, 8, D())).toEqual(["A", "b"]);
        const got: string[] = [];
        const cr = spawn(
          (function* () {
            got.push(yield* codeOf(http_recvfield(s, 8, 8, D())));
          })(),
        );
        // The empty line is taken; its EPIPE comes from a microtask: until then the receive is on.
        expect(yield* codeOf(http_recvfield(s, 8, 8, D()))).toBe("EBUSY");
        if (cancel) hclose(cr);
        else yield* msleep(now() + 5);
        expect(got).toEqual([cancel ? "ECANCELED" : "EPIPE"]);
        if (!cancel) hclose(cr);
        expect(yield* codeOf(http_recvfield(s, 8, 8, D()))).toBe("EPIPE");
        const conn = yield* http_detach(s, D());
        const body = Buffer.alloc(4);
        yield* brecv(conn, body, 4, D());
        expect(body.toString()).toBe("BODY");
        hclose(conn);
        hclose(a);
      });
    }
    expect(leftOpen()).toBe(0);
  });

  it.each(calls)("%s fails with ETIMEDOUT at its deadline, and with 0 when it would wait", async (_name, call) => {
    await run(function* () {
      for (const d of [0, now() + 10]) {
        const [a, b] = userPair(); // a send waits for the peer to read, which it never does
        const s = http_attach(a);
        expect(yield* codeOf(call(s, d))).toBe("ETIMEDOUT");
        expect(codeOfCall(() => hclose(s))).toMatch(/OK|EBADF/);
        hclose(b);
      }
    });
    expect(leftOpen()).toBe(0);
  });

  it.each(calls)("%s fails with ECANCELED when its coroutine is cancelled, and after", async (_name, call) => {
    await run(function* () {
      const [a, b] = userPair();
      const s = http_attach(a);
      const got: string[] = [];
      const cr = spawn(
        (function* () {
          got.push(yield* codeOf(call(s, -1)));
          got.push(yield* codeOf(call(s, -1)));
        })(),
      );
      yield* msleep(now() + 5);
      hclose(cr);
      // A failed http_detach closed the socket: the second call finds no handle.
      expect(got).toEqual(["ECANCELED", _name === "http_detach" ? "EBADF" : "ECANCELED"]);
      expect(codeOfCall(() => hclose(s))).toMatch(/OK|EBADF/);
      hclose(b);
    });
    expect(leftOpen()).toBe(0);
  });
});
