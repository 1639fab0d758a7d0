/**
 * Many TCP connections at once: 100 clients, each doing 50 request/response round trips of
 * varying sizes with checksums, against one tsdill server in the same process, over loopback.
 */
import { describe, expect, it } from "vitest";
import { brecv, bsend, bundle, bundle_go, bundle_wait, hclose, type IpAddr, ipaddr_local, now, run, tcp_accept, tcp_close, tcp_connect, tcp_listen } from "../src/index.js";
import { codeOf, expectNoFdLeak, pattern } from "./ipc-helpers.js";

const CONNS = 100;
const ROUNDS = 50;
expectNoFdLeak();

function checksum(b: Uint8Array, n: number): number {
  let a = 1;
  let c = 0;
  for (let i = 0; i < n; i++) {
    a = (a + b[i]!) % 65521;
    c = (c + a) % 65521;
  }
  return ((c << 16) | a) >>> 0;
}

/** Request: u32 length, payload. Response: u32 checksum of the payload, the payload reversed. */
function* serve(s: number) {
  const head = new Uint8Array(4);
  const dv = new DataView(head.buffer);
  const body = new Uint8Array(4096);
  for (;;) {
    if ((yield* codeOf(brecv(s, head, 4, now() + 10_000))) === "EPIPE") break;
    const n = dv.getUint32(0);
    yield* brecv(s, body, n, now() + 10_000);
    dv.setUint32(0, checksum(body, n));
    body.subarray(0, n).reverse();
    yield* bsend(s, head, 4, now() + 10_000);
    yield* bsend(s, body, n, now() + 10_000);
  }
  yield* tcp_close(s, now() + 10_000);
}

function* acceptor(ls: number, b: number) {
  for (let i = 0; i < CONNS; i++) bundle_go(b, serve(yield* tcp_accept(ls, null, now() + 10_000)));
}

function* client(addr: IpAddr, id: number, stats: { ok: number }) {
  const s = yield* tcp_connect(addr, now() + 10_000);
  const head = new Uint8Array(4);
  const dv = new DataView(head.buffer);
  const back = new Uint8Array(4096);
  for (let r = 0; r < ROUNDS; r++) {
    const n = 1 + ((id * 7919 + r * 104729) % 4000);
    const body = pattern(n, id * 1000 + r + 1);
    dv.setUint32(0, n);
    yield* bsend(s, head, 4, now() + 10_000);
    yield* bsend(s, body, n, now() + 10_000);
    yield* brecv(s, head, 4, now() + 10_000);
    if (dv.getUint32(0) !== checksum(body, n)) throw new Error(`checksum mismatch on connection ${id}, round ${r}`);
    yield* brecv(s, back, n, now() + 10_000);
    for (let i = 0; i < n; i++) if (back[i] !== body[n - 1 - i]) throw new Error(`byte ${i} differs on connection ${id}, round ${r}`);
    stats.ok++;
  }
  yield* tcp_close(s, now() + 10_000);
}

describe("100 concurrent TCP connections", () => {
  it("each do 50 request/response round trips: every byte arrives, in order", async () => {
    const stats = { ok: 0 };
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 256);
      const servers = bundle();
      const acc = bundle();
      bundle_go(acc, acceptor(ls, servers));
      const clients = bundle();
      for (let i = 0; i < CONNS; i++) bundle_go(clients, client(addr, i, stats));
      yield* bundle_wait(clients, now() + 60_000);
      yield* bundle_wait(acc, now() + 10_000);
      yield* bundle_wait(servers, now() + 10_000);
      for (const h of [clients, acc, servers, ls]) hclose(h);
    });
    expect(stats.ok).toBe(CONNS * ROUNDS);
  });
});
