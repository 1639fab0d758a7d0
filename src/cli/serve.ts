/** `tsdill serve`: the key-value server on a Unix socket, alone or with pre-forked workers. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dill_print_tree, dill_stats, ipc_listen, ipc_listener_fromfd, isDillError, now, run } from "../index.js";
import { optionHelp, type Parsed, parseArgs, type Spec, UsageError } from "./args.js";
import { prefork } from "./prefork.js";
import { DEFAULT_OPTIONS, Server, type ServerOptions, serveListener, summary } from "./server.js";
import { onSignals } from "./signals.js";

export const DEFAULT_SOCKET = join(tmpdir(), "tsdill.sock");

export const SERVE_SPEC: Spec = {
  socket: { kind: "string", value: "PATH", help: `the socket file to listen on (default ${DEFAULT_SOCKET})` },
  "request-timeout": {
    kind: "count",
    value: "MS",
    help: `deadline of each request (default ${DEFAULT_OPTIONS.requestTimeout})`,
  },
  grace: {
    kind: "int",
    value: "MS",
    help: `at shutdown, how long open connections may go on (default ${DEFAULT_OPTIONS.grace})`,
  },
  "max-conns": {
    kind: "count",
    help: `connections served at once; more get ERR EBUSY (default ${DEFAULT_OPTIONS.maxConns})`,
  },
  "max-body": { kind: "int", value: "BYTES", help: `largest SET or ECHO body (default ${DEFAULT_OPTIONS.maxBody})` },
  backlog: { kind: "count", help: "connections the kernel queues before they are accepted (default 1024)" },
  workers: { kind: "count", help: "pre-fork N worker processes sharing the listening socket" },
  trace: { kind: "flag", help: "print the live tree of coroutines to stderr every --trace-interval ms and on SIGUSR2" },
  "trace-interval": { kind: "count", value: "MS", help: "how often --trace prints the tree (default 2000)" },
  "listen-fd": { kind: "int", value: "FD", help: "serve on an inherited listening socket (what --workers uses)" },
  name: { kind: "string", value: "NAME", help: "the name in the summary (default: server)" },
};

export const SERVE_HELP = `Usage: tsdill serve [options]

A concurrent key-value server over a Unix-domain socket: one coroutine per connection in a
bundle, a deadline on every request, graceful shutdown on SIGINT and SIGTERM. The protocol is
line-based (PING, SET, GET, DEL, ECHO, SLEEP, STATS, QUIT), see docs/server.md; try it with
  socat - UNIX-CONNECT:${DEFAULT_SOCKET}

Options:
${optionHelp(SERVE_SPEC)}`;

export function serverOptions(o: Parsed): ServerOptions {
  return {
    requestTimeout: (o["request-timeout"] as number | undefined) ?? DEFAULT_OPTIONS.requestTimeout,
    grace: (o.grace as number | undefined) ?? DEFAULT_OPTIONS.grace,
    maxConns: (o["max-conns"] as number | undefined) ?? DEFAULT_OPTIONS.maxConns,
    maxBody: (o["max-body"] as number | undefined) ?? DEFAULT_OPTIONS.maxBody,
    trace: o.trace ? ((o["trace-interval"] as number | undefined) ?? 2000) : 0,
  };
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
  if (o.workers !== undefined && o["listen-fd"] !== undefined)
    throw new UsageError("--workers and --listen-fd exclude each other");
  if (o.workers !== undefined) return prefork(path, backlog, o.workers as number, argv);
  const fd = o["listen-fd"] as number | undefined;
  const name = (o.name as string | undefined) ?? "server";
  const trace = opts.trace > 0;
  const stopper = onSignals(["SIGINT", "SIGTERM"]);
  const sigusr2 = () => dill_print_tree(process.stderr);
  if (trace) process.on("SIGUSR2", sigusr2);
  const srv = new Server(opts);
  try {
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
      yield* serveListener(ls, srv, stopper.promise);
    });
  } finally {
    stopper.dispose();
    process.removeListener("SIGUSR2", sigusr2);
  }
  if (srv.stopped === 0) return 1; // it never listened
  const st = dill_stats();
  console.log(summary(srv, name));
  console.log(`  left open: ${st.coroutines} coroutines, ${st.handles} handles`);
  return 0;
}
