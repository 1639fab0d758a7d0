// Step 6: bundles. A bundle owns a group of coroutines: wait for all of them, or cancel them all.
import {
  bundle,
  bundle_go,
  bundle_wait,
  DillError,
  dill_configure,
  dill_stats,
  go,
  hclose,
  msleep,
  now,
  run,
} from "tsdill";

function* job(id: number, ms: number) {
  yield* msleep(now() + ms);
  console.log(`job ${id}: finished after ${ms} ms`);
}

function* slow(id: number) {
  try {
    yield* msleep(-1); // sleeps until cancelled
  } finally {
    console.log(`slow ${id}: cancelled by hclose(bundle)`);
  }
}

function* broken() {
  yield* msleep(now() + 5);
  throw new Error("something broke");
}

dill_configure({
  onUncaught: (err) => console.log(`reported: ${(err as Error).message}`),
});

await run(function* main() {
  const b = bundle();
  const delays = [30, 10, 20]; // job 1 sleeps 30 ms, job 2 10 ms, job 3 20 ms
  for (let id = 1; id <= 3; id++) bundle_go(b, job(id, delays[id - 1]!));
  console.log(`${dill_stats().coroutines - 1} jobs running`); // minus main itself
  yield* bundle_wait(b, now() + 1000); // returns when all three have returned
  console.log("bundle_wait: all jobs done; finished members leave the bundle at once");

  bundle_go(b, slow(1));
  bundle_go(b, slow(2));
  try {
    yield* bundle_wait(b, now() + 20);
  } catch (e) {
    console.log(`bundle_wait with stragglers: ${(e as DillError).code}`);
  }
  hclose(b); // cancels both stragglers and returns once they exited

  const b2 = go(broken()); // the handle go() returns is a bundle too, of one coroutine
  try {
    yield* bundle_wait(b2, -1); // the exception is reported, and surfaces here too
  } catch (e) {
    console.log(`bundle_wait rethrew it: ${(e as Error).message}`);
  }
  hclose(b2);
});
dill_configure({ onUncaught: null });
