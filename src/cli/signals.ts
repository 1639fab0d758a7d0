/**
 * Stop requests (process signals, a parent gone) as Promises a coroutine can wait for with
 * `await_promise`: the first one starts a graceful shutdown, a repeat cuts it short.
 *
 * The same request often arrives twice within a moment: `timeout(1)` signals the process and then
 * its group, a terminal signals the whole foreground group while a parent forwards the signal too.
 * A request within {@link REPEAT_GAP} ms of the first counts as the same one; a later one (a
 * second Ctrl-C) is a repeat.
 */

/** A second request sooner than this after the first is the first one delivered twice. */
export const REPEAT_GAP = 100;

export interface SignalWait {
  /** Settles with the reason of the first stop request (a signal's name). */
  readonly promise: Promise<string>;
  /** Settles with the reason of the first repeat, {@link REPEAT_GAP} ms or more after the first. */
  readonly again: Promise<string>;
  /** Request a stop by hand (the demo stops its server this way, a worker when its parent is gone). */
  fire(reason: string): void;
  /** Remove the signal handlers. */
  dispose(): void;
}

/**
 * Wait for the signals `names`, calling `onEach` for every one that arrives. The handlers stay
 * installed until `dispose`: a command never disposes them, so that a signal that arrives while
 * it prints its summary and exits is ignored instead of killing it with the signal's default
 * action (an exit code of 128 + the signal's number, and no cleanup).
 */
export function onSignals(names: NodeJS.Signals[], onEach?: (sig: NodeJS.Signals) => void): SignalWait {
  let resolveFirst!: (s: string) => void;
  let resolveAgain!: (s: string) => void;
  const promise = new Promise<string>((r) => (resolveFirst = r));
  const again = new Promise<string>((r) => (resolveAgain = r));
  let first = -1;
  const fire = (reason: string): void => {
    const t = performance.now();
    if (first < 0) {
      first = t;
      resolveFirst(reason);
    } else if (t - first >= REPEAT_GAP) resolveAgain(reason);
  };
  const handler = (sig: NodeJS.Signals) => {
    onEach?.(sig);
    fire(sig);
  };
  for (const n of names) process.on(n, handler);
  return {
    promise,
    again,
    fire,
    dispose: () => {
      for (const n of names) process.removeListener(n, handler);
    },
  };
}
