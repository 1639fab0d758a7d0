/**
 * IPC over Unix-domain sockets, tsdill beside raw `node:net` callbacks, in one process:
 *   - ping-pong: a 64-byte message each way, round trips per second, one connection;
 *   - bulk: 1 GiB one way in 64 KiB sends (BENCH_QUICK=1: 64 MiB), MB/s;
 *   - connect + accept + close: connections per second, one at a time;
 *   - 100 connections doing ping-pong at once: round trips per second in total.
 * Each workload alternates tsdill and raw runs and reports medians, the ratio tsdill/raw, and
 * libdill's figures recorded in the performance plan (not measured here).
 *
 * Run: `npx tsx bench/ipc.bench.ts`.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import lib, { TSDILL_FROM } from "./tsdill.js";

const { brecv, bsend, bundle, bundle_go, bundle_wait, go, hclose, ipc_accept, ipc_connect, ipc_listen, run } = lib;

const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = QUICK ? 1 : 5;
const MSG = 64;
const CHUNK = 64 * 1024;
const PINGS = QUICK ? 20_000 : 100_000;
const BULK = QUICK ? 64 << 20 : 1 << 30;
const CONNECTS = QUICK ? 1000 : 5000;
const PARALLEL = 100;
const PARALLEL_PINGS = QUICK ? 200 : 1000;

/** libdill and raw node:net figures recorded in the performance plan (same machine class). */
const RECORDED: Record<string, { libdill?: string; raw?: string }> = {
  pingpong: { libdill: "~410,000", raw: "~185,000" },
  bulk: { libdill: "~13,400", raw: "~4,300" },
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsdill-bench-"));
let serial = 0;
const addr = (): string => path.join(dir, `b${++serial}.ipc`);

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

// ---- tsdill ---------------------------------------------------------------------------------------
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

function dillParallel(n: number): Promise<number> {
  return run(function* () {
    const a = addr();
    const ls = yield* ipc_listen(a, 256);
    const servers = bundle();
    const acc = go(parallelServer(ls, servers, PARALLEL, n));
    const clients = bundle();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PARALLEL; i++) bundle_go(clients, parallelClient(a, n));
    yield* bundle_wait(clients, -1);
    const dt = seconds(t0);
    yield* bundle_wait(servers, -1);
    for (const h of [clients, servers, acc, ls]) hclose(h);
    return (PARALLEL * n) / dt;
  });
}

// ---- raw node:net -----------------------------------------------------------------------------------
function listenRaw(onConn: (s: net.Socket) => void): Promise<{ server: net.Server; path: string }> {
  const p = addr();
  const server = net.createServer(onConn);
  return new Promise((r) => server.listen(p, () => r({ server, path: p })));
}

function closeRaw(server: net.Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

/** Echo every complete 64-byte message back. */
function rawPong(s: net.Socket): void {
  let have = 0;
  const msg = Buffer.alloc(MSG);
  s.on("data", (d: Buffer) => {
    for (let off = 0; off < d.length; ) {
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

async function rawParallel(n: number): Promise<number> {
  const { server, path: p } = await listenRaw(rawPong);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: PARALLEL }, () => rawPinger(p, n)));
  const dt = seconds(t0);
  await closeRaw(server);
  return (PARALLEL * n) / dt;
}

// ---- the table ------------------------------------------------------------------------------------
interface Workload {
  key: string;
  name: string;
  unit: string;
  dill: () => Promise<number>;
  raw: () => Promise<number>;
}

const workloads: Workload[] = [
  { key: "pingpong", name: "ping-pong, 64 B each way", unit: "round trips/s", dill: () => dillPingPong(PINGS), raw: () => rawPingPong(PINGS) },
  { key: "bulk", name: `bulk one way, ${BULK >> 20} MiB in 64 KiB sends`, unit: "MB/s", dill: () => dillBulk(BULK), raw: () => rawBulk(BULK) },
  { key: "connect", name: "connect + accept + close", unit: "connections/s", dill: () => dillConnects(CONNECTS), raw: () => rawConnects(CONNECTS) },
  {
    key: "parallel",
    name: `${PARALLEL} connections ping-ponging at once`,
    unit: "round trips/s",
    dill: () => dillParallel(PARALLEL_PINGS),
    raw: () => rawParallel(PARALLEL_PINGS),
  },
];

function fmt(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1);
}

const only = process.argv.slice(2);
const rows: string[][] = [];
try {
  for (const w of workloads) {
    if (only.length > 0 && !only.includes(w.key)) continue;
    // warm-up, then alternate so that neither side always runs on a warmer machine
    await w.dill();
    await w.raw();
    const d: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      d.push(await w.dill());
      r.push(await w.raw());
    }
    const dm = median(d);
    const rm = median(r);
    const rec = RECORDED[w.key] ?? {};
    rows.push([w.name, w.unit, fmt(dm), fmt(rm), `${(dm / rm).toFixed(2)}×`, rec.libdill ?? "—", rec.raw ?? "—"]);
    process.stderr.write(`ipc bench: ${w.key} done\n`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const head = ["workload", "unit", "tsdill", "raw node:net", "tsdill / raw", "libdill (recorded)", "raw node:net (recorded)"];
console.log(`IPC over Unix sockets, one process, medians of ${RUNS} run(s)${QUICK ? " (BENCH_QUICK: small sizes)" : ""}, tsdill from ${TSDILL_FROM === "dist" ? "the built package (dist/)" : "the sources (no build)"}. Target: tsdill / raw ≥ 0.9 on ping-pong and bulk.\n`);
console.log(`| ${head.join(" | ")} |`);
console.log(`| ${head.map(() => "---").join(" | ")} |`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
