/**
 * The shape of a blocking call.
 *
 * Every tsdill call that can wait (for a peer, for bytes, for time) is an `Op<T>`: an iterable the
 * caller runs with `yield*` inside a coroutine, which evaluates to `T`. Generator functions are
 * Ops, so user code composes blocking calls into new ones just by writing `function*`.
 */
export interface Op<T> {
  [Symbol.iterator](): Iterator<unknown, T, unknown>;
}

/**
 * The one value a blocking call yields to the scheduler to say "this coroutine is now parked".
 * Whoever completes the wait resumes the coroutine with `next(result)` or `throw(error)`.
 */
export const BLOCK: unique symbol = Symbol("tsdill.block");
