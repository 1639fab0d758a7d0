/**
 * The supervisor of `tsdill serve --workers N`: it holds the listening socket as an inherited fd
 * (without listening on it itself), starts N worker processes on it, restarts a worker that
 * dies, and stops them all on a signal or when its own parent is gone.
 *
 * - Workers are started one after the other, each as `tsdill serve --listen-fd 3`, the socket as
 *   its fd 3, in a process group of its own: signals reach a worker only through the supervisor,
 *   once each, never also from the terminal.
 * - A worker that dies is logged and started again after a back-off: `restartDelay` ms after a
 *   first death, doubling with each further quick death (within {@link QUICK} ms of its start, or
 *   before it served), up to {@link MAX_DELAY}. After more than `maxRestarts` quick deaths in a
 *   row the supervisor gives up: it stops every worker and exits with code 1.
 * - A stop request (SIGINT, SIGTERM, SIGHUP, or the parent gone) is forwarded to every worker,
 *   each further signal too (a worker cuts its grace period short at the second). The socket file
 *   is removed at once (if it is still the server's), the supervisor's fd closed, and the
 *   supervisor waits for every worker to drain and exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync } from "node:fs";
import { await_promise, bundle, bundle_go, hclose, msleep, now, type Op } from "../index.js";
import { ignoreBrokenOutput, watchParent } from "./parent.js";
import { onSignals } from "./signals.js";
import { removal, removeIfOurs } from "./socketfile.js";

/** A worker dying within this many ms of its start dies quickly. */
export const QUICK = 10_000;
/** The longest back-off before a restart, in ms. */
export const MAX_DELAY = 10_000;

export interface SupervisorConfig {
  /** The inherited listening socket. */
  fd: number;
  workers: number;
  restartDelay: number;
  maxRestarts: number;
  /** The socket file and its identity (DEV:INO), to remove it at the stop; null: none to remove. */
  socket: string | null;
  socketId: string | null;
  /** Arguments every worker gets (timeouts, limits, --trace...). */
  workerArgs: string[];
  /** Stdin is a pipe from the parent: stop when it ends. */
  parentPipe: boolean;
  trace: boolean;
}

/** One worker slot: the process serving in it now, and how its processes fared. */
class Worker {
  child: ChildProcess | null = null;
  pid = 0;
  ready = false;
  started = 0;
  /** Quick deaths in a row. */
  quick = 0;
  /** Settles when the current process has ended. */
  ended: Promise<void> = Promise.resolve();
  /** Settles once the first process was spawned (or could not be). */
  readonly spawned: Promise<void>;
  private spawnedResolve!: () => void;
  constructor(readonly n: number) {
    this.spawned = new Promise((r) => (this.spawnedResolve = r));
  }
  markSpawned(): void {
    this.spawnedResolve();
  }
  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }
}

function how(code: number | null, sig: NodeJS.Signals | null, err: Error | null): string {
  if (err !== null) return `could not be started (${(err as NodeJS.ErrnoException).code ?? err.message})`;
  return sig !== null ? `was killed by ${sig}` : `exited with code ${code}`;
}

class Supervisor {
  readonly workers: Worker[] = [];
  stopping = false;
  /** Workers that ended badly during the stop. */
  bad = 0;
  /** Settles when the supervisor gives up on a worker that keeps dying. */
  readonly gaveUp: Promise<string>;
  giveUp!: (why: string) => void;
  private readyCount = 0;
  private announced = false;

  constructor(readonly cfg: SupervisorConfig) {
    this.gaveUp = new Promise((r) => (this.giveUp = r));
  }

  /** Send `sig` to every worker alive (a worker not serving yet may die of it: that is expected). */
  signal(sig: NodeJS.Signals): void {
    for (const w of this.workers) if (w.alive) w.child!.kill(sig);
  }

  /** Start worker `w`'s next process. */
  start(w: Worker): void {
    w.started = Date.now();
    w.ready = false;
    let child: ChildProcess;
    try {
      child = this.spawnWorker(w);
    } catch (e) {
      w.child = null;
      w.markSpawned();
      this.onEnd(w, null, null, e as Error);
      w.ended = Promise.resolve();
      return;
    }
    w.child = child;
    w.pid = child.pid ?? 0;
    child.stdin!.on("error", () => {}); // EPIPE once it is gone
    let tail = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      process.stdout.write(d);
      if (w.ready) return;
      tail = (tail + d).slice(-4096);
      if (/serving on .*\n/.test(tail)) this.onReady(w);
    });
    child.on("spawn", () => w.markSpawned());
    w.ended = new Promise((resolve) => {
      let done = false;
      const end = (code: number | null, sig: NodeJS.Signals | null, err: Error | null) => {
        if (done) return;
        done = true;
        w.markSpawned();
        this.onEnd(w, code, sig, err);
        resolve();
      };
      child.on("error", (e) => {
        if (child.pid === undefined) end(null, null, e);
      });
      child.on("close", (code, sig) => end(code, sig, null));
    });
  }

  private spawnWorker(w: Worker): ChildProcess {
    const cfg = this.cfg;
    return spawn(
      process.execPath,
      [
        ...process.execArgv,
        process.argv[1]!,
        "serve",
        "--listen-fd",
        "3",
        "--name",
        `worker ${w.n}`,
        "--parent-pipe",
        ...cfg.workerArgs,
      ],
      { stdio: ["pipe", "pipe", "inherit", cfg.fd], detached: true },
    );
  }

  private onReady(w: Worker): void {
    w.ready = true;
    if (this.announced || ++this.readyCount < this.cfg.workers) return;
    this.announced = true;
    const at = this.cfg.socket ?? `fd ${this.cfg.fd}`;
    console.log(
      `listening on ${at} with ${this.cfg.workers} workers (pids ${this.workers.map((x) => x.pid).join(", ")})`,
    );
  }

  private onEnd(w: Worker, code: number | null, sig: NodeJS.Signals | null, err: Error | null): void {
    if (this.stopping) {
      // A worker stopped before it served may die of the stop signal itself.
      if (code !== 0 && !(sig !== null && !w.ready)) {
        this.bad++;
        console.error(`tsdill serve: worker ${w.n} (pid ${w.pid}) ${how(code, sig, err)} while stopping`);
      }
      return;
    }
    const lived = Date.now() - w.started;
    w.quick = lived < QUICK || !w.ready ? w.quick + 1 : 1;
    const what = `worker ${w.n} (pid ${w.pid}) ${how(code, sig, err)} after ${(lived / 1000).toFixed(1)} s`;
    if (w.quick > this.cfg.maxRestarts) {
      console.error(
        `tsdill serve: ${what}; it died ${w.quick} times in a row within ${QUICK / 1000} s of its start: giving up`,
      );
      this.giveUp(`worker ${w.n} keeps dying`);
      return;
    }
    console.error(`tsdill serve: ${what}; restarting it in ${this.delay(w)} ms`);
  }

  delay(w: Worker): number {
    return Math.min(this.cfg.restartDelay * 2 ** Math.max(0, w.quick - 1), MAX_DELAY);
  }
}

/** Keep worker `w` running: start it, and start it again after each death, until the stop. */
function* keep(w: Worker, sup: Supervisor) {
  for (;;) {
    if (sup.stopping) {
      w.markSpawned();
      return;
    }
    sup.start(w);
    yield* await_promise(w.ended, -1);
    if (sup.stopping || w.quick > sup.cfg.maxRestarts) return;
    yield* msleep(now() + sup.delay(w));
    if (sup.stopping) return;
  }
}

/** Run the supervisor; resolves with the exit code. */
export function* supervise(cfg: SupervisorConfig): Op<number> {
  const sup = new Supervisor(cfg);
  ignoreBrokenOutput();
  const stop = onSignals(["SIGINT", "SIGTERM", "SIGHUP"], (sig) => {
    sup.stopping = true;
    sup.signal(sig);
  });
  if (cfg.trace) process.on("SIGUSR2", () => sup.signal("SIGUSR2"));
  if (cfg.parentPipe)
    watchParent(() => {
      if (!sup.stopping) console.error("tsdill serve: the parent process is gone: stopping the workers");
      sup.stopping = true;
      sup.signal("SIGTERM");
      stop.fire("parent gone");
    });
  // The parent holds signals back until this line: from now on they are handled.
  console.log(`supervisor (pid ${process.pid}): starting ${cfg.workers} workers`);
  const keepers = bundle();
  let code = 0;
  try {
    for (let i = 1; i <= cfg.workers && !sup.stopping; i++) {
      const w = new Worker(i);
      sup.workers.push(w);
      bundle_go(keepers, keep(w, sup));
      // One at a time, with a turn of the event loop between two: signals are handled meanwhile.
      yield* await_promise(w.spawned, -1);
      yield* await_promise(new Promise((r) => setImmediate(r)), -1);
    }
    const why = yield* await_promise(Promise.race([stop.promise, sup.gaveUp.then((r) => `gave up: ${r}`)]), -1);
    if (!sup.stopping) {
      sup.stopping = true;
      sup.signal("SIGTERM");
    }
    if (why.startsWith("gave up")) code = 1;
    let removed = "";
    if (cfg.socket !== null && cfg.socketId !== null)
      removed = `; ${removal(cfg.socket, removeIfOurs(cfg.socket, cfg.socketId))}`;
    try {
      closeSync(cfg.fd); // the workers hold the socket; it closes with the last of them
    } catch {
      // closed already
    }
    yield* await_promise(Promise.all(sup.workers.map((w) => w.ended)), -1);
    if (sup.bad > 0) code = 1;
    console.log(`all ${sup.workers.length} workers exited${sup.bad ? `, ${sup.bad} with an error` : ""}${removed}`);
  } finally {
    hclose(keepers);
  }
  return code;
}
