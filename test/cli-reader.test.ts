import { describe, expect, it } from "vitest";
import { LineReader } from "../src/cli/reader.js";
import { bsend, go, hclose, ipc_done, ipc_pair, msleep, now, run } from "../src/index.js";
import { codeOf, expectNoFdLeak } from "./ipc-helpers.js";

expectNoFdLeak();

function* trickle(s: number, parts: string[]) {
  for (const p of parts) {
    yield* bsend(s, p, Buffer.byteLength(p), -1);
    yield* msleep(now() + 5); // each part arrives on its own
  }
  yield* ipc_done(s, -1);
}

describe("the server's line reader", () => {
  it("joins lines split across arrivals, drops a \\r before \\n, and reads bodies that follow a line", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const w = go(trickle(a, ["PI", "NG\r\nSET k 10\n01234", "56789GET", " k\n"]));
      const rd = new LineReader(b, 64, 16);
      expect(yield* rd.line(now() + 2000)).toBe("PING");
      expect(yield* rd.line(now() + 2000)).toBe("SET k 10");
      const body = new Uint8Array(10);
      yield* rd.exact(body, 10, now() + 2000);
      expect(Buffer.from(body).toString()).toBe("0123456789");
      expect(yield* rd.line(now() + 2000)).toBe("GET k");
      expect(yield* codeOf(rd.line(now() + 2000))).toBe("EPIPE");
      hclose(w);
      hclose(a);
      hclose(b);
    });
  });

  it("fails with EMSGSIZE for a line longer than its limit, whether or not its end has arrived", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, `${"x".repeat(40)}\n`, 41, -1);
      expect(yield* codeOf(new LineReader(b, 32).line(now() + 2000))).toBe("EMSGSIZE");
      yield* bsend(a, "y".repeat(100), 100, -1);
      const [c, d] = yield* ipc_pair();
      yield* bsend(c, "z".repeat(100), 100, -1);
      expect(yield* codeOf(new LineReader(d, 32, 40).line(now() + 2000))).toBe("EMSGSIZE");
      for (const h of [a, b, c, d]) hclose(h);
    });
  });
});
