/**
 * The HTTP workload in Node's own `http` module: a server answering every request with the same
 * small text, to keep-alive clients in another process (`http-load.ts`).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Trials } from "../lib.js";
import { BODY, httpLoad } from "./http-load.js";

async function httpServe(n: number): Promise<number> {
  const body = Buffer.from(BODY);
  const server = http.createServer((_req, res) => {
    res.setHeader("Content-Type", "text/plain");
    res.setHeader("Content-Length", body.length);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    return await httpLoad((server.address() as AddressInfo).port, n);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

export const trials: Trials = { httpServe };
