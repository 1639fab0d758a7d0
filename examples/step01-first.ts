// Step 1: run() and a first coroutine.
import { go, hclose, msleep, now, run } from "tsdill";

function* hello(name: string) {
  console.log(`hello, ${name}`);
  yield* msleep(now() + 20);
  console.log(`goodbye, ${name}`);
}

const answer = await run(function* main() {
  console.log("main: starting");
  const cr = go(hello("world")); // returns a handle at once
  console.log(`main: launched coroutine, handle ${cr}; it has not run yet`);
  yield* msleep(now() + 50); // a scheduling point: hello runs now
  console.log("main: closing the handle");
  hclose(cr); // hello has already finished: this just frees the handle
  return 42;
});
console.log(`run() resolved with ${answer}`);
