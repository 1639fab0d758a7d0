/**
 * A buffered reader over an IPC connection, for line-based protocols: `line()` returns the next
 * line without its `\n`, `exact(n)` the next `n` bytes. Bytes arrive with `ipc_recv_some` in
 * chunks, so a line costs one receive at most, never one per byte; a long body is received with
 * `brecv` straight into its buffer once the buffered part has been copied.
 */
import { brecv, DillError, ipc_recv_some, now, type Op } from "../index.js";

const NL = 10;

export class LineReader {
  private buf: Uint8Array;
  private start = 0;
  private end = 0;

  /** `maxLine`: the longest line accepted (without its `\n`); longer is `EMSGSIZE`. */
  constructor(
    private readonly s: number,
    readonly maxLine: number,
    size = 16 * 1024,
  ) {
    this.buf = new Uint8Array(Math.max(size, maxLine + 1));
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * The next line without its `\n` (and without a `\r` before it, for terminals), as a string of
   * one character per byte (latin1): the bytes as they came, whatever they are. Fails with the
   * receive's error (`EPIPE` at the peer's end, `ETIMEDOUT`), or `EMSGSIZE` when no `\n` comes
   * within `maxLine` bytes.
   *
   * `deadline` bounds the wait for the line. With `lineMs` >= 0, it bounds only the wait for the
   * line's first byte: from the moment part of the line is here, the rest must come within
   * `lineMs` ms (a server's idle timeout and request-line timeout). {@link buffered} tells after
   * an `ETIMEDOUT` which of the two expired.
   */
  *line(deadline: number, lineMs = -1): Op<string> {
    let scan = this.start;
    let started = false;
    for (;;) {
      const buf = this.buf;
      let i = scan;
      while (i < this.end && buf[i] !== NL) i++;
      if (i < this.end) {
        if (i - this.start > this.maxLine)
          throw new DillError("EMSGSIZE", "line", `no end of line within ${this.maxLine} bytes`);
        let e = i;
        if (e > this.start && this.buf[e - 1] === 13) e--;
        const text = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.start, e - this.start).toString("latin1");
        this.start = i + 1;
        if (this.start === this.end) this.start = this.end = 0;
        return text;
      }
      if (this.end - this.start > this.maxLine)
        throw new DillError("EMSGSIZE", "line", `no end of line within ${this.maxLine} bytes`);
      scan = this.end;
      if (this.end === this.buf.length) {
        // Move the partial line to the front to make room.
        this.buf.copyWithin(0, this.start, this.end);
        scan -= this.start;
        this.end -= this.start;
        this.start = 0;
      }
      if (!started && lineMs >= 0 && this.end > this.start) {
        started = true;
        deadline = now() + lineMs;
      }
      this.end += yield* ipc_recv_some(this.s, this.buf.subarray(this.end), this.buf.length - this.end, deadline);
    }
  }

  /** Fill `out[0..n)` with the next `n` bytes: the buffered ones first, then `brecv` for the rest. */
  *exact(out: Uint8Array, n: number, deadline: number): Op<void> {
    const have = Math.min(n, this.end - this.start);
    if (have > 0) {
      out.set(this.buf.subarray(this.start, this.start + have), 0);
      this.start += have;
      if (this.start === this.end) this.start = this.end = 0;
    }
    if (have < n) yield* brecv(this.s, out.subarray(have), n - have, deadline);
  }

  /** Drop the next `n` bytes. */
  *skip(n: number, deadline: number): Op<void> {
    const have = Math.min(n, this.end - this.start);
    this.start += have;
    if (this.start === this.end) this.start = this.end = 0;
    if (have < n) yield* brecv(this.s, null, n - have, deadline);
  }
}
