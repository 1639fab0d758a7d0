/**
 * The load of the HTTP workload, the same for every server: a separate Node process with
 * `clients` keep-alive connections to 127.0.0.1:`port`, each sending `GET /` and waiting for the
 * whole answer (its header, then `Content-Length` bytes) before the next, `n` requests in all.
 * It prints the requests per second it saw, counted from the first request to the last answer.
 * The program is plain JavaScript run with `node -e`, so that it needs no file of its own once
 * the measuring process is bundled.
 */
import { spawn } from "node:child_process";

/** The answer every server of the workload sends, besides the headers every server adds. */
export const BODY = "hello, world\n";
/** Connections the load keeps open, one request in flight on each. */
export const HTTP_CLIENTS = 32;

const PROGRAM = String.raw`
const net = require("node:net");
const [port, clients, n] = process.argv.slice(1).map(Number);
const request = Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: load\r\n\r\n");
let sent = 0, answered = 0, t0 = 0n;
function client() {
  const s = net.connect(port, "127.0.0.1");
  s.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const next = () => { if (sent < n) { sent++; s.write(request); } else s.end(); };
  s.on("connect", () => { if (t0 === 0n) t0 = process.hrtime.bigint(); next(); });
  s.on("data", (d) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buf.toString("latin1", 0, end).toLowerCase();
      if (!head.startsWith("http/1.1 200 ")) throw new Error("unexpected answer: " + head);
      const m = /content-length: *(\d+)/.exec(head);
      const total = end + 4 + Number(m[1]);
      if (buf.length < total) return;
      buf = buf.subarray(total);
      if (++answered === n) {
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        process.stdout.write(String(n / dt) + "\n");
      }
      next();
    }
  });
  s.on("error", (e) => { throw e; });
}
for (let i = 0; i < clients; i++) client();
`;

/** Runs the load against `port` and resolves with the requests per second it measured. */
export function httpLoad(port: number, n: number, clients = HTTP_CLIENTS): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", PROGRAM, String(port), String(clients), String(n)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const rate = Number(out.trim());
      if (code === 0 && rate > 0) resolve(rate);
      else reject(new Error(`the HTTP load failed (exit ${String(code)}): ${err.trim()}`));
    });
  });
}
