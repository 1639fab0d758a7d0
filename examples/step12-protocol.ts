// Step 12: a protocol of your own. "quux" frames messages over any bytestream with one byte of
// length; 255 is reserved for the terminal message that detaching sends, so that both sides know
// where the protocol ends and raw bytes begin again. Made with hmake, it works with msend/mrecv.
import {
  brecv,
  brecvl,
  bsend,
  bsendl,
  bundle_wait,
  dill_stats,
  DillError,
  go,
  hclose,
  hmake,
  hown,
  hquery,
  type IoList,
  ipc_pair,
  isDillError,
  type MessageSocket,
  MSOCK_TYPE,
  mrecv,
  msend,
  now,
  type Op,
  PREFIX_BIG_ENDIAN,
  prefix_attach,
  run,
} from "tsdill";

const QUUX_TYPE = Symbol("quux"); // what quux_detach asks the handle for
const TERMINAL = 255; // a length byte no message has

class Quux implements MessageSocket {
  senderr = false; // after a failed send or receive the stream is out of step:
  recverr = false; // every later call fails, as with libdill's own protocols
  detached = false;
  private readonly hdr = new Uint8Array(1);
  // The length byte travels in front of the caller's list, so one bsendl sends the whole message.
  private readonly hdrIol: IoList = { iol_base: this.hdr, iol_len: 1, iol_next: null, iol_rsvd: 0 };

  constructor(readonly u: number) {}

  *msendl(first: IoList, last: IoList, deadline: number): Op<void> {
    if (this.senderr) throw new DillError("ECONNRESET", "msend", "an earlier send failed");
    let size = 0;
    for (let it: IoList | null = first; it !== null; it = it.iol_next) size += it.iol_len;
    // Nothing has been sent yet, so the stream is still in step: no need to set senderr.
    if (size >= TERMINAL) throw new DillError("EMSGSIZE", "msend", `${size} bytes; quux carries at most 254`);
    this.hdr[0] = size;
    this.hdrIol.iol_next = first;
    try {
      yield* bsendl(this.u, this.hdrIol, last, deadline);
    } catch (e) {
      this.senderr = true;
      throw e;
    } finally {
      this.hdrIol.iol_next = null; // the caller's list is left as it came
    }
  }

  *mrecvl(first: IoList | null, _last: IoList | null, deadline: number): Op<number> {
    if (this.recverr) throw new DillError("ECONNRESET", "mrecv", "an earlier receive failed");
    try {
      yield* brecv(this.u, this.hdr, 1, deadline);
      const size = this.hdr[0]!;
      if (size === TERMINAL) throw new DillError("EPIPE", "mrecv", "the peer ended the protocol");
      if (first === null) {
        yield* brecv(this.u, null, size, deadline); // the caller drops this message
        return size;
      }
      // Cut the list down to the message's size for brecvl, and put it back afterwards.
      let rest = size;
      let it = first;
      while (it.iol_len < rest) {
        rest -= it.iol_len;
        if (it.iol_next === null) throw new DillError("EMSGSIZE", "mrecv", `a message of ${size} bytes`);
        it = it.iol_next;
      }
      const [len, next] = [it.iol_len, it.iol_next];
      it.iol_len = rest;
      it.iol_next = null;
      try {
        yield* brecvl(this.u, first, it, deadline);
      } finally {
        it.iol_len = len;
        it.iol_next = next;
      }
      return size;
    } catch (e) {
      this.recverr = true;
      throw e;
    }
  }
}

/** Starts quux on bytestream `u`, which the new handle owns from now on. */
function quux_attach(u: number): number {
  const q = new Quux(hown(u));
  return hmake({
    kind: "quux",
    query: (type) => (type === MSOCK_TYPE || type === QUUX_TYPE ? q : undefined),
    close: () => {
      if (!q.detached) hclose(q.u); // closing a quux socket closes what it was attached to
    },
  });
}

/** Ends quux on `h` with the terminal handshake and gives the bytestream back. */
function* quux_detach(h: number, deadline: number): Op<number> {
  const q = hquery(h, QUUX_TYPE) as Quux;
  try {
    yield* bsend(q.u, new Uint8Array([TERMINAL]), 1, deadline); // "I send no more messages"
    for (;;) {
      try {
        yield* mrecv(h, null, 254, deadline); // messages still on their way are dropped
      } catch (e) {
        if (isDillError(e, "EPIPE")) break; // the peer's terminal message: we are in step
        throw e;
      }
    }
  } catch (e) {
    hclose(h); // a failed handshake closes everything: the bytestream is out of step
    throw e;
  }
  q.detached = true;
  hclose(h);
  return q.u;
}

const text = (buf: Uint8Array, n: number) => Buffer.from(buf.subarray(0, n)).toString();

function* client(s: number) {
  const q = quux_attach(s);
  yield* msend(q, "Hello, world!", 13, now() + 1000);
  const buf = new Uint8Array(254);
  const n = yield* mrecv(q, buf, buf.length, now() + 1000);
  console.log(`client: got "${text(buf, n)}"`);
  const u = yield* quux_detach(q, now() + 1000);
  // Back on the bytestream: attach quux again, for one more message.
  const q2 = quux_attach(u);
  yield* msend(q2, "sent with quux, read with prefix", 32, now() + 1000);
  hclose(q2); // closes the bytestream underneath too
}

await run(function* main() {
  const [s0, s1] = yield* ipc_pair();
  const cr = go(client(s0));
  const q = quux_attach(s1);
  const buf = new Uint8Array(254);
  const n = yield* mrecv(q, buf, buf.length, now() + 1000);
  console.log(`server: got "${text(buf, n)}" (${n} bytes)`);
  try {
    yield* msend(q, new Uint8Array(300), 300, now() + 1000);
  } catch (e) {
    console.log(`server: a 300-byte message fails with ${(e as DillError).code}`);
  }
  yield* msend(q, "Hello, client!", 14, now() + 1000);
  const u = yield* quux_detach(q, now() + 1000);
  console.log("server: detached, both sides agree the protocol is over");
  // One length byte in front of each message is also what tsdill's own prefix protocol sends.
  const p = prefix_attach(u, 1, PREFIX_BIG_ENDIAN);
  const m = yield* mrecv(p, buf, buf.length, now() + 1000);
  console.log(`server (prefix_attach): got "${text(buf, m)}"`);
  hclose(p);
  yield* bundle_wait(cr, now() + 1000);
  hclose(cr);
});
const left = dill_stats();
console.log(`left open: ${left.coroutines} coroutines, ${left.handles} handles`);
