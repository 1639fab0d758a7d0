/**
 * TLS against a peer nobody here wrote: OpenSSL's own `openssl s_server` and `openssl s_client`,
 * over TCP and over Unix-domain sockets (IPC), with a certificate made by openssl for the test.
 * tsdill is the client of one and the server of the other; the peers verify tsdill's certificate
 * (or refuse it), ask for a client certificate tsdill does not have, and move megabytes both ways.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  await_promise,
  brecv,
  bsend,
  hclose,
  type IpAddr,
  ipaddr_local,
  ipaddr_port,
  ipc_close,
  ipc_connect,
  ipc_listen,
  ipc_accept,
  now,
  type Op,
  run,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_listen,
  tls_attach_client,
  tls_attach_server,
  tls_detach,
} from "../src/index.js";
import {
  type Certs,
  certsPerFile,
  codeOf,
  failure,
  type OpensslPeer,
  openssl,
  pattern,
  sha256,
} from "./tls-helpers.js";

let c: Certs;
certsPerFile((x) => (c = x));

const D = () => now() + 15_000;
const peers: OpensslPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.kill();
});

function start(args: string[]): OpensslPeer {
  const p = openssl(args);
  peers.push(p);
  return p;
}

let serial = 0;

/**
 * `openssl s_server -rev` (it answers every line reversed) on 127.0.0.1 or a socket file; where
 * it listens. OpenSSL 3.0's s_server cannot print the address of a socket file whose path has 32
 * bytes or more ("ACCEPTunknown:error"), and exits: its socket files get short paths.
 */
async function revServer(
  where: "tcp" | "ipc",
  extra: string[] = [],
): Promise<{ p: OpensslPeer; port: number; file: string }> {
  const file = path.join(shortDir(), `s${serial++}.sock`);
  const at = where === "tcp" ? ["-accept", "127.0.0.1:0"] : ["-unix", file];
  const p = start(["s_server", ...at, "-cert", c.cert, "-key", c.key, "-rev", "-naccept", "1", ...extra]);
  const m = await p.waitFor(/ACCEPT (?:127\.0\.0\.1:(\d+)|\S*sock)/);
  return { p, port: m[1] === undefined ? 0 : Number(m[1]), file };
}

let short = "";
afterAll(() => {
  if (short !== "") fs.rmSync(short, { recursive: true, force: true });
});
function shortDir(): string {
  if (short === "") short = fs.mkdtempSync(path.join(os.tmpdir(), "t"));
  return short;
}

function* connectTo(where: "tcp" | "ipc", port: number, file: string): Op<number> {
  return where === "tcp" ? yield* tcp_connect(ipaddr_local("127.0.0.1", port, 0), D()) : yield* ipc_connect(file, D());
}

function* closeRaw(where: "tcp" | "ipc", u: number): Op<void> {
  if (where === "tcp") yield* tcp_close(u, D());
  else yield* ipc_close(u, D());
}

describe.each(["tcp", "ipc"] as const)("tsdill's client against openssl s_server over %s", (where) => {
  it("talks, reads the answers, and detaches with the closing handshake", async () => {
    const { p, port, file } = await revServer(where);
    await run(function* () {
      const u = yield* connectTo(where, port, file);
      const s = yield* tls_attach_client(u, D());
      for (const line of ["hello world\n", "structured concurrency\n"]) {
        yield* bsend(s, line, line.length, D());
        const buf = new Uint8Array(line.length);
        yield* brecv(s, buf, buf.length, D());
        expect(Buffer.from(buf).toString()).toBe(`${[...line.slice(0, -1)].reverse().join("")}\n`);
      }
      // s_server answers the close_notify with its own: tls_detach completes.
      const raw = yield* tls_detach(s, D());
      expect(yield* codeOf(brecv(raw, null, 1, D()))).toBe("EPIPE");
      hclose(raw);
    });
    expect(await p.exited).toBe(0);
    expect(p.out + p.err).toContain("CONNECTION ESTABLISHED");
  });

  it("fails with EFAULT in the handshake when s_server requires a client certificate (TLS 1.2)", async () => {
    const { p, port, file } = await revServer(where, ["-Verify", "1", "-tls1_2"]);
    await run(function* () {
      const u = yield* connectTo(where, port, file);
      const e = yield* failure(tls_attach_client(u, D()));
      expect(e.code).toBe("EFAULT");
      expect(e.message).toMatch(/alert|handshake/i);
    });
    await p.exited;
  });

  it("fails the first receive with EFAULT when s_server requires a client certificate (TLS 1.3)", async () => {
    // In TLS 1.3 the client is done with the handshake before the server has checked it.
    const { p, port, file } = await revServer(where, ["-Verify", "1", "-tls1_3"]);
    await run(function* () {
      const u = yield* connectTo(where, port, file);
      const s = yield* tls_attach_client(u, D());
      const e = yield* failure(brecv(s, new Uint8Array(1), 1, D()));
      expect(e.code).toBe("EFAULT");
      expect(e.message).toMatch(/certificate required/i);
      hclose(s);
    });
    await p.exited;
  });
});

/** Listen for tsdill's server on 127.0.0.1 or a socket file; the listener and the s_client flags to reach it. */
function* listenFor(where: "tcp" | "ipc", n: number): Op<[number, string[]]> {
  if (where === "tcp") {
    const addr: IpAddr = ipaddr_local("127.0.0.1", 0, 0);
    const ls = yield* tcp_listen(addr, 1);
    return [ls, ["-connect", `127.0.0.1:${ipaddr_port(addr)}`]];
  }
  const file = path.join(c.dir, `tsdill-${n}.sock`);
  const ls = yield* ipc_listen(file, 1);
  return [ls, ["-unix", file]];
}

function* accept(where: "tcp" | "ipc", ls: number): Op<number> {
  return where === "tcp" ? yield* tcp_accept(ls, null, D()) : yield* ipc_accept(ls, D());
}

describe.each(["tcp", "ipc"] as const)("openssl s_client against tsdill's server over %s", (where) => {
  it("verifies tsdill's certificate and moves 2 MB each way, checksummed", async () => {
    const up = pattern(2 << 20, 7);
    const down = pattern(2 << 20, 8);
    await run(function* () {
      const [ls, to] = yield* listenFor(where, serial++);
      const p = start([
        "s_client",
        ...to,
        "-quiet",
        "-CAfile",
        c.cert,
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
      ]);
      p.child.stdin!.end(up);
      const u = yield* accept(where, ls);
      const s = yield* tls_attach_server(u, c.cert, c.key, D());
      const got = Buffer.alloc(up.length);
      yield* brecv(s, got, got.length, D());
      expect(sha256(got)).toBe(sha256(up));
      for (let off = 0; off < down.length; off += 100_000) {
        const part = down.subarray(off, off + 100_000);
        yield* bsend(s, part, part.length, D());
      }
      // s_client answers our close_notify with its own, then exits.
      yield* closeRaw(where, yield* tls_detach(s, D()));
      hclose(ls);
      expect(yield* await_promise(p.exited, D())).toBe(0);
      expect(p.out.length).toBe(down.length);
      expect(sha256(Buffer.from(p.out, "latin1"))).toBe(sha256(down));
    });
  });

  it("fails with EFAULT when s_client does not trust the certificate", async () => {
    await run(function* () {
      const [ls, to] = yield* listenFor(where, serial++);
      const p = start(["s_client", ...to, "-quiet", "-CAfile", c.otherCert, "-verify_return_error"]);
      const u = yield* accept(where, ls);
      const e = yield* failure(tls_attach_server(u, c.cert, c.key, D()));
      expect(e.code).toBe("EFAULT");
      expect(e.message).toMatch(/alert/i);
      hclose(ls);
      expect(yield* await_promise(p.exited, D())).not.toBe(0);
      expect(p.err).toMatch(/verify error|certificate verify failed/i);
    });
  });
});
