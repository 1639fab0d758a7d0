/**
 * The load test shared by the IPC and TCP suites: many clients, each doing request/response round
 * trips of varying sizes with checksums, against one tsdill server in the same process. Only how
 * a connection is made, accepted and closed differs between the families.
 */
import { brecv, bsend, bundle, bundle_go, bundle_wait, hclose, now, type Op, run } from "../src/index.js";
import { codeOf, pattern } from "./ipc-helpers.js";

/** What a family brings: its listener, and how it connects, accepts and closes. */
export interface Family {
  listen(): Op<number>;
  connect(): Op<number>;
  accept(ls: number): Op<number>;
  close(s: number): Op<void>;
}

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
function* serve(f: Family, s: number) {
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
  yield* f.close(s);
}

function* acceptor(f: Family, ls: number, conns: number, b: number) {
  for (let i = 0; i < conns; i++) bundle_go(b, serve(f, yield* f.accept(ls)));
}

function* client(f: Family, id: number, rounds: number, stats: { ok: number }) {
  const s = yield* f.connect();
  const head = new Uint8Array(4);
  const dv = new DataView(head.buffer);
  const back = new Uint8Array(4096);
  for (let r = 0; r < rounds; r++) {
    const n = 1 + ((id * 7919 + r * 104729) % 4000);
    const body = pattern(n, id * 1000 + r + 1);
    dv.setUint32(0, n);
    yield* bsend(s, head, 4, now() + 10_000);
    yield* bsend(s, body, n, now() + 10_000);
    yield* brecv(s, head, 4, now() + 10_000);
    if (dv.getUint32(0) !== checksum(body, n)) throw new Error(`checksum mismatch on connection ${id}, round ${r}`);
    yield* brecv(s, back, n, now() + 10_000);
    for (let i = 0; i < n; i++)
      if (back[i] !== body[n - 1 - i]) throw new Error(`byte ${i} differs on connection ${id}, round ${r}`);
    stats.ok++;
  }
  yield* f.close(s);
}

/** Run `conns` clients of `rounds` round trips each against one server; returns the round trips that checked out. */
export async function echoLoad(f: Family, conns: number, rounds: number): Promise<number> {
  const stats = { ok: 0 };
  await run(function* () {
    const ls = yield* f.listen();
    const servers = bundle();
    const acc = bundle();
    bundle_go(acc, acceptor(f, ls, conns, servers));
    const clients = bundle();
    for (let i = 0; i < conns; i++) bundle_go(clients, client(f, i, rounds, stats));
    yield* bundle_wait(clients, now() + 60_000);
    yield* bundle_wait(acc, now() + 10_000);
    yield* bundle_wait(servers, now() + 10_000);
    for (const h of [clients, acc, servers, ls]) hclose(h);
  });
  return stats.ok;
}
