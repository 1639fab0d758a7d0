/**
 * HTTP, after libdill's http.c: the request or status line and the header fields of HTTP/1.1
 * over any bytestream, built from two protocols of this folder. Each line is a SUFFIX message
 * ended by `"\r\n"`, and the empty line that ends the header is TERM's terminal message (TERM
 * with an empty terminal message): `http_done` sends it, and a receive that meets it fails with
 * `EPIPE`. The body is not HTTP's business: `http_detach` hands the bytestream back positioned at
 * the first byte after the empty line (SUFFIX gives back what it read ahead), and the body is
 * read and written there with `brecv` and `bsend`.
 *
 * What C writes into the caller's buffers (`char *command, size_t commandlen`) comes back as the
 * call's value; the sizes stay where C has them, as limits: a piece longer than `len - 1` bytes
 * (what fits a C buffer of `len` bytes with its NUL) is `EMSGSIZE`. A line longer than 1023
 * bytes is `EMSGSIZE` too, as with libdill's 1024-byte receive buffer; it breaks the receiving
 * direction (`ECONNRESET` afterwards), where a malformed line (`EPROTO`) or a piece over the
 * caller's limit only costs that line.
 */
import { checkCount, checkDeadline } from "../handles/args.js";
import { BSOCK_TYPE, type IoList } from "../handles/bytestream.js";
import { dillError, isDillError, quickError } from "../handles/errors.js";
import { finished, notRunByYield, type Op, parked } from "../handles/op.js";
import { checkMem, claim, FreeList, Storage } from "../handles/pool.js";
import { type HandleVfs, handleGet, handleQuery, handleRelease } from "../handles/table.js";
import type { Bsock, HttpSocket, Unbranded } from "../handles/types.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, clockName, flush, park, running, suspended, wakeWithError } from "../runtime/sched.js";
import { closeQuietly, publish } from "./layer.js";
import { SuffixStorage, suffix_attach_mem, suffix_detach, suffixDetachNow, type SuffixSock } from "./suffix.js";
import { TermStorage, term_attach_mem, term_detach, term_done, termDetachNow, type TermSock } from "./term.js";

/** Interface id an HTTP socket answers in `hquery`: what every `http_*` call asks a handle for. */
export const HTTP_TYPE: unique symbol = Symbol("http");

/** The longest line received, in bytes without its CRLF (libdill's 1024-byte buffer, less its NUL). */
export const HTTP_MAX_LINE = 1023;

const SP = 0x20;
const COLON = 0x3a;

/** An HTTP socket: the term socket (over the suffix socket) that carries its lines. */
export class HttpSock implements HandleVfs {
  readonly kind = "http";
  /** The term socket's handle, and the term socket itself (its calls, without a lookup). */
  u = -1;
  tm: TermSock | null = null;
  sending = false;
  receiving = false;
  /**
   * Counts the uses of this storage: a call woken after its socket was closed (and the storage
   * perhaps taken by another attach) sees another epoch and leaves the flags alone.
   */
  epoch = 0;
  /** One received line. */
  readonly rx: Buffer = Buffer.allocUnsafeSlow(HTTP_MAX_LINE);
  readonly rxIol: IoList = { iol_base: this.rx, iol_len: HTTP_MAX_LINE, iol_next: null, iol_rsvd: 0 };
  /** One line to send, grown as needed. */
  tx: Buffer = Buffer.allocUnsafeSlow(256);
  readonly txIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };

  constructor(readonly home: HttpStorage) {}

  query(type: symbol): unknown {
    return type === HTTP_TYPE ? this : undefined;
  }

  init(u: number, tm: TermSock): void {
    this.u = u;
    this.tm = tm;
    this.sending = this.receiving = false;
    this.epoch++;
  }

  close(): void {
    const u = this.u;
    this.u = -1;
    this.tm = null;
    if (u >= 0) closeQuietly(u);
    httpStorages.release(this.home);
  }

  /** Room for `n` bytes in `tx`. */
  room(n: number): Buffer {
    if (this.tx.length < n) this.tx = Buffer.allocUnsafeSlow(Math.max(n, this.tx.length * 2));
    return this.tx;
  }
}

/**
 * Storage for one HTTP socket (libdill's `struct http_storage`), for `http_attach_mem`: it holds
 * the suffix and term sockets the HTTP socket is made of. It is in use until the socket is closed
 * or detached.
 *
 * @example
 * ```ts
 * const mem = new HttpStorage();
 * const s = http_attach_mem(conn, mem);
 * ```
 */
export class HttpStorage extends Storage {
  /** The HTTP socket living in this storage. */
  readonly sock: HttpSock = new HttpSock(this);
  /** The storages of the two protocols under it. */
  readonly suffix: SuffixStorage = new SuffixStorage();
  readonly term: TermStorage = new TermStorage();
}

const httpStorages = new FreeList<HttpStorage>(() => new HttpStorage());

/** The delimiter of HTTP's lines. */
const CRLF = new Uint8Array([0x0d, 0x0a]);

function attach(s: number, mem: HttpStorage | undefined, fn: string): number {
  // attachChecks, written out: no closure per attach (a server attaches once per request).
  const vfs = handleGet(s, fn, "s");
  try {
    if (mem !== undefined) checkMem(fn, mem, HttpStorage);
    const b = vfs.query(BSOCK_TYPE);
    if (b === undefined || b === null)
      throw dillError("EPROTO", fn, "s", `handle ${s} (${vfs.kind ?? "user"}) is not a bytestream`);
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  let st: HttpStorage;
  try {
    st = mem === undefined ? httpStorages.take(fn) : claim(mem, HttpStorage, fn);
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  let u: number;
  try {
    u = suffix_attach_mem(s, CRLF, 2, st.suffix);
    u = term_attach_mem(u, null, 0, st.term);
  } catch (e) {
    httpStorages.release(st);
    throw e;
  }
  st.sock.init(u, st.term.sock);
  return publish(st.sock, fn);
}

/**
 * Starts HTTP over a bytestream: lines ended by CRLF, the header ended by an empty line. The call
 * takes `s` over in every case: on success `s` belongs to the HTTP socket (its number is no
 * longer valid; `http_detach` gives the bytestream back), on failure it is closed.
 *
 * @param s a bytestream handle: a TCP or IPC connection, an `ipc_pair` end, a TLS socket, a user's.
 * @returns the handle of the HTTP socket.
 * @throws `EBADF` (`s` is not a handle), `EPROTO` (`s` is not a bytestream), `EMFILE` (the handle
 * table is full), `ENOMEM` (the storage pool is used up).
 *
 * @example
 * ```ts
 * const s = http_attach(yield* tcp_accept(ls, null, -1));
 * const [command, resource] = yield* http_recvrequest(s, 16, 256, now() + 1000);
 * ```
 */
export function http_attach<U extends Bsock | Unbranded = Unbranded>(s: U): HttpSocket<U> {
  return attach(s, undefined, "http_attach") as HttpSocket<U>;
}

/**
 * {@link http_attach} with the socket in storage the caller provides: nothing is allocated.
 *
 * @param s a bytestream handle.
 * @param mem an `HttpStorage` not in use; it is in use until the socket is closed or detached.
 * @returns the handle of the HTTP socket.
 * @throws as `http_attach`; `EINVAL` also when `mem` is not an `HttpStorage`, `EBUSY` when it is
 * in use.
 *
 * @example
 * ```ts
 * const mem = new HttpStorage();
 * const s = http_attach_mem(conn, mem);
 * ```
 */
export function http_attach_mem<U extends Bsock | Unbranded = Unbranded>(s: U, mem: HttpStorage): HttpSocket<U> {
  return attach(s, mem ?? (null as never), "http_attach_mem") as HttpSocket<U>;
}

function httpOf(s: number, deadline: number, fn: string): HttpSock {
  const p = handleQuery(s, HTTP_TYPE, fn, "s") as HttpSock;
  checkDeadline(fn, deadline);
  return p;
}

/** A string argument: `EINVAL` unless it is a string. */
function checkString(fn: string, arg: string, v: unknown): asserts v is string {
  if (typeof v !== "string") throw dillError("EINVAL", fn, arg, `${arg} must be a string`);
}

/** `EINVAL` when `v` is empty or holds a space, a tab, a CR or an LF (a request line's token). */
function checkToken(fn: string, arg: string, v: unknown): asserts v is string {
  checkString(fn, arg, v);
  if (v.length === 0) throw dillError("EINVAL", fn, arg, `${arg} is empty`);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === SP || c === 0x09 || c === 0x0a || c === 0x0d)
      throw dillError("EINVAL", fn, arg, `${arg} must not hold spaces, tabs or line ends`);
  }
}

/** `EINVAL` when `v` holds a CR or an LF, which would end the line early. */
function checkLine(fn: string, arg: string, v: unknown): asserts v is string {
  checkString(fn, arg, v);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) throw dillError("EINVAL", fn, arg, `${arg} must not hold line ends`);
  }
}

/** The characters a field name cannot hold (RFC 7230's separators, whitespace), and controls. */
const NOT_IN_NAME = '(),/:;<=>?@[\\]{}" \t\n\r';
/** The same as a table by character code, below 0x80: 1 where the character is refused. */
const BAD_IN_NAME = new Uint8Array(0x80);
for (let c = 0; c < 0x80; c++)
  BAD_IN_NAME[c] = c < 0x20 || c === 0x7f || NOT_IN_NAME.includes(String.fromCharCode(c)) ? 1 : 0;

function checkFieldName(fn: string, v: unknown): asserts v is string {
  checkString(fn, "name", v);
  if (v.length === 0) throw dillError("EINVAL", fn, "name", "name is empty");
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x80 && BAD_IN_NAME[c] === 1)
      throw dillError("EINVAL", fn, "name", `name must not hold ${JSON.stringify(v[i])}`);
  }
}

/** Send `n` bytes of `p.tx` as one line. */
function* sendLine(p: HttpSock, n: number, deadline: number, fn: string): Op<void> {
  const iol = p.txIol;
  iol.iol_base = p.tx;
  iol.iol_len = n;
  p.sending = true;
  const epoch = p.epoch;
  try {
    yield* p.tm!.msendl(iol, iol, deadline, fn);
  } finally {
    if (p.epoch === epoch) p.sending = false;
  }
}

function busySending(p: HttpSock, fn: string): void {
  if (p.sending) throw dillError("EBUSY", fn, "s", "another coroutine is already sending on this socket");
}

/** Receive one line into `p.rx`; its length. */
function* recvLine(p: HttpSock, deadline: number, fn: string): Op<number> {
  if (p.receiving) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
  p.receiving = true;
  const epoch = p.epoch;
  try {
    return yield* p.tm!.mrecvl(p.rxIol, p.rxIol, deadline, fn);
  } catch (e) {
    if (isDillError(e, "EMSGSIZE"))
      throw dillError("EMSGSIZE", fn, undefined, `a line longer than ${HTTP_MAX_LINE} bytes`);
    throw e;
  } finally {
    if (p.epoch === epoch) p.receiving = false;
  }
}

function skipSpaces(b: Buffer, i: number, n: number): number {
  while (i < n && b[i] === SP) i++;
  return i;
}

function skipWord(b: Buffer, i: number, n: number): number {
  while (i < n && b[i] !== SP) i++;
  return i;
}

/** True when `b[i..j)` is HTTP/1.1 or HTTP/1.0. */
function isVersion(b: Buffer, i: number, j: number): boolean {
  return (
    j - i === 8 &&
    b[i] === 0x48 &&
    b[i + 1] === 0x54 &&
    b[i + 2] === 0x54 &&
    b[i + 3] === 0x50 &&
    b[i + 4] === 0x2f &&
    b[i + 5] === 0x31 &&
    b[i + 6] === 0x2e &&
    (b[i + 7] === 0x31 || b[i + 7] === 0x30)
  );
}

function malformed(fn: string, what: string): Error {
  return dillError("EPROTO", fn, undefined, `malformed ${what}`);
}

/** `b[i..j)` as text, `EMSGSIZE` when it would not fit a C buffer of `len` bytes with its NUL. */
function piece(b: Buffer, i: number, j: number, len: number, fn: string, arg: string): string {
  if (j - i > len - 1)
    throw dillError("EMSGSIZE", fn, arg, `${j - i} bytes do not fit ${arg} (${len} bytes with the terminating NUL)`);
  return b.toString("utf8", i, j);
}

/** Write `v` into `tx` at `off` as UTF-8; the bytes written. ASCII by a loop (a call into Buffer's native write costs more for a short string). */
function put(tx: Buffer, off: number, v: string): number {
  const n = v.length;
  if (n > 64) return tx.write(v, off, "utf8");
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x80) return i + tx.write(v.slice(i), off + i, "utf8");
    tx[off + i] = c;
  }
  return n;
}

/** A request line in `b[i..n)`: `[command, resource]`. */
function parseRequest(
  b: Buffer,
  i: number,
  n: number,
  commandlen: number,
  resourcelen: number,
  fn: string,
): [string, string] {
  const c0 = skipSpaces(b, i, n);
  const c1 = skipWord(b, c0, n);
  if (c1 === n || c1 === c0) throw malformed(fn, "request line: no resource");
  const r0 = skipSpaces(b, c1, n);
  const r1 = skipWord(b, r0, n);
  if (r1 === n || r1 === r0) throw malformed(fn, "request line: no protocol version");
  const v0 = skipSpaces(b, r1, n);
  const v1 = skipWord(b, v0, n);
  if (!isVersion(b, v0, v1)) throw malformed(fn, "request line: not HTTP/1.1 or HTTP/1.0");
  if (skipSpaces(b, v1, n) !== n) throw malformed(fn, "request line: more than three parts");
  const command = piece(b, c0, c1, commandlen, fn, "command");
  return [command, piece(b, r0, r1, resourcelen, fn, "resource")];
}

/** A status line in `b[i..n)`: `[status, reason]`. */
function parseStatus(b: Buffer, i: number, n: number, reasonlen: number, fn: string): [number, string] {
  const v0 = skipSpaces(b, i, n);
  const v1 = skipWord(b, v0, n);
  if (!isVersion(b, v0, v1) || v1 === n) throw malformed(fn, "status line: not HTTP/1.1 or HTTP/1.0");
  const c0 = skipSpaces(b, v1, n);
  const c1 = skipWord(b, c0, n);
  if (c1 - c0 !== 3) throw malformed(fn, "status line: no three-digit status code");
  let status = 0;
  for (let k = c0; k < c1; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) throw malformed(fn, "status line: no three-digit status code");
    status = status * 10 + d;
  }
  const r0 = skipSpaces(b, c1, n);
  return [status, piece(b, r0, n, reasonlen, fn, "reason")];
}

/** A header field in `b[i..n)`: `[name, value]`. */
function parseField(b: Buffer, i: number, n: number, namelen: number, valuelen: number, fn: string): [string, string] {
  const n0 = skipSpaces(b, i, n);
  let n1 = n0;
  while (n1 < n && b[n1] !== SP && b[n1] !== COLON) n1++;
  if (n1 === n0) throw malformed(fn, "header field: no name");
  const c = skipSpaces(b, n1, n);
  if (c === n || b[c] !== COLON) throw malformed(fn, "header field: no colon after the name");
  const v0 = skipSpaces(b, c + 1, n);
  let v1 = n;
  while (v1 > v0 && b[v1 - 1] === SP) v1--;
  const name = piece(b, n0, n1, namelen, fn, "name");
  return [name, piece(b, v0, v1, valuelen, fn, "value")];
}

/** What a call of this file is: the line it receives or sends. */
const REQUEST = 0;
const STATUS = 1;
const FIELD = 2;
/** `http_done`'s empty line. */
const DONE = 3;

/**
 * The suffix socket under `p` when a line can go straight to (or come straight from) it, with
 * the term socket between them left as it is: both are free, neither failed nor ended. Else
 * null, and the call takes the way through the term socket's and suffix socket's calls.
 */
function direct(p: HttpSock): SuffixSock | null {
  const tm = p.tm;
  if (tm === null || tm.sending || tm.receiving || tm.outdone || tm.inerr) return null;
  const sf = p.home.suffix.sock;
  if (tm.um !== sf || sf.ub === null || sf.sending || sf.receiving || sf.inerr || sf.outerr) return null;
  return sf;
}

/**
 * The receiving calls as one small object, which `yield*` drives. When the suffix socket has
 * the whole line read ahead already (the usual case: a request's header arrives in one piece),
 * the line is parsed where it lies and the call ends at once: no op of the layers below, no
 * generator frame, and the empty line's `EPIPE` reaches the caller across one frame. Otherwise
 * it runs `recvLine` through the term and suffix sockets, as libdill does.
 */
class HttpRecv implements Op<unknown>, Iterator<unknown, unknown, unknown> {
  private inner: Iterator<unknown, unknown, unknown> | null = null;
  private p: HttpSock | null = null;
  /** While parked by {@link HttpRecv.endOfHeader}: the coroutine (null once woken), its error, the socket's epoch. */
  cr: CrBase | null = null;
  err: Error | null = null;
  private epoch = 0;
  constructor(
    private readonly kind: number,
    private readonly s: number,
    private readonly len1: number,
    private readonly len2: number,
    private readonly deadline: number,
    private readonly fn: string,
  ) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(v?: unknown): IteratorResult<unknown, unknown> {
    const inner = this.inner;
    if (inner !== null) return this.after(inner.next(v));
    const fn = this.fn;
    if (arguments.length === 0) throw notRunByYield(fn);
    const p = httpOf(this.s, this.deadline, fn);
    const kind = this.kind;
    if (kind === REQUEST) {
      checkCount(fn, "commandlen", this.len1);
      checkCount(fn, "resourcelen", this.len2);
    } else if (kind === STATUS) {
      checkCount(fn, "reasonlen", this.len1);
    } else {
      checkCount(fn, "namelen", this.len1);
      checkCount(fn, "valuelen", this.len2);
    }
    const cr = canBlock(fn);
    if (cr === null) return this.start(suspended(), p);
    if (p.receiving) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
    const sf = direct(p);
    if (sf !== null && !p.tm!.indone && sf.rend > sf.rpos) {
      const rpos = sf.rpos;
      const i = sf.find(rpos);
      if (i >= 0 && i - rpos <= HTTP_MAX_LINE) {
        // What SuffixRecv and TermRecv would do with a line that is there: take it, and see
        // whether it is the empty line that ends the header.
        sf.rpos = i + sf.k;
        if (sf.rpos === sf.rend) sf.rpos = sf.rend = 0;
        if (i === rpos) {
          p.tm!.indone = true;
          return this.endOfHeader(p, cr, fn);
        }
        return finished(this.parse(sf.rbuf!, rpos, i));
      }
    }
    return this.start(recvLine(p, this.deadline, fn), p);
  }

  throw(e?: unknown): IteratorResult<unknown, unknown> {
    const inner = this.inner;
    if (inner === null) {
      if (this.p !== null) this.resumed();
      throw e;
    }
    return this.after(inner.throw!(e));
  }

  return(v?: unknown): IteratorResult<unknown, unknown> {
    const inner = this.inner;
    this.inner = null;
    if (inner !== null) inner.return?.(undefined);
    else if (this.p !== null) this.resumed();
    return finished(v);
  }

  /**
   * The empty line was taken: the call fails with EPIPE. The coroutine usually runs inside a
   * socket's data callback, where V8 makes a message object for every exception thrown (no
   * embedder handler catches it there): a stack walk and a source-position lookup that cost
   * several times what the whole call does. Inside a microtask it does not. So, under the real
   * clock, the coroutine parks here and a microtask wakes it with the error (the error is thrown
   * into it there); it is a receive in progress meanwhile (EBUSY for another one), and ends with
   * ECANCELED instead if it is cancelled first. The virtual clock's deadlock check sees every
   * park, so there the error is thrown at once.
   */
  private endOfHeader(p: HttpSock, cr: CrBase, fn: string): IteratorResult<unknown, unknown> {
    const err = quickError("EPIPE", fn);
    if (clockName() !== "real") throw err;
    this.p = p;
    this.epoch = p.epoch;
    this.err = err;
    this.cr = cr;
    p.receiving = true;
    park(cr, fn, -1, unblockLate, this);
    if (late.push(this) === 1) queueMicrotask(deliverLate);
    return parked();
  }

  /** The park of {@link endOfHeader} ended (the error came, or the coroutine was cancelled or stopped). */
  private resumed(): void {
    const p = this.p!;
    this.p = null;
    this.cr = null;
    this.err = null;
    if (p.epoch === this.epoch) p.receiving = false;
  }

  private start(op: Op<unknown>, p: HttpSock): IteratorResult<unknown, unknown> {
    this.p = p;
    const it = op[Symbol.iterator]();
    this.inner = it;
    return this.after(it.next(undefined));
  }

  /** The line is in `p.rx` once `recvLine` finished. */
  private after(r: IteratorResult<unknown, unknown>): IteratorResult<unknown, unknown> {
    if (!r.done) return r;
    this.inner = null;
    return finished(this.parse(this.p!.rx, 0, r.value as number));
  }

  private parse(b: Buffer, i: number, n: number): unknown {
    const kind = this.kind;
    if (kind === FIELD) return parseField(b, i, n, this.len1, this.len2, this.fn);
    if (kind === REQUEST) return parseRequest(b, i, n, this.len1, this.len2, this.fn);
    return parseStatus(b, i, n, this.len1, this.fn);
  }
}

/** Receives parked by `HttpRecv.endOfHeader`, woken by the next microtask. */
const late: (HttpRecv | null)[] = [];

function deliverLate(): void {
  for (let i = 0; i < late.length; i++) {
    const op = late[i]!;
    late[i] = null;
    const cr = op.cr;
    if (cr === null) continue; // cancelled or stopped meanwhile
    op.cr = null;
    wakeWithError(cr, op.err);
  }
  late.length = 0;
  flush();
}

/** Unblock hook of that park: a wake-up other than ours (cancellation) leaves nothing to deliver. */
function unblockLate(cr: CrBase): void {
  (cr.waitObj as HttpRecv).cr = null;
}

/**
 * The sending calls as one small object. The line is made in the socket's `tx` with its CRLF,
 * and, when the suffix socket is free and its bytestream can start a send itself, handed to
 * the bytestream in one call, as SuffixSend would hand it (the term socket only checks that the
 * header was not ended, which `direct` did). Otherwise the line goes through the term and
 * suffix sockets' calls.
 */
class HttpSend implements Op<void>, Iterator<unknown, void, unknown> {
  private inner: Iterator<unknown, unknown, unknown> | null = null;
  /** While parked in the bytestream's send: the sockets whose flags it holds, and the epoch. */
  private p: HttpSock | null = null;
  private tm: TermSock | null = null;
  private sf: SuffixSock | null = null;
  private epoch = 0;
  constructor(
    private readonly kind: number,
    private readonly s: number,
    private readonly a: string,
    private readonly b: string,
    private readonly status: number,
    private readonly deadline: number,
    private readonly fn: string,
  ) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(v?: unknown): IteratorResult<unknown, void> {
    const inner = this.inner;
    if (inner !== null) return this.after(inner.next(v));
    if (this.p !== null) {
      this.sent(false);
      return finished(undefined);
    }
    const fn = this.fn;
    if (arguments.length === 0) throw notRunByYield(fn);
    const p = httpOf(this.s, this.deadline, fn);
    const kind = this.kind;
    let n = 0;
    if (kind === FIELD) {
      const name = this.a;
      const value = this.b;
      checkFieldName(fn, name);
      checkLine(fn, "value", value);
      let v0 = 0;
      let v1 = value.length;
      while (v0 < v1 && value.charCodeAt(v0) === SP) v0++;
      while (v1 > v0 && value.charCodeAt(v1 - 1) === SP) v1--;
      if (v0 === v1) throw dillError("EPROTO", fn, "value", "value is empty");
      if (canBlock(fn) === null) return this.start(suspended());
      busySending(p, fn);
      const val = v0 === 0 && v1 === value.length ? value : value.slice(v0, v1);
      const tx = p.room(3 * (name.length + val.length) + 4);
      n = put(tx, 0, name);
      tx[n++] = COLON;
      tx[n++] = SP;
      n += put(tx, n, val);
    } else if (kind === STATUS) {
      const status = this.status;
      const reason = this.a;
      if (!Number.isInteger(status) || status < 100 || status > 599)
        throw dillError("EINVAL", fn, "status", `status must be an integer from 100 to 599, got ${String(status)}`);
      checkLine(fn, "reason", reason);
      if (canBlock(fn) === null) return this.start(suspended());
      busySending(p, fn);
      const tx = p.room(3 * reason.length + 18);
      n = put(tx, 0, "HTTP/1.1 ");
      tx[n++] = 0x30 + Math.floor(status / 100);
      tx[n++] = 0x30 + (Math.floor(status / 10) % 10);
      tx[n++] = 0x30 + (status % 10);
      tx[n++] = SP;
      n += put(tx, n, reason);
    } else if (kind === REQUEST) {
      const command = this.a;
      const resource = this.b;
      checkToken(fn, "command", command);
      checkToken(fn, "resource", resource);
      if (canBlock(fn) === null) return this.start(suspended());
      busySending(p, fn);
      const tx = p.room(3 * (command.length + resource.length) + 12);
      n = put(tx, 0, command);
      tx[n++] = SP;
      n += put(tx, n, resource);
      n += put(tx, n, " HTTP/1.1");
    } else {
      if (canBlock(fn) === null) return this.start(suspended());
      busySending(p, fn);
    }
    const sf = direct(p);
    const ub = sf === null ? null : sf.ub;
    if (ub === null || ub.startSend === undefined)
      return this.start(kind === DONE ? sendDone(p, this.deadline) : sendLine(p, n, this.deadline, fn));
    const tx = p.room(n + 2);
    tx[n] = 0x0d;
    tx[n + 1] = 0x0a;
    const iol = p.txIol;
    iol.iol_base = tx;
    iol.iol_len = n + 2;
    const tm = p.tm!;
    let r: IteratorResult<unknown, unknown>;
    try {
      // http_done's failures name term_done, as on the way through the term socket.
      r = ub.startSend(iol, iol, this.deadline, kind === DONE ? "term_done" : fn);
    } catch (e) {
      sf!.outerr = true;
      throw e;
    }
    if (r.done) {
      if (kind === DONE) tm.outdone = true;
      return finished(undefined);
    }
    // Parked until the bytestream has the line: the three sockets are sending meanwhile.
    this.p = p;
    this.tm = tm;
    this.sf = sf;
    this.epoch = p.epoch;
    p.sending = tm.sending = sf!.sending = true;
    return r as IteratorResult<unknown, void>;
  }

  throw(e?: unknown): IteratorResult<unknown, void> {
    const inner = this.inner;
    if (inner !== null) return this.after(inner.throw!(e));
    if (this.p !== null) this.sent(true);
    throw e;
  }

  return(v?: unknown): IteratorResult<unknown, void> {
    const inner = this.inner;
    this.inner = null;
    if (inner !== null) inner.return?.(undefined);
    else if (this.p !== null) this.sent(true); // abandoned mid-send: sending is over, as in SuffixSend
    return finished(v as void);
  }

  /** The parked send ended, or `failed`: the flags go back unless the socket was closed since. */
  private sent(failed: boolean): void {
    const p = this.p!;
    const tm = this.tm!;
    const sf = this.sf!;
    this.p = this.tm = this.sf = null;
    if (p.epoch !== this.epoch) return;
    p.sending = tm.sending = sf.sending = false;
    if (failed) sf.outerr = true;
    else if (this.kind === DONE) tm.outdone = true;
  }

  private start(op: Op<unknown>): IteratorResult<unknown, void> {
    const it = op[Symbol.iterator]();
    this.inner = it;
    return this.after(it.next(undefined));
  }

  private after(r: IteratorResult<unknown, unknown>): IteratorResult<unknown, void> {
    if (!r.done) return r as IteratorResult<unknown, void>;
    this.inner = null;
    return finished(undefined);
  }
}

/** `http_done` through the term socket. */
function* sendDone(p: HttpSock, deadline: number): Op<void> {
  p.sending = true;
  const epoch = p.epoch;
  try {
    yield* term_done(p.u, deadline);
  } finally {
    if (p.epoch === epoch) p.sending = false;
  }
}

/**
 * Sends a request line, `command resource HTTP/1.1`. Header fields follow with `http_sendfield`,
 * and `http_done` ends the header.
 *
 * @param s an HTTP socket handle.
 * @param command the method (`"GET"`): no spaces, tabs or line ends.
 * @param resource the target (`"/index.html"`): no spaces, tabs or line ends.
 * @param deadline absolute time in ms; `-1` never, `0` only if it can be sent without waiting.
 * @throws `EBADF`, `ENOTSUP` (not an HTTP socket), `EINVAL` (a bad `command`, `resource` or
 * deadline), `EBUSY` (a coroutine is sending on `s`), `EPIPE` (the header was ended),
 * `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* http_sendrequest(s, "GET", "/a/b/c", now() + 1000);
 * ```
 */
export function http_sendrequest(
  s: HttpSocket | Unbranded,
  command: string,
  resource: string,
  deadline: number,
): Op<void> {
  return new HttpSend(REQUEST, s, command, resource, 0, deadline, "http_sendrequest");
}

/**
 * Receives a request line and evaluates to its method and target, `[command, resource]`.
 * `commandlen` and `resourcelen` are the sizes of libdill's buffers, kept as limits.
 *
 * @param s an HTTP socket handle.
 * @param commandlen the method must fit `commandlen` bytes with a NUL: at most `commandlen - 1` bytes.
 * @param resourcelen the target must fit `resourcelen` bytes with a NUL.
 * @param deadline absolute time in ms; `-1` never, `0` only if the line is already there.
 * @returns `[command, resource]`.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (a bad length or deadline), `EBUSY` (a coroutine is
 * receiving on `s`), `EPROTO` (not a request line of HTTP/1.1 or 1.0), `EMSGSIZE` (a piece over
 * its limit, or a line over 1023 bytes), `EPIPE` (an empty line, or the end of the stream),
 * `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const [command, resource] = yield* http_recvrequest(s, 16, 256, now() + 1000);
 * ```
 */
export function http_recvrequest(
  s: HttpSocket | Unbranded,
  commandlen: number,
  resourcelen: number,
  deadline: number,
): Op<[string, string]> {
  return new HttpRecv(REQUEST, s, commandlen, resourcelen, deadline, "http_recvrequest") as Op<[string, string]>;
}

/**
 * Sends a status line, `HTTP/1.1 status reason`. Header fields follow with `http_sendfield`, and
 * `http_done` ends the header.
 *
 * @param s an HTTP socket handle.
 * @param status the status code, 100 to 599.
 * @param reason the reason phrase (`"OK"`), which may be empty; no line ends.
 * @param deadline absolute time in ms; `-1` never, `0` only if it can be sent without waiting.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (a bad `status`, `reason` or deadline), `EBUSY`, `EPIPE`
 * (the header was ended), `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* http_sendstatus(s, 200, "OK", now() + 1000);
 * ```
 */
export function http_sendstatus(s: HttpSocket | Unbranded, status: number, reason: string, deadline: number): Op<void> {
  return new HttpSend(STATUS, s, reason, "", status, deadline, "http_sendstatus");
}

/**
 * Receives a status line and evaluates to `[status, reason]` (C's return value, then what it
 * writes into `reason`).
 *
 * @param s an HTTP socket handle.
 * @param reasonlen the reason must fit `reasonlen` bytes with a NUL: at most `reasonlen - 1` bytes.
 * @param deadline absolute time in ms; `-1` never, `0` only if the line is already there.
 * @returns `[status, reason]`.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EBUSY`, `EPROTO` (not a status line of HTTP/1.1 or 1.0
 * with a three-digit code), `EMSGSIZE` (the reason over its limit, or a line over 1023 bytes),
 * `EPIPE`, `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const [status, reason] = yield* http_recvstatus(s, 64, now() + 1000);
 * ```
 */
export function http_recvstatus(s: HttpSocket | Unbranded, reasonlen: number, deadline: number): Op<[number, string]> {
  return new HttpRecv(STATUS, s, reasonlen, 0, deadline, "http_recvstatus") as Op<[number, string]>;
}

/**
 * Sends a header field, `name: value`, the value's leading and trailing spaces dropped.
 *
 * @param s an HTTP socket handle.
 * @param name the field name: no separators (`(),/:;<=>?@[\]{}"`), whitespace or controls.
 * @param value the value: not empty (spaces only count as empty), no line ends.
 * @param deadline absolute time in ms; `-1` never, `0` only if it can be sent without waiting.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (a bad `name`, `value` or deadline), `EPROTO` (an empty
 * value, as in libdill), `EBUSY`, `EPIPE` (the header was ended), `ECONNRESET`, `ECANCELED`,
 * `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* http_sendfield(s, "Host", "example.org", now() + 1000);
 * ```
 */
export function http_sendfield(s: HttpSocket | Unbranded, name: string, value: string, deadline: number): Op<void> {
  return new HttpSend(FIELD, s, name, value, 0, deadline, "http_sendfield");
}

/**
 * Receives a header field and evaluates to `[name, value]`, the value without its leading and
 * trailing spaces. The empty line that ends the header is `EPIPE`: then `http_detach` gives the
 * bytestream back at the body.
 *
 * @param s an HTTP socket handle.
 * @param namelen the name must fit `namelen` bytes with a NUL: at most `namelen - 1` bytes.
 * @param valuelen the value must fit `valuelen` bytes with a NUL.
 * @param deadline absolute time in ms; `-1` never, `0` only if the line is already there.
 * @returns `[name, value]`.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EBUSY`, `EPROTO` (not `name: value`), `EMSGSIZE` (a
 * piece over its limit, or a line over 1023 bytes), `EPIPE` (the end of the header, or of the
 * stream), `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * for (;;) {
 *   try {
 *     const [name, value] = yield* http_recvfield(s, 64, 256, now() + 1000);
 *     console.log(name, value);
 *   } catch (e) {
 *     if (isDillError(e, "EPIPE")) break; // the empty line
 *     throw e;
 *   }
 * }
 * ```
 */
export function http_recvfield(
  s: HttpSocket | Unbranded,
  namelen: number,
  valuelen: number,
  deadline: number,
): Op<[string, string]> {
  return new HttpRecv(FIELD, s, namelen, valuelen, deadline, "http_recvfield") as Op<[string, string]>;
}

/**
 * Ends the header: sends the empty line. This side sends no more lines (`EPIPE` from then on);
 * receiving goes on.
 *
 * @param s an HTTP socket handle.
 * @param deadline absolute time in ms; `-1` never, `0` only if it can be sent without waiting.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (deadline), `EPIPE` (done before), `EBUSY` (a coroutine
 * is sending on `s`), `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* http_sendstatus(s, 204, "No Content", -1);
 * yield* http_done(s, now() + 1000);
 * ```
 */
export function http_done(s: HttpSocket | Unbranded, deadline: number): Op<void> {
  return new HttpSend(DONE, s, "", "", 0, deadline, "http_done");
}

/**
 * `http_detach` as one small object. When the header was ended (`http_done`) and nothing failed,
 * the term and suffix sockets are taken apart at once, as their detaches would do it then
 * (term's sends nothing more, suffix's hands back what it read ahead): no generator frame.
 * Otherwise it runs {@link detachSlow}.
 */
class HttpDetach implements Op<number>, Iterator<unknown, number, unknown> {
  private inner: Iterator<unknown, number, unknown> | null = null;
  constructor(
    private readonly s: number,
    private readonly deadline: number,
  ) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(v?: unknown): IteratorResult<unknown, number> {
    const inner = this.inner;
    if (inner !== null) return inner.next(v);
    const fn = "http_detach";
    if (arguments.length === 0) throw notRunByYield(fn);
    const s = this.s;
    const p = httpOf(s, this.deadline, fn);
    if (p.sending || p.receiving)
      throw dillError("EBUSY", fn, "s", "a coroutine is sending or receiving on this socket");
    const tm = p.tm;
    const sf = p.home.suffix.sock;
    const cr = running();
    if (
      tm !== null &&
      tm.outdone &&
      tm.u >= 0 &&
      !tm.sending &&
      !tm.receiving &&
      tm.um === sf &&
      sf.u >= 0 &&
      sf.ub !== null &&
      !sf.sending &&
      !sf.receiving &&
      !sf.inerr &&
      !sf.outerr &&
      cr !== null &&
      !cr.cancelled
    ) {
      handleRelease(s, fn);
      handleRelease(p.u, "term_detach");
      p.u = -1;
      p.tm = null;
      const u = termDetachNow(tm);
      handleRelease(u, "suffix_detach");
      const b = suffixDetachNow(sf);
      httpStorages.release(p.home);
      return finished(b);
    }
    const it = detachSlow(s, p, this.deadline)[Symbol.iterator]();
    this.inner = it;
    return it.next(undefined);
  }

  throw(e?: unknown): IteratorResult<unknown, number> {
    const inner = this.inner;
    if (inner === null) throw e;
    return inner.throw!(e);
  }

  return(v?: unknown): IteratorResult<unknown, number> {
    const inner = this.inner;
    this.inner = null;
    if (inner !== null) inner.return?.(undefined);
    return finished(v as number);
  }
}

/**
 * Ends HTTP and returns the bytestream under it, positioned at the first byte not received yet:
 * after the peer's header once its empty line was received, so that what follows (a body,
 * another protocol) is read there. Ends this side's header first unless `http_done` did. It does
 * not wait for the peer's header: a client can detach after its own, send a body, and attach
 * again to receive the answer. On failure both `s` and the bytestream are closed.
 *
 * @param s an HTTP socket handle.
 * @param deadline absolute time in ms for sending the empty line; `-1` never.
 * @returns the handle of the underlying bytestream.
 * @throws `EBADF`, `ENOTSUP` (not an HTTP socket), `EINVAL` (deadline), `EBUSY` (a coroutine is
 * sending or receiving on `s`): `s` is left as it was; `ECONNRESET`, `ETIMEDOUT`, `ECANCELED`,
 * `EMSGSIZE`: all is closed.
 *
 * @example
 * ```ts
 * const conn = yield* http_detach(s, now() + 1000);
 * yield* bsend(conn, "hello", 5, now() + 1000); // the body
 * ```
 */
export function http_detach<U = number>(s: HttpSocket<U> | Unbranded, deadline: number): Op<U> {
  return new HttpDetach(s, deadline) as unknown as Op<U>;
}

/** `http_detach` through `term_detach` and `suffix_detach`. */
function* detachSlow(s: number, p: HttpSock, deadline: number): Op<number> {
  const fn = "http_detach";
  handleRelease(s, fn);
  const u = p.u;
  p.u = -1;
  p.tm = null;
  // Unlike TERM's detach, HTTP's does not wait for the peer's empty line: what is left of the
  // peer's header stays in the stream (a client sends its body, then attaches again to read the
  // answer). Marking the peer's side as ended makes term_detach skip its draining.
  p.home.term.sock.indone = true;
  try {
    return yield* suffix_detach(yield* term_detach(u, deadline), deadline);
  } finally {
    // On failure the protocols under it closed everything already.
    httpStorages.release(p.home);
  }
}
