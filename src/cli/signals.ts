/** Process signals as a Promise a coroutine can wait for with `await_promise`. */

export interface SignalWait {
  /** Settles with the name of the first of the signals that arrives. */
  readonly promise: Promise<string>;
  /** Settle it by hand (the demo stops its server this way). */
  fire(reason: string): void;
  /** Remove the handlers. */
  dispose(): void;
}

/** Wait for one of `names`; later ones are ignored (the shutdown already runs). */
export function onSignals(names: NodeJS.Signals[], onEach?: (sig: NodeJS.Signals) => void): SignalWait {
  let resolve!: (s: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  const handler = (sig: NodeJS.Signals) => {
    onEach?.(sig);
    resolve(sig);
  };
  for (const n of names) process.on(n, handler);
  return {
    promise,
    fire: (reason) => resolve(reason),
    dispose: () => {
      for (const n of names) process.removeListener(n, handler);
    },
  };
}
