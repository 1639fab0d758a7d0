/**
 * `tsdill serve --workers N`: pre-forked workers. The parent listens with `ipc_listen`, hands
 * the listening socket to N worker processes as their fd 3 (child_process stdio), and each worker
 * wraps it with `ipc_listener_fromfd` and serves with its own scheduler; the kernel spreads the
 * connections among them. The parent forwards SIGINT and SIGTERM, waits for every worker to
 * drain and exit, removes the socket file and exits.
 *
 * The parent binds a private name first and links the socket file into place only once it is
 * ready; then it closes its own listener at once (Node would otherwise accept connections in the
 * parent too). Closing removes the private name; the socket lives on in the workers' fds.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { linkSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { await_promise, hclose, ipc_listen, ipc_listener_fd, isDillError, run } from "../index.js";
import { onSignals } from "./signals.js";

/** Arguments of `serve` minus those only the parent uses. */
function workerArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith("--") ? a.slice(2).split("=")[0]! : "";
    if (name === "workers" || name === "socket" || name === "backlog") {
      if (!a.includes("=")) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on("close", (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

/** A worker and the signal to give it once it can take one. */
interface Worker {
  child: ChildProcess;
  ready: boolean;
  pending: NodeJS.Signals | null;
}

/**
 * Relay a worker's output; it is ready for signals once it says it serves (before that, a
 * signal would kill it while it is still starting up, so it is held back until then).
 */
function watch(w: Worker): void {
  w.child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    process.stdout.write(d);
    if (!w.ready && d.includes("serving on")) {
      w.ready = true;
      if (w.pending !== null) w.child.kill(w.pending);
    }
  });
}

export async function prefork(path: string, backlog: number, n: number, argv: readonly string[]): Promise<number> {
  const workers: Worker[] = [];
  const stop = onSignals(["SIGINT", "SIGTERM"], (sig) => {
    for (const w of workers) {
      if (w.child.exitCode !== null) continue;
      if (w.ready) w.child.kill(sig);
      else w.pending = sig;
    }
  });
  let code = 0;
  try {
    await run(function* preforkMain() {
      const priv = join(dirname(path), `.tsdill-${process.pid}.sock`);
      let ls: number;
      try {
        ls = yield* ipc_listen(priv, backlog);
      } catch (e) {
        if (!isDillError(e)) throw e;
        console.error(`tsdill serve: cannot listen in ${dirname(path)}: ${e.code}`);
        code = 1;
        return;
      }
      try {
        linkSync(priv, path); // fails if the path exists: libdill's EADDRINUSE
      } catch (e) {
        hclose(ls);
        const c = (e as NodeJS.ErrnoException).code;
        console.error(
          `tsdill serve: cannot listen on ${path}: ${c === "EEXIST" ? "EADDRINUSE (another server runs there, or a stale socket file was left: remove it)" : c}`,
        );
        code = 1;
        return;
      }
      const fd = ipc_listener_fd(ls);
      const script = process.argv[1]!;
      for (let i = 1; i <= n; i++) {
        const child = spawn(
          process.execPath,
          [...process.execArgv, script, "serve", "--listen-fd", "3", "--name", `worker ${i}`, ...workerArgs(argv)],
          {
            stdio: ["ignore", "pipe", "inherit", fd],
          },
        );
        const w: Worker = { child, ready: false, pending: null };
        watch(w);
        workers.push(w);
      }
      const children = workers.map((w) => w.child);
      hclose(ls); // the workers hold the socket now
      console.log(`listening on ${path} with ${n} workers (pids ${children.map((c) => c.pid).join(", ")})`);
      const codes = yield* await_promise(Promise.all(children.map(exited)), -1);
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
      const bad = codes.filter((c) => c !== 0).length;
      console.log(`all ${n} workers exited${bad ? `, ${bad} with an error` : ""}; removed ${path}`);
      if (bad) code = 1;
    });
  } finally {
    stop.dispose();
  }
  return code;
}
