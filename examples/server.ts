/**
 * The demo (`npm start`): a concurrent local echo server over a Unix-domain socket, and a crowd
 * of clients hammering it, all in one structured tree of coroutines.
 *
 *   main
 *   ├── server: accepts connections, one handler coroutine per connection (a bundle)
 *   └── clients: a bundle of CLIENTS coroutines, each doing ROUNDS request/response round trips
 *
 * Messages are framed: a 4-byte big-endian length, then the payload. The server answers each
 * request with the payload reversed. Every client checks every answer byte for byte. At the end
 * the server is shut down by closing its handle (cancellation reaches the accept loop and every
 * handler), and dill_stats() shows that nothing was left open.
 *
 * Usage: npm start [-- --clients N --rounds N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  brecv,
  bsendl,
  bundle,
  bundle_go,
  bundle_wait,
  DillError,
  dill_stats,
  go,
  hclose,
  type IoList,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_listen,
  now,
  run,
} from "../src/index.js";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}

const CLIENTS = option("clients", 100);
const ROUNDS = option("rounds", 200);
const MAX_MESSAGE = 64 * 1024;

const served = { connections: 0, requests: 0, bytes: 0 };

/** Read one framed message into a fresh buffer. */
function* readMessage(s: number, deadline: number) {
  const header = new Uint8Array(4);
  yield* brecv(s, header, 4, deadline);
  const len = new DataView(header.buffer).getUint32(0);
  if (len > MAX_MESSAGE) throw new Error(`message of ${len} bytes is over the limit`);
  const body = new Uint8Array(len);
  yield* brecv(s, body, len, deadline);
  return body;
}

/** Write one framed message: header and payload go out in one bsendl call, as one iolist. */
function* writeMessage(s: number, body: Uint8Array, deadline: number) {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, body.length);
  const payload: IoList = { iol_base: body, iol_len: body.length, iol_next: null, iol_rsvd: 0 };
  const head: IoList = { iol_base: header, iol_len: 4, iol_next: payload, iol_rsvd: 0 };
  yield* bsendl(s, head, payload, deadline);
}

/** One connection: answer requests until the client is done sending (EPIPE), then close. */
function* handler(s: number) {
  served.connections++;
  try {
    for (;;) {
      let req: Uint8Array;
      try {
        req = yield* readMessage(s, now() + 10_000);
      } catch (e) {
        if (e instanceof DillError && e.code === "EPIPE") break; // the client said it is done
        throw e;
      }
      served.requests++;
      served.bytes += req.length;
      yield* writeMessage(s, req.reverse(), now() + 10_000);
    }
    yield* ipc_close(s, now() + 10_000);
    s = -1;
  } finally {
    if (s >= 0) hclose(s); // cancelled or failed: close at once, no handshake
  }
}

/** The accept loop: every connection gets its own coroutine in the `handlers` bundle. */
function* server(path: string) {
  const ls = yield* ipc_listen(path, 128);
  const handlers = bundle();
  try {
    for (;;) {
      const s = yield* ipc_accept(ls, -1);
      bundle_go(handlers, handler(s));
    }
  } finally {
    // Reached when the server's handle is closed: cancel the handlers, stop listening.
    hclose(handlers);
    hclose(ls);
  }
}

/** One client: ROUNDS round trips with messages of varying size, each answer checked. */
function* client(path: string, id: number, failures: string[]) {
  const s = yield* ipc_connect(path, now() + 5_000);
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const len = 1 + ((id * 7919 + i * 104729) % 2048);
      const req = Buffer.alloc(len, `client ${id} round ${i} `);
      yield* writeMessage(s, req, now() + 10_000);
      const res = yield* readMessage(s, now() + 10_000);
      if (!req.reverse().equals(res)) failures.push(`client ${id}, round ${i}: wrong answer`);
    }
    yield* ipc_close(s, now() + 10_000);
  } catch (e) {
    hclose(s);
    throw e;
  }
}

const dir = mkdtempSync(join(tmpdir(), "tsdill-demo-"));
const path = join(dir, "echo.sock");
try {
  const { ms, failures } = await run(function* () {
    const start = now();
    const srv = go(server(path));
    const failures: string[] = [];
    const clients = bundle();
    for (let id = 0; id < CLIENTS; id++) bundle_go(clients, client(path, id, failures));
    yield* bundle_wait(clients, now() + 60_000);
    hclose(clients);
    const ms = now() - start;
    hclose(srv); // cancels the accept loop; its finally closes every handler and the listener
    return { ms, failures };
  });
  console.log(`tsdill echo server on ${path}`);
  console.log(`  ${CLIENTS} clients x ${ROUNDS} round trips, all concurrent, in ${ms} ms`);
  console.log(`  served ${served.connections} connections, ${served.requests} requests, ${served.bytes} payload bytes`);
  console.log(`  ${Math.round((served.requests * 1000) / Math.max(ms, 1))} round trips/s`);
  console.log(`  answers checked byte for byte: ${failures.length === 0 ? "all correct" : failures.length + " wrong"}`);
  const st = dill_stats();
  console.log(`  left open afterwards: ${st.coroutines} coroutines, ${st.handles} handles, ${st.pool.used} pool storages`);
  if (failures.length > 0) {
    console.error(failures.slice(0, 5).join("\n"));
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
