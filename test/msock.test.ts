/**
 * The generic message calls (msend, mrecv, msendl, mrecvl) and MSOCK_TYPE: a user's message
 * socket made with hmake, what the calls check before they reach a socket, and which handles
 * answer which interface.
 */
import { describe, expect, it } from "vitest";
import {
  BSOCK_TYPE,
  bsend,
  chmake,
  chrecv,
  chsend,
  hclose,
  hmake,
  hquery,
  type IoList,
  ipc_pair,
  MSOCK_TYPE,
  type MessageSocket,
  mrecv,
  mrecvl,
  msend,
  msendl,
  now,
  prefix_attach,
  run,
  suffix_attach,
  term_attach,
} from "../src/index.js";
import { codeOf, codeOfCall, expectNoFdLeak } from "./ipc-helpers.js";
import { el, spawn, userPair } from "./msg-helpers.js";

expectNoFdLeak();

describe("MSOCK_TYPE", () => {
  it("lets hmake make a message socket of the user's own that msend and mrecv drive", async () => {
    await run(function* () {
      const [tx, rx] = chmake<Buffer>();
      const seen: string[] = [];
      const ms: MessageSocket = {
        *msendl(first, _last, deadline, fn) {
          seen.push(fn);
          const parts: Buffer[] = [];
          for (let it: IoList | null = first; it !== null; it = it.iol_next)
            parts.push(Buffer.from(it.iol_base!.subarray(0, it.iol_len)));
          yield* chsend(tx, Buffer.concat(parts), deadline);
        },
        *mrecvl(first, _last, deadline, fn) {
          seen.push(fn);
          const m = yield* chrecv<Buffer>(rx, deadline);
          if (first !== null) first.iol_base?.set(m.subarray(0, first.iol_len));
          return m.length;
        },
      };
      const s = hmake({ kind: "chan-msock", query: (t) => (t === MSOCK_TYPE ? ms : undefined), close() {} });
      const w = spawn(
        (function* () {
          yield* msend(s, "one", 3, -1);
          const b = el(Buffer.from("wo"), 2);
          yield* msendl(s, el(Buffer.from("t"), 1, b), b, -1);
        })(),
      );
      const buf = new Uint8Array(8);
      expect(yield* mrecv(s, buf, 8, now() + 1000)).toBe(3);
      expect(Buffer.from(buf.subarray(0, 3)).toString()).toBe("one");
      expect(yield* mrecvl(s, null, null, now() + 1000)).toBe(3);
      expect(seen.sort()).toEqual(["mrecv", "mrecvl", "msend", "msendl"]);
      hclose(w);
      hclose(s);
      hclose(tx);
      hclose(rx);
    });
  });

  it("is answered by prefix, suffix and term sockets, and not by bytestreams; a message socket is not a bytestream", async () => {
    await run(function* () {
      const [a, b]: number[] = yield* ipc_pair(); // plain numbers: the run-time check is under test
      expect(codeOfCall(() => hquery(a, MSOCK_TYPE))).toBe("ENOTSUP");
      expect(yield* codeOf(msend(a, "x", 1, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(mrecv(a, new Uint8Array(1), 1, 0))).toBe("ENOTSUP");
      const p = prefix_attach(a, 4, 0);
      const t = term_attach(suffix_attach(b, "\n", 1), "", 0);
      for (const h of [p, t] as number[]) {
        expect(hquery(h, MSOCK_TYPE)).toBeTruthy();
        expect(codeOfCall(() => hquery(h, BSOCK_TYPE))).toBe("ENOTSUP");
        expect(yield* codeOf(bsend(h, "x", 1, -1))).toBe("ENOTSUP");
      }
      hclose(p);
      hclose(t);
    });
  });
});

describe("the message calls' checks", () => {
  it("check the list and its ends before the socket sees it, and leave the list as it was", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = prefix_attach(a, 4, 0);
      const x = el(new Uint8Array(2), 2);
      expect(yield* codeOf(mrecvl(s, x, null, 0))).toBe("EINVAL");
      expect(yield* codeOf(mrecvl(s, null, x, 0))).toBe("EINVAL");
      expect(yield* codeOf(msendl(s, null as never, null as never, 0))).toBe("EINVAL");
      const y = el(new Uint8Array(2), 2);
      const loop = el(new Uint8Array(2), 2, y);
      y.iol_next = loop;
      expect(yield* codeOf(msendl(s, loop, x, 0))).toBe("EINVAL");
      expect([loop.iol_rsvd, y.iol_rsvd, loop.iol_next, y.iol_next]).toEqual([0, 0, y, loop]);
      expect(yield* codeOf(msend(s, new Uint8Array(2), 3, 0))).toBe("EINVAL");
      expect(yield* codeOf(mrecv(s, new Uint8Array(2), 2, NaN))).toBe("EINVAL");
      // None of these broke the socket.
      yield* msend(s, "ok", 2, -1);
      hclose(s);
      hclose(b);
    });
  });

  it("fail with EPERM outside a coroutine, where the socket underneath would block", () => {
    const [a, b] = userPair();
    const s = prefix_attach(a, 4, 0);
    expect(codeOfCall(() => msend(s, "x", 1, -1)[Symbol.iterator]().next(undefined))).toBe("EPERM");
    expect(codeOfCall(() => msend(12345, "x", 1, -1)[Symbol.iterator]().next(undefined))).toBe("EBADF");
    hclose(s);
    hclose(b);
  });
});
