// Step 7: leak checking with dill_stats(). Structured concurrency means nothing outlives its owner;
// dill_stats() shows what is still open, so a test or a teacher can check it.
import { bundle, bundle_go, chmake, dill_configure, dill_stats, go, hclose, msleep, now, run } from "tsdill";

function* forever() {
  yield* msleep(-1);
}

function show(label: string) {
  const s = dill_stats();
  console.log(
    `${label}: coroutines=${s.coroutines} handles=${JSON.stringify(s.handlesByKind)} timers=${s.timers} pool=${s.pool.used}`,
  );
}

show("at start");
const leaked = await run(function* main() {
  const [a, b] = chmake();
  const cr = go(forever());
  const bn = bundle();
  bundle_go(bn, forever());
  yield* msleep(now() + 10);
  show("inside main"); // main counts as a coroutine and holds a pool storage, but has no handle
  hclose(a);
  hclose(b);
  hclose(bn);
  return cr; // hclose(cr) forgotten
});
show("after run");
hclose(leaked); // hclose works outside any coroutine too
show("after hclose(leaked)");

// With traceLaunch on, an exception escaping a coroutine is reported with where it was launched.
dill_configure({
  traceLaunch: true,
  onUncaught: (err, { site }) => {
    const where = /([\w.-]+\.ts):(\d+)/.exec(site ?? "");
    console.log(`uncaught "${(err as Error).message}", coroutine launched at ${where?.[1]} line ${where?.[2]}`);
  },
});
await run(function* main() {
  const cr = go(
    (function* () {
      throw new Error("oops");
    })(),
  );
  yield* msleep(0);
  hclose(cr);
});
dill_configure({ traceLaunch: false, onUncaught: null });
show(`at exit, ${dill_stats().uncaught} exception reported`);
