/**
 * A small program with every kind of event the trace viewer draws: a launch, a rendezvous on a
 * channel, a bundle, a deadline firing, an hclose cancelling two coroutines, a chdone and the
 * channel's ends closed. Run on the
 * virtual clock, so that its trace is the same every time.
 */
import {
  bundle,
  bundle_go,
  chdone,
  chmake,
  chrecv,
  chsend,
  dill_configure,
  go,
  hclose,
  msleep,
  now,
  run,
} from "../src/index.js";

function* worker(ch: number) {
  yield* chsend(ch, 1, -1);
  yield* msleep(now() + 50);
}

function* sleeper() {
  yield* msleep(-1);
}

dill_configure({ clock: "virtual" });
await run(function* main() {
  const [a, b] = chmake();
  const w = go(worker(a));
  yield* chrecv(b, -1);
  const bn = bundle();
  bundle_go(bn, sleeper());
  bundle_go(bn, sleeper());
  try {
    yield* chrecv(b, now() + 10);
  } catch {
    // ETIMEDOUT: the deadline fires
  }
  hclose(bn);
  hclose(w);
  chdone(a);
  hclose(a);
  hclose(b);
});
