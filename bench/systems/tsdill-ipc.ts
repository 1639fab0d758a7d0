/**
 * The IPC workloads in tsdill, over Unix-domain sockets in a temporary directory, client and
 * server as two coroutines of one process. The same workloads in raw `node:net` are in `net.ts`
 * and in C against libdill in `../c/`.
 */
import lib from "../tsdill.js";
import { bytesPer, type Trials } from "../lib.js";
import { addr, CHUNK, MSG, seconds } from "./sockets.js";

const { brecv, bsend, bundle, bundle_go, bundle_wait, go, hclose, ipc_accept, ipc_connect, ipc_listen, ipc_pair, run } =
  lib;

function* pongServer(s: number, n: number) {
  const buf = new Uint8Array(MSG);
  for (let i = 0; i < n; i++) {
    yield* brecv(s, buf, MSG, -1);
    yield* bsend(s, buf, MSG, -1);
  }
}

function* pingClient(s: number, n: number) {
  const buf = new Uint8Array(MSG);
  for (let i = 0; i < n; i++) {
    yield* bsend(s, buf, MSG, -1);
    yield* brecv(s, buf, MSG, -1);
  }
}

function dillPingPong(n: number): Promise<number> {
  return run(function* () {
    const a = addr();
    const ls = yield* ipc_listen(a, 16);
    const c = yield* ipc_connect(a, -1);
    const s = yield* ipc_accept(ls, -1);
    const srv = go(pongServer(s, n));
    const t0 = process.hrtime.bigint();
    yield* pingClient(c, n);
    const dt = seconds(t0);
    for (const h of [srv, c, s, ls]) hclose(h);
    return n / dt;
  });
}

function* bulkReceiver(s: number, total: number) {
  const buf = new Uint8Array(CHUNK);
  for (let got = 0; got < total; got += CHUNK) yield* brecv(s, buf, CHUNK, -1);
}

function dillBulk(total: number): Promise<number> {
  return run(function* () {
    const a = addr();
    const ls = yield* ipc_listen(a, 16);
    const c = yield* ipc_connect(a, -1);
    const s = yield* ipc_accept(ls, -1);
    const b = bundle();
    bundle_go(b, bulkReceiver(s, total));
    const buf = new Uint8Array(CHUNK);
    const t0 = process.hrtime.bigint();
    for (let sent = 0; sent < total; sent += CHUNK) yield* bsend(c, buf, CHUNK, -1);
    yield* bundle_wait(b, -1);
    const dt = seconds(t0);
    for (const h of [b, c, s, ls]) hclose(h);
    return total / 1e6 / dt;
  });
}

function* acceptLoop(ls: number, n: number) {
  for (let i = 0; i < n; i++) hclose(yield* ipc_accept(ls, -1));
}

function dillConnects(n: number): Promise<number> {
  return run(function* () {
    const a = addr();
    const ls = yield* ipc_listen(a, 128);
    const b = bundle();
    bundle_go(b, acceptLoop(ls, n));
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) hclose(yield* ipc_connect(a, -1));
    yield* bundle_wait(b, -1);
    const dt = seconds(t0);
    hclose(b);
    hclose(ls);
    return n / dt;
  });
}

function* parallelServer(ls: number, b: number, conns: number, n: number) {
  for (let i = 0; i < conns; i++) bundle_go(b, pongServer(yield* ipc_accept(ls, -1), n));
}

function* parallelClient(a: string, n: number) {
  const s = yield* ipc_connect(a, -1);
  yield* pingClient(s, n);
  hclose(s);
}

function dillParallel(n: number, conns: number): Promise<number> {
  return run(function* () {
    const a = addr();
    const ls = yield* ipc_listen(a, Math.max(128, conns));
    const servers = bundle();
    const acc = go(parallelServer(ls, servers, conns, n));
    const clients = bundle();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < conns; i++) bundle_go(clients, parallelClient(a, n));
    yield* bundle_wait(clients, -1);
    const dt = seconds(t0);
    yield* bundle_wait(servers, -1);
    for (const h of [clients, servers, acc, ls]) hclose(h);
    return (conns * n) / dt;
  });
}

function* makePairs(hs: number[]) {
  for (let i = 0; i < hs.length; i += 2) [hs[i], hs[i + 1]] = yield* ipc_pair();
}

function* closeAll(hs: number[]) {
  for (const h of hs) hclose(h);
}

/** Bytes per connected pair of sockets (both ends), n pairs open at once. */
function memSocket(n: number) {
  return bytesPer(n, async (k) => {
    const hs: number[] = new Array(2 * k).fill(0);
    await run(makePairs(hs));
    return async () => void (await run(closeAll(hs)));
  });
}

export const trials: Trials = {
  pingpong: (n) => dillPingPong(n),
  bulk: (mib) => dillBulk(mib * 1024 * 1024),
  connect: (n) => dillConnects(n),
  conns: (n, conns) => dillParallel(n, conns),
  memSocket,
};
