/**
 * The core workloads in Effect 4 (`effect` 4.x), as close to the tsdill ones as its API allows:
 * fibers forked with `Effect.forkChild`, cancelled with `Fiber.interrupt`, run by
 * `Effect.runPromise`. Effect has no unbuffered channel: bounded Queues of capacity 1 stand in for
 * it, and `Effect.raceAll` over one effect for `choose`; the substitutes are named in the
 * catalogue's notes.
 */
import { Deferred, Effect, Fiber, Queue } from "effect";
import { bytesPer, cpuNs, hrnow, since, spread, type Trials } from "../lib.js";

const WAVE = 1000;

type AnyFiber = Fiber.Fiber<unknown, unknown>;

// ---- go -----------------------------------------------------------------------------------------
function goTrial(n: number): Promise<number> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const t = hrnow();
      for (let i = 0; i < n; i++) {
        const f = yield* Effect.forkChild(Effect.void);
        yield* Fiber.interrupt(f);
      }
      return since(t) / n;
    }),
  );
}

function goRunTrial(n: number): Promise<number> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const fibers: AnyFiber[] = new Array(WAVE);
      const t = hrnow();
      for (let done = 0; done < n; done += WAVE) {
        for (let k = 0; k < WAVE; k++) fibers[k] = yield* Effect.forkChild(Effect.void);
        for (let k = 0; k < WAVE; k++) yield* Fiber.join(fibers[k]!);
      }
      return since(t) / n;
    }),
  );
}

// ---- ctxswitch ----------------------------------------------------------------------------------
function yielder(n: number): Effect.Effect<void> {
  return Effect.gen(function* () {
    for (let i = 0; i < n; i++) yield* Effect.yieldNow;
  });
}

function switchTrial(n: number): Promise<number> {
  const half = n >> 1;
  return Effect.runPromise(
    Effect.gen(function* () {
      const t = hrnow();
      const a = yield* Effect.forkChild(yielder(half));
      const b = yield* Effect.forkChild(yielder(half));
      yield* Fiber.join(a);
      yield* Fiber.join(b);
      return since(t) / (2 * half);
    }),
  );
}

// ---- chan and choose ----------------------------------------------------------------------------
type Chan = Queue.Queue<number>;

/** One clause of a `choose`: the effect raced alone. */
const one = <A>(e: Effect.Effect<A>): Effect.Effect<A> => Effect.raceAll([e]);

function echo(inp: Chan, out: Chan, viaRace: boolean): Effect.Effect<void> {
  return Effect.gen(function* () {
    for (;;) {
      const v = viaRace ? yield* one(Queue.take(inp)) : yield* Queue.take(inp);
      if (viaRace) yield* one(Queue.offer(out, v));
      else yield* Queue.offer(out, v);
    }
  });
}

function pingPong(n: number, viaRace: boolean): Promise<number> {
  const trips = n >> 1;
  return Effect.runPromise(
    Effect.gen(function* () {
      const a: Chan = yield* Queue.bounded<number>(1);
      const b: Chan = yield* Queue.bounded<number>(1);
      const fiber = yield* Effect.forkChild(echo(a, b, viaRace));
      let v = 0;
      const t = hrnow();
      for (let i = 0; i < trips; i++) {
        if (viaRace) {
          yield* one(Queue.offer(a, v));
          v = (yield* one(Queue.take(b))) + 1;
        } else {
          yield* Queue.offer(a, v);
          v = (yield* Queue.take(b)) + 1;
        }
      }
      const ns = since(t);
      yield* Fiber.interrupt(fiber);
      if (v !== trips) throw new Error(`effect chan: ${v} round trips, expected ${trips}`);
      return ns / (2 * trips);
    }),
  );
}

// ---- done ---------------------------------------------------------------------------------------
function doneTrial(n: number): Promise<number> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const fibers: AnyFiber[] = new Array(WAVE);
      const t = hrnow();
      for (let done = 0; done < n; done += WAVE) {
        const all = Deferred.makeUnsafe<void>();
        let parked = 0;
        const ready = Effect.sync(() => {
          if (++parked === WAVE) Deferred.doneUnsafe(all, Effect.void);
        });
        for (let k = 0; k < WAVE; k++) {
          const q: Chan = yield* Queue.bounded<number>(1);
          fibers[k] = yield* Effect.forkChild(Effect.andThen(ready, Queue.take(q)));
        }
        yield* Deferred.await(all); // every reader is parked in take
        for (let k = 0; k < WAVE; k++) yield* Fiber.interrupt(fibers[k]!);
      }
      return since(t) / n;
    }),
  );
}

// ---- whispers -----------------------------------------------------------------------------------
// A chain of Deferreds overflows the stack once its fibers are parked (a completion resumes its
// waiter synchronously, which completes the next one): each link is a bounded Queue of capacity 1.
function whisper(left: Chan, right: Chan): Effect.Effect<boolean> {
  return Effect.flatMap(Queue.take(right), (v) => Queue.offer(left, v + 1));
}

function whispersTrial(n: number): Promise<number> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const t = hrnow();
      const links: Chan[] = new Array(n + 1);
      for (let i = 0; i <= n; i++) links[i] = yield* Queue.bounded<number>(1);
      for (let i = 0; i < n; i++) yield* Effect.forkChild(whisper(links[i]!, links[i + 1]!));
      yield* Queue.offer(links[n]!, 1);
      const res = yield* Queue.take(links[0]!);
      const ns = since(t);
      if (res !== n + 1) throw new Error(`effect whispers: got ${res}, expected ${n + 1}`);
      return ns / n;
    }),
  );
}

// ---- timer --------------------------------------------------------------------------------------
function timerTrial(n: number): Promise<number> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const c = cpuNs();
      const ds = spread(n, 0);
      const fibers: AnyFiber[] = new Array(n);
      for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkChild(Effect.sleep(ds[i]!));
      for (let i = 0; i < n; i++) yield* Fiber.join(fibers[i]!);
      return (cpuNs() - c) / n;
    }),
  );
}

// ---- memory -------------------------------------------------------------------------------------
function memCoroutine(n: number) {
  return bytesPer(n, async (k) => {
    let parked!: () => void;
    const allParked = new Promise<void>((r) => (parked = r));
    const root = Effect.runFork(
      Effect.gen(function* () {
        for (let i = 0; i < k; i++) yield* Effect.forkChild(Effect.never);
        yield* Effect.sleep(5); // let every fiber start and park
        parked();
        return yield* Effect.never;
      }),
    );
    await allParked;
    return async () => void (await Effect.runPromise(Fiber.interrupt(root)));
  });
}

export const trials: Trials = {
  go: goTrial,
  goRun: goRunTrial,
  ctxswitch: switchTrial,
  chan: (n) => pingPong(n, false),
  choose: (n) => pingPong(n, true),
  done: doneTrial,
  whispers: whispersTrial,
  timer: timerTrial,
  memCoroutine,
};
