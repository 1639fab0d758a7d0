/**
 * Child process of the TCP tests (run with `node --import tsx`). Prints one JSON line.
 *   fromfd-echo N   fd 3 is a connected TCP socket: echo N bytes on it, then tcp_close
 *   worker          fd 3 is a listening TCP socket shared with other workers (a pre-forked
 *                   server): accept and answer each connection's 4-byte request with this
 *                   process's pid, until stdin ends; then report how many it served
 */
import { await_promise, brecv, bsend, bundle, bundle_go, hclose, now, type Op, run, tcp_accept, tcp_close, tcp_fromfd, tcp_listener_fromfd } from "../src/index.js";

function* echo(s: number, n: number): Op<void> {
  const buf = new Uint8Array(65536);
  for (let left = n; left > 0; ) {
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
  if (scenario === "fromfd-echo") {
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
