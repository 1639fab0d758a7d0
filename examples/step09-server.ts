// Step 9: a real server. It listens on a Unix-domain socket, accepts connections in a loop and
// serves each one in its own coroutine, inside a bundle that the accept loop owns.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
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
  ipc_listen,
  type Op,
  run,
} from "tsdill";

/** Reads bytes up to a newline; one byte per brecv keeps the example short, not fast. */
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

let served = 0;

/** One connection: read a name, answer with a greeting, close in an orderly way. */
function* greet(s: number) {
  let open = true;
  try {
    const name = yield* readLine(s, -1);
    yield* writeLine(s, `hello, ${name}`, -1);
    served++;
    open = false;
    yield* ipc_close(s, -1); // closes s whatever its outcome
  } finally {
    if (open) hclose(s); // a failure or a cancellation before ipc_close: drop the connection
  }
}

/** The accept loop: every connection becomes a member of the `conns` bundle. */
function* server(ls: number) {
  const conns = bundle();
  try {
    for (;;) {
      const s = yield* ipc_accept(ls, -1);
      bundle_go(conns, greet(s));
    }
  } finally {
    hclose(conns); // the loop is cancelled: so is every connection still being served
  }
}

/** A client: connect, send a name, read the answer. */
function* client(path: string, name: string, answers: string[]) {
  const s = yield* ipc_connect(path, -1);
  let open = true;
  try {
    yield* writeLine(s, name, -1);
    answers.push(`${name} got "${yield* readLine(s, -1)}"`);
    open = false;
    yield* ipc_close(s, -1);
  } finally {
    if (open) hclose(s);
  }
}

const dir = mkdtempSync(join(tmpdir(), "tsdill-step09-"));
const path = join(dir, "greeter.ipc");
try {
  await run(function* main() {
    const ls = yield* ipc_listen(path, 16);
    console.log("server: listening on greeter.ipc");
    const srv = go(server(ls));

    const clients = bundle();
    const answers: string[] = [];
    for (const name of ["ada", "grace", "barbara"]) bundle_go(clients, client(path, name, answers));
    yield* bundle_wait(clients, -1);
    hclose(clients);
    for (const a of answers.sort()) console.log(`client: ${a}`);

    console.log(`server: ${served} connections served`);
    hclose(srv); // cancels the accept loop, whose finally closes the connection bundle
    hclose(ls); // stops listening and removes greeter.ipc
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const s = dill_stats();
console.log(`left open: ${s.coroutines} coroutines, ${s.handles} handles`);
