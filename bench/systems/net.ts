/**
 * The IPC workloads in raw `node:net`: callbacks, no runtime. This is the ceiling for anything
 * built on Node's sockets; the same shapes as `tsdill-ipc.ts`.
 */
import net from "node:net";
import { bytesPer, type Trials } from "../lib.js";
import { addr, CHUNK, MSG, seconds } from "./sockets.js";

function listenRaw(onConn: (s: net.Socket) => void, backlog = 128): Promise<{ server: net.Server; path: string }> {
  const p = addr();
  const server = net.createServer(onConn);
  return new Promise((r) => server.listen({ path: p, backlog: Math.max(128, backlog) }, () => r({ server, path: p })));
}

function closeRaw(server: net.Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

/** Echo every complete 64-byte message back. */
function rawPong(s: net.Socket): void {
  let have = 0;
  const msg = Buffer.alloc(MSG);
  s.on("data", (d: Buffer) => {
    for (let off = 0; off < d.length;) {
      const k = Math.min(MSG - have, d.length - off);
      d.copy(msg, have, off, off + k);
      have += k;
      off += k;
      if (have === MSG) {
        have = 0;
        s.write(msg);
      }
    }
  });
  s.on("error", () => {});
}

/** A client connected to `p`, resolved once the server has accepted it too. */
async function connected(p: string, accepted: Promise<unknown>): Promise<net.Socket> {
  const c = net.createConnection(p);
  await new Promise((r) => c.once("connect", r));
  await accepted;
  return c;
}

/** n round trips of one 64-byte message over a connected socket. */
function rawPinger(c: net.Socket, n: number): Promise<void> {
  return new Promise((resolve) => {
    const msg = Buffer.alloc(MSG);
    let have = 0;
    let left = n;
    c.on("data", (d: Buffer) => {
      have += d.length;
      while (have >= MSG) {
        have -= MSG;
        if (--left === 0) {
          c.destroy();
          resolve();
          return;
        }
        c.write(msg);
      }
    });
    c.write(msg);
  });
}

/** A listener whose `accepted(k)` resolves once k connections have been accepted. */
async function listenCounting(onConn: (s: net.Socket) => void, backlog = 128) {
  let count = 0;
  const waiters: { k: number; wake: () => void }[] = [];
  const l = await listenRaw((s) => {
    onConn(s);
    count++;
    for (const w of waiters.filter((x) => x.k <= count)) w.wake();
  }, backlog);
  const accepted = (k: number) =>
    count >= k ? Promise.resolve() : new Promise<void>((wake) => waiters.push({ k, wake }));
  return { ...l, accepted };
}

// The clocks start once the connections are made and accepted, as in tsdill and C.
async function rawPingPong(n: number): Promise<number> {
  const { server, path: p, accepted } = await listenCounting(rawPong);
  const c = await connected(p, accepted(1));
  const t0 = process.hrtime.bigint();
  await rawPinger(c, n);
  const dt = seconds(t0);
  await closeRaw(server);
  return n / dt;
}

async function rawBulk(total: number): Promise<number> {
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const {
    server,
    path: p,
    accepted,
  } = await listenCounting((s) => {
    s.on("data", (d: Buffer) => {
      got += d.length;
      if (got >= total) done();
    });
    s.on("error", () => {});
  });
  const c = await connected(p, accepted(1));
  const buf = Buffer.alloc(CHUNK);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < total) {
        sent += CHUNK;
        if (!c.write(buf)) {
          c.once("drain", pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
  await finished;
  const dt = seconds(t0);
  c.destroy();
  await closeRaw(server);
  return total / 1e6 / dt;
}

async function rawConnects(n: number): Promise<number> {
  let accepted = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const { server, path: p } = await listenRaw((s) => {
    s.destroy();
    if (++accepted === n) done();
  });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await new Promise<void>((r) => {
      const c = net.createConnection(p);
      c.on("connect", () => {
        c.destroy();
        r();
      });
      c.on("error", () => {});
    });
  }
  await all;
  const dt = seconds(t0);
  await closeRaw(server);
  return n / dt;
}

async function rawParallel(n: number, conns: number): Promise<number> {
  // The clock includes connecting, as in tsdill's workload of many connections.
  const { server, path: p } = await listenRaw(rawPong, conns);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: conns }, async () => rawPinger(await connected(p, Promise.resolve()), n)));
  const dt = seconds(t0);
  await closeRaw(server);
  return (conns * n) / dt;
}

/** n connected pairs, as `ipc_pair` makes them: a listener, a connect and an accept per pair. */
async function makePairs(n: number): Promise<net.Socket[]> {
  const accepted: net.Socket[] = [];
  let wake: (() => void) | null = null;
  const { server, path: p } = await listenRaw((s) => {
    accepted.push(s);
    wake?.();
  });
  const out: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const c = net.createConnection(p);
    await new Promise<void>((r) => c.once("connect", () => r()));
    while (accepted.length === 0) await new Promise<void>((r) => (wake = r));
    wake = null;
    out.push(c, accepted.shift()!);
  }
  server.close(); // stops listening; the accepted sockets stay open

  return out;
}

function memSocket(n: number) {
  return bytesPer(n, async (k) => {
    const socks = await makePairs(k);
    return async () => {
      for (const s of socks) s.destroy();
    };
  });
}

export const trials: Trials = {
  pingpong: (n) => rawPingPong(n),
  bulk: (mib) => rawBulk(mib * 1024 * 1024),
  connect: (n) => rawConnects(n),
  conns: (n, conns) => rawParallel(n, conns),
  memSocket,
};
