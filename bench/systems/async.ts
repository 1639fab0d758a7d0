/**
 * The core workloads in plain async/await, where the language has an equivalent: no runtime, no
 * handles, no structured cancellation (an AbortController stands in for it in `done`).
 */
import { bytesPer, cpuNs, hrnow, since, spread, type Trials } from "../lib.js";

const WAVE = 1000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// ---- go -----------------------------------------------------------------------------------------
async function empty(): Promise<void> {}

async function goTrial(n: number): Promise<number> {
  const t = hrnow();
  for (let i = 0; i < n; i++) await empty();
  return since(t) / n;
}

async function goRunTrial(n: number): Promise<number> {
  const ps: Promise<void>[] = new Array(WAVE);
  const t = hrnow();
  for (let done = 0; done < n; done += WAVE) {
    for (let k = 0; k < WAVE; k++) ps[k] = empty();
    await Promise.all(ps);
  }
  return since(t) / n;
}

// ---- ctxswitch ----------------------------------------------------------------------------------
async function yielder(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await null;
}

async function switchTrial(n: number): Promise<number> {
  const half = n >> 1;
  const t = hrnow();
  await Promise.all([yielder(half), yielder(half)]);
  return since(t) / (2 * half);
}

// ---- chan ---------------------------------------------------------------------------------------
/** An unbuffered channel for one sender and one receiver at a time: send completes when received. */
class Rendezvous<T> {
  private value: T | undefined = undefined;
  private sender: (() => void) | null = null;
  private receiver: ((v: T) => void) | null = null;
  send(v: T): Promise<void> {
    const r = this.receiver;
    if (r !== null) {
      this.receiver = null;
      r(v);
      return Promise.resolve();
    }
    this.value = v;
    return new Promise((res) => (this.sender = res));
  }
  recv(): Promise<T> {
    const s = this.sender;
    if (s !== null) {
      this.sender = null;
      const v = this.value as T;
      this.value = undefined;
      s();
      return Promise.resolve(v);
    }
    return new Promise((res) => (this.receiver = res));
  }
}

async function echo(inp: Rendezvous<number>, out: Rendezvous<number>, stop: { stop: boolean }): Promise<void> {
  while (!stop.stop) await out.send(await inp.recv());
}

async function chanTrial(n: number): Promise<number> {
  const trips = n >> 1;
  const a = new Rendezvous<number>();
  const b = new Rendezvous<number>();
  const stop = { stop: false };
  const worker = echo(a, b, stop);
  let v = 0;
  const t = hrnow();
  for (let i = 0; i < trips; i++) {
    if (i === trips - 1) stop.stop = true;
    await a.send(v);
    v = (await b.recv()) + 1;
  }
  const ns = since(t);
  await worker;
  if (v !== trips) throw new Error(`async chan: ${v} round trips, expected ${trips}`);
  return ns / (2 * trips);
}

// ---- done ---------------------------------------------------------------------------------------
async function reader(signal: AbortSignal): Promise<void> {
  try {
    await new Promise<void>((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
    );
  } catch {
    // cancelled
  }
}

async function doneTrial(n: number): Promise<number> {
  const acs: AbortController[] = new Array(WAVE);
  const ps: Promise<void>[] = new Array(WAVE);
  const t = hrnow();
  for (let done = 0; done < n; done += WAVE) {
    for (let k = 0; k < WAVE; k++) {
      const ac = new AbortController();
      acs[k] = ac;
      ps[k] = reader(ac.signal);
    }
    for (let k = 0; k < WAVE; k++) acs[k]!.abort();
    await Promise.all(ps);
  }
  return since(t) / n;
}

// ---- whispers -----------------------------------------------------------------------------------
async function whisper(left: Deferred<number>, right: Deferred<number>): Promise<void> {
  left.resolve((await right.promise) + 1);
}

async function whispersTrial(n: number): Promise<number> {
  const t = hrnow();
  const links: Deferred<number>[] = new Array(n + 1);
  for (let i = 0; i <= n; i++) links[i] = deferred<number>();
  for (let i = 0; i < n; i++) void whisper(links[i]!, links[i + 1]!);
  links[n]!.resolve(1);
  const res = await links[0]!.promise;
  const ns = since(t);
  if (res !== n + 1) throw new Error(`async whispers: got ${res}, expected ${n + 1}`);
  return ns / n;
}

// ---- timer --------------------------------------------------------------------------------------
async function sleeper(ms: number): Promise<void> {
  await new Promise<void>((r) => setTimeout(r, ms));
}

async function timerTrial(n: number): Promise<number> {
  const c = cpuNs();
  const ds = spread(n, 0);
  const ps: Promise<void>[] = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = sleeper(ds[i]!);
  await Promise.all(ps);
  return (cpuNs() - c) / n;
}

// ---- many live tasks, and memory ----------------------------------------------------------------
async function idle(wait: Promise<void>): Promise<void> {
  await wait;
}

/** n async calls parked on one pending Promise at once, then all released: time per call. */
async function liveTrial(n: number): Promise<number> {
  const ps: Promise<void>[] = new Array(n);
  const t = hrnow();
  const release = deferred<void>();
  for (let i = 0; i < n; i++) ps[i] = idle(release.promise);
  release.resolve();
  await Promise.all(ps);
  return since(t) / n;
}

function memCoroutine(n: number) {
  return bytesPer(n, async (k) => {
    const ps: Promise<void>[] = new Array(k);
    const release = deferred<void>();
    for (let i = 0; i < k; i++) ps[i] = idle(release.promise);
    return async () => {
      release.resolve();
      await Promise.all(ps);
    };
  });
}

function memChannel(n: number) {
  return bytesPer(n, async (k) => {
    const chans: Rendezvous<number>[] = new Array(k);
    for (let i = 0; i < k; i++) chans[i] = new Rendezvous<number>();
    return async () => void chans.fill(undefined as unknown as Rendezvous<number>);
  });
}

export const trials: Trials = {
  go: goTrial,
  goRun: goRunTrial,
  ctxswitch: switchTrial,
  chan: chanTrial,
  done: doneTrial,
  whispers: whispersTrial,
  timer: timerTrial,
  live: liveTrial,
  memCoroutine,
  memChannel,
};
