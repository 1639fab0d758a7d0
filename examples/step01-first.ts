// Step 1: run() and a first coroutine.
import { go, hclose, msleep, now, run } from "tsdill";

function* hello(name: string) {
  console.log(`hello, ${name}`);
  yield* msleep(now() + 20);
  console.log(`goodbye, ${name}`);
}

const answer = await run(function* main() {
  console.log("main: starting");
  const cr = go(hello("world")); // hello runs at once, until its first blocking call
  console.log(`main: go returned handle ${cr}; hello is asleep`);
  yield* msleep(now() + 50); // main blocks too: hello wakes up and finishes meanwhile
  console.log("main: closing the handle");
  hclose(cr); // hello has already finished: this just frees the handle
  return 42;
});
console.log(`run() resolved with ${answer}`);
