/**
 * TLS bulk in tsdill: a TLS server and client over an IPC connection, two coroutines of one
 * process, the handshake done before the clock starts. The same in Node's own `tls` is in
 * `net-tls.ts`.
 */
import lib from "../tsdill.js";
import type { Trials } from "../lib.js";
import { addr, CHUNK, seconds } from "./sockets.js";
import { certificate } from "./tls-cert.js";

const {
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  hclose,
  ipc_accept,
  ipc_connect,
  ipc_listen,
  run,
  tls_attach_client,
  tls_attach_server,
} = lib;

function* receiver(s: number, total: number) {
  const buf = new Uint8Array(CHUNK);
  for (let got = 0; got < total; got += CHUNK) yield* brecv(s, buf, CHUNK, -1);
}

function* serverSide(ls: number, out: { s: number }) {
  const { cert, key } = certificate();
  out.s = yield* tls_attach_server(yield* ipc_accept(ls, -1), cert, key, -1);
}

function tlsBulk(total: number): Promise<number> {
  return run(function* () {
    const a = addr();
    const ls = yield* ipc_listen(a, 16);
    const srv = { s: -1 };
    const hs = bundle();
    bundle_go(hs, serverSide(ls, srv));
    const c = yield* tls_attach_client(yield* ipc_connect(a, -1), -1);
    yield* bundle_wait(hs, -1);
    hclose(hs);
    const b = bundle();
    bundle_go(b, receiver(srv.s, total));
    const buf = new Uint8Array(CHUNK);
    const t0 = process.hrtime.bigint();
    for (let sent = 0; sent < total; sent += CHUNK) yield* bsend(c, buf, CHUNK, -1);
    yield* bundle_wait(b, -1);
    const dt = seconds(t0);
    for (const h of [b, c, srv.s, ls]) hclose(h);
    return total / 1e6 / dt;
  });
}

export const trials: Trials = {
  tlsBulk: (mib) => tlsBulk(mib * 1024 * 1024),
};
