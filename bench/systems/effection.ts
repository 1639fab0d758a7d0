/**
 * The core workloads in effection 4, as close to the tsdill ones as its API allows. effection
 * has no rendezvous channel, no `yield` and no `choose`; the substitutes are named in `EFFECTION_NOTES`.
 */
import {
  createChannel,
  type Operation,
  race,
  run,
  sleep,
  spawn,
  suspend,
  type Task,
  until,
  withResolvers,
} from "effection";
import { bytesPer, cpuNs, hrnow, since, spread, type Trials } from "../lib.js";

const WAVE = 1000;
const RESOLVED = Promise.resolve();

// ---- go -----------------------------------------------------------------------------------------
function* empty(): Operation<void> {}

function goTrial(n: number): Promise<number> {
  return run(function* () {
    const t = hrnow();
    for (let i = 0; i < n; i++) {
      const task = yield* spawn(empty);
      yield* task.halt();
    }
    return since(t) / n;
  });
}

function goRunTrial(n: number): Promise<number> {
  return run(function* () {
    const tasks: Task<void>[] = new Array(WAVE);
    const t = hrnow();
    for (let done = 0; done < n; done += WAVE) {
      for (let k = 0; k < WAVE; k++) tasks[k] = yield* spawn(empty);
      for (let k = 0; k < WAVE; k++) yield* tasks[k]!;
    }
    return since(t) / n;
  });
}

// ---- ctxswitch ----------------------------------------------------------------------------------
function* yielder(n: number): Operation<void> {
  for (let i = 0; i < n; i++) yield* until(RESOLVED);
}

function switchTrial(n: number): Promise<number> {
  const half = n >> 1;
  return run(function* () {
    const t = hrnow();
    const a = yield* spawn(() => yielder(half));
    const b = yield* spawn(() => yielder(half));
    yield* a;
    yield* b;
    return since(t) / (2 * half);
  });
}

// ---- chan and choose ----------------------------------------------------------------------------
type Chan = ReturnType<typeof createChannel<number, void>>;

function* echo(inp: Chan, out: Chan, viaRace: boolean): Operation<void> {
  const sub = yield* inp;
  yield* out.send(-1); // subscribed: the main task may start
  for (;;) {
    const r = viaRace ? yield* race([sub.next()]) : yield* sub.next();
    if (r.done) return;
    if (viaRace) yield* race([out.send(r.value)]);
    else yield* out.send(r.value);
  }
}

function pingPong(n: number, viaRace: boolean): Promise<number> {
  const trips = n >> 1;
  return run(function* () {
    const a: Chan = createChannel<number, void>();
    const b: Chan = createChannel<number, void>();
    const back = yield* b;
    const task = yield* spawn(() => echo(a, b, viaRace));
    yield* back.next(); // the echo task has subscribed
    let v = 0;
    const t = hrnow();
    for (let i = 0; i < trips; i++) {
      if (viaRace) {
        yield* race([a.send(v)]);
        const r = yield* race([back.next()]);
        v = (r.value as number) + 1;
      } else {
        yield* a.send(v);
        const r = yield* back.next();
        v = (r.value as number) + 1;
      }
    }
    const ns = since(t);
    yield* task.halt();
    if (v !== trips) throw new Error(`effection chan: ${v} round trips, expected ${trips}`);
    return ns / (2 * trips);
  });
}

// ---- done ---------------------------------------------------------------------------------------
function* reader(ch: Chan, ready: () => void): Operation<void> {
  const sub = yield* ch;
  ready();
  yield* sub.next();
}

function doneTrial(n: number): Promise<number> {
  return run(function* () {
    const tasks: Task<void>[] = new Array(WAVE);
    const t = hrnow();
    for (let done = 0; done < n; done += WAVE) {
      const all = withResolvers<void>();
      let parked = 0;
      const ready = () => {
        if (++parked === WAVE) all.resolve();
      };
      for (let k = 0; k < WAVE; k++) {
        const ch: Chan = createChannel<number, void>();
        tasks[k] = yield* spawn(() => reader(ch, ready));
      }
      yield* all.operation; // every reader is parked in next()
      for (let k = 0; k < WAVE; k++) yield* tasks[k]!.halt();
    }
    return since(t) / n;
  });
}

// ---- whispers -----------------------------------------------------------------------------------
type Link = ReturnType<typeof withResolvers<number>>;

function* whisper(left: Link, right: Link): Operation<void> {
  const v = yield* right.operation;
  left.resolve(v + 1);
}

function whispersTrial(n: number): Promise<number> {
  return run(function* () {
    const t = hrnow();
    const links: Link[] = new Array(n + 1);
    for (let i = 0; i <= n; i++) links[i] = withResolvers<number>();
    for (let i = 0; i < n; i++) yield* spawn(() => whisper(links[i]!, links[i + 1]!));
    links[n]!.resolve(1);
    const res = yield* links[0]!.operation;
    const ns = since(t);
    if (res !== n + 1) throw new Error(`effection whispers: got ${res}, expected ${n + 1}`);
    return ns / n;
  });
}

// ---- timer --------------------------------------------------------------------------------------
function* sleeper(ms: number): Operation<void> {
  yield* sleep(ms);
}

function timerTrial(n: number): Promise<number> {
  return run(function* () {
    const c = cpuNs();
    const ds = spread(n, 0);
    const tasks: Task<void>[] = new Array(n);
    for (let i = 0; i < n; i++) tasks[i] = yield* spawn(() => sleeper(ds[i]!));
    for (let i = 0; i < n; i++) yield* tasks[i]!;
    return (cpuNs() - c) / n;
  });
}

// ---- many live tasks, and memory ----------------------------------------------------------------
function* idle(): Operation<void> {
  yield* suspend();
}

function memCoroutine(n: number) {
  return bytesPer(n, async (k) => {
    let parked!: () => void;
    const allParked = new Promise<void>((r) => (parked = r));
    const root = run(function* () {
      for (let i = 0; i < k; i++) yield* spawn(idle);
      yield* sleep(5); // let every task start and park
      parked();
      yield* suspend();
    });
    await allParked;
    return async () => void (await root.halt());
  });
}

function memChannel(n: number) {
  return bytesPer(n, async (k) => {
    const chans: Chan[] = new Array(k);
    for (let i = 0; i < k; i++) chans[i] = createChannel<number, void>();
    return async () => void chans.fill(undefined as unknown as Chan);
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
  memChannel,
};
