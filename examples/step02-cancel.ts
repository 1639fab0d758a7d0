// Step 2: go() and hclose(): cancellation runs finally blocks, synchronously.
import { DillError, go, hclose, msleep, now, run } from "tsdill";

let ticks = 0;

function* worker(name: string) {
  try {
    for (;;) {
      yield* msleep(now() + 20);
      console.log(`${name}: tick ${++ticks}`);
    }
  } catch (e) {
    console.log(`${name}: caught ${(e as DillError).code} in ${(e as DillError).syscall}`);
    throw e; // let the cancellation unwind: it is not reported as an error
  } finally {
    console.log(`${name}: finally runs`);
    try {
      yield* msleep(now() + 10); // cleanup cannot block once cancelled
    } catch (e) {
      console.log(`${name}: blocking in finally fails with ${(e as DillError).code}`);
    }
  }
}

function* starter() {
  console.log("starter: runs inside go(), up to its first blocking call");
  try {
    yield* msleep(-1);
  } finally {
    console.log("starter: cancelled there, its finally runs");
  }
}

function* selfCloser(me: { h: number }) {
  yield* msleep(now() + 1); // by now go() has returned, and me.h is set
  hclose(me.h); // closing your own handle marks you cancelled...
  console.log("selfCloser: still running after hclose on itself");
  try {
    yield* msleep(now() + 10); // ...and the next blocking call fails
  } catch (e) {
    console.log(`selfCloser: next blocking call fails with ${(e as DillError).code}`);
  }
}

await run(function* main() {
  const cr = go(worker("worker"));
  while (ticks < 2) yield* msleep(now() + 5); // let the worker tick twice
  console.log("main: hclose(worker)");
  hclose(cr); // returns only after the worker has exited
  console.log("main: hclose returned, the worker is gone");

  hclose(go(starter())); // starter has already run up to its msleep
  console.log("main: hclose(go(starter())) returned");

  const me = { h: -1 };
  me.h = go(selfCloser(me));
  yield* msleep(now() + 20);
  console.log("main: done");
});
