/**
 * The message-protocol workloads in tsdill: PREFIX ping-pong of 64-byte messages and SUFFIX
 * framing of 1 KiB lines, over an IPC connection, client and server as two coroutines of one
 * process. The same framing written by hand over `node:net` is in `net-msg.ts`, and against
 * libdill in `../c/prefix.c` and `../c/suffix.c`.
 */
import lib from "../tsdill.js";
import type { Trials } from "../lib.js";
import { addr, MSG, seconds } from "./sockets.js";

const {
  bundle,
  bundle_go,
  bundle_wait,
  hclose,
  ipc_accept,
  ipc_connect,
  ipc_listen,
  mrecv,
  msend,
  prefix_attach,
  run,
} = lib;
const { suffix_attach, ipaddr_local, udp_open } = lib;

/** Bytes of the size field in the PREFIX workload (network byte order). */
export const HDRLEN = 4;
/** Bytes per line in the SUFFIX workload, before its CRLF. */
export const LINE = 1024;

function* pongServer(s: number, n: number) {
  const buf = new Uint8Array(MSG);
  for (let i = 0; i < n; i++) {
    const k = yield* mrecv(s, buf, MSG, -1);
    yield* msend(s, buf, k, -1);
  }
}

function prefixPingPong(n: number): Promise<number> {
  return run(function* () {
    const a = addr();
    const ls = yield* ipc_listen(a, 16);
    const c = prefix_attach(yield* ipc_connect(a, -1), HDRLEN, 0);
    const s = prefix_attach(yield* ipc_accept(ls, -1), HDRLEN, 0);
    const b = bundle();
    bundle_go(b, pongServer(s, n));
    const buf = new Uint8Array(MSG);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      yield* msend(c, buf, MSG, -1);
      yield* mrecv(c, buf, MSG, -1);
    }
    const dt = seconds(t0);
    yield* bundle_wait(b, -1);
    for (const h of [b, c, s, ls]) hclose(h);
    return n / dt;
  });
}

function* lineReceiver(s: number, n: number) {
  const buf = new Uint8Array(LINE);
  for (let i = 0; i < n; i++) if ((yield* mrecv(s, buf, LINE, -1)) !== LINE) throw new Error("short line");
}

function suffixLines(n: number): Promise<number> {
  return run(function* () {
    const a = addr();
    const ls = yield* ipc_listen(a, 16);
    const c = suffix_attach(yield* ipc_connect(a, -1), "\r\n", 2);
    const s = suffix_attach(yield* ipc_accept(ls, -1), "\r\n", 2);
    const b = bundle();
    bundle_go(b, lineReceiver(s, n));
    const line = new Uint8Array(LINE).fill(0x61);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) yield* msend(c, line, LINE, -1);
    yield* bundle_wait(b, -1);
    const dt = seconds(t0);
    for (const h of [b, c, s, ls]) hclose(h);
    return (n * LINE) / 1e6 / dt;
  });
}

/** Two UDP sockets on 127.0.0.1, each the other's remote: a message socket pair. */
function* udpPair() {
  const a1 = ipaddr_local("127.0.0.1", 0, 0);
  const a2 = ipaddr_local("127.0.0.1", 0, 0);
  // Bound once to learn two free ports, then opened with each other as remote.
  hclose(yield* udp_open(a1, null));
  hclose(yield* udp_open(a2, null));
  return [yield* udp_open(a1, a2), yield* udp_open(a2, a1)] as const;
}

function udpPingPong(n: number): Promise<number> {
  return run(function* () {
    const [c, s] = yield* udpPair();
    const b = bundle();
    bundle_go(b, pongServer(s, n));
    const buf = new Uint8Array(MSG);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      yield* msend(c, buf, MSG, -1);
      yield* mrecv(c, buf, MSG, -1);
    }
    const dt = seconds(t0);
    yield* bundle_wait(b, -1);
    for (const h of [b, c, s]) hclose(h);
    return n / dt;
  });
}

export const trials: Trials = {
  prefixPingpong: (n) => prefixPingPong(n),
  suffixLines: (n) => suffixLines(n),
  udpPingpong: (n) => udpPingPong(n),
};
