/**
 * A child process for test/fd.test.ts, run with TSDILL_NO_ADDON=1 so that tsdill loads as if its
 * native part were absent: the fd calls must fail with ENOTSUP saying why, everything else works.
 * Prints one JSON line.
 */
import { openSync } from "node:fs";
import {
  type Op,
  brecv,
  bsend,
  DillError,
  fdclean,
  fdin,
  fdout,
  hclose,
  ipc_pair,
  ipc_recvfd,
  ipc_sendfd,
  run,
} from "../src/index.js";

function* codeAndMessage(op: Op<unknown>): Generator<unknown, string, unknown> {
  try {
    yield* op;
    return "OK";
  } catch (e) {
    if (e instanceof DillError) return `${e.code} ${e.message}`;
    throw e;
  }
}

const out: Record<string, string> = {};
await run(function* () {
  const fd = openSync("/dev/null", "r");
  out.fdin = yield* codeAndMessage(fdin(fd, -1));
  out.fdout = yield* codeAndMessage(fdout(fd, 0));
  fdclean(fd);
  const [a, b] = yield* ipc_pair();
  out.sendfd = yield* codeAndMessage(ipc_sendfd(a, fd, -1));
  out.recvfd = yield* codeAndMessage(ipc_recvfd(b, 0));
  yield* bsend(a, "still works", 11, -1);
  const buf = new Uint8Array(11);
  yield* brecv(b, buf, 11, -1);
  out.bytes = Buffer.from(buf).toString();
  hclose(a);
  hclose(b);
});
console.log(JSON.stringify(out));
