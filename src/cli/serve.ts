/**
 * `tsdill serve`: the key-value server on a Unix socket, alone or with pre-forked workers.
 *
 * - no `--workers`: one process listens on `--socket` (or serves on `--listen-fd`);
 * - `--workers N`: this process makes the socket and starts a supervisor on it (prefork.ts);
 * - `--workers N --listen-fd FD`: the supervisor itself, over an inherited socket (supervisor.ts),
 *   which runs each worker as `--listen-fd 3`.
 */
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { constants } from "node:buffer";
import { fstatSync } from "node:fs";
import { dill_stats, ipc_listen, ipc_listener_fromfd, isDillError, now, run } from "../index.js";
import { optionHelp, type Parsed, parseArgs, type Spec, UsageError } from "./args.js";
import { ignoreBrokenOutput, watchParent } from "./parent.js";
import { prefork } from "./prefork.js";
import { serveListener } from "./server.js";
import { onSignals } from "./signals.js";
import { DEFAULT_OPTIONS, Server, type ServerOptions, summary } from "./state.js";
import { supervise } from "./supervisor.js";
import { printTree } from "./trace.js";

export const DEFAULT_SOCKET = join(tmpdir(), "tsdill.sock");

/** The most workers by default: four per core the process may use. */
export const DEFAULT_MAX_WORKERS = 4 * availableParallelism();

/** The longest timeout an option takes, in ms (about 24 days). */
const MAX_MS = 2 ** 31 - 1;

export const SERVE_SPEC: Spec = {
  socket: { kind: "string", value: "PATH", help: `the socket file to listen on (default ${DEFAULT_SOCKET})` },
  "request-timeout": {
    kind: "count",
    value: "MS",
    max: MAX_MS,
    help: `deadline of each request, from its line to its answer (default ${DEFAULT_OPTIONS.requestTimeout})`,
  },
  "idle-timeout": {
    kind: "int",
    value: "MS",
    max: MAX_MS,
    help: `close a connection that sends no request for MS ms; 0: never (default ${DEFAULT_OPTIONS.idleTimeout})`,
  },
  "line-timeout": {
    kind: "int",
    value: "MS",
    max: MAX_MS,
    help: `close a connection whose request line is not complete MS ms after it began; 0: no limit (default ${DEFAULT_OPTIONS.lineTimeout})`,
  },
  grace: {
    kind: "int",
    value: "MS",
    max: MAX_MS,
    help: `at shutdown, how long open connections may go on (default ${DEFAULT_OPTIONS.grace})`,
  },
  "max-conns": {
    kind: "count",
    help: `connections served at once; more get ERR EBUSY (default ${DEFAULT_OPTIONS.maxConns})`,
  },
  "max-body": {
    kind: "int",
    value: "BYTES",
    max: constants.MAX_LENGTH,
    help: `largest SET or ECHO body (default ${DEFAULT_OPTIONS.maxBody})`,
  },
  "max-keys": {
    kind: "count",
    max: 2 ** 24 - 1,
    help: `keys the store holds; a SET of one more gets ERR ENOMEM (default ${DEFAULT_OPTIONS.maxKeys})`,
  },
  "max-bytes": {
    kind: "int",
    value: "BYTES",
    help: `bytes the store holds, keys and values; a SET past it gets ERR ENOMEM (default ${DEFAULT_OPTIONS.maxBytes})`,
  },
  backlog: {
    kind: "count",
    max: 2 ** 31 - 1,
    help: "connections the kernel queues before they are accepted (default 1024)",
  },
  workers: { kind: "count", help: "pre-fork N worker processes sharing the listening socket" },
  "max-workers": {
    kind: "count",
    help: `the most --workers accepted (default ${DEFAULT_MAX_WORKERS}: 4 per available core)`,
  },
  "restart-delay": {
    kind: "int",
    value: "MS",
    max: MAX_MS,
    help: "with --workers: wait before restarting a dead worker, doubled at each quick death (default 100)",
  },
  "max-restarts": {
    kind: "int",
    help: "with --workers: give up (exit 1) after more quick deaths of a worker in a row (default 5)",
  },
  trace: { kind: "flag", help: "print the live tree of coroutines to stderr every --trace-interval ms and on SIGUSR2" },
  "trace-interval": {
    kind: "count",
    value: "MS",
    max: MAX_MS,
    help: "how often --trace prints the tree (default 2000)",
  },
  "listen-fd": {
    kind: "int",
    value: "FD",
    help: "serve on an inherited listening socket (what each worker does); with --workers, supervise workers on it",
  },
  name: { kind: "string", value: "NAME", help: "the name in the summary, the logs and the trace (default: server)" },
  "parent-pipe": {
    kind: "flag",
    internal: true,
    help: "stdin is a pipe from the parent process: stop when it ends",
  },
  "socket-id": {
    kind: "string",
    internal: true,
    help: "DEV:INO of --socket, removed at the stop if it is still that file",
  },
};

export const SERVE_HELP = `Usage: tsdill serve [options]

A concurrent key-value server over a Unix-domain socket: one coroutine per connection in a
bundle, a deadline on every request, limits on everything a client can make it hold, graceful
shutdown on SIGINT, SIGTERM and SIGHUP (a second signal cuts it short). The protocol is
line-based (PING, SET, GET, DEL, ECHO, SLEEP, STATS, QUIT), see docs/server.md; try it with
  socat - UNIX-CONNECT:${DEFAULT_SOCKET}

Options:
${optionHelp(SERVE_SPEC)}`;

export function serverOptions(o: Parsed): ServerOptions {
  const d = DEFAULT_OPTIONS;
  return {
    requestTimeout: (o["request-timeout"] as number | undefined) ?? d.requestTimeout,
    idleTimeout: (o["idle-timeout"] as number | undefined) ?? d.idleTimeout,
    lineTimeout: (o["line-timeout"] as number | undefined) ?? d.lineTimeout,
    grace: (o.grace as number | undefined) ?? d.grace,
    maxConns: (o["max-conns"] as number | undefined) ?? d.maxConns,
    maxBody: (o["max-body"] as number | undefined) ?? d.maxBody,
    maxKeys: (o["max-keys"] as number | undefined) ?? d.maxKeys,
    maxBytes: (o["max-bytes"] as number | undefined) ?? d.maxBytes,
    trace: o.trace ? ((o["trace-interval"] as number | undefined) ?? 2000) : 0,
    name: (o.name as string | undefined) ?? d.name,
  };
}

/** Options that only the process starting the workers uses; the rest goes on to each worker. */
const SUPERVISION = new Set([
  "socket",
  "socket-id",
  "backlog",
  "workers",
  "max-workers",
  "restart-delay",
  "max-restarts",
  "listen-fd",
  "name",
  "parent-pipe",
]);

/** The options of `o` as arguments again, those in `skip` left out. */
function args(o: Parsed, skip: Set<string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (skip.has(k) || v === undefined || v === false) continue;
    out.push(v === true ? `--${k}` : `--${k}=${String(v)}`);
  }
  return out;
}

/** Runs `tsdill serve`; resolves with the exit code. */
export async function serve(argv: readonly string[]): Promise<number> {
  const { opts: o, help } = parseArgs(argv, SERVE_SPEC);
  if (help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const path = (o.socket as string | undefined) ?? DEFAULT_SOCKET;
  const backlog = (o.backlog as number | undefined) ?? 1024;
  const opts = serverOptions(o);
  const fd = o["listen-fd"] as number | undefined;
  const workers = o.workers as number | undefined;
  ignoreBrokenOutput();
  if (workers !== undefined) {
    const max = (o["max-workers"] as number | undefined) ?? DEFAULT_MAX_WORKERS;
    if (workers > max)
      throw new UsageError(
        `--workers ${workers} is more than --max-workers (${max}${o["max-workers"] === undefined ? ": 4 per available core" : ""}); raise --max-workers to start more`,
      );
    if (fd === undefined) {
      return prefork({
        path,
        backlog,
        workers,
        supervisorArgs: args(o, new Set(["socket", "socket-id", "backlog", "listen-fd", "parent-pipe"])),
        trace: opts.trace > 0,
      });
    }
    try {
      if (!fstatSync(fd).isSocket()) throw new Error("not a socket");
    } catch {
      console.error(`tsdill serve: cannot supervise workers on fd ${fd}: it is not an open socket`);
      return 1;
    }
    const cfg = {
      fd,
      workers,
      restartDelay: (o["restart-delay"] as number | undefined) ?? 100,
      maxRestarts: (o["max-restarts"] as number | undefined) ?? 5,
      socket: (o.socket as string | undefined) ?? null,
      socketId: (o["socket-id"] as string | undefined) ?? null,
      workerArgs: args(o, SUPERVISION),
      parentPipe: o["parent-pipe"] === true,
      trace: opts.trace > 0,
    };
    return run(function* supervisorMain() {
      return yield* supervise(cfg);
    });
  }
  return serveOne(path, backlog, fd, opts, o["parent-pipe"] === true);
}

/** One server process: on `path`, or on the inherited listening socket `fd`. */
async function serveOne(
  path: string,
  backlog: number,
  fd: number | undefined,
  opts: ServerOptions,
  parentPipe: boolean,
): Promise<number> {
  const name = opts.name;
  // Installed for good: a signal that comes while the summary is printed must not kill the process.
  const stopper = onSignals(["SIGINT", "SIGTERM", "SIGHUP"]);
  if (parentPipe) watchParent(() => stopper.fire("parent gone"));
  if (opts.trace > 0) process.on("SIGUSR2", () => printTree(name));
  const srv = new Server(opts);
  await run(function* serveMain() {
    let ls: number;
    try {
      ls = fd !== undefined ? yield* ipc_listener_fromfd(fd) : yield* ipc_listen(path, backlog);
    } catch (e) {
      if (!isDillError(e)) throw e;
      const hint =
        e.code === "EADDRINUSE" ? " (another server runs there, or a stale socket file was left: remove it)" : "";
      console.error(`tsdill serve: cannot listen on ${fd !== undefined ? `fd ${fd}` : path}: ${e.code}${hint}`);
      return;
    }
    srv.started = now();
    console.log(
      fd !== undefined
        ? `${name}: serving on fd ${fd} (pid ${process.pid})`
        : `listening on ${path} (pid ${process.pid})`,
    );
    yield* serveListener(ls, srv, stopper);
  });
  if (srv.stopped === 0) return 1; // it never listened
  const st = dill_stats();
  console.log(summary(srv));
  console.log(`  left open: ${st.coroutines} coroutines, ${st.handles} handles`);
  return 0;
}
