/**
 * Child process of the TCP tests (run with `node --import tsx`). Prints one JSON line.
 *   fromfd-echo N   fd 3 is a connected TCP socket: echo N bytes on it, then tcp_close
 *   emfile          exhaust the fd limit (run under ulimit -n), then try tcp_listen and tcp_connect
 *   worker          fd 3 is a listening TCP socket shared with other workers (a pre-forked
 *                   server): accept and answer each connection's 4-byte request with this
 *                   process's pid, until stdin ends; then report how many it served
 */
import fs from "node:fs";
import {
  DillError,
  ipaddr_local,
  await_promise,
  brecv,
  bsend,
  bundle,
  bundle_go,
  hclose,
  now,
  type Op,
  run,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_fromfd,
  tcp_listen,
  tcp_listener_fromfd,
} from "../src/index.js";

function* codeOf(op: Op<unknown>): Generator<unknown, string, unknown> {
  try {
    const r = yield* op;
    if (typeof r === "number") hclose(r);
    return "OK";
  } catch (e) {
    if (e instanceof DillError) return e.code;
    throw e;
  }
}

function* echo(s: number, n: number): Op<void> {
  const buf = new Uint8Array(65536);
  for (let left = n; left > 0;) {
    const k = Math.min(left, buf.length);
    yield* brecv(s, buf, k, now() + 10_000);
    yield* bsend(s, buf, k, now() + 10_000);
    left -= k;
  }
}

function* serve(s: number, served: { n: number }): Generator<unknown, void, unknown> {
  try {
    yield* brecv(s, new Uint8Array(4), 4, now() + 10_000);
    const pid = String(process.pid).padStart(8, "0");
    yield* bsend(s, pid, 8, now() + 10_000);
    served.n++;
    yield* tcp_close(s, now() + 10_000);
  } catch {
    hclose(s);
  }
}

function* acceptLoop(ls: number, b: number, served: { n: number }): Generator<unknown, void, unknown> {
  for (;;) {
    const s = yield* tcp_accept(ls, null, -1);
    bundle_go(b, serve(s, served));
  }
}

const [scenario, arg] = process.argv.slice(2);
const out: Record<string, string | number> = {};

await run(function* () {
  if (scenario === "emfile") {
    const addr = ipaddr_local("127.0.0.1", 0, 0);
    const ls = yield* tcp_listen(addr, 10);
    const fds: number[] = [];
    try {
      for (;;) fds.push(fs.openSync("/dev/null", "r"));
    } catch (e) {
      out.exhausted = (e as NodeJS.ErrnoException).code ?? "?";
    }
    out.listen = yield* codeOf(tcp_listen(ipaddr_local("127.0.0.1", 0, 0), 10));
    out.connect = yield* codeOf(tcp_connect(addr, now() + 5000));
    for (const fd of fds) fs.closeSync(fd);
    out.after = yield* codeOf(tcp_connect(addr, now() + 5000));
    hclose(ls);
  } else if (scenario === "fromfd-echo") {
    const s = tcp_fromfd(3);
    yield* echo(s, Number(arg));
    yield* tcp_close(s, now() + 10_000);
    out.result = "OK";
  } else if (scenario === "worker") {
    const ls = yield* tcp_listener_fromfd(3);
    const served = { n: 0 };
    const b = bundle();
    const acceptor = bundle();
    bundle_go(acceptor, acceptLoop(ls, b, served));
    const stdinEnded = new Promise((r) => process.stdin.on("end", r).resume());
    process.stdout.write("ready\n");
    yield* await_promise(stdinEnded, -1);
    hclose(acceptor);
    hclose(b);
    hclose(ls);
    out.pid = process.pid;
    out.served = served.n;
  } else {
    out.error = `unknown scenario ${String(scenario)}`;
  }
});
console.log(JSON.stringify(out));
