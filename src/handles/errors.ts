/**
 * Errors, the TypeScript form of libdill's "returns -1 and sets errno".
 *
 * Every expected failure of the public API is a {@link DillError} whose `code` is the errno name
 * and whose `errno` is the positive Linux number, so a C program's `if (errno == ETIMEDOUT)`
 * becomes `if (e.code === "ETIMEDOUT")`.
 */

/** Linux errno numbers for the names tsdill can report. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  EPIPE: 32,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ELOOP: 40,
  EPROTO: 71,
  ENOTSOCK: 88,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOTSUP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  ECANCELED: 125,
} as const;

/** An errno name tsdill reports. */
export type ErrnoCode = keyof typeof ERRNO;

const DESCRIPTIONS: Record<ErrnoCode, string> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EIO: "input/output error",
  EBADF: "bad handle",
  EAGAIN: "resource temporarily unavailable",
  ENOMEM: "out of memory (storage pool exhausted)",
  EACCES: "permission denied",
  EFAULT: "bad address (TLS: OpenSSL reported an error)",
  EBUSY: "resource busy",
  EEXIST: "already exists",
  ENODEV: "no such network interface",
  ENOTDIR: "not a directory",
  EINVAL: "invalid argument",
  ENFILE: "too many open files in system",
  EMFILE: "too many open handles",
  EPIPE: "broken pipe (the other side is done)",
  EDEADLK: "operation would deadlock",
  ENAMETOOLONG: "file name too long",
  ELOOP: "too many levels of symbolic links",
  EPROTO: "protocol error",
  ENOTSOCK: "not a socket",
  EMSGSIZE: "message too long",
  EPROTOTYPE: "wrong type of socket",
  ENOTSUP: "operation not supported by this handle",
  EAFNOSUPPORT: "address family not supported",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  ENETDOWN: "network is down",
  ENETUNREACH: "network is unreachable",
  ECONNABORTED: "connection aborted",
  ECONNRESET: "connection reset by peer",
  ENOBUFS: "no buffer space available",
  EISCONN: "already connected",
  ENOTCONN: "not connected",
  ETIMEDOUT: "deadline expired",
  ECONNREFUSED: "connection refused",
  EHOSTUNREACH: "no route to host",
  ECANCELED: "coroutine was cancelled",
};

/**
 * The error every tsdill function throws for an expected failure.
 *
 * @example
 * ```ts
 * try {
 *   yield* chrecv(ch, now() + 100);
 * } catch (e) {
 *   if (e instanceof DillError && e.code === "ETIMEDOUT") console.log("nobody sent anything");
 *   else throw e;
 * }
 * ```
 */
export class DillError extends Error {
  /** The errno name, as in libdill's man pages: `"ETIMEDOUT"`. */
  readonly code: ErrnoCode;
  /** The positive Linux errno number: `110` for `ETIMEDOUT`. */
  readonly errno: number;
  /** The tsdill function that failed, by its libdill name. */
  readonly syscall: string;
  /** For `choose`: the index of the clause at fault, else `-1`. */
  index: number;

  constructor(code: ErrnoCode, fn: string, detail?: string, options?: { cause?: unknown }) {
    super(`${fn}: ${code}: ${detail ?? DESCRIPTIONS[code]}`, options);
    this.code = code;
    this.errno = ERRNO[code];
    this.syscall = fn;
    this.index = -1;
  }
}
Object.defineProperty(DillError.prototype, "name", { value: "DillError", configurable: true, writable: true });

/**
 * Make a DillError. `arg` names the argument at fault, `why` says what is wrong with it.
 * Used in one line on each error path: `throw dillError("EBADF", "bsend", "s")`.
 */
export function dillError(code: ErrnoCode, fn: string, arg?: string, why?: string): DillError {
  let detail = DESCRIPTIONS[code];
  if (arg !== undefined) detail = `${why ?? detail} (argument '${arg}')`;
  else if (why !== undefined) detail = why;
  return new DillError(code, fn, detail);
}

/**
 * Make a DillError without capturing a stack trace. Cancellation and timeouts are delivered on
 * hot paths (cancelling 10,000 blocked coroutines throws 10,000 errors); constructing an Error
 * costs V8 hundreds of nanoseconds even with no frames to record, more than the operation
 * itself, and the scheduler's stack would tell the user nothing. The object has the same fields
 * and prototype as a constructed DillError.
 */
export function quickError(code: ErrnoCode, fn: string): DillError {
  const e = Object.create(DillError.prototype) as { -readonly [K in keyof DillError]: DillError[K] };
  const message = `${fn}: ${code}: ${DESCRIPTIONS[code]}`;
  e.message = message;
  e.stack = "DillError: " + message;
  e.code = code;
  e.errno = ERRNO[code];
  e.syscall = fn;
  e.index = -1;
  return e as DillError;
}

/**
 * True when `e` is a DillError, and, when `code` is given, one with that errno name.
 *
 * @example
 * ```ts
 * try {
 *   yield* chrecv(ch, now() + 100);
 * } catch (e) {
 *   if (!isDillError(e, "ETIMEDOUT")) throw e;
 * }
 * ```
 */
export function isDillError(e: unknown, code?: ErrnoCode): e is DillError {
  return e instanceof DillError && (code === undefined || e.code === code);
}

/** The errno name for a Linux errno number, or undefined. */
export function errnoName(errno: number): ErrnoCode | undefined {
  for (const k in ERRNO) if (ERRNO[k as ErrnoCode] === errno) return k as ErrnoCode;
  return undefined;
}
