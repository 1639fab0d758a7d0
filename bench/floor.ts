/**
 * The engine floor of the core rows: what V8 itself charges for the generator protocol that
 * tsdill's coroutines are made of, with no scheduler, no handles and no checks. Each loop resumes
 * two generators in turn; a figure is ns per resume (one context switch).
 *
 * - `yield`: a bare `yield` in a loop, the cheapest switch a generator runtime can have;
 * - `yield* op (shared)`: each switch is a `yield*` on one shared two-step iterator object, the
 *   shape of `yield* dill_yield()`;
 * - `yield* op (new)`: a fresh two-step iterator object per switch, the shape of `yield* chrecv()`;
 * - `yield* generator`: a nested generator per switch, the cost of writing a blocking call as a
 *   `function*` that is delegated to;
 * - `trampoline`: a ring-buffer run queue and a record per coroutine around `yield* op (shared)`,
 *   the least a scheduler adds.
 *
 * Run: `npx tsx bench/floor.ts [switches]`. Compare with the ctxswitch and chan rows of
 * `npm run bench` measured in the same minute: the rows cannot go below these figures.
 */

const PARKED = { done: false, value: 0 };
const FINISHED: { done: true; value: unknown } = { done: true, value: undefined };

/** A two-step call: the first `next()` suspends, the second finishes; one object reused. */
class SharedOp {
  begun = false;
  [Symbol.iterator](): this {
    this.begun = false;
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, unknown> {
    if (this.begun) {
      FINISHED.value = v;
      return FINISHED;
    }
    this.begun = true;
    return PARKED;
  }
}

/** The same call as a fresh object each time. */
class FreshOp {
  begun = false;
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, unknown> {
    if (this.begun) {
      FINISHED.value = v;
      return FINISHED;
    }
    this.begun = true;
    return PARKED;
  }
}

const SHARED = new SharedOp();

function* plain(): Generator<number, void, unknown> {
  for (;;) yield 1;
}

function* viaShared(): Generator<unknown, void, unknown> {
  for (;;) yield* SHARED;
}

function* viaFresh(): Generator<unknown, void, unknown> {
  for (;;) yield* new FreshOp();
}

function* inner(): Generator<number, void, unknown> {
  yield 1;
}

function* viaGenerator(): Generator<unknown, void, unknown> {
  for (;;) yield* inner();
}

/** ns per resume of two generators resumed in turn, `n` resumes in all. */
function pingPong(make: () => Iterator<unknown>, n: number): number {
  const a = make();
  const b = make();
  a.next();
  b.next();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i += 2) {
    a.next();
    b.next();
  }
  return Number(process.hrtime.bigint() - t) / n;
}

// ---- the least a scheduler adds: a ring-buffer run queue and one record per coroutine ----------
class Rec {
  value: unknown = undefined;
  constructor(readonly gen: Iterator<unknown>) {}
}

const RING = 1024;
const ring: (Rec | null)[] = new Array<Rec | null>(RING).fill(null);
let head = 0;
let size = 0;
let running: Rec | null = null;

/** `yield* dill_yield()` in the trampoline: requeue the running record, then suspend. */
class TrampolineYield extends SharedOp {
  override next(v?: unknown): IteratorResult<unknown, unknown> {
    if (this.begun) {
      FINISHED.value = v;
      return FINISHED;
    }
    this.begun = true;
    ring[(head + size++) % RING] = running;
    return PARKED;
  }
}
const YIELD = new TrampolineYield();

function* yielder(n: number): Generator<unknown, void, unknown> {
  for (let i = 0; i < n; i++) yield* YIELD;
}

function runSome(budget: number): void {
  while (size > 0 && --budget >= 0) {
    const r = ring[head]!;
    ring[head] = null;
    head = (head + 1) % RING;
    size--;
    running = r;
    const v = r.value;
    r.value = undefined;
    r.gen.next(v);
  }
  running = null;
}

function trampoline(n: number): number {
  const half = n >> 1;
  head = 0;
  size = 2;
  ring[0] = new Rec(yielder(half));
  ring[1] = new Rec(yielder(half));
  const t = process.hrtime.bigint();
  while (size > 0) runSome(4096);
  return Number(process.hrtime.bigint() - t) / (2 * half);
}

/** Median of `runs` measurements after one warm-up. */
function median(f: () => number, runs = 5): number {
  f();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(f());
  xs.sort((x, y) => x - y);
  return xs[runs >> 1]!;
}

const n = Number(process.argv[2] ?? 2_000_000);
const rows: [string, () => number][] = [
  ["yield", () => pingPong(plain, n)],
  ["yield* op (shared)", () => pingPong(viaShared, n)],
  ["yield* op (new)", () => pingPong(viaFresh, n)],
  ["yield* generator", () => pingPong(viaGenerator, n)],
  ["trampoline", () => trampoline(n)],
];
for (const [name, f] of rows) console.log(`${name.padEnd(20)} ${median(f).toFixed(1).padStart(7)} ns per switch`);
