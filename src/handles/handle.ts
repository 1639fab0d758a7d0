/**
 * The public handle calls: `hmake`, `hquery`, `hown`, `hclose` (libdill's handle.c).
 * Every object kind (coroutines, bundles, channels, sockets, user objects) goes through these.
 */
import { dillError } from "./errors.js";
import { type HandleVfs, handleGet, handleMake, handleQuery, handleRelease } from "./table.js";

/**
 * Makes a handle for a user-defined object.
 *
 * @param vfs the object's interface: `query(type)` answers `hquery`, `close()` answers `hclose`.
 * @returns a new handle.
 * @throws `EINVAL` when `vfs` lacks `query` or `close`; `EMFILE` when the handle table is full.
 *
 * @example
 * ```ts
 * const QUACK = Symbol("quack");
 * const duck = { quack: () => "quack" };
 * const h = hmake({ query: (t) => (t === QUACK ? duck : undefined), close: () => {} });
 * (hquery(h, QUACK) as typeof duck).quack();
 * hclose(h);
 * ```
 */
export function hmake(vfs: HandleVfs): number {
  if (vfs === null || typeof vfs !== "object" || typeof vfs.query !== "function" || typeof vfs.close !== "function") {
    throw dillError("EINVAL", "hmake", "vfs", "vfs must be an object with query(type) and close() methods");
  }
  return handleMake(vfs, "hmake");
}

/**
 * Asks the object behind `h` for its interface `type`.
 *
 * @param h a handle.
 * @param type the interface id: a `symbol` the object recognises.
 * @returns the object's answer, the same for every call with the same `h` and `type`.
 * @throws `EBADF` for a handle that is not open; `ENOTSUP` when the object does not know `type`.
 *
 * @example
 * ```ts
 * const duck = hquery(h, QUACK) as Duck;
 * ```
 */
export function hquery(h: number, type: symbol): unknown {
  if (typeof type !== "symbol") throw dillError("EINVAL", "hquery", "type", "type must be a symbol");
  return handleQuery(h, type, "hquery");
}

/**
 * Moves the object behind `h` to a new handle number; `h` is invalid afterwards. Use it to give
 * a handle away so that code which kept the old number can no longer reach the object.
 *
 * @returns the new handle.
 * @throws `EBADF` for a bad handle; `EMFILE` when no new handle can be made (the object is then
 * closed, as in libdill).
 *
 * @example
 * ```ts
 * const mine = hown(h); // h is no longer valid
 * ```
 */
export function hown<H extends number>(h: H): H {
  const vfs = handleGet(h, "hown");
  let nh: number;
  try {
    nh = handleMake(vfs, "hown");
  } catch (e) {
    handleRelease(h, "hown");
    vfs.close();
    throw e;
  }
  handleRelease(h, "hown");
  // The same kind of object under a new number: the handle keeps its type.
  return nh as H;
}

/**
 * Closes a handle: frees the object's resources at once and never blocks. On a coroutine or a
 * bundle it cancels what still runs there and returns once all of it has exited. On a socket it
 * closes without a handshake (outbound data may be lost: use `ipc_close` for an orderly close).
 *
 * @throws `EBADF` for a handle that is not open.
 *
 * @example
 * ```ts
 * const cr = go(worker());
 * hclose(cr); // worker() is cancelled and has finished when this returns
 * ```
 */
export function hclose(h: number): void {
  // The slot is freed first, so that a close() that runs user code (a coroutine's finally
  // blocks) can neither reach the object through `h` again nor see a half-closed handle.
  handleRelease(h, "hclose").close();
}
