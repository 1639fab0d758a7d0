/** Shared helpers of the TCP tests: a connected pair over loopback, IPv6 availability. */
import net from "node:net";
import { hclose, ipaddr_local, ipaddr_port, now, type Op, tcp_accept, tcp_connect, tcp_listen } from "../src/index.js";

/**
 * A connected pair over 127.0.0.1 (or `host`), on a port the system picks: `[client, server]`.
 * The listener is closed before returning.
 */
export function* tcpPair(host = "127.0.0.1"): Op<[number, number]> {
  const addr = ipaddr_local(host, 0, 0);
  const ls = yield* tcp_listen(addr, 10);
  try {
    const c = yield* tcp_connect(addr, now() + 5000);
    const s = yield* tcp_accept(ls, null, now() + 5000);
    return [c, s];
  } finally {
    hclose(ls);
  }
}

/** Whether this machine can listen on and connect to ::1 (checked once, with node:net). */
export async function haveIpv6Loopback(): Promise<boolean> {
  const srv = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(0, "::1", () => resolve());
    });
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(port, "::1", () => {
        c.destroy();
        resolve();
      });
      c.once("error", reject);
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((r) => srv.close(r));
  }
}

/** A TCP port on 127.0.0.1 that nobody listens on: one the system gave out and took back. */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export { ipaddr_port };
