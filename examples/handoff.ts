/**
 * Handing connections to workers: the parent accepts every connection itself and passes each one,
 * as a file descriptor, to one of two worker processes with ipc_sendfd, in turn. Each worker is
 * connected to the parent by a control connection on which it first gets its number (bytes) and
 * then the connections to serve (descriptors, each with ipc_recvfd, wrapped with ipc_fromfd).
 * Unlike pre-forking (examples/prefork.ts), the parent chooses the worker. The parent then makes
 * 12 requests, closes the control connections (the workers finish their connections and exit),
 * and waits for the workers.
 *
 * Needs tsdill's native part (built at install), for ipc_sendfd and ipc_recvfd.
 *
 * Usage: npx tsx examples/handoff.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  await_promise,
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  dill_stats,
  go,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_fd,
  ipc_fromfd,
  ipc_listen,
  ipc_recvfd,
  ipc_sendfd,
  isDillError,
  now,
  run,
} from "tsdill";

const WORKERS = 2;
const REQUESTS = 12;

// ---- a worker: serve the connections the parent hands over, until it closes the control ----
function* serve(s: number, me: number) {
  const req = new Uint8Array(4);
  yield* brecv(s, req, 4, now() + 10_000);
  yield* bsend(s, `worker ${me}\n`, 9, now() + 10_000);
  yield* ipc_close(s, now() + 10_000);
}

function* worker(control: string) {
  const ctl = yield* ipc_connect(control, now() + 10_000);
  const num = new Uint8Array(1);
  yield* brecv(ctl, num, 1, now() + 10_000); // bytes and descriptors share the control stream
  const conns = bundle();
  for (;;) {
    let fd: number;
    try {
      fd = yield* ipc_recvfd(ctl, -1);
    } catch (e) {
      if (isDillError(e, "EPIPE")) break; // the parent closed the control connection
      throw e;
    }
    bundle_go(conns, serve(ipc_fromfd(fd), num[0]!));
  }
  yield* bundle_wait(conns, now() + 10_000);
  hclose(conns);
  yield* ipc_close(ctl, now() + 10_000);
}

// ---- the parent ----------------------------------------------------------------------------
function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("close", (code) => resolve(code)));
}

function* dispatcher(ls: number, workers: number[]) {
  for (let next = 0; ; next = (next + 1) % workers.length) {
    const s = yield* ipc_accept(ls, -1);
    // Pass it on before reading from it: the worker gets the connection with every byte unread.
    yield* ipc_sendfd(workers[next]!, ipc_fd(s), now() + 10_000);
    hclose(s); // the parent's descriptor; the connection lives on in the worker
  }
}

function* ask(path: string) {
  const s = yield* ipc_connect(path, now() + 10_000);
  yield* bsend(s, "ping", 4, now() + 10_000);
  const reply = new Uint8Array(9);
  yield* brecv(s, reply, 9, now() + 10_000);
  yield* ipc_close(s, now() + 10_000);
  return Buffer.from(reply).toString().trim();
}

function* parent() {
  const dir = mkdtempSync(join(tmpdir(), "tsdill-handoff-"));
  try {
    const control = join(dir, "control.sock");
    const service = join(dir, "service.sock");
    const ctl = yield* ipc_listen(control, 16);
    const args = [...process.execArgv, process.argv[1]!, "worker", control];
    const children = Array.from({ length: WORKERS }, () =>
      spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] }),
    );
    const workers: number[] = [];
    for (let i = 1; i <= WORKERS; i++) {
      const w = yield* ipc_accept(ctl, now() + 30_000);
      yield* bsend(w, new Uint8Array([i]), 1, now() + 10_000);
      workers.push(w);
    }
    hclose(ctl);
    const ls = yield* ipc_listen(service, 128);
    const d = go(dispatcher(ls, workers));
    const counts = new Map<string, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const who = yield* ask(service);
      counts.set(who, (counts.get(who) ?? 0) + 1);
    }
    const by = [...counts].sort().map(([who, k]) => `${k} by ${who}`);
    console.log(`${REQUESTS} requests answered: ${by.join(", ")}`);
    hclose(d);
    hclose(ls);
    for (const w of workers) yield* ipc_close(w, now() + 10_000);
    const codes = yield* await_promise(Promise.all(children.map(exited)), now() + 10_000);
    console.log(`workers exited with codes ${codes.join(", ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "worker") {
  await run(worker(process.argv[3]!));
} else {
  await run(parent);
  const st = dill_stats();
  console.log(`left open: ${st.coroutines} coroutines, ${st.handles} handles`);
}
