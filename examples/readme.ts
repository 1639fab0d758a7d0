import {
  bundle,
  bundle_go,
  bundle_wait,
  type Chan,
  chmake,
  chrecv,
  chsend,
  go,
  hclose,
  msleep,
  now,
  run,
} from "tsdill";

function* worker(id: number, ch: Chan<string>) {
  yield* msleep(now() + 10 * id); // pretend to work for a while
  yield* chsend(ch, `worker ${id} finished`, -1); // rendezvous: waits for the receiver
}

function* ticker() {
  try {
    for (;;) yield* msleep(now() + 5); // runs until somebody closes its handle
  } finally {
    console.log("ticker cancelled, cleanup ran");
  }
}

await run(function* main() {
  const [tx, rx] = chmake<string>(); // one channel, two ends, each a Chan<string>
  const tick = go(ticker()); // a lone coroutine: its handle is its lifetime
  const workers = bundle(); // a group of coroutines
  for (let i = 1; i <= 3; i++) bundle_go(workers, worker(i, tx));
  for (let i = 0; i < 3; i++) console.log(yield* chrecv(rx, now() + 1000));
  yield* bundle_wait(workers, now() + 1000); // every worker has returned
  hclose(workers);
  hclose(tick); // cancels the ticker and returns once its finally block ran
  hclose(tx);
  hclose(rx);
});
