/**
 * TLS bulk in Node's own `tls`: `tls.createServer` and `tls.connect` on a Unix-domain socket file,
 * callbacks and backpressure by `write`'s return value and `drain`, the handshake done before
 * the clock starts. Node's TLS reads and writes the socket's file descriptor from C++.
 */
import fs from "node:fs";
import tls from "node:tls";
import type { Trials } from "../lib.js";
import { addr, CHUNK, seconds } from "./sockets.js";
import { certificate } from "./tls-cert.js";

async function tlsBulk(total: number): Promise<number> {
  const { cert, key } = certificate();
  const p = addr();
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let serverSocket: tls.TLSSocket | null = null;
  const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (s) => {
    serverSocket = s;
    s.on("data", (d: Buffer) => {
      got += d.length;
      if (got >= total) done();
    });
  });
  await new Promise<void>((r) => server.listen(p, () => r()));
  const c = tls.connect({ path: p, rejectUnauthorized: false });
  await new Promise((r) => c.once("secureConnect", r));
  while (serverSocket === null) await new Promise((r) => setImmediate(r));
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
  (serverSocket as tls.TLSSocket).destroy();
  await new Promise((r) => server.close(r));
  return total / 1e6 / dt;
}

export const trials: Trials = {
  tlsBulk: (mib) => tlsBulk(mib * 1024 * 1024),
};
