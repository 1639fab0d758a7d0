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

function rawPinger(p: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    const c = net.createConnection(p);
    const msg = Buffer.alloc(MSG);
    let have = 0;
    let left = n;
    c.on("connect", () => c.write(msg));
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
  });
}

async function rawPingPong(n: number): Promise<number> {
  const { server, path: p } = await listenRaw(rawPong);
  const t0 = process.hrtime.bigint();
  await rawPinger(p, n);
  const dt = seconds(t0);
  await closeRaw(server);
  return n / dt;
}

async function rawBulk(total: number): Promise<number> {
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const { server, path: p } = await listenRaw((s) => {
    s.on("data", (d: Buffer) => {
      got += d.length;
      if (got >= total) done();
    });
    s.on("error", () => {});
  });
  const c = net.createConnection(p);
  await new Promise((r) => c.once("connect", r));
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
  const { server, path: p } = await listenRaw(rawPong, conns);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: conns }, () => rawPinger(p, n)));
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
