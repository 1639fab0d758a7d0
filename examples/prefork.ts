/**
 * Pre-forked workers, the small version of `tsdill serve --workers N`: the parent listens with
 * ipc_listen and hands the listening socket to two worker processes as their fd 3; each worker
 * wraps it with ipc_listener_fromfd and serves with its own scheduler, and the kernel gives each
 * incoming connection to one of them. The parent then makes 20 requests, stops the workers with
 * SIGTERM, waits for them and removes the socket file, if it is still the one it made.
 * (`tsdill serve --workers N` adds a supervisor that restarts workers: see docs/server.md.)
 *
 * Usage: npx tsx examples/prefork.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, linkSync, lstatSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  await_promise,
  brecv,
  bsend,
  bundle,
  bundle_go,
  dill_stats,
  go,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_listen,
  ipc_listener_fd,
  ipc_listener_fromfd,
  now,
  run,
} from "tsdill";

const WORKERS = 2;

// ---- a worker: serve on the inherited socket until SIGTERM ----------------------------------
function* answer(s: number) {
  const req = new Uint8Array(4);
  yield* brecv(s, req, 4, now() + 10_000);
  const reply = `${String(process.pid).padStart(8)}\n`; // which worker answered
  yield* bsend(s, reply, 9, now() + 10_000);
  yield* ipc_close(s, now() + 10_000);
}

function* acceptLoop(ls: number, conns: number) {
  for (;;) bundle_go(conns, answer(yield* ipc_accept(ls, -1)));
}

function* worker() {
  const stop = new Promise((resolve) => process.once("SIGTERM", resolve));
  const ls = yield* ipc_listener_fromfd(3); // the parent's listening socket
  const conns = bundle();
  const acceptor = go(acceptLoop(ls, conns));
  process.stdout.write("ready\n"); // tells the parent this worker handles SIGTERM now
  yield* await_promise(stop, -1);
  hclose(acceptor); // stop accepting
  hclose(ls); // closes this process's fd; the socket file is the parent's to remove
  hclose(conns);
}

// ---- the parent ---------------------------------------------------------------------------
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.stdout!.once("data", () => resolve()));
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("close", (code) => resolve(code)));
}

function* ask(path: string) {
  // Generous deadlines: the first answers wait for the workers to start up.
  const s = yield* ipc_connect(path, now() + 10_000);
  yield* bsend(s, "ping", 4, now() + 10_000);
  const reply = new Uint8Array(9);
  yield* brecv(s, reply, 9, now() + 10_000);
  yield* ipc_close(s, now() + 10_000);
  return Number(Buffer.from(reply).toString().trim());
}

function* parent() {
  const dir = mkdtempSync(join(tmpdir(), "tsdill-prefork-"));
  const path = join(dir, "prefork.sock");
  try {
    // Listen on a private name and link the public one once ready: the parent closes its own
    // listener right after spawning (else Node would accept connections in the parent too), and
    // closing removes the name it bound, while the socket lives on in the workers' fds.
    const priv = join(dir, ".private.sock");
    const ls = yield* ipc_listen(priv, 128);
    linkSync(priv, path);
    const made = lstatSync(path); // which file is ours: another may replace it meanwhile
    const children: ChildProcess[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const args = [...process.execArgv, process.argv[1]!, "worker"];
      children.push(spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit", ipc_listener_fd(ls)] }));
    }
    hclose(ls);
    yield* await_promise(Promise.all(children.map(ready)), now() + 30_000);
    const pids = new Set(children.map((c) => c.pid));
    let answered = 0;
    for (let i = 0; i < 20; i++) if (pids.has(yield* ask(path))) answered++;
    console.log(`${answered} of 20 requests answered by the ${WORKERS} workers`);
    for (const c of children) c.kill("SIGTERM");
    const codes = yield* await_promise(Promise.all(children.map(exited)), now() + 10_000);
    console.log(`workers exited with codes ${codes.join(", ")}`);
    const there = lstatSync(path, { throwIfNoEntry: false });
    if (there !== undefined && there.dev === made.dev && there.ino === made.ino) unlinkSync(path);
    console.log(`socket file removed: ${!existsSync(path)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "worker") {
  await run(worker);
} else {
  await run(parent);
  const st = dill_stats();
  console.log(`left open: ${st.coroutines} coroutines, ${st.handles} handles`);
}
