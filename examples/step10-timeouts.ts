// Step 10: per-connection deadlines. A client that never sends its name must not hold a server
// coroutine and a socket for ever: each connection gets one absolute deadline for the whole
// conversation, and a connection that misses it is dropped.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  DillError,
  dill_stats,
  go,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_listen,
  isDillError,
  now,
  type Op,
  run,
} from "tsdill";

const CONVERSATION_MS = 500; // how long a client may take, from accept to goodbye

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

const log: string[] = [];

function* greet(s: number) {
  const deadline = now() + CONVERSATION_MS; // one deadline, passed to every call below
  let open = true;
  try {
    const name = yield* readLine(s, deadline);
    yield* writeLine(s, `hello, ${name}`, deadline);
    log.push(`greeted ${name}`);
    open = false;
    yield* ipc_close(s, deadline);
  } catch (e) {
    if (!isDillError(e, "ETIMEDOUT")) throw e;
    log.push("dropped a connection that missed its deadline (ETIMEDOUT)");
  } finally {
    if (open) hclose(s);
  }
}

function* server(ls: number) {
  const conns = bundle();
  try {
    for (;;) bundle_go(conns, greet(yield* ipc_accept(ls, -1)));
  } finally {
    hclose(conns);
  }
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

const dir = mkdtempSync(join(tmpdir(), "tsdill-step10-"));
const path = join(dir, "greeter.ipc");
try {
  await run(function* main() {
    const ls = yield* ipc_listen(path, 16);
    const srv = go(server(ls));
    const clients = bundle();
    const answers: string[] = [];
    bundle_go(clients, client(path, "ada", false, answers));
    bundle_go(clients, client(path, "silent", true, answers)); // connects, then says nothing
    bundle_go(clients, client(path, "grace", false, answers));
    yield* bundle_wait(clients, -1);
    hclose(clients);
    for (const a of answers.sort()) console.log(`client: ${a}`);
    for (const l of log.sort()) console.log(`server: ${l}`);
    hclose(srv);
    hclose(ls);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const s = dill_stats();
console.log(`left open: ${s.coroutines} coroutines, ${s.handles} handles`);
