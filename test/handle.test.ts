import { describe, expect, it } from "vitest";
import {
  BUNDLE_TYPE,
  CHAN_TYPE,
  COROUTINE_TYPE,
  type HandleVfs,
  bundle,
  chmake,
  chrecv,
  chsend,
  dill_configure,
  dill_hclose,
  dill_hmake,
  dill_hown,
  dill_hquery,
  dill_stats,
  dill_yield,
  go,
  hclose,
  hmake,
  hown,
  hquery,
  msleep,
  now,
  run,
} from "../src/index.js";
import { thrown } from "./expect-dill.js";

const QUACK = Symbol("quack");
const WALK = Symbol("walk");
const UNKNOWN = Symbol("unknown");

interface Duck {
  closed: number;
  queries: number;
  vfs: HandleVfs;
  quack: { sound: string };
  walk: { legs: number };
}

function duck(kind?: string): Duck {
  const d: Duck = {
    closed: 0,
    queries: 0,
    quack: { sound: "quack" },
    walk: { legs: 2 },
    vfs: undefined as never,
  };
  d.vfs = {
    ...(kind !== undefined ? { kind } : {}),
    query(type: symbol) {
      d.queries++;
      if (type === QUACK) return d.quack;
      if (type === WALK) return d.walk;
      return undefined;
    },
    close() {
      d.closed++;
    },
  };
  return d;
}

describe("hmake", () => {
  it("makes a handle for a user object; hquery reaches it and hclose calls its close() once", async () => {
    await run(function* () {
      const d = duck();
      const h = hmake(d.vfs);
      expect(Number.isInteger(h) && h >= 0).toBe(true);
      expect(hquery(h, QUACK)).toBe(d.quack);
      expect(hquery(h, WALK)).toBe(d.walk);
      expect(d.closed).toBe(0);
      hclose(h);
      expect(d.closed).toBe(1);
      const h2 = dill_hmake(d.vfs);
      expect(dill_hquery(h2, QUACK)).toBe(d.quack);
      dill_hclose(h2);
      expect(d.closed).toBe(2);
    });
  });

  it("works outside any coroutine too", () => {
    const d = duck();
    const h = hmake(d.vfs);
    expect(hquery(h, QUACK)).toBe(d.quack);
    hclose(h);
    expect(d.closed).toBe(1);
  });

  it("fails with EINVAL naming vfs for something that is not an object with query and close", async () => {
    await run(function* () {
      const fn = () => undefined;
      for (const bad of [
        null,
        undefined,
        42,
        "vfs",
        fn,
        {},
        { query: fn },
        { close: fn },
        { query: 1, close: fn },
        { query: fn, close: "x" },
      ]) {
        const e = thrown(() => hmake(bad as never));
        expect(e.code).toBe("EINVAL");
        expect(e.message).toContain("hmake");
        expect(e.message).toContain("vfs");
      }
      expect(dill_stats().handles).toBe(0);
    });
  });

  it("fails with EMFILE when the handle table is full, and works again once a handle is closed", async () => {
    await run(function* () {
      const prev = dill_stats().maxHandles;
      dill_configure({ handles: 3 });
      const hs: number[] = [];
      try {
        for (let i = 0; i < 3; i++) hs.push(hmake(duck().vfs));
        const e = thrown(() => hmake(duck().vfs));
        expect(e.code).toBe("EMFILE");
        expect(e.message).toContain("hmake");
        expect(thrown(() => chmake()).code).toBe("EMFILE");
        expect(thrown(() => bundle()).code).toBe("EMFILE");
        expect(thrown(() => go(msleep(-1) as never)).code).toBe("EMFILE");
        hclose(hs.pop()!);
        hs.push(hmake(duck().vfs));
      } finally {
        for (const h of hs) hclose(h);
        dill_configure({ handles: prev });
      }
      expect(dill_stats().pool.used).toBe(1); // only this root coroutine: the failed calls leaked nothing
    });
  });
});

describe("hquery", () => {
  it("answers each symbol type id with the object's own answer", async () => {
    await run(function* () {
      const a = duck();
      const b = duck();
      const ha = hmake(a.vfs);
      const hb = hmake(b.vfs);
      expect(hquery(ha, QUACK)).toBe(a.quack);
      expect(hquery(hb, QUACK)).toBe(b.quack);
      expect(hquery(ha, WALK)).toBe(a.walk);
      expect(hquery(hb, WALK)).toBe(b.walk);
      hclose(ha);
      hclose(hb);
    });
  });

  it("gives a stable answer for a given handle and type", async () => {
    await run(function* () {
      const d = duck();
      const h = hmake(d.vfs);
      const first = hquery(h, QUACK);
      for (let i = 0; i < 100; i++) {
        expect(hquery(h, QUACK)).toBe(first);
        expect(hquery(h, WALK)).toBe(d.walk);
      }
      hclose(h);
    });
  });

  it("fails with ENOTSUP for a type the object does not know, and still answers the types it knows", async () => {
    await run(function* () {
      const d = duck();
      const h = hmake(d.vfs);
      expect(hquery(h, QUACK)).toBe(d.quack);
      const e = thrown(() => hquery(h, UNKNOWN));
      expect(e.code).toBe("ENOTSUP");
      expect(e.message).toContain("hquery");
      expect(hquery(h, QUACK)).toBe(d.quack);
      const nullish = hmake({ query: () => null, close: () => {} });
      expect(thrown(() => hquery(nullish, QUACK)).code).toBe("ENOTSUP");
      hclose(nullish);
      hclose(h);
    });
  });

  it("fails with EBADF for a handle that is not open", async () => {
    await run(function* () {
      const d = duck();
      const h = hmake(d.vfs);
      hquery(h, QUACK);
      hclose(h);
      for (const bad of [h, -1, 99_999, 1.5, NaN, -0.5]) {
        const e = thrown(() => hquery(bad, QUACK));
        expect(e.code).toBe("EBADF");
        expect(e.message).toContain("hquery");
      }
    });
  });

  it("fails with EINVAL for a type that is not a symbol", async () => {
    await run(function* () {
      const h = hmake(duck().vfs);
      const e = thrown(() => hquery(h, "quack" as never));
      expect(e.code).toBe("EINVAL");
      expect(e.message).toContain("type");
      hclose(h);
    });
  });

  it("answers for the new object when a closed handle's number is reused", async () => {
    await run(function* () {
      const a = duck();
      const b = duck();
      const h = hmake(a.vfs);
      expect(hquery(h, QUACK)).toBe(a.quack);
      hclose(h);
      // Freed numbers go round the whole free list before they come back.
      let h2 = hmake(b.vfs);
      for (let i = 0; h2 !== h && i < 10_000; i++) {
        hclose(h2);
        h2 = hmake(b.vfs);
      }
      expect(h2).toBe(h);
      expect(hquery(h2, QUACK)).toBe(b.quack);
      hclose(h2);
    });
  });

  it("identifies the runtime's own handles by their type ids, and refuses the others with ENOTSUP", async () => {
    await run(function* () {
      const [c0, c1] = chmake();
      const b = bundle();
      const cr = go(msleep(-1) as never);
      expect(hquery(c0, CHAN_TYPE)).toBeTruthy();
      expect(hquery(c0, CHAN_TYPE)).not.toBe(hquery(c1, CHAN_TYPE));
      expect(hquery(b, BUNDLE_TYPE)).toBeTruthy();
      expect(hquery(cr, COROUTINE_TYPE)).toBeTruthy();
      expect(thrown(() => hquery(c0, BUNDLE_TYPE)).code).toBe("ENOTSUP");
      expect(thrown(() => hquery(b, CHAN_TYPE)).code).toBe("ENOTSUP");
      expect(thrown(() => hquery(cr, CHAN_TYPE)).code).toBe("ENOTSUP");
      expect(thrown(() => hquery(b, QUACK)).code).toBe("ENOTSUP");
      hclose(cr);
      hclose(b);
      hclose(c0);
      hclose(c1);
    });
  });
});

describe("hown", () => {
  it("moves the object to a new handle number; the old number is EBADF and close() is not called", async () => {
    await run(function* () {
      const d = duck();
      const h = hmake(d.vfs);
      expect(hquery(h, QUACK)).toBe(d.quack);
      const h2 = dill_hown(h);
      expect(h2).not.toBe(h);
      expect(d.closed).toBe(0);
      expect(hquery(h2, QUACK)).toBe(d.quack);
      expect(thrown(() => hquery(h, QUACK)).code).toBe("EBADF");
      expect(thrown(() => hclose(h)).code).toBe("EBADF");
      expect(thrown(() => hown(h)).code).toBe("EBADF");
      expect(dill_stats().handles).toBe(1);
      hclose(h2);
      expect(d.closed).toBe(1);
    });
  });

  it("moves a coroutine: closing the new handle cancels it", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            log.push("finally");
          }
        })(),
      );
      yield* dill_yield();
      const h2 = hown(h);
      expect(thrown(() => hclose(h)).code).toBe("EBADF");
      expect(log).toEqual([]);
      hclose(h2);
      expect(log).toEqual(["finally"]);
    });
  });

  it("moves a channel end: the channel keeps working under the new number", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const a2 = hown(a);
      expect(thrown(() => hquery(a, CHAN_TYPE)).code).toBe("EBADF");
      const h = go(
        (function* () {
          yield* chsend(a2, "moved", -1);
        })(),
      );
      expect(yield* chrecv(b, -1)).toBe("moved");
      hclose(h);
      hclose(a2);
      hclose(b);
    });
  });

  it("fails with EBADF for a bad handle", async () => {
    await run(function* () {
      for (const bad of [-1, 12_345, NaN]) {
        const e = thrown(() => hown(bad));
        expect(e.code).toBe("EBADF");
        expect(e.message).toContain("hown");
      }
    });
  });

  it("fails with EMFILE when the table is full, and then the old handle is closed", async () => {
    await run(function* () {
      const prev = dill_stats().maxHandles;
      dill_configure({ handles: 4 });
      const ducks = [duck(), duck(), duck(), duck()];
      const hs: number[] = [];
      try {
        for (const d of ducks) hs.push(hmake(d.vfs));
        const h = hs.shift()!;
        const e = thrown(() => hown(h));
        expect(e.code).toBe("EMFILE");
        expect(e.message).toContain("hown");
        expect(ducks[0]!.closed).toBe(1);
        expect(thrown(() => hquery(h, QUACK)).code).toBe("EBADF");
        expect(dill_stats().handles).toBe(3);
      } finally {
        for (const h of hs) hclose(h);
        dill_configure({ handles: prev });
      }
    });
  });
});

describe("hclose", () => {
  it("fails with EBADF for a bad handle and for a handle closed already", async () => {
    await run(function* () {
      const d = duck();
      const h = hmake(d.vfs);
      hclose(h);
      for (const bad of [h, -1, 54_321, 2.5]) {
        const e = thrown(() => hclose(bad));
        expect(e.code).toBe("EBADF");
        expect(e.message).toContain("hclose");
      }
      expect(d.closed).toBe(1);
    });
  });

  it("frees the handle before close() runs, so close() cannot reach the object through it", async () => {
    await run(function* () {
      let seen = "";
      let h = -1;
      h = hmake({
        query: (t) => (t === QUACK ? {} : undefined),
        close() {
          seen = thrown(() => hquery(h, QUACK)).code;
        },
      });
      hclose(h);
      expect(seen).toBe("EBADF");
    });
  });
});

describe("the handle table", () => {
  it("hands freed numbers out again in the order they were freed, after the numbers free before them", async () => {
    await run(function* () {
      const hs = [hmake(duck().vfs), hmake(duck().vfs), hmake(duck().vfs)];
      expect(new Set(hs).size).toBe(3);
      hclose(hs[2]!);
      hclose(hs[0]!);
      // The table keeps more than 8 free slots: neither number comes back within the next 8 handles.
      const next: number[] = [];
      for (let i = 0; i < 8; i++) next.push(hmake(duck().vfs));
      expect(next).not.toContain(hs[0]);
      expect(next).not.toContain(hs[2]);
      for (const h of next) hclose(h);
      // Further on, they come back first-freed first.
      const order: number[] = [];
      for (let i = 0; i < 10_000 && order.length < 2; i++) {
        const h = hmake(duck().vfs);
        if (h === hs[0] || h === hs[2]) order.push(h);
        hclose(h);
      }
      expect(order).toEqual([hs[2], hs[0]]);
      hclose(hs[1]!);
    });
  });

  it("makes a mistaken second hclose fail with EBADF instead of closing the object opened right after", async () => {
    await run(function* () {
      const first = duck();
      const second = duck();
      const h = hmake(first.vfs);
      hclose(h);
      const h2 = hmake(second.vfs);
      expect(h2).not.toBe(h);
      expect(thrown(() => hclose(h)).code).toBe("EBADF");
      expect(second.closed).toBe(0);
      hclose(h2);
      // The same near the table's bound: a few slots are kept in rotation.
      const prev = dill_stats().maxHandles;
      dill_configure({ handles: 12 });
      try {
        const hs: number[] = [];
        for (let i = 0; i < 11; i++) hs.push(hmake(duck().vfs));
        const last = hs.pop()!;
        hclose(last);
        const again = hmake(duck().vfs);
        expect(again).not.toBe(last);
        hs.push(again);
        for (const x of hs) hclose(x);
      } finally {
        dill_configure({ handles: prev });
      }
    });
  });

  it("keeps numbers small: open and close cycles go round the table without growing it", async () => {
    await run(function* () {
      const max = [0, 0];
      for (let round = 0; round < 200; round++) {
        const hs: number[] = [];
        for (let i = 0; i < 50; i++) hs.push(hmake(duck().vfs));
        max[round < 100 ? 0 : 1] = Math.max(max[round < 100 ? 0 : 1]!, ...hs);
        for (const h of hs) hclose(h);
      }
      // The numbers went round the table in the first hundred rounds and reach no further later.
      expect(max[1]).toBe(max[0]);
    });
  });

  it("cannot be bounded below the handles open: dill_configure fails with EBUSY; bad bounds are EINVAL", async () => {
    await run(function* () {
      const prev = dill_stats().maxHandles;
      const hs = [hmake(duck().vfs), hmake(duck().vfs)];
      try {
        expect(thrown(() => dill_configure({ handles: 1 })).code).toBe("EBUSY");
        for (const bad of [0, -1, NaN, 1.5, Infinity]) {
          expect(thrown(() => dill_configure({ handles: bad })).code).toBe("EINVAL");
        }
        expect(dill_stats().maxHandles).toBe(prev);
      } finally {
        for (const h of hs) hclose(h);
      }
    });
  });
});

describe("dill_stats", () => {
  it("reports the open handles by kind", async () => {
    await run(function* () {
      expect(dill_stats().handlesByKind).toEqual({});
      expect(dill_stats().handles).toBe(0);
      const [c0, c1] = chmake();
      const b = bundle();
      const cr = go(msleep(-1) as never);
      const u1 = hmake(duck().vfs);
      const u2 = hmake(duck().vfs);
      const k = hmake(duck("duck").vfs);
      expect(dill_stats().handlesByKind).toEqual({ channel: 2, bundle: 1, coroutine: 1, user: 2, duck: 1 });
      expect(dill_stats().handles).toBe(7);
      hclose(c0);
      hclose(cr);
      hclose(k);
      expect(dill_stats().handlesByKind).toEqual({ channel: 1, bundle: 1, user: 2 });
      hclose(c1);
      hclose(b);
      hclose(u1);
      hclose(u2);
      expect(dill_stats().handlesByKind).toEqual({});
    });
  });

  it("counts the running coroutines, pending deadlines and pool storage", async () => {
    await run(function* () {
      const s0 = dill_stats();
      expect(s0.coroutines).toBe(1); // this root
      expect(s0.timers).toBe(0);
      const h = go(msleep(now() + 600_000) as never);
      yield* dill_yield();
      const s1 = dill_stats();
      expect(s1.coroutines).toBe(2);
      expect(s1.timers).toBe(1);
      expect(s1.pool.used).toBe(s0.pool.used + 1);
      hclose(h);
      const s2 = dill_stats();
      expect(s2.coroutines).toBe(1);
      expect(s2.timers).toBe(0);
      expect(s2.pool.used).toBe(s0.pool.used);
    });
  });
});
