/**
 * `ipc_listen` and `ipc_listen_mem`: a listener on a socket file.
 *
 * The socket is bound under a fresh hidden name in the same directory, then hard-linked to
 * `addr` and the temporary name removed. So the file appears at `addr` all at once with its
 * final permissions (an explicit mode is applied before it gets its name), an existing file is
 * never replaced (`link(2)` refuses: `EADDRINUSE`), and the listener knows the file it created by
 * its inode, which lets it remove that file when it is closed and leave alone any other file
 * found at the path by then. With an explicit mode, the temporary name is inside a fresh private
 * directory (mode 0700) next to `addr`, so nobody can reach the socket before it has its mode.
 * When the temporary name would not fit a socket address (a directory name of about 100 bytes),
 * the socket is bound under it through a short path, `/proc/self/fd/N/<name>` with N an fd of
 * the directory; only where that is not available (no /proc) is it bound at `addr` directly, and
 * Node then removes `addr` on close whatever file is there.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  openSync,
  rmdirSync,
  unlinkSync,
} from "node:fs";
import type { ListenOptions, Server } from "node:net";
import { dirname, join } from "node:path";
import { checkCount } from "../handles/args.js";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import type { IpcListener as IpcListenerHandle } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { fromNode, nodeCode } from "../stream/errno.js";
import { type Binding, startListener } from "../stream/listen.js";
import { checkAddress, checkDirectory, IPC_ADDR_MAX } from "./address.js";
import type { IpcListener } from "./listener.js";
import { IpcListenerStorage, listenerStorages } from "./storage.js";
import { guardOps } from "../handles/op.js";

/** Options of {@link ipc_listen} and {@link ipc_listen_mem}. */
export interface IpcListenOptions {
  /**
   * The permission bits of the socket file (`0` to `0o777`), instead of what the process umask
   * gives. Connecting needs write permission on the file: `0o600` admits only the owner (and
   * root), `0o660` its group too.
   */
  mode?: number;
}

/** The mode asked for, or null; `EINVAL` for a bad options object or mode. */
function checkOptions(fn: string, opts: unknown): number | null {
  if (opts === undefined) return null;
  if (opts === null || typeof opts !== "object")
    throw dillError("EINVAL", fn, "opts", "opts must be an object, such as { mode: 0o600 }");
  const mode = (opts as IpcListenOptions).mode;
  if (mode === undefined) return null;
  if (!Number.isInteger(mode) || (mode as number) < 0 || (mode as number) > 0o777) {
    throw dillError("EINVAL", fn, "mode", `mode must be an integer from 0 to 0o777, got ${String(mode)}`);
  }
  return mode as number;
}

/**
 * `server.listen(options)`, with the process umask at its tightest while the socket is bound
 * (synchronously, in this call). Used only for an explicit mode when the private directory's
 * path would not fit a socket address: the file is then created without any permission and
 * given its mode afterwards. Files that other threads of the process create at that instant get
 * no permission either; the usual path, a private directory, never changes the umask. In a
 * worker thread, where the umask cannot be changed, the file is made under the process umask
 * and still gets its mode before it has its final name.
 */
function bind(server: Server, options: ListenOptions | { fd: number }, tighten: boolean): void {
  let old = -1;
  if (tighten) {
    try {
      old = process.umask(0o777);
    } catch {
      // a worker thread: see above
    }
  }
  try {
    server.listen(options as ListenOptions);
  } finally {
    if (old >= 0) process.umask(old);
  }
}

/** What to do with the socket file once bound: give it its mode, and its name when bound elsewhere. */
interface Placement {
  addr: string;
  /** The temporary name it was bound under, or null when bound at `addr` itself. */
  tmp: string | null;
  /** The private directory holding `tmp` (explicit modes), removed once the file is placed. */
  dir: string | null;
  mode: number | null;
  /** The path to bind when `tmp` is too long for a socket address: `tmp` through `dirFd`. */
  via: string | null;
  /** An fd of `tmp`'s directory for `via` (-1: none), closed once the file is placed. */
  dirFd: number;
}

/** Remove the temporary name and the private directory of `p`, whatever is left of them. */
function cleanUp(p: Placement): void {
  if (p.dirFd >= 0) {
    closeSync(p.dirFd);
    p.dirFd = -1;
  }
  if (p.tmp !== null) {
    try {
      unlinkSync(p.tmp);
    } catch {
      // removed already
    }
  }
  if (p.dir !== null) {
    try {
      rmdirSync(p.dir);
    } catch {
      // removed already
    }
    p.dir = null;
  }
}

/**
 * True when the socket file of `p` has been bound: it exists under its fresh hidden name. (When
 * bound at `addr` itself, a file there could be someone else's: wait for Node's verdict.)
 */
function bound(p: Placement): boolean {
  if (p.tmp === null) return false;
  try {
    return lstatSync(p.tmp).isSocket();
  } catch {
    return false;
  }
}

/** Give the bound socket file its mode and its name `addr`; the listener then knows it by inode. */
function place(l: IpcListener, p: Placement, fn: string): void {
  const at = p.tmp ?? p.addr;
  try {
    if (p.mode !== null) chmodSync(at, p.mode);
    if (p.tmp !== null) linkSync(p.tmp, p.addr);
  } catch (e) {
    if (nodeCode(e) === "EEXIST") throw dillError("EADDRINUSE", fn, "addr", `something exists at '${p.addr}'`);
    throw fromNode(e, fn, "EINVAL", "addr");
  }
  if (p.tmp === null) return; // bound at addr: Node removes it when the server closes
  const st = lstatSync(p.addr);
  l.path = p.addr;
  l.dev = st.dev;
  l.ino = st.ino;
  cleanUp(p); // Node's unlink of the temporary name at close then finds nothing
}

/** The socket file's placement as the stream listener's {@link Binding}. */
class FileBinding implements Binding {
  constructor(
    private readonly l: IpcListener,
    private readonly p: Placement,
  ) {}
  listen(server: Server, options: ListenOptions | { fd: number }): void {
    bind(server, options, this.p.mode !== null && this.p.dir === null);
  }
  bound(): boolean {
    return bound(this.p);
  }
  place(fn: string): void {
    place(this.l, this.p, fn);
  }
  cleanUp(): void {
    cleanUp(this.p);
  }
}

/**
 * A hidden name next to `addr` to bind under. When it would not fit a socket address, it is bound
 * through an fd of the directory (`via`); without /proc, not at all (`tmp` null: bind at `addr`).
 */
function tempName(addr: string, mode: number | null, fn: string): Placement {
  const name = `.${randomBytes(6).toString("base64url")}`;
  const tmp = join(dirname(addr), name);
  const p: Placement = { addr, tmp, dir: null, mode, via: null, dirFd: -1 };
  if (Buffer.byteLength(tmp, "utf8") <= IPC_ADDR_MAX) return p;
  if (!existsSync("/proc/self/fd")) {
    p.tmp = null;
    return p;
  }
  try {
    p.dirFd = openSync(dirname(addr), "r");
  } catch (e) {
    throw fromNode(e, fn, "EINVAL", "addr");
  }
  p.via = `/proc/self/fd/${p.dirFd}/${name}`;
  return p;
}

/**
 * Where to bind for `addr`: with an explicit mode, inside a fresh private directory next to it
 * (when that path fits a socket address); otherwise under a hidden name next to it.
 */
function placement(addr: string, mode: number | null, fn: string): Placement {
  const parent = dirname(addr);
  if (mode !== null && Buffer.byteLength(join(parent, ".tsdill-XXXXXX", "s"), "utf8") <= IPC_ADDR_MAX) {
    let dir: string;
    try {
      dir = mkdtempSync(join(parent, ".tsdill-")); // mode 0700: only this user can reach inside
    } catch (e) {
      throw fromNode(e, fn, "EINVAL", "addr");
    }
    return { addr, tmp: join(dir, "s"), dir, mode, via: null, dirFd: -1 };
  }
  return tempName(addr, mode, fn);
}

function* listen(
  addr: string,
  backlog: number,
  mem: IpcListenerStorage | null,
  opts: IpcListenOptions | undefined,
  fn: string,
): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  checkAddress(fn, addr);
  checkCount(fn, "backlog", backlog);
  if (backlog > 0x7fffffff) throw dillError("EINVAL", fn, "backlog", `backlog must be at most ${0x7fffffff}`);
  const mode = checkOptions(fn, opts);
  checkDirectory(fn, addr);
  const st = mem === null ? listenerStorages.take(fn) : claim(mem, IpcListenerStorage, fn);
  if (addr.charCodeAt(0) === 0) return yield* startListener(st, cr, { path: addr, backlog }, fn); // abstract: no file
  let p: Placement;
  try {
    p = placement(addr, mode, fn);
  } catch (e) {
    st.listenerClosed();
    throw e;
  }
  return yield* startListener(st, cr, { path: p.via ?? p.tmp ?? addr, backlog }, fn, new FileBinding(st.listener, p));
}

/**
 * Starts listening for IPC connections on the socket file `addr` (a Unix-domain stream socket).
 * Accept them with `ipc_accept`; close the listener with `hclose` or `ipc_close`, which also
 * removes the socket file (libdill leaves it behind). An existing file at `addr`, a stale
 * socket file included, is never removed for you: that is `EADDRINUSE`.
 *
 * @param addr the path of the socket file, at most 107 bytes (UTF-8).
 * @param backlog the length of the kernel's queue of connections not yet accepted by the process
 * (passed to `listen(2)`). Node accepts connections from that queue as soon as its event loop
 * runs, and they then wait in tsdill's own queue for `ipc_accept`; so `backlog` only matters
 * while the process is too busy to run its event loop.
 * @param opts `{ mode }`: the socket file's permission bits (`0o600`: only this user may
 * connect). Without it the process umask decides, as for any new file. The file never has wider
 * permissions than `mode`, not even for a moment.
 * @returns the listener's handle.
 * @throws `EACCES` (no permission to create the file), `EADDRINUSE` (the path exists),
 * `EINVAL` (bad `addr`, `backlog` or `opts`), `ELOOP`, `EMFILE` (process fd limit, or handle table full),
 * `ENAMETOOLONG` (longer than 107 bytes, checked before any system call), `ENFILE`, `ENOENT` (empty
 * path or missing directory), `ENOMEM` (the storage pool is used up), `ENOTDIR`, `ECANCELED`.
 *
 * @example
 * ```ts
 * const ls = yield* ipc_listen("/tmp/test.ipc", 10);
 * const s = yield* ipc_accept(ls, -1);
 * const mine = yield* ipc_listen("/tmp/private.ipc", 10, { mode: 0o600 });
 * ```
 */
export function* ipc_listen(addr: string, backlog: number, opts?: IpcListenOptions): Op<IpcListenerHandle> {
  return (yield* listen(addr, backlog, null, opts, "ipc_listen")) as IpcListenerHandle;
}

/**
 * Like {@link ipc_listen}, with the listener in caller storage: nothing is allocated.
 *
 * @param mem an `IpcListenerStorage` not in use by an open handle; it is free again once the
 * listener's handle is closed.
 * @throws as `ipc_listen`, plus `EINVAL` when `mem` is not an `IpcListenerStorage` and `EBUSY`
 * when it is in use (and no `ENOMEM`).
 *
 * @example
 * ```ts
 * const mem = new IpcListenerStorage();
 * const ls = yield* ipc_listen_mem("/tmp/test.ipc", 10, mem);
 * hclose(ls);
 * ```
 */
export function* ipc_listen_mem(
  addr: string,
  backlog: number,
  mem: IpcListenerStorage,
  opts?: IpcListenOptions,
): Op<IpcListenerHandle> {
  checkMem("ipc_listen_mem", mem, IpcListenerStorage);
  return (yield* listen(addr, backlog, mem, opts, "ipc_listen_mem")) as IpcListenerHandle;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ ipc_listen, ipc_listen_mem });
