/**
 * Shared helpers of the message-socket tests: bytestreams of the user's kind (made with `hmake`
 * over channels), text of received messages, a python3 peer.
 */
import { spawn as spawnProcess } from "node:child_process";
import path from "node:path";
import { TEST_DIR } from "./ipc-helpers.js";
import {
  BSOCK_TYPE,
  bundle,
  bundle_go,
  type Coroutine,
  type Bytestream,
  chdone,
  chmake,
  chrecv,
  chsend,
  DillError,
  hclose,
  hmake,
  type IoList,
  isDillError,
  mrecv,
  type Op,
} from "../src/index.js";

/** The receiving side of a channel bytestream: chunks from the channel, the rest of the last one. */
class ChanEnd implements Bytestream {
  rest: Buffer | null = null;
  eof = false;
  constructor(
    readonly tx: number,
    readonly rx: number,
  ) {}

  *bsendl(first: IoList, _last: IoList, deadline: number): Op<void> {
    const parts: Buffer[] = [];
    for (let it: IoList | null = first; it !== null; it = it.iol_next)
      parts.push(Buffer.from(it.iol_base!.subarray(0, it.iol_len)));
    const chunk = Buffer.concat(parts);
    if (chunk.length > 0) yield* chsend(this.tx, chunk, deadline);
  }

  /** The next chunk: what is left of the last one, or one from the channel. */
  *chunk(deadline: number): Op<Buffer> {
    if (this.rest !== null && this.rest.length > 0) return this.rest;
    if (this.eof) throw new DillError("EPIPE", "brecv");
    try {
      this.rest = yield* chrecv<Buffer>(this.rx, deadline);
    } catch (e) {
      if (isDillError(e, "EPIPE")) this.eof = true;
      throw e;
    }
    return this.rest;
  }

  *brecvl(first: IoList, _last: IoList, deadline: number): Op<void> {
    for (let it: IoList | null = first; it !== null; it = it.iol_next) {
      let off = 0;
      while (off < it.iol_len) {
        const c = yield* this.chunk(deadline);
        const n = Math.min(c.length, it.iol_len - off);
        if (it.iol_base !== null) it.iol_base.set(c.subarray(0, n), off);
        this.rest = c.subarray(n);
        off += n;
      }
    }
  }
}

/** A channel bytestream that also offers the read-ahead calls, as ops. */
class ChanEndAhead extends ChanEnd {
  *brecvsome(buf: Uint8Array, len: number, deadline: number): Op<number> {
    const c = yield* this.chunk(deadline);
    const n = Math.min(c.length, len);
    buf.set(c.subarray(0, n));
    this.rest = c.subarray(n);
    return n;
  }
  unrecv(bytes: Uint8Array): void {
    this.rest = Buffer.concat([Buffer.from(bytes), this.rest ?? Buffer.alloc(0)]);
  }
}

/**
 * Two connected bytestreams of the user's kind, `hmake` objects over two channels: what is
 * sent on one is received on the other. `ahead`: they also offer `brecvsome` and `unrecv`.
 * Closing one ends the other's receiving (`EPIPE`).
 */
export function userPair(ahead = false): [number, number] {
  const [a1, a2] = chmake();
  const [b1, b2] = chmake();
  const make = (tx: number, rx: number, mine: number[]): number => {
    const end = ahead ? new ChanEndAhead(tx, rx) : new ChanEnd(tx, rx);
    return hmake({
      kind: "user-stream",
      query: (t) => (t === BSOCK_TYPE ? end : undefined),
      close() {
        chdone(tx);
        for (const h of mine) hclose(h);
      },
    });
  };
  // Each end owns the channel ends it uses; a2/b1 are one side's, a1/b2 the other's.
  return [make(a1, b2, [a1, b2]), make(b1, a2, [b1, a2])];
}

/** Receive one message on `s` (at most `max` bytes) and return it as text. */
export function* recvText(s: number, deadline = -1, max = 256): Op<string> {
  const buf = new Uint8Array(max);
  const n = yield* mrecv(s, buf, max, deadline);
  return Buffer.from(buf.subarray(0, n)).toString();
}

/** A fresh element of an iolist. */
export const el = (base: Uint8Array | null, len: number, next: IoList | null = null): IoList => ({
  iol_base: base,
  iol_len: len,
  iol_next: next,
  iol_rsvd: 0,
});

/**
 * Launch `body` in a bundle of its own and return the bundle: `bundle_wait` waits for it,
 * `hclose` cancels it (the same whether `go` returns a coroutine or a bundle handle).
 */
export function spawn(body: Coroutine | Op<unknown>): number {
  const b = bundle();
  bundle_go(b, "next" in body ? body : run1(body));
  return b;
}

function* run1(op: Op<unknown>) {
  yield* op;
}

/** Start the python3 peer (test/msg-peer.py) with `args`; resolves with its exit code and stderr. */
export function pythonPeer(args: string[]): { done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawnProcess("python3", [path.join(TEST_DIR, "msg-peer.py"), ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`python peer ${args.join(" ")} timed out\n${stderr}`));
    }, 15_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stderr });
    });
  });
  return { done };
}
