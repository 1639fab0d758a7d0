import { describe, expect, it } from "vitest";
import { bsend, go, hclose, ipc_done, ipc_pair, ipc_recv_some, msleep, now, run } from "../src/index.js";
import { codeOf, expectNoFdLeak, pattern } from "./ipc-helpers.js";

expectNoFdLeak();

function* sendLater(s: number, data: string) {
  yield* msleep(now() + 20);
  yield* bsend(s, data, Buffer.byteLength(data), -1);
}

describe("ipc_recv_some", () => {
  it("returns what is already buffered, up to len, and leaves the rest for the next call", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, "hello world", 11, -1);
      yield* msleep(now() + 20);
      const buf = new Uint8Array(64);
      const n = yield* ipc_recv_some(b, buf, 5, now() + 1000);
      expect(n).toBe(5);
      expect(Buffer.from(buf.subarray(0, n)).toString()).toBe("hello");
      const m = yield* ipc_recv_some(b, buf, 64, now() + 1000);
      expect(Buffer.from(buf.subarray(0, m)).toString()).toBe(" world");
      hclose(a);
      hclose(b);
    });
  });

  it("waits for the first bytes to arrive and returns them without waiting for len", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = go(sendLater(a, "late"));
      const buf = new Uint8Array(1000);
      const n = yield* ipc_recv_some(b, buf, 1000, now() + 2000);
      expect(Buffer.from(buf.subarray(0, n)).toString()).toBe("late");
      hclose(cr);
      hclose(a);
      hclose(b);
    });
  });

  it("receives a large transfer whole and in order across many calls", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const data = pattern(1 << 20);
      const cr = go(
        (function* sender() {
          yield* bsend(a, data, data.length, -1);
          yield* ipc_done(a, -1);
        })(),
      );
      const got = Buffer.alloc(data.length);
      const buf = new Uint8Array(7000);
      let off = 0;
      for (;;) {
        let n: number;
        try {
          n = yield* ipc_recv_some(b, buf, buf.length, now() + 5000);
        } catch (e) {
          expect((e as { code: string }).code).toBe("EPIPE");
          break;
        }
        expect(n).toBeGreaterThan(0);
        got.set(buf.subarray(0, n), off);
        off += n;
      }
      expect(off).toBe(data.length);
      expect(Buffer.compare(got, data)).toBe(0);
      hclose(cr);
      hclose(a);
      hclose(b);
    });
  });

  it("fails with ETIMEDOUT when nothing arrives, and EINVAL, EBADF and ENOTSUP for bad arguments", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const buf = new Uint8Array(8);
      expect(yield* codeOf(ipc_recv_some(b, buf, 9, -1))).toBe("EINVAL");
      expect(yield* codeOf(ipc_recv_some(b, null as unknown as Uint8Array, 1, -1))).toBe("EINVAL");
      expect(yield* codeOf(ipc_recv_some(b, buf, 8, -7))).toBe("EINVAL");
      expect(yield* codeOf(ipc_recv_some(9999, buf, 8, -1))).toBe("EBADF");
      expect(yield* codeOf(ipc_recv_some(b, buf, 8, now() + 20))).toBe("ETIMEDOUT");
      expect(yield* codeOf(ipc_recv_some(b, buf, 8, -1))).toBe("ECONNRESET");
      expect(yield* ipc_recv_some(a, buf, 0, -1)).toBe(0);
      hclose(a);
      hclose(b);
    });
  });

  it("fails with EBUSY while another coroutine receives, and with ECANCELED when cancelled", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const out = { code: "" };
      const cr = go(
        (function* reader() {
          out.code = yield* codeOf(ipc_recv_some(b, new Uint8Array(4), 4, -1));
        })(),
      );
      yield* msleep(now() + 10);
      expect(yield* codeOf(ipc_recv_some(b, new Uint8Array(4), 4, -1))).toBe("EBUSY");
      hclose(cr);
      expect(out.code).toBe("ECANCELED");
      hclose(a);
      hclose(b);
    });
  });
});
