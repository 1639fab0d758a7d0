// Step 3: deadlines. Every blocking call takes an absolute deadline on the now() clock.
import { chmake, chrecv, DillError, hclose, msleep, now, run } from "tsdill";

await run(function* main() {
  const start = now();
  yield* msleep(start + 50); // sleep until a point in time, not for a duration
  console.log(`msleep(now() + 50) slept at least 50 ms: ${now() - start >= 50}`);

  const [a, b] = chmake();
  try {
    yield* chrecv(b, now() + 30); // nobody sends on a: the deadline expires
  } catch (e) {
    if (!(e instanceof DillError)) throw e;
    console.log(`chrecv with a 30 ms deadline: ${e.code} (errno ${e.errno})`);
    console.log(`message: ${e.message}`);
  }

  try {
    yield* chrecv(b, 0); // 0: succeed only if a sender is already waiting
  } catch (e) {
    console.log(`chrecv with deadline 0: ${(e as DillError).code}, without waiting`);
  }

  try {
    yield* chrecv(b, -2); // neither -1, 0 nor a time: a bad argument
  } catch (e) {
    console.log(`chrecv with deadline -2: ${(e as DillError).code}`);
  }

  yield* msleep(0); // 0 or a past deadline: just let the others run once
  console.log("msleep(0) returned after one turn of the scheduler");
  hclose(a);
  hclose(b);
});
