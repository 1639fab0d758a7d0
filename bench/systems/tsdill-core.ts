/**
 * The core workloads in tsdill. Every coroutine body is a top-level generator function launched
 * as `go(worker(args))`; each `main*` runs as the root coroutine of one `run()` and returns the
 * measured figure per operation.
 */
import type { ChooseClause } from "../../src/index.js";
import lib from "../tsdill.js";

import { bytesPer, cpuNs, hrnow, since, spread, wallNow, type Trials } from "../lib.js";

const {
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  choose,
  CHRECV,
  chrecv,
  CHSEND,
  chsend,
  chdone,
  dill_configure,
  dill_yield,
  go,
  hclose,
  msleep,
  now,
  run,
} = lib;

// The scaling workloads keep a million coroutines alive at once: leave room above the defaults.
dill_configure({ handles: 1 << 22, pool: 1 << 22 });

// ---- go ---------------------------------------------------------------------------------------
/** How many coroutine bodies ran: the go workloads check that every one did. */
let ran = 0;

function* bump() {
  ran++;
}

function checkRan(n: number): void {
  if (ran !== n) throw new Error(`go: ${ran} coroutine bodies ran, expected ${n}`);
}

function* goMain(n: number) {
  ran = 0;
  const t = hrnow();
  for (let i = 0; i < n; i++) hclose(go(bump()));
  const ns = since(t) / n;
  checkRan(n);
  return ns;
}

/** In waves of `wave` (as bench/c/go.c with a wave size). */
function* goRunMain(n: number, wave: number) {
  const hs: number[] = new Array(wave).fill(0);
  const waves = Math.ceil(n / wave);
  ran = 0;
  const t = hrnow();
  for (let w = 0; w < waves; w++) {
    for (let k = 0; k < wave; k++) hs[k] = go(bump()); // each runs to its end inside go()
    yield* dill_yield();
    for (let k = 0; k < wave; k++) hclose(hs[k]!);
  }
  const ns = since(t) / (waves * wave);
  checkRan(waves * wave);
  return ns;
}

// ---- ctxswitch ----------------------------------------------------------------------------------
function* yielder(n: number) {
  for (let i = 0; i < n; i++) yield* dill_yield();
}

/** shape 0: the main coroutine and one other yield in turn; 1: two coroutines of a bundle do. */
function* switchMain(n: number, shape: number) {
  const half = n >> 1;
  if (shape === 0) {
    const t = hrnow();
    const h = go(yielder(half));
    for (let i = 0; i < half; i++) yield* dill_yield();
    const ns = since(t);
    hclose(h);
    return ns / (2 * half);
  }
  const b = bundle();
  const t = hrnow();
  bundle_go(b, yielder(half));
  bundle_go(b, yielder(half));
  yield* bundle_wait(b, -1);
  const ns = since(t);
  hclose(b);
  return ns / (2 * half);
}

// ---- chan and choose ----------------------------------------------------------------------------
function* echo(inp: number, out: number) {
  for (;;) {
    const v = yield* chrecv<number>(inp, -1);
    yield* chsend(out, v, -1);
  }
}

function* chanMain(n: number) {
  const [a0, a1] = chmake<number>();
  const [b0, b1] = chmake<number>();
  const cr = go(echo(a1, b0));
  const trips = n >> 1;
  let v = 0;
  const t = hrnow();
  for (let i = 0; i < trips; i++) {
    yield* chsend(a0, v, -1);
    v = (yield* chrecv<number>(b1, -1)) + 1;
  }
  const ns = since(t);
  hclose(cr);
  hclose(a0);
  hclose(a1);
  hclose(b0);
  hclose(b1);
  if (v !== trips) throw new Error(`chan: ${v} round trips, expected ${trips}`);
  return ns / (2 * trips);
}

function* chooseMain(n: number) {
  const [a0, a1] = chmake();
  const [b0, b1] = chmake();
  const cr = go(echo(a1, b0));
  const out: ChooseClause[] = [{ op: CHSEND, ch: a0, val: 0 }];
  const inp: ChooseClause[] = [{ op: CHRECV, ch: b1 }];
  const trips = n >> 1;
  let v = 0;
  const t = hrnow();
  for (let i = 0; i < trips; i++) {
    out[0]!.val = v;
    yield* choose(out, -1);
    yield* choose(inp, -1);
    v = (inp[0]!.val as number) + 1;
  }
  const ns = since(t);
  hclose(cr);
  hclose(a0);
  hclose(a1);
  hclose(b0);
  hclose(b1);
  if (v !== trips) throw new Error(`choose: ${v} round trips, expected ${trips}`);
  return ns / (2 * trips);
}

// ---- done ---------------------------------------------------------------------------------------
function* reader(ch: number) {
  yield* chrecv(ch, -1);
}

/** Reads until a call fails: EPIPE once the other end called chdone. */
function* drain(ch: number) {
  for (;;) {
    try {
      yield* chrecv(ch, -1);
    } catch {
      return;
    }
  }
}

/** As libdill's perf/done.c: one coroutine at a time, ended by chdone and hclose. */
function* donePerfMain(n: number) {
  const t = hrnow();
  for (let i = 0; i < n; i++) {
    const [x, y] = chmake();
    const h = go(drain(x)); // runs at once and parks in chrecv
    chdone(y);
    hclose(h);
    hclose(y);
    hclose(x);
  }
  return since(t) / n;
}

/** In waves of `wave` (as bench/c/done.c with a wave size). */
function* doneMain(n: number, wave: number) {
  const hs: number[] = new Array(wave).fill(0);
  const c0: number[] = new Array(wave).fill(0);
  const c1: number[] = new Array(wave).fill(0);
  const waves = Math.ceil(n / wave);
  const t = hrnow();
  for (let w = 0; w < waves; w++) {
    for (let k = 0; k < wave; k++) {
      const [x, y] = chmake();
      c0[k] = x;
      c1[k] = y;
      hs[k] = go(reader(x));
    }
    yield* dill_yield(); // every reader has run and parked in chrecv inside go()
    for (let k = 0; k < wave; k++) {
      hclose(hs[k]!); // cancels the parked chrecv; returns once the reader has exited
      hclose(c1[k]!);
      hclose(c0[k]!);
    }
  }
  return since(t) / (waves * wave);
}

// ---- whispers -----------------------------------------------------------------------------------
function* whisper(left: number, right: number) {
  const v = yield* chrecv<number>(right, -1);
  yield* chsend(left, v + 1, -1);
}

function* whispersMain(n: number) {
  const ends: number[] = new Array(2 * (n + 1)).fill(0);
  const hs: number[] = new Array(n).fill(0);
  const t = hrnow();
  // Channel i has ends (ends[2i], ends[2i+1]); whisper i receives on channel i+1, sends on channel i.
  for (let i = 0; i <= n; i++) {
    const [p, q] = chmake();
    ends[2 * i] = p;
    ends[2 * i + 1] = q;
  }
  for (let i = 0; i < n; i++) hs[i] = go(whisper(ends[2 * i]!, ends[2 * (i + 1) + 1]!));
  yield* chsend(ends[2 * n]!, 1, -1);
  const res = yield* chrecv<number>(ends[1]!, -1);
  const ns = since(t);
  for (const h of hs) hclose(h);
  for (const h of ends) hclose(h);
  if (res !== n + 1) throw new Error(`whispers: got ${res}, expected ${n + 1}`);
  return ns / n;
}

// ---- timer --------------------------------------------------------------------------------------
/** When the first sleeper woke (ns, {@link wallNow}); 0 until then. */
let firstWake = 0;

function* sleeper(deadline: number) {
  yield* msleep(deadline);
  if (firstWake === 0) firstWake = wallNow();
}

/** CPU per timer; beside it, libdill's perf/timer.c metric: first to last firing, wall time ÷ n. */
function* timerMain(n: number) {
  firstWake = 0;
  const b = bundle();
  const c = cpuNs();
  const ds = spread(n, now() + 1);
  for (let i = 0; i < n; i++) bundle_go(b, sleeper(ds[i]!));
  yield* bundle_wait(b, -1);
  const last = wallNow();
  const cpu = cpuNs() - c;
  hclose(b);
  return { value: cpu / n, extra: { wallNs: (last - firstWake) / n } };
}

// ---- many live coroutines, and memory ------------------------------------------------------------
function* idle() {
  yield* msleep(-1);
}

function* launchIdle(hs: number[]) {
  for (let i = 0; i < hs.length; i++) hs[i] = go(idle());
  yield* dill_yield(); // every one of them runs and parks
}

function* closeAll(hs: number[]) {
  for (const h of hs) hclose(h);
}

/** The one coroutine of the gate bundle: it ends when a value comes on `ch`. */
function* gatekeeper(ch: number) {
  yield* chrecv(ch, -1);
}

/** Parked until the gate bundle is empty, as an async call awaits one pending Promise. */
function* waiter(gate: number) {
  yield* bundle_wait(gate, -1);
}

/**
 * n coroutines launched until all are parked at once on one event, then released, as the
 * async/await side parks n calls on one Promise and resolves it: each runs to its end, then its
 * handle is closed. Time per coroutine.
 */
function* liveMain(n: number) {
  const hs: number[] = new Array(n).fill(0);
  const [a, b] = chmake();
  const t = hrnow();
  const gate = bundle();
  bundle_go(gate, gatekeeper(a));
  for (let i = 0; i < n; i++) hs[i] = go(waiter(gate)); // each runs at once and parks in bundle_wait
  yield* chsend(b, 0, -1); // the gatekeeper ends: the gate is empty, every waiter is resumed
  yield* bundle_wait(gate, -1); // woken after the n waiters, which have returned by then
  for (let i = 0; i < n; i++) hclose(hs[i]!);
  const ns = since(t) / n;
  hclose(gate);
  hclose(a);
  hclose(b);
  return ns;
}

async function memCoroutine(n: number) {
  return bytesPer(n, async (k) => {
    const hs: number[] = new Array(k).fill(0);
    await run(launchIdle(hs));
    return async () => void (await run(closeAll(hs)));
  });
}

async function memChannel(n: number) {
  return bytesPer(n, async (k) => {
    const ends: number[] = new Array(2 * k).fill(0);
    for (let i = 0; i < k; i++) [ends[2 * i], ends[2 * i + 1]] = chmake();
    return async () => {
      for (const h of ends) hclose(h);
    };
  });
}

export const trials: Trials = {
  go: (n) => run(goMain(n)),
  goRun: (n, wave) => run(goRunMain(n, wave > 0 ? wave : 1000)),
  ctxswitch: (n, shape) => run(switchMain(n, shape)),
  chan: (n) => run(chanMain(n)),
  choose: (n) => run(chooseMain(n)),
  donePerf: (n) => run(donePerfMain(n)),
  done: (n, wave) => run(doneMain(n, wave > 0 ? wave : 1000)),
  whispers: (n) => run(whispersMain(n)),
  timer: (n) => run(timerMain(n)),
  live: (n) => run(liveMain(n)),
  memCoroutine,
  memChannel,
};
