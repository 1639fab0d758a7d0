/**
 * The message-protocol workloads written by hand over raw `node:net`: a 4-byte size field before
 * each 64-byte message (ping-pong), and 1 KiB lines ended by CRLF (one way), parsed the way a
 * Node program does it: chunks gathered until a whole message is there. The same shapes as
 * `tsdill-msg.ts`.
 */
import { createSocket } from "node:dgram";
import net from "node:net";
import type { Trials } from "../lib.js";
import { addr, MSG, seconds } from "./sockets.js";

const HDRLEN = 4;
const LINE = 1024;

function listen(onConn: (s: net.Socket) => void): Promise<{ server: net.Server; path: string }> {
  const p = addr();
  const server = net.createServer(onConn);
  return new Promise((r) => server.listen({ path: p, backlog: 128 }, () => r({ server, path: p })));
}

/**
 * Calls `onMessage` with each size-prefixed message of the stream (a view valid during the call).
 * Chunks are gathered into one buffer while a message is incomplete.
 */
function prefixReader(onMessage: (m: Buffer) => void): (d: Buffer) => void {
  let pending: Buffer | null = null;
  return (d) => {
    const buf = pending === null ? d : Buffer.concat([pending, d]);
    let off = 0;
    while (buf.length - off >= HDRLEN) {
      const size = buf.readUInt32BE(off);
      if (buf.length - off - HDRLEN < size) break;
      onMessage(buf.subarray(off + HDRLEN, off + HDRLEN + size));
      off += HDRLEN + size;
    }
    pending = off === buf.length ? null : Buffer.from(buf.subarray(off));
  };
}

/** One message framed: its size, then its bytes, in one buffer for one write. */
function framed(m: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HDRLEN + m.length);
  out.writeUInt32BE(m.length, 0);
  m.copy(out, HDRLEN);
  return out;
}

async function prefixPingPong(n: number): Promise<number> {
  const { server, path: p } = await listen((s) => {
    s.on(
      "data",
      prefixReader((m) => s.write(framed(m))),
    );
    s.on("error", () => {});
  });
  // The clock starts once the connection is made, as in tsdill and C.
  const c = net.createConnection(p);
  await new Promise((r) => c.once("connect", r));
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const msg = Buffer.alloc(MSG);
    let left = n;
    c.on(
      "data",
      prefixReader(() => {
        if (--left === 0) {
          c.destroy();
          resolve();
        } else c.write(framed(msg));
      }),
    );
    c.write(framed(msg));
  });
  const dt = seconds(t0);
  await new Promise((r) => server.close(r));
  return n / dt;
}

async function suffixLines(n: number): Promise<number> {
  let lines = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const { server, path: p } = await listen((s) => {
    let pending: Buffer | null = null;
    s.on("data", (d: Buffer) => {
      const buf = pending === null ? d : Buffer.concat([pending, d]);
      let off = 0;
      for (;;) {
        const i = buf.indexOf("\r\n", off);
        if (i < 0) break;
        if (i - off !== LINE) throw new Error("short line");
        lines++;
        off = i + 2;
      }
      pending = off === buf.length ? null : Buffer.from(buf.subarray(off));
      if (lines === n) done();
    });
    s.on("error", () => {});
  });
  const c = net.createConnection(p);
  await new Promise((r) => c.once("connect", r));
  const line = Buffer.alloc(LINE + 2, 0x61);
  line.write("\r\n", LINE);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < n) {
        sent++;
        if (!c.write(line)) {
          c.once("drain", pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
  await all;
  const dt = seconds(t0);
  c.destroy();
  await new Promise((r) => server.close(r));
  return (n * LINE) / 1e6 / dt;
}

/** UDP ping-pong with `node:dgram` alone: the echo and the next send run in `message` callbacks. */
async function udpPingPong(n: number): Promise<number> {
  const c = createSocket("udp4");
  const s = createSocket("udp4");
  await new Promise<void>((r) => c.bind(0, "127.0.0.1", r));
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const cp = c.address().port;
  const sp = s.address().port;
  s.on("message", (m) => s.send(m, cp, "127.0.0.1"));
  const msg = Buffer.alloc(MSG);
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    let i = 0;
    c.on("message", () => {
      if (++i === n) resolve();
      else c.send(msg, sp, "127.0.0.1");
    });
    c.send(msg, sp, "127.0.0.1");
  });
  const dt = seconds(t0);
  await new Promise<void>((r) => c.close(() => r()));
  await new Promise<void>((r) => s.close(() => r()));
  return n / dt;
}

export const trials: Trials = {
  prefixPingpong: (n) => prefixPingPong(n),
  suffixLines: (n) => suffixLines(n),
  udpPingpong: (n) => udpPingPong(n),
};
