import { describe, expect, it } from "vitest";
import { chmake, chrecv, chsend, go, hclose, run } from "../src/index.js";

function* sender(ch: number, n: number) {
  for (let i = 0; i < n; i++) yield* chsend(ch, i, -1);
}

describe("the runtime", () => {
  it("passes values from a launched coroutine over a channel", async () => {
    const sum = await run(function* () {
      const [a, b] = chmake<number>();
      const cr = go(sender(a, 10));
      let s = 0;
      for (let i = 0; i < 10; i++) s += yield* chrecv<number>(b, -1);
      hclose(cr);
      hclose(a);
      hclose(b);
      return s;
    });
    expect(sum).toBe(45);
  });
});
