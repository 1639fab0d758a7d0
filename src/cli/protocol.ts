/**
 * The key-value server's line protocol (docs/server.md): one request, read from a connection's
 * line reader, answered on the connection. Request lines are bytes: keys are compared byte for
 * byte, and bytes a client sent are quoted in an error message with escapes, never echoed raw.
 */
import { bsend, bsendl, type IoList, msleep, now, type Op } from "../index.js";
import type { LineReader } from "./reader.js";
import { type Server, statsLine } from "./state.js";

/** The longest request line accepted, without its `\n`. */
export const MAX_LINE = 1024;
/** The longest key accepted, in bytes. */
export const MAX_KEY = 250;

const enc = new TextEncoder();

const NEWLINE = new Uint8Array([10]);

/** One connection's answers: a text head, optionally followed by a body and `\n`, sent as one message. */
export class Replier {
  private readonly tail: IoList = { iol_base: NEWLINE, iol_len: 1, iol_next: null, iol_rsvd: 0 };
  private readonly body: IoList = { iol_base: null, iol_len: 0, iol_next: this.tail, iol_rsvd: 0 };
  private readonly head: IoList = { iol_base: null, iol_len: 0, iol_next: this.body, iol_rsvd: 0 };
  constructor(
    private readonly s: number,
    private readonly srv: Server,
  ) {}
  *text(line: string, deadline: number): Op<void> {
    const b = enc.encode(line);
    this.srv.stats.bytesOut += b.length;
    yield* bsend(this.s, b, b.length, deadline);
  }
  *withBody(line: string, data: Uint8Array, len: number, deadline: number): Op<void> {
    const h = enc.encode(line);
    this.head.iol_base = h;
    this.head.iol_len = h.length;
    this.body.iol_base = data;
    this.body.iol_len = len;
    this.srv.stats.bytesOut += h.length + len + 1;
    try {
      yield* bsendl(this.s, this.head, this.tail, deadline);
    } finally {
      this.head.iol_base = this.body.iol_base = null;
    }
  }
  *error(code: string, why: string, deadline: number): Op<void> {
    this.srv.stats.errors++;
    yield* this.text(`ERR ${code} ${why}\n`, deadline);
  }
}

/** Per-connection state of a handler. */
export interface Conn {
  s: number;
  rd: LineReader;
  out: Replier;
  /** Reused buffer for ECHO bodies. */
  scratch: Uint8Array;
  /** Set with a false return of {@link request}: the stream is out of step, the server gives up on it. */
  hard: boolean;
}

/** A request's length argument: a non-negative integer, or null. */
function length(arg: string | undefined): number | null {
  if (arg === undefined || !/^\d{1,10}$/.test(arg)) return null;
  return Number(arg);
}

/** Bytes a client sent (one character per byte), fit to be quoted in an answer: at most 32, escaped. */
export function quoted(bytes: string): string {
  let out = "";
  const n = Math.min(bytes.length, 32);
  for (let i = 0; i < n; i++) {
    const c = bytes.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? bytes[i] : `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return `"${out}${bytes.length > n ? "..." : ""}"`;
}

function badKey(key: string | undefined): string | null {
  if (key === undefined || key === "") return "a key is required";
  if (key.length > MAX_KEY) return `keys are at most ${MAX_KEY} bytes`;
  return null;
}

function* setOrEcho(c: Conn, srv: Server, words: string[], isSet: boolean, deadline: number): Op<boolean> {
  const out = c.out;
  const why = isSet ? badKey(words[1]) : null;
  const len = length(words[isSet ? 2 : 1]);
  if (why !== null || len === null || words.length !== (isSet ? 3 : 2)) {
    yield* out.error(
      "EINVAL",
      why ?? (isSet ? "usage: SET key len, then len bytes" : "usage: ECHO len, then len bytes"),
      deadline,
    );
    return true;
  }
  if (len > srv.opts.maxBody) {
    yield* out.error("EMSGSIZE", `a body is at most ${srv.opts.maxBody} bytes`, deadline);
    c.hard = true; // the body that follows is not read
    return false;
  }
  if (!isSet) {
    if (c.scratch.length < len) c.scratch = new Uint8Array(Math.max(len, c.scratch.length * 2));
    yield* c.rd.exact(c.scratch, len, deadline);
    srv.stats.bytesIn += len;
    yield* out.withBody(`ECHO ${len}\n`, c.scratch, len, deadline);
    return true;
  }
  const key = words[1]!;
  const store = srv.store;
  let data: Uint8Array | null = null;
  if (store.fits(key, len)) {
    data = new Uint8Array(len);
    yield* c.rd.exact(data, len, deadline);
  } else {
    yield* c.rd.skip(len, deadline); // the body is read, so that the connection stays in step
  }
  srv.stats.bytesIn += len;
  // Checked again: other connections may have filled the store while this body arrived.
  if (data === null || !store.fits(key, len)) {
    srv.stats.nomem++;
    yield* out.error(
      "ENOMEM",
      `the store is full (at most ${store.maxKeys} keys and ${store.maxBytes} bytes, keys and values counted)`,
      deadline,
    );
    return true;
  }
  store.set(key, data);
  yield* out.text("OK\n", deadline);
  return true;
}

/**
 * Answer one request. Returns false when the connection must close afterwards (QUIT, an
 * oversized body). A failure of the connection itself is thrown.
 */
export function* request(c: Conn, srv: Server, line: string, deadline: number): Op<boolean> {
  const words = line.split(" ");
  const cmd = words[0]!.toUpperCase();
  const out = c.out;
  switch (cmd) {
    case "PING":
      yield* out.text("PONG\n", deadline);
      return true;
    case "SET":
    case "ECHO":
      return yield* setOrEcho(c, srv, words, cmd === "SET", deadline);
    case "GET":
    case "DEL": {
      const why = badKey(words[1]);
      if (why !== null || words.length !== 2) {
        yield* out.error("EINVAL", why ?? `usage: ${cmd} key`, deadline);
        return true;
      }
      const v = srv.store.get(words[1]!);
      if (v === undefined) yield* out.text("NOTFOUND\n", deadline);
      else if (cmd === "GET") yield* out.withBody(`VALUE ${v.length}\n`, v, v.length, deadline);
      else {
        srv.store.delete(words[1]!);
        yield* out.text("OK\n", deadline);
      }
      return true;
    }
    case "SLEEP": {
      const ms = length(words[1]);
      if (ms === null || words.length !== 2) {
        yield* out.error("EINVAL", "usage: SLEEP ms", deadline);
        return true;
      }
      const until = now() + ms;
      if (until <= deadline) {
        yield* msleep(until);
        yield* out.text("OK\n", deadline);
        return true;
      }
      // The work would outlive the request's deadline: it is cut short at the deadline.
      yield* msleep(deadline);
      srv.stats.timeouts++;
      yield* out.error("ETIMEDOUT", `the request deadline (${srv.opts.requestTimeout} ms) expired`, now() + 1000);
      return true;
    }
    case "STATS":
      yield* out.text(`${statsLine(srv)}\n`, deadline);
      return true;
    case "QUIT":
      yield* out.text("BYE\n", deadline);
      return false;
    default:
      yield* out.error("EINVAL", `unknown command ${quoted(words[0]!)}`, deadline);
      return true;
  }
}
