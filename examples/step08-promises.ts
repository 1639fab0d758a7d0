// Step 8: Promises. run() turns a coroutine into a Promise; await_promise waits for a Promise
// inside a coroutine, and can be cancelled or time out like any other blocking call.
import { setTimeout as delay } from "node:timers/promises";
import { await_promise, DillError, go, hclose, msleep, now, run } from "tsdill";

function* fetcher() {
  try {
    // Pass a function to get an AbortSignal: it is aborted if the wait ends early.
    yield* await_promise(async (signal) => {
      signal.addEventListener("abort", () => console.log("fetcher: the producer saw the abort"));
      await delay(1000, undefined, { signal }).catch(() => {});
    }, -1);
  } finally {
    console.log("fetcher: finally runs");
  }
}

const result = await run(function* main() {
  const v = yield* await_promise(delay(20, "resolved value"), now() + 1000);
  console.log(`await_promise returned "${v}"`);

  try {
    yield* await_promise(Promise.reject(new Error("no luck")), -1);
  } catch (e) {
    console.log(`a rejection is thrown as is: ${(e as Error).message}`);
  }

  try {
    yield* await_promise(delay(1000), now() + 20);
  } catch (e) {
    console.log(`a slow Promise with a 20 ms deadline: ${(e as DillError).code}`);
  }

  const cr = go(fetcher());
  yield* msleep(now() + 10);
  hclose(cr); // cancels the wait: the signal is aborted, finally runs
  return "main's result";
});
console.log(`await run(...) gave "${result}"`);

// run() from plain async code: several roots may run side by side.
const both = await Promise.all([
  run(function* () {
    yield* msleep(now() + 10);
    return 1;
  }),
  run(function* () {
    return 2;
  }),
]);
console.log(`Promise.all over two run() calls: ${both}`);
