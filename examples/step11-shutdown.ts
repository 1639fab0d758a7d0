// Step 11: a clean shutdown. Stop accepting, give the connections in progress a little time to
// finish (bundle_wait with a deadline), then cancel whatever is left (hclose on the bundle).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  DillError,
  dill_stats,
  go,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_listen,
  isDillError,
  msleep,
  now,
  type Op,
  run,
} from "tsdill";

function* readLine(s: number, deadline: number): Op<string> {
  const bytes: number[] = [];
  const b = new Uint8Array(1);
  for (;;) {
    yield* brecv(s, b, 1, deadline);
    if (b[0] === 0x0a) return Buffer.from(bytes).toString();
    bytes.push(b[0]!);
  }
}

function* writeLine(s: number, text: string, deadline: number): Op<void> {
  const line = Buffer.from(`${text}\n`);
  yield* bsend(s, line, line.length, deadline);
}

let busy = 0; // connections being served

/** Serves one connection; tells the owner on `started` that it has begun. */
function* greet(s: number, started: number) {
  const deadline = now() + 10_000;
  busy++;
  let open = true;
  try {
    yield* chsend(started, null, deadline);
    const name = yield* readLine(s, deadline);
    yield* msleep(now() + 50); // some work before the answer
    yield* writeLine(s, `hello, ${name}`, deadline);
    open = false;
    yield* ipc_close(s, deadline);
  } catch (e) {
    if (!isDillError(e, "ECANCELED")) throw e;
    console.log("  a connection still waiting for a name was cancelled; its socket is closed");
    throw e; // let the cancellation finish the coroutine
  } finally {
    if (open) hclose(s);
    busy--;
  }
}

function* acceptLoop(ls: number, conns: number, started: number) {
  for (;;) bundle_go(conns, greet(yield* ipc_accept(ls, -1), started));
}

function* client(path: string, name: string, silent: boolean, answers: string[]) {
  const s = yield* ipc_connect(path, -1);
  let open = true;
  try {
    if (!silent) yield* writeLine(s, name, -1);
    answers.push(`${name} got "${yield* readLine(s, -1)}"`);
    open = false;
    yield* ipc_close(s, -1);
  } catch (e) {
    if (!(e instanceof DillError)) throw e;
    answers.push(`${name} was dropped by the server (${e.code})`);
  } finally {
    if (open) hclose(s);
  }
}

const dir = mkdtempSync(join(tmpdir(), "tsdill-step11-"));
const path = join(dir, "greeter.ipc");
try {
  await run(function* main() {
    const ls = yield* ipc_listen(path, 16);
    const conns = bundle(); // owned by main, so that main decides when it ends
    const [started, startedIn] = chmake();
    const acceptor = go(acceptLoop(ls, conns, started));

    const clients = bundle();
    const answers: string[] = [];
    bundle_go(clients, client(path, "ada", false, answers));
    bundle_go(clients, client(path, "grace", false, answers));
    bundle_go(clients, client(path, "silent", true, answers)); // never sends its name
    for (let i = 0; i < 3; i++) yield* chrecv(startedIn, -1);
    console.log(`${busy} connections in progress; shutting down`);

    // 1. Stop accepting: cancel the accept loop, close the listener (its socket file goes away).
    hclose(acceptor);
    hclose(ls);
    try {
      yield* ipc_connect(path, now() + 1000);
    } catch (e) {
      if (!isDillError(e, "ENOENT")) throw e;
      console.log("a late client cannot connect any more (ENOENT)");
    }

    // 2. Drain: give the connections in progress up to 500 ms to finish on their own.
    try {
      yield* bundle_wait(conns, now() + 500);
      console.log("all connections finished in time");
    } catch (e) {
      if (!isDillError(e, "ETIMEDOUT")) throw e;
      console.log(`drain deadline passed with ${busy} connection still busy; cancelling it`);
    }

    // 3. Cancel the rest: hclose returns once every member has run its finally blocks.
    hclose(conns);
    console.log(`connections in progress after hclose: ${busy}`);

    yield* bundle_wait(clients, -1);
    hclose(clients);
    for (const a of answers.sort()) console.log(`client: ${a}`);
    hclose(started);
    hclose(startedIn);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const s = dill_stats();
console.log(`left open: ${s.coroutines} coroutines, ${s.handles} handles`);
