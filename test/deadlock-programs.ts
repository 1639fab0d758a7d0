/**
 * Programs for the deadlock tests, shared by the in-process tests (virtual clock) and the child
 * process that runs them on the real clock (`deadlock-child.ts`). Each closes what it made in
 * `finally`, so that a deadlocked run, whose root is cancelled, leaves nothing behind.
 */
import net from "node:net";
import path from "node:path";
import {
  await_promise,
  brecv,
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  go,
  hclose,
  ipc_accept,
  ipc_close,
  ipc_listen,
} from "../src/index.js";

function* greeter(ch: number) {
  yield* chsend(ch, "hello", -1); // waits for main to receive: main is sending too
  yield* chrecv(ch, -1);
}

/** Two coroutines both send first on the two ends of one channel: neither ever receives. */
export function* rendezvousCycle() {
  const [a, b] = chmake();
  const cr = go(greeter(a));
  try {
    yield* chsend(b, "hello", -1);
    yield* chrecv(b, -1);
  } finally {
    hclose(cr);
    hclose(a);
    hclose(b);
  }
}

function* producer(ch: number) {
  for (let i = 0; i < 3; i++) yield* chsend(ch, i, -1);
  // chdone(ch) forgotten: the consumer waits for more for ever.
}

/** A consumer reads until EPIPE, but the producer returns without chdone. */
export function* forgottenChdone() {
  const [a, b] = chmake();
  const cr = go(producer(a));
  try {
    for (;;) yield* chrecv(b, -1);
  } finally {
    hclose(cr);
    hclose(a);
    hclose(b);
  }
}

function* selfWaiter(b: number) {
  yield* bundle_wait(b, -1);
}

/** A member of a bundle waits for the bundle, which cannot finish before the member does. */
export function* bundleWaitsOnItself() {
  const b = bundle();
  try {
    bundle_go(b, selfWaiter(b));
    yield* bundle_wait(b, -1);
  } finally {
    hclose(b);
  }
}

/** Waits for a Promise that a Node timer resolves later: not a deadlock. */
export function* promiseResolvedLater() {
  return yield* await_promise(new Promise<string>((r) => setTimeout(() => r("resolved"), 30)), -1);
}

/**
 * Waits in ipc_accept, then brecv, for a peer outside tsdill (a plain node:net client that
 * connects and writes after a Node timer): not a deadlock.
 */
export function* socketWait(dir: string) {
  const addr = path.join(dir, "deadlock.ipc");
  const ls = yield* ipc_listen(addr, 1);
  let s = -1;
  try {
    setTimeout(() => {
      const c = net.connect(addr, () => c.end("hi"));
    }, 30);
    s = yield* ipc_accept(ls, -1);
    const buf = new Uint8Array(2);
    yield* brecv(s, buf, 2, -1);
    return Buffer.from(buf).toString();
  } finally {
    if (s >= 0) yield* ipc_close(s, -1);
    hclose(ls);
  }
}
