/**
 * `tsdill serve --workers N`, the process the user starts: it makes the listening socket and its
 * file, hands the socket to a supervisor process, and waits for it.
 *
 * Node accepts connections on every listening socket it holds, so a process that keeps one
 * serves on it (or drops what arrives): this one listens with `ipc_listen` only long enough to
 * start the supervisor (`tsdill serve --workers N --listen-fd 3`, see supervisor.ts) with the
 * socket as its fd 3, then closes its own listener. The supervisor holds the socket without
 * listening on it, so that it can give it to the workers it restarts.
 *
 * It binds a private name first and links the socket file into place only once it is ready;
 * closing its listener removes the private name, while the socket lives on in the supervisor.
 * Signals (SIGINT, SIGTERM, SIGHUP, and SIGUSR2 with --trace) are forwarded to the supervisor.
 * When the supervisor has ended, the socket file is removed if it is still the one made here.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { linkSync } from "node:fs";
import { dirname, join } from "node:path";
import { await_promise, hclose, ipc_listen, ipc_listener_fd, isDillError, run } from "../index.js";
import { onSignals } from "./signals.js";
import { fileId, removal, removeIfOurs } from "./socketfile.js";

export interface PreforkConfig {
  path: string;
  backlog: number;
  workers: number;
  /** Arguments for the supervisor besides the socket (--workers, the restart policy, the workers' options). */
  supervisorArgs: string[];
  trace: boolean;
}

function ended(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise((resolve) => {
    child.on("error", () => {
      if (child.pid === undefined) resolve([1, null]);
    });
    child.on("close", (code, sig) => resolve([code, sig]));
  });
}

/** Runs `tsdill serve --workers N`; resolves with the exit code. */
export async function prefork(cfg: PreforkConfig): Promise<number> {
  const { path } = cfg;
  let sup: ChildProcess | null = null;
  /** The supervisor handles signals (it said so). */
  let up = false;
  /** A stop was requested; `early`: before the supervisor handled signals (it may die of it). */
  let stopped = false;
  let early = false;
  const names: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  if (cfg.trace) names.push("SIGUSR2");
  onSignals(names, (sig) => {
    if (sig === "SIGUSR2") {
      if (up) sup!.kill(sig);
      return;
    }
    stopped = true;
    if (!up) early = true;
    if (sup !== null && sup.exitCode === null && sup.signalCode === null) sup.kill(sig);
  });
  let code = 0;
  await run(function* preforkMain() {
    const priv = join(dirname(path), `.tsdill-${process.pid}.sock`);
    let ls: number;
    try {
      ls = yield* ipc_listen(priv, cfg.backlog);
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
    const id = fileId(path)!;
    if (stopped) {
      // Stopped while binding: nothing was started.
      hclose(ls);
      removeIfOurs(path, id);
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(
        process.execPath,
        [
          ...process.execArgv,
          process.argv[1]!,
          "serve",
          "--listen-fd",
          "3",
          "--socket",
          path,
          "--socket-id",
          id,
          "--parent-pipe",
          ...cfg.supervisorArgs,
        ],
        { stdio: ["pipe", "pipe", "inherit", ipc_listener_fd(ls)], detached: true },
      );
    } finally {
      hclose(ls); // the supervisor holds the socket now
    }
    sup = child;
    child.stdin!.on("error", () => {});
    let tail = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      process.stdout.write(d);
      if (up) return;
      tail = (tail + d).slice(-256);
      up = tail.includes("supervisor (pid");
    });
    const [c, sig] = yield* await_promise(ended(child), -1);
    const fine = c === 0 || (sig !== null && early);
    if (!fine) {
      console.error(
        `tsdill serve: the supervisor (pid ${child.pid}) ${sig !== null ? `was killed by ${sig}` : `exited with code ${c}`}`,
      );
      code = c !== null && c !== 0 ? c : 1;
    }
    const what = removeIfOurs(path, id);
    // The supervisor removes the file at the stop and says so; this is for a supervisor that could not.
    if (what === "removed" || (what === "foreign" && !fine)) console.log(removal(path, what));
  });
  return code;
}
