/**
 * The engine floor: each core workload's loop over bare generator objects resumed by hand with
 * `next()` and `return()`, with no scheduler, no handles, no channels and no deadlines. It is the
 * limit that any generator-based runtime on V8 can reach on the same shape of work, so that the
 * table shows how far tsdill is from its own physical limit as well as from C. (For IPC the floor
 * is raw `node:net`, the `net` system.)
 */
import { cpuNs, hrnow, since, spread, wallNow, type Trials } from "../lib.js";

// ---- go -------------------------------------------------------------------------------------------
let ran = 0;

function* bump() {
  ran++;
}

function checkRan(n: number): void {
  if (ran !== n) throw new Error(`floor go: ${ran} bodies ran, expected ${n}`);
}

/** Create a generator object and run it to its end: go() running an empty coroutine. */
function goFloor(n: number): number {
  ran = 0;
  const t = hrnow();
  for (let i = 0; i < n; i++) bump().next();
  const ns = since(t) / n;
  checkRan(n);
  return ns;
}

/** The same in waves: `wave` generators run to their end, then the wave is dropped. */
function goRunFloor(n: number, wave: number): number {
  const gs: Generator[] = new Array<Generator>(wave);
  const waves = Math.ceil(n / wave);
  ran = 0;
  const t = hrnow();
  for (let w = 0; w < waves; w++) {
    for (let k = 0; k < wave; k++) {
      const g = bump();
      g.next();
      gs[k] = g;
    }
    gs.fill(undefined as unknown as Generator);
  }
  const ns = since(t) / (waves * wave);
  checkRan(waves * wave);
  return ns;
}

// ---- ctxswitch --------------------------------------------------------------------------------------
function* yielder(n: number) {
  for (let i = 0; i < n; i++) yield;
}

/**
 * shape 0: the driver is the main coroutine; one `next()` switches into the coroutine and back,
 * two switches. shape 1: the driver is the scheduler, resuming two coroutines in turn; one
 * `next()` is one switch from one to the other.
 */
function switchFloor(n: number, shape: number): number {
  const half = n >> 1;
  if (shape === 0) {
    const t = hrnow();
    const g = yielder(half);
    for (let i = 0; i < half; i++) g.next();
    g.next(); // ends it
    return since(t) / (2 * half);
  }
  const t = hrnow();
  const a = yielder(half);
  const b = yielder(half);
  for (let i = 0; i < half; i++) {
    a.next();
    b.next();
  }
  a.next();
  b.next();
  return since(t) / (2 * half);
}

// ---- chan (and choose) ------------------------------------------------------------------------------
function* echo(): Generator<number, void, number> {
  let v = yield 0;
  for (;;) v = yield v;
}

/** One `next(v)` carries a value in and its echo out: one round trip, two messages. */
function chanFloor(n: number): number {
  const trips = n >> 1;
  const g = echo();
  g.next(0);
  let v = 0;
  const t = hrnow();
  for (let i = 0; i < trips; i++) v = g.next(v).value! + 1;
  const ns = since(t);
  g.return();
  if (v !== trips) throw new Error(`floor chan: ${v} round trips, expected ${trips}`);
  return ns / (2 * trips);
}

// ---- done --------------------------------------------------------------------------------------------
let cleaned = 0;

function* parked() {
  try {
    yield;
  } finally {
    cleaned++;
  }
}

/** A generator run to its first yield (parked), then ended by `return()`: its `finally` runs. */
function donePerfFloor(n: number): number {
  cleaned = 0;
  const t = hrnow();
  for (let i = 0; i < n; i++) {
    const g = parked();
    g.next();
    g.return(undefined);
  }
  const ns = since(t) / n;
  if (cleaned !== n) throw new Error(`floor done: ${cleaned} cleaned up, expected ${n}`);
  return ns;
}

function doneFloor(n: number, wave: number): number {
  const gs: Generator[] = new Array<Generator>(wave);
  const waves = Math.ceil(n / wave);
  cleaned = 0;
  const t = hrnow();
  for (let w = 0; w < waves; w++) {
    for (let k = 0; k < wave; k++) {
      const g = parked();
      g.next();
      gs[k] = g;
    }
    for (let k = 0; k < wave; k++) gs[k]!.return(undefined);
  }
  const ns = since(t) / (waves * wave);
  if (cleaned !== waves * wave) throw new Error(`floor done: ${cleaned} cleaned up, expected ${waves * wave}`);
  return ns;
}

// ---- whispers ------------------------------------------------------------------------------------------
function* whisper(): Generator<void, number, number> {
  const v = yield;
  return v + 1;
}

/** A chain of n generators, each started (parked) then passed the number and returning it plus one. */
function whispersFloor(n: number): number {
  const gs: Generator<void, number, number>[] = new Array<Generator<void, number, number>>(n);
  const t = hrnow();
  for (let i = 0; i < n; i++) {
    const g = whisper();
    g.next(0);
    gs[i] = g;
  }
  let v = 1;
  for (let i = n - 1; i >= 0; i--) v = gs[i]!.next(v).value as number;
  const ns = since(t);
  if (v !== n + 1) throw new Error(`floor whispers: got ${v}, expected ${n + 1}`);
  return ns / n;
}

// ---- timer -----------------------------------------------------------------------------------------------
function* sleeper() {
  yield;
}

/** Parked generators in a binary heap by deadline, woken by one `setTimeout` for the earliest. */
function timerFloor(n: number): Promise<{ value: number; extra: Record<string, number> }> {
  const keys = new Float64Array(n);
  const gens: Generator[] = new Array<Generator>(n);
  let size = 0;
  const push = (d: number, g: Generator): void => {
    let i = size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! <= d) break;
      keys[i] = keys[p]!;
      gens[i] = gens[p]!;
      i = p;
    }
    keys[i] = d;
    gens[i] = g;
  };
  const pop = (): Generator => {
    const top = gens[0]!;
    const d = keys[--size]!;
    const g = gens[size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && keys[c + 1]! < keys[c]!) c++;
      if (keys[c]! >= d) break;
      keys[i] = keys[c]!;
      gens[i] = gens[c]!;
      i = c;
    }
    keys[i] = d;
    gens[i] = g;
    return top;
  };
  return new Promise((resolve) => {
    const c = cpuNs();
    const ds = spread(n, Date.now() + 1);
    for (let i = 0; i < n; i++) {
      const g = sleeper();
      g.next();
      push(ds[i]!, g);
    }
    let firstWake = 0;
    const fire = (): void => {
      const at = Date.now();
      while (size > 0 && keys[0]! <= at) {
        pop().next();
        if (firstWake === 0) firstWake = wallNow();
      }
      if (size > 0) setTimeout(fire, keys[0]! - at);
      else {
        const last = wallNow();
        resolve({ value: (cpuNs() - c) / n, extra: { wallNs: (last - firstWake) / n } });
      }
    };
    setTimeout(fire, keys[0]! - Date.now());
  });
}

export const trials: Trials = {
  go: (n) => goFloor(n),
  goRun: (n, wave) => goRunFloor(n, wave > 0 ? wave : 1000),
  ctxswitch: (n, shape) => switchFloor(n, shape),
  chan: (n) => chanFloor(n),
  choose: (n) => chanFloor(n),
  donePerf: (n) => donePerfFloor(n),
  done: (n, wave) => doneFloor(n, wave > 0 ? wave : 1000),
  whispers: (n) => whispersFloor(n),
  timer: (n) => timerFloor(n),
};
