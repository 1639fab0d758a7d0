/**
 * The receiving side of a connection: the target of the receive in progress (an iolist and how
 * far it is filled, or "discard everything" for ipc_close), and the queue of bytes that arrived
 * while nobody was receiving (a ring of Node's chunks, with the offset into the first one).
 *
 * It only moves bytes. Pausing the socket above a high-water mark and waking the receiver are the
 * connection's business (receive.ts), which reads `bytes` after `push` and `take`.
 */
import type { IoList } from "../handles/bytestream.js";

/** The ring of a queue that never held a chunk: shared, never written (grow replaces it). */
const NO_CHUNKS: (Buffer | null)[] = [];

/** A connection's queue of received chunks, and the receive target bytes are copied into. */
export class Inbound {
  /** The element being filled and the offset in it; null once the target is complete. */
  iol: IoList | null = null;
  ioff = 0;
  /** Drop every byte (ipc_close reading until the peer's end-of-stream). */
  discard = false;
  /** Bytes queued. */
  bytes = 0;
  /** Chunks queued. */
  count = 0;
  private q: (Buffer | null)[] = NO_CHUNKS;
  private head = 0;
  private off = 0;

  /** Receive into the list starting at `first`. */
  target(first: IoList): void {
    this.iol = first;
    this.ioff = 0;
    this.discard = false;
  }

  /** Receive nothing: drop what comes. */
  dropAll(): void {
    this.iol = null;
    this.discard = true;
  }

  /** Forget the target (the receive ended). */
  untarget(): void {
    this.iol = null;
    this.discard = false;
  }

  /** True once the target is complete (trailing empty elements skipped). */
  done(): boolean {
    if (this.discard) return false;
    let iol = this.iol;
    while (iol !== null && this.ioff === iol.iol_len) {
      iol = iol.iol_next;
      this.ioff = 0;
    }
    this.iol = iol;
    return iol === null;
  }

  /** Copy from `chunk[off..end]` into the target; returns the offset reached in `chunk`. */
  fill(chunk: Buffer, off: number, end: number): number {
    if (this.discard) return end;
    let iol = this.iol;
    let ioff = this.ioff;
    for (;;) {
      while (iol !== null && ioff === iol.iol_len) {
        iol = iol.iol_next;
        ioff = 0;
      }
      if (iol === null || off === end) break;
      let n = iol.iol_len - ioff;
      if (n > end - off) n = end - off;
      const base = iol.iol_base;
      if (base !== null) {
        // A whole chunk goes through set() (about 20 ns whatever its size; a byte loop takes
        // ~90 ns for 64 bytes); a part of one needs a subarray, which only pays above 32 bytes.
        if (off === 0 && n === chunk.length && n > 8) base.set(chunk, ioff);
        else if (n <= 32) for (let i = 0; i < n; i++) base[ioff + i] = chunk[off + i]!;
        else base.set(chunk.subarray(off, off + n), ioff);
      }
      off += n;
      ioff += n;
    }
    this.iol = iol;
    this.ioff = ioff;
    return off;
  }

  /** Queue `chunk[off..]`. */
  push(chunk: Buffer, off: number): void {
    if (this.count === this.q.length) this.grow();
    if (this.count === 0) this.off = off;
    this.q[(this.head + this.count) & (this.q.length - 1)] = chunk;
    this.count++;
    this.bytes += chunk.length - off;
  }

  /** Queue `chunk` in front of what is queued: it is taken first. */
  unshift(chunk: Buffer): void {
    if (this.count > 0 && this.off > 0) {
      // The first chunk's offset applies to it alone: keep only its unread part.
      this.q[this.head] = this.q[this.head]!.subarray(this.off);
    }
    if (this.count === this.q.length) this.grow();
    this.head = (this.head - 1) & (this.q.length - 1);
    this.q[this.head] = chunk;
    this.count++;
    this.off = 0;
    this.bytes += chunk.length;
  }

  /** Move queued bytes into the target (or drop them all when discarding). */
  take(): void {
    const mask = this.q.length - 1;
    while (this.count > 0) {
      const i = this.head;
      const chunk = this.q[i]!;
      const start = this.off;
      const off = this.fill(chunk, start, chunk.length);
      this.bytes -= off - start;
      if (off < chunk.length) {
        this.off = off;
        return;
      }
      this.q[i] = null;
      this.head = (i + 1) & mask;
      this.count--;
      this.off = 0;
    }
  }

  /** Drop the queue and the target. */
  clear(): void {
    const mask = this.q.length - 1;
    for (let i = 0; i < this.count; i++) this.q[(this.head + i) & mask] = null;
    this.head = this.count = this.off = this.bytes = 0;
    this.untarget();
  }

  private grow(): void {
    const n = this.q.length;
    const nq = new Array<Buffer | null>(n === 0 ? 8 : n * 2).fill(null);
    for (let i = 0; i < this.count; i++) nq[i] = this.q[(this.head + i) & (n - 1)]!;
    this.q = nq;
    this.head = 0;
  }
}
