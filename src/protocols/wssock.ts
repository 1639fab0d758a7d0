/**
 * The WebSocket socket of ws.ts: its state over the underlying bytestream, and RFC 6455's frames
 * going out (one per message, the client's masked) and coming in (read ahead when the bytestream
 * lets it, fragments joined into the caller's list, pings answered, the close frame kept for
 * `ws_status`). The public calls and the attaches are in ws.ts.
 */
import { randomFillSync } from "node:crypto";
import type { Bytestream, IoList } from "../handles/bytestream.js";
import { dillError, quickError } from "../handles/errors.js";
import { MSOCK_TYPE, type MessageSocket } from "../handles/msock.js";
import { BLOCK, type Op } from "../handles/op.js";
import { FreeList, Storage } from "../handles/pool.js";
import type { HandleVfs } from "../handles/table.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { canReadAhead, closeQuietly, copyBytes, ListCursor, view } from "./layer.js";
import { type HandshakeIo, WS_MAX_LINE } from "./wshandshake.js";

/** Binary messages (the default type of a socket; a `ws_send`/`ws_recv` flag). */
export const WS_BINARY = 0;
/** Text messages (UTF-8). */
export const WS_TEXT = 1;
/** Attach without the HTTP handshake: it was done by other means. */
export const WS_NOHTTP = 2;

/** Interface id a WebSocket answers in `hquery` (besides `MSOCK_TYPE`). */
export const WS_TYPE: unique symbol = Symbol("ws");

const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** The longest control frame payload (RFC 6455); a close frame's reason is 2 bytes shorter. */
const MAX_CONTROL = 125;
/** The longest reason a close frame can carry. */
export const WS_MAX_REASON = MAX_CONTROL - 2;
/** Messages up to this size are copied behind their header and sent in one write. */
const COALESCE = 16 * 1024;
/** The read-ahead buffer (it also holds a handshake line). */
const READ_AHEAD = WS_MAX_LINE * 2;

/** Random bytes for the client's masks, drawn 4 at a time and refilled in one call. */
const masks = new Uint8Array(4096);
let maskPos = masks.length;
function nextMask(out: Uint8Array, off: number): void {
  if (maskPos === masks.length) {
    randomFillSync(masks);
    maskPos = 0;
  }
  out[off] = masks[maskPos]!;
  out[off + 1] = masks[maskPos + 1]!;
  out[off + 2] = masks[maskPos + 2]!;
  out[off + 3] = masks[maskPos + 3]!;
  maskPos += 4;
}

/** Copy `n` bytes of `src` to `dst`, XORed with `mask` starting at mask offset `m`. */
function maskCopy(
  dst: Uint8Array,
  dOff: number,
  src: Uint8Array,
  sOff: number,
  n: number,
  mask: Uint8Array,
  m: number,
) {
  for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i]! ^ mask[(m + i) & 3]!;
}

/** A WebSocket: the protocol's state over the underlying bytestream `u`. */
export class WsSock implements HandleVfs, MessageSocket, HandshakeIo {
  readonly kind = "ws";
  u = -1;
  ub: Bytestream | null = null;
  server = false;
  /** The socket's message type for msend/mrecv: OP_TEXT or OP_BINARY. */
  opcode = OP_BINARY;
  /** Bumped when the socket closes: an op woken after that touches nothing. */
  epoch = 0;
  sending = false;
  receiving = false;
  /** The close frame was sent resp. received. */
  outdone = false;
  indone = false;
  /** A send resp. a receive failed: that direction is over. */
  outerr = false;
  inerr = false;
  /** The peer's close status (0: none) and reason. */
  status = 0;
  readonly reason = new Uint8Array(MAX_CONTROL);
  reasonLen = 0;
  /** The flags of the last message received. */
  rflags = WS_BINARY;
  /** A pong owed to the peer while another coroutine was sending: its payload. */
  pongPending = false;
  readonly pong = new Uint8Array(MAX_CONTROL);
  pongLen = 0;
  readonly pongIol: IoList = { iol_base: this.pong, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  /** Reading ahead is possible; what was read and not used, `rbuf[rpos..rend)`. */
  ahead = false;
  readonly rbuf = new Uint8Array(READ_AHEAD);
  rpos = 0;
  rend = 0;
  readonly rIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  /** The mask of the frame being received, resp. sent. */
  readonly rmask = new Uint8Array(4);
  readonly smask = new Uint8Array(4);
  /** Where a message goes in the caller's list. */
  readonly cursor = new ListCursor();
  /** Outgoing frames are built here; `outIol` sends them. */
  out = new Uint8Array(COALESCE + 14);
  readonly outIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  readonly ctlIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  readonly ctl = new Uint8Array(MAX_CONTROL);

  constructor(readonly home: WsStorage) {}

  query(type: symbol): unknown {
    return type === MSOCK_TYPE || type === WS_TYPE ? this : undefined;
  }

  init(u: number, ub: Bytestream, flags: number, server: boolean): void {
    this.u = u;
    this.ub = ub;
    this.server = server;
    this.opcode = flags & WS_TEXT ? OP_TEXT : OP_BINARY;
    this.sending = this.receiving = this.outdone = this.indone = this.outerr = this.inerr = false;
    this.pongPending = false;
    this.status = this.reasonLen = 0;
    this.ahead = canReadAhead(ub);
    this.rpos = this.rend = 0;
  }

  close(): void {
    const u = this.u;
    this.epoch++;
    this.u = -1;
    this.ub = null;
    this.sending = this.receiving = false;
    if (u >= 0) closeQuietly(u);
    wsStorages.release(this.home);
  }

  /** Hand the bytestream back, with what was read ahead put back in front of it. */
  detach(): number {
    const u = this.u;
    if (this.rend > this.rpos) this.ub!.unrecv!(view(this.rbuf, this.rpos, this.rend - this.rpos));
    this.epoch++;
    this.u = -1;
    this.ub = null;
    wsStorages.release(this.home);
    return u;
  }

  // ---- the bytestream underneath ----

  /** Send the list on the bytestream. */
  *sendOn(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    const ub = this.ub!;
    if (ub.startSend !== undefined) {
      if (!ub.startSend(first, last, deadline, fn).done) yield BLOCK;
    } else yield* ub.bsendl(first, last, deadline, fn);
  }

  /** Make sure `n` (at most the buffer's size) bytes are in the buffer. */
  *fill(n: number, deadline: number, fn: string): Op<void> {
    const rbuf = this.rbuf;
    let have = this.rend - this.rpos;
    if (have >= n) return;
    if (this.rpos > 0) {
      if (have > 0) rbuf.copyWithin(0, this.rpos, this.rend);
      this.rpos = 0;
      this.rend = have;
    }
    const ub = this.ub!;
    while (have < n) {
      const at = this.rend;
      if (this.ahead) {
        const room = rbuf.length - at;
        const buf = at === 0 ? rbuf : view(rbuf, at, room);
        let k: number;
        if (ub.startRecvSome !== undefined) {
          const r = ub.startRecvSome(buf, room, deadline, fn);
          k = r.done ? r.value : ((yield BLOCK) as number);
        } else k = yield* ub.brecvsome!(buf, room, deadline, fn);
        this.rend += k;
        have += k;
      } else {
        const iol = this.rIol;
        iol.iol_base = view(rbuf, at, n - have);
        iol.iol_len = n - have;
        try {
          if (ub.startRecv !== undefined) {
            if (!ub.startRecv(iol, iol, deadline, fn).done) yield BLOCK;
          } else yield* ub.brecvl(iol, iol, deadline, fn);
        } finally {
          iol.iol_base = null;
        }
        this.rend += n - have;
        have = n;
      }
    }
  }

  // ---- what the handshake reads and writes with ----

  *readLine(deadline: number, fn: string): Op<string> {
    let from = this.rpos;
    for (;;) {
      const rbuf = this.rbuf;
      for (let i = from; i < this.rend; i++) {
        if (rbuf[i] === 10) {
          const end = i > this.rpos && rbuf[i - 1] === 13 ? i - 1 : i;
          if (i + 1 - this.rpos > WS_MAX_LINE)
            throw dillError("EMSGSIZE", fn, undefined, `a handshake line is longer than ${WS_MAX_LINE} bytes`);
          const line = Buffer.from(rbuf.buffer, rbuf.byteOffset + this.rpos, end - this.rpos).toString("utf8");
          this.rpos = i + 1;
          return line;
        }
      }
      const have = this.rend - this.rpos;
      if (have >= WS_MAX_LINE)
        throw dillError("EMSGSIZE", fn, undefined, `a handshake line is longer than ${WS_MAX_LINE} bytes`);
      yield* this.fill(have + 1, deadline, fn);
      from = this.rpos + have;
    }
  }

  *write(bytes: Uint8Array, deadline: number, fn: string): Op<void> {
    const iol = this.outIol;
    iol.iol_base = bytes;
    iol.iol_len = bytes.length;
    iol.iol_next = null;
    try {
      yield* this.sendOn(iol, iol, deadline, fn);
    } finally {
      iol.iol_base = null;
    }
  }

  // ---- frames out ----

  /** Send one frame of `size` bytes from the list; the caller holds the sending direction. */
  *sendFrame(
    opcode: number,
    first: IoList | null,
    last: IoList | null,
    size: number,
    deadline: number,
    fn: string,
  ): Op<void> {
    const client = !this.server;
    const hl = (size > 0xffff ? 10 : size > 125 ? 4 : 2) + (client ? 4 : 0);
    if (this.out.length < hl + Math.min(size, COALESCE)) this.out = new Uint8Array(hl + COALESCE);
    const out = this.out;
    out[0] = 0x80 | opcode;
    let p = 2;
    if (size > 0xffff) {
      out[1] = 127;
      const hi = Math.floor(size / 0x100000000);
      const lo = size >>> 0;
      out[2] = hi >>> 24;
      out[3] = (hi >>> 16) & 0xff;
      out[4] = (hi >>> 8) & 0xff;
      out[5] = hi & 0xff;
      out[6] = lo >>> 24;
      out[7] = (lo >>> 16) & 0xff;
      out[8] = (lo >>> 8) & 0xff;
      out[9] = lo & 0xff;
      p = 10;
    } else if (size > 125) {
      out[1] = 126;
      out[2] = size >>> 8;
      out[3] = size & 0xff;
      p = 4;
    } else out[1] = size;
    const smask = this.smask;
    if (client) {
      out[1] |= 0x80;
      nextMask(smask, 0);
      out[p] = smask[0]!;
      out[p + 1] = smask[1]!;
      out[p + 2] = smask[2]!;
      out[p + 3] = smask[3]!;
    }
    const iol = this.outIol;
    iol.iol_base = out;
    iol.iol_next = null;
    try {
      if (size <= COALESCE) {
        // Header and payload in one buffer, one write.
        let off = hl;
        for (let it = first; it !== null; it = it.iol_next) {
          const n = it.iol_len;
          if (client) maskCopy(out, off, it.iol_base!, 0, n, smask, off - hl);
          else copyBytes(out, off, it.iol_base!, 0, n);
          off += n;
          if (it === last) break;
        }
        iol.iol_len = hl + size;
        yield* this.sendOn(iol, iol, deadline, fn);
      } else if (!client) {
        // The header, then the caller's buffers as they are.
        iol.iol_len = hl;
        iol.iol_next = first;
        yield* this.sendOn(iol, last!, deadline, fn);
      } else {
        // The header, then the payload masked piece by piece behind it.
        let fill = hl;
        let m = 0;
        for (let it = first; it !== null; it = it.iol_next) {
          let off = 0;
          while (off < it.iol_len) {
            const n = Math.min(it.iol_len - off, out.length - fill);
            maskCopy(out, fill, it.iol_base!, off, n, smask, m);
            fill += n;
            off += n;
            m += n;
            if (fill === out.length) {
              iol.iol_len = fill;
              yield* this.sendOn(iol, iol, deadline, fn);
              fill = 0;
            }
          }
          if (it === last) break;
        }
        if (fill > 0) {
          iol.iol_len = fill;
          yield* this.sendOn(iol, iol, deadline, fn);
        }
      }
    } finally {
      iol.iol_base = null;
      iol.iol_next = null;
    }
  }

  /** One message out as one frame; owed pongs follow it. */
  *sendMsg(opcode: number, first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    if (canBlock(fn) === null) return yield* suspended();
    if (this.sending) throw dillError("EBUSY", fn, "s", "another coroutine is already sending on this socket");
    if (this.outdone) throw dillError("EPIPE", fn, "s", "the close frame was sent: sending is over");
    if (this.outerr) throw quickError("ECONNRESET", fn);
    let size = 0;
    for (let it: IoList | null = first; it !== null; it = it.iol_next) size += it.iol_len;
    if (size > Number.MAX_SAFE_INTEGER) throw dillError("EMSGSIZE", fn, undefined, "the message is too long");
    const epoch = this.epoch;
    this.sending = true;
    let ok = false;
    try {
      yield* this.sendFrame(opcode, first, last, size, deadline, fn);
      if (this.pongPending) yield* this.sendPong(deadline, fn);
      ok = true;
    } finally {
      if (this.epoch === epoch) {
        this.sending = false;
        if (!ok) this.outerr = true;
      }
    }
  }

  private *sendPong(deadline: number, fn: string): Op<void> {
    this.pongPending = false;
    const iol = this.pongIol;
    iol.iol_len = this.pongLen;
    yield* this.sendFrame(OP_PONG, iol, iol, this.pongLen, deadline, fn);
  }

  /** Send the close frame with `status` (0: none) and `len` bytes of `reason`. */
  *sendClose(status: number, reason: Uint8Array | null, len: number, deadline: number, fn: string): Op<void> {
    if (this.sending) throw dillError("EBUSY", fn, "s", "another coroutine is sending on this socket");
    if (this.outerr) throw quickError("ECONNRESET", fn);
    const ctl = this.ctl;
    let size = 0;
    if (status !== 0) {
      ctl[0] = status >>> 8;
      ctl[1] = status & 0xff;
      if (len > 0) ctl.set(reason!.subarray(0, len), 2);
      size = 2 + len;
    }
    const iol = this.ctlIol;
    iol.iol_base = ctl;
    iol.iol_len = size;
    const epoch = this.epoch;
    this.sending = true;
    let ok = false;
    try {
      yield* this.sendFrame(OP_CLOSE, iol, iol, size, deadline, fn);
      ok = true;
    } finally {
      if (this.epoch === epoch) {
        this.sending = false;
        if (ok) this.outdone = true;
        else this.outerr = true;
      }
    }
  }

  // ---- frames in ----

  /**
   * One message in, into the list from `first` (null: dropped); evaluates to its size and leaves
   * its flags in `rflags`. The peer's close frame is `EPIPE`.
   */
  *recvMsg(first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number> {
    if (canBlock(fn) === null) return yield* suspended();
    if (this.receiving) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
    if (this.indone) throw dillError("EPIPE", fn, "s", "the peer closed the connection (its close frame arrived)");
    if (this.inerr) throw quickError("ECONNRESET", fn);
    const epoch = this.epoch;
    this.receiving = true;
    let ok = false;
    try {
      const size = yield* this.frames(first, last, deadline, fn);
      ok = true;
      return size;
    } catch (e) {
      if (this.epoch === epoch && this.indone) ok = true; // the close frame: an orderly end
      throw e;
    } finally {
      if (this.epoch === epoch) {
        this.receiving = false;
        this.cursor.clear();
        if (!ok) this.inerr = true;
      }
    }
  }

  private *frames(first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number> {
    const cur = this.cursor;
    cur.reset(first);
    let room = Number.MAX_SAFE_INTEGER;
    if (first !== null) {
      room = 0;
      for (let it: IoList | null = first; it !== null; it = it.iol_next) {
        room += it.iol_len;
        if (it === last) break;
      }
    }
    const rbuf = this.rbuf;
    const mask = this.rmask;
    let type = -1;
    let size = 0;
    for (;;) {
      // The header is usually in the buffer already: no fill (and no generator) then.
      if (this.rend - this.rpos < 2) yield* this.fill(2, deadline, fn);
      const b0 = rbuf[this.rpos]!;
      const b1 = rbuf[this.rpos + 1]!;
      if (b0 & 0x70)
        throw dillError("EPROTO", fn, undefined, "a frame has reserved bits set (no extension was agreed)");
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      const masked = (b1 & 0x80) !== 0;
      if (masked !== this.server)
        throw dillError(
          "EPROTO",
          fn,
          undefined,
          this.server ? "a frame from the client is not masked" : "a frame from the server is masked",
        );
      const len7 = b1 & 0x7f;
      const hl = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (this.rend - this.rpos < hl) yield* this.fill(hl, deadline, fn);
      let p = this.rpos + 2;
      let plen = len7;
      if (len7 === 126) {
        plen = (rbuf[p]! << 8) | rbuf[p + 1]!;
        p += 2;
      } else if (len7 === 127) {
        if (rbuf[p]! & 0x80) throw dillError("EPROTO", fn, undefined, "a frame's 64-bit length has its top bit set");
        const hi = ((rbuf[p]! << 24) | (rbuf[p + 1]! << 16) | (rbuf[p + 2]! << 8) | rbuf[p + 3]!) >>> 0;
        const lo = ((rbuf[p + 4]! << 24) | (rbuf[p + 5]! << 16) | (rbuf[p + 6]! << 8) | rbuf[p + 7]!) >>> 0;
        plen = hi * 0x100000000 + lo;
        if (plen > Number.MAX_SAFE_INTEGER) throw dillError("EMSGSIZE", fn, undefined, "a frame longer than 2^53 - 1");
        p += 8;
      }
      if (masked) {
        mask[0] = rbuf[p]!;
        mask[1] = rbuf[p + 1]!;
        mask[2] = rbuf[p + 2]!;
        mask[3] = rbuf[p + 3]!;
      }
      this.rpos += hl;
      if (opcode >= 8) {
        if (!fin || plen > MAX_CONTROL)
          throw dillError("EPROTO", fn, undefined, "a control frame is fragmented or longer than 125 bytes");
        yield* this.fill(plen, deadline, fn);
        const at = this.rpos;
        this.rpos += plen;
        if (masked) for (let i = 0; i < plen; i++) rbuf[at + i]! ^= mask[i & 3]!;
        if (opcode === OP_PING) yield* this.answerPing(rbuf, at, plen, deadline, fn);
        else if (opcode === OP_CLOSE) this.closed(rbuf, at, plen, fn);
        else if (opcode !== OP_PONG) throw dillError("EPROTO", fn, undefined, `unknown control opcode ${opcode}`);
        continue;
      }
      if (opcode === OP_CONT) {
        if (type < 0) throw dillError("EPROTO", fn, undefined, "a continuation frame outside a message");
      } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
        if (type >= 0) throw dillError("EPROTO", fn, undefined, "a new message began before the last one ended");
        type = opcode;
      } else throw dillError("EPROTO", fn, undefined, `unknown opcode ${opcode}`);
      if (plen > room - size)
        throw dillError(
          "EMSGSIZE",
          fn,
          undefined,
          `the message (${size + plen} bytes or more) does not fit the buffer`,
        );
      size += plen;
      let left = plen;
      let m = 0;
      while (left > 0) {
        if (this.rend === this.rpos) yield* this.fill(this.ahead ? 1 : Math.min(left, rbuf.length), deadline, fn);
        const at = this.rpos;
        const avail = this.rend - at;
        const n = avail < left ? avail : left;
        if (masked) for (let i = 0; i < n; i++) rbuf[at + i]! ^= mask[(m + i) & 3]!;
        cur.put(rbuf, at, n);
        this.rpos += n;
        left -= n;
        m += n;
      }
      if (fin) break;
    }
    if (this.rpos === this.rend) this.rpos = this.rend = 0;
    this.rflags = type === OP_TEXT ? WS_TEXT : WS_BINARY;
    return size;
  }

  /** A ping's payload goes back as a pong: now, or after the message another coroutine is sending. */
  private *answerPing(buf: Uint8Array, at: number, n: number, deadline: number, fn: string): Op<void> {
    if (this.outdone || this.outerr) return;
    copyBytes(this.pong, 0, buf, at, n);
    this.pongLen = n;
    if (this.sending) {
      this.pongPending = true;
      return;
    }
    const epoch = this.epoch;
    this.sending = true;
    let ok = false;
    try {
      yield* this.sendPong(deadline, fn);
      ok = true;
    } finally {
      if (this.epoch === epoch) {
        this.sending = false;
        if (!ok) this.outerr = true;
      }
    }
  }

  /** The peer's close frame: keep its status and reason, and end receiving with `EPIPE`. */
  private closed(buf: Uint8Array, at: number, n: number, fn: string): never {
    if (n === 1) throw dillError("EPROTO", fn, undefined, "a close frame with a 1-byte body");
    let status = 0;
    if (n >= 2) {
      status = (buf[at]! << 8) | buf[at + 1]!;
      if (status < 1000 || status > 4999)
        throw dillError("EPROTO", fn, undefined, `a close frame with status ${status} (must be 1000 to 4999)`);
    }
    this.status = status;
    this.reasonLen = n >= 2 ? n - 2 : 0;
    copyBytes(this.reason, 0, buf, at + 2, this.reasonLen);
    this.indone = true;
    throw dillError("EPIPE", fn, "s", "the peer closed the connection (its close frame arrived)");
  }

  msendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    return this.sendMsg(this.opcode, first, last, deadline, fn);
  }

  mrecvl(first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number> {
    return this.typedRecv(first, last, deadline, fn);
  }

  /** A receive through mrecv: the message must be of the socket's type. */
  private *typedRecv(first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number> {
    const n = yield* this.recvMsg(first, last, deadline, fn);
    if ((this.rflags === WS_TEXT) !== (this.opcode === OP_TEXT))
      throw dillError(
        "EPROTO",
        fn,
        undefined,
        `a ${this.rflags === WS_TEXT ? "text" : "binary"} message on a ${this.opcode === OP_TEXT ? "text" : "binary"} socket (use ws_recv for both)`,
      );
    return n;
  }
}

/**
 * Storage for one WebSocket (libdill's `struct ws_storage`), for the `_mem` attaches. It is in
 * use until the socket is closed or detached.
 *
 * @example
 * ```ts
 * const mem = new WsStorage();
 * const s = yield* ws_attach_client_mem(conn, WS_TEXT, "/", "localhost", mem, now() + 5000);
 * ```
 */
export class WsStorage extends Storage {
  /** The WebSocket living in this storage. */
  readonly sock: WsSock = new WsSock(this);
}

export const wsStorages = new FreeList<WsStorage>(() => new WsStorage());
