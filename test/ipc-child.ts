/**
 * Child process of the IPC tests (run with `node --import tsx`). Each scenario prints one JSON
 * line with what happened, by errno name.
 *   emfile DIR            exhaust the fd limit, then try ipc_listen, ipc_connect, ipc_pair
 *   eacces DIR            (run as an unprivileged user) listen in DIR/ro, connect to DIR/locked
 *   enfile DIR            (run without CAP_SYS_ADMIN) write DIR/ready, wait for DIR/go (the parent
 *                         has lowered fs.file-max meanwhile), exhaust the system's files, then
 *                         try ipc_listen, ipc_connect, ipc_pair
 *   fromfd-echo N         fd 3 is a connected socket: echo N bytes on it, then ipc_close
 *   listener-fromfd N     fd 3 is a listening socket: accept one connection, echo N bytes, close
 *   emfile-accept DIR     listen on DIR/ea.ipc, exhaust the fd limit, print "exhausted" and wait in
 *                         ipc_accept until DIR/dropped exists (the parent's connection was dropped
 *                         meanwhile); free the fds, print "freed", accept the parent's next
 *                         connection and read 5 bytes from it
 *   listen-mode DIR MODE  listen on DIR/mode.ipc (with { mode: MODE } unless MODE is "-"), report
 *                         the socket file's permission bits and the umask after the call, close
 */
import fs from "node:fs";
import path from "node:path";
import {
  DillError,
  type Op,
  brecv,
  bsend,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_fromfd,
  ipc_listen,
  ipc_listener_fromfd,
  ipc_pair,
  msleep,
  now,
  run,
} from "../src/index.js";

function* codeOf(op: Op<unknown>): Op<string> {
  try {
    const r = yield* op;
    if (typeof r === "number") hclose(r);
    else if (Array.isArray(r)) for (const h of r) hclose(h as number);
    return "OK";
  } catch (e) {
    if (e instanceof DillError) return e.code;
    throw e;
  }
}

function* echo(s: number, n: number): Op<void> {
  const buf = new Uint8Array(65536);
  for (let left = n; left > 0;) {
    const k = Math.min(left, buf.length);
    yield* brecv(s, buf, k, now() + 10_000);
    yield* bsend(s, buf, k, now() + 10_000);
    left -= k;
  }
}

const [scenario, arg] = process.argv.slice(2);
const out: Record<string, string> = {};

await run(function* () {
  if (scenario === "emfile") {
    const ls = yield* ipc_listen(`${arg}/emfile.ipc`, 10);
    const fds: number[] = [];
    try {
      for (;;) fds.push(fs.openSync("/dev/null", "r"));
    } catch (e) {
      out.exhausted = (e as NodeJS.ErrnoException).code ?? "?";
    }
    out.listen = yield* codeOf(ipc_listen(`${arg}/emfile2.ipc`, 10));
    out.connect = yield* codeOf(ipc_connect(`${arg}/emfile.ipc`, now() + 5000));
    out.pair = yield* codeOf(ipc_pair());
    for (const fd of fds) fs.closeSync(fd);
    out.after = yield* codeOf(ipc_connect(`${arg}/emfile.ipc`, now() + 5000));
    hclose(ls);
  } else if (scenario === "eacces") {
    out.uid = String(process.getuid?.());
    out.listen = yield* codeOf(ipc_listen(`${arg}/ro/sock.ipc`, 10));
    out.connect = yield* codeOf(ipc_connect(`${arg}/locked.ipc`, now() + 5000));
  } else if (scenario === "enfile") {
    const ls = yield* ipc_listen(`${arg}/enfile.ipc`, 10);
    fs.writeFileSync(`${arg}/ready`, "");
    // stat allocates no file: polling works while the system is out of files
    while (!fs.existsSync(`${arg}/go`)) yield* msleep(now() + 5);
    const fds: number[] = [];
    try {
      for (let i = 0; i < 100_000; i++) fds.push(fs.openSync("/dev/null", "r"));
    } catch (e) {
      out.exhausted = (e as NodeJS.ErrnoException).code ?? "?";
    }
    out.listen = yield* codeOf(ipc_listen(`${arg}/enfile2.ipc`, 10));
    out.connect = yield* codeOf(ipc_connect(`${arg}/enfile.ipc`, now() + 5000));
    out.pair = yield* codeOf(ipc_pair());
    for (const fd of fds) fs.closeSync(fd);
    hclose(ls);
  } else if (scenario === "fromfd-echo") {
    const s = ipc_fromfd(3);
    yield* echo(s, Number(arg));
    yield* ipc_close(s, now() + 10_000);
    out.result = "OK";
  } else if (scenario === "listener-fromfd") {
    const ls = yield* ipc_listener_fromfd(3);
    const s = yield* ipc_accept(ls, now() + 10_000);
    yield* echo(s, Number(arg));
    yield* ipc_close(s, now() + 10_000);
    hclose(ls);
    out.result = "OK";
  } else if (scenario === "emfile-accept") {
    const ls = yield* ipc_listen(`${arg}/ea.ipc`, 10);
    const fds: number[] = [];
    const exhaust = (): string => {
      try {
        for (;;) fds.push(fs.openSync("/dev/null", "r"));
      } catch (e) {
        return (e as NodeJS.ErrnoException).code ?? "?";
      }
    };
    out.exhausted = exhaust();
    yield* msleep(now() + 20); // files the start-up still had open close meanwhile: take them too
    exhaust();
    console.log("exhausted");
    // Wait in ipc_accept until the parent says its connection was dropped (stat needs no fd). Each
    // round takes again any descriptor the process freed late (a file its start-up closed after
    // the first exhaust), so that none is free when the connection comes.
    do {
      exhaust();
      out.during = yield* codeOf(ipc_accept(ls, now() + 50));
    } while (out.during === "ETIMEDOUT" && !fs.existsSync(`${arg}/dropped`));
    for (const fd of fds) fs.closeSync(fd);
    console.log("freed");
    const s = yield* ipc_accept(ls, now() + 5000);
    const buf = new Uint8Array(5);
    yield* brecv(s, buf, 5, now() + 5000);
    out.after = Buffer.from(buf).toString();
    yield* ipc_close(s, now() + 5000);
    hclose(ls);
  } else if (scenario === "listen-mode") {
    const mode = process.argv[4];
    const addr = path.join(arg!, "mode.ipc");
    const ls = yield* ipc_listen(addr, 10, mode === "-" ? undefined : { mode: parseInt(mode!, 8) });
    out.mode = (fs.statSync(addr).mode & 0o777).toString(8);
    const umask = process.umask(0o022);
    process.umask(umask);
    out.umask = umask.toString(8).padStart(3, "0");
    hclose(ls);
    out.removed = String(!fs.existsSync(addr));
  } else {
    out.error = `unknown scenario ${String(scenario)}`;
  }
});
console.log(JSON.stringify(out));
