import { constants } from "node:os";
import { describe, expect, it } from "vitest";
import {
  CoroutineStorage,
  DillError,
  ERRNO,
  type ErrnoCode,
  bundle,
  bundle_go,
  chdone,
  chmake,
  chmake_mem,
  chrecv,
  chsend,
  dill_configure,
  dill_stats,
  dill_yield,
  go,
  go_mem,
  hclose,
  hquery,
  isDillError,
  msleep,
  now,
  run,
} from "../src/index.js";
import { failure, thrown } from "./expect-dill.js";

const LINUX: Partial<Record<ErrnoCode, number>> = {
  EPERM: 1,
  ENOENT: 2,
  EBADF: 9,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ELOOP: 40,
  ENOTSUP: 95,
  EADDRINUSE: 98,
  ECONNRESET: 104,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  ECANCELED: 125,
};

function checkShape(e: DillError, code: ErrnoCode, fn: string, arg?: string): void {
  expect(e).toBeInstanceOf(DillError);
  expect(e).toBeInstanceOf(Error);
  expect(e.name).toBe("DillError");
  expect(e.code).toBe(code);
  expect(e.errno).toBe(LINUX[code] ?? ERRNO[code]);
  expect(e.message).toContain(fn);
  if (arg !== undefined) expect(e.message).toContain(`'${arg}'`);
}

describe("DillError", () => {
  it("is an Error with the errno name in code and the Linux number in errno", () => {
    const e = new DillError("ETIMEDOUT", "chrecv");
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(DillError);
    expect(e.name).toBe("DillError");
    expect(e.code).toBe("ETIMEDOUT");
    expect(e.errno).toBe(110);
    expect(e.message).toContain("chrecv");
    expect(e.message).toContain("ETIMEDOUT");
    expect(String(e)).toContain("DillError");
    expect(e.index).toBe(-1);
  });

  it("uses Linux's errno numbers: ETIMEDOUT 110, ECANCELED 125, EBADF 9, EPIPE 32 and the rest", () => {
    for (const [code, n] of Object.entries(LINUX)) expect(ERRNO[code as ErrnoCode], code).toBe(n);
  });

  it("agrees with the operating system's errno table for every code", () => {
    const os = constants.errno as Record<string, number>;
    for (const [code, n] of Object.entries(ERRNO)) {
      if (os[code] !== undefined) expect(n, code).toBe(os[code]);
    }
  });

  it("isDillError tells DillErrors apart, optionally by code", () => {
    const e = new DillError("EPIPE", "chsend");
    expect(isDillError(e)).toBe(true);
    expect(isDillError(e, "EPIPE")).toBe(true);
    expect(isDillError(e, "EBADF")).toBe(false);
    expect(isDillError(new Error("EPIPE"))).toBe(false);
    expect(isDillError({ code: "EPIPE", errno: 32 })).toBe(false);
    expect(isDillError(null)).toBe(false);
  });
});

describe("errors thrown by the runtime", () => {
  it("EBADF names the function and the handle argument", async () => {
    await run(function* () {
      checkShape(
        thrown(() => hclose(9999)),
        "EBADF",
        "hclose",
        "h",
      );
      checkShape(
        thrown(() => hquery(9999, Symbol("t"))),
        "EBADF",
        "hquery",
        "h",
      );
      checkShape(yield* failure(chsend(9999, 1, 0)), "EBADF", "chsend", "ch");
      checkShape(yield* failure(chrecv(9999, 0)), "EBADF", "chrecv", "ch");
      checkShape(
        thrown(() => chdone(9999)),
        "EBADF",
        "chdone",
        "ch",
      );
      checkShape(
        thrown(() => bundle_go(9999, msleep(-1) as never)),
        "EBADF",
        "bundle_go",
        "bndl",
      );
    });
  });

  it("ENOTSUP names the function and the argument", async () => {
    await run(function* () {
      const b: number = bundle(); // plain numbers: the run-time checks are under test
      checkShape(yield* failure(chsend(b, 1, 0)), "ENOTSUP", "chsend", "ch");
      const [x, y]: number[] = chmake();
      checkShape(
        thrown(() => bundle_go(x, msleep(-1) as never)),
        "ENOTSUP",
        "bundle_go",
        "bndl",
      );
      hclose(x);
      hclose(y);
      hclose(b);
    });
  });

  it("EINVAL names the function and the argument", async () => {
    await run(function* () {
      checkShape(yield* failure(msleep(NaN)), "EINVAL", "msleep", "deadline");
      const [a, b] = chmake();
      checkShape(yield* failure(chrecv(a, -7)), "EINVAL", "chrecv", "deadline");
      hclose(a);
      hclose(b);
      checkShape(
        thrown(() => go((() => 1) as never)),
        "EINVAL",
        "go",
        "expr",
      );
      checkShape(
        thrown(() => chmake_mem({} as never)),
        "EINVAL",
        "chmake_mem",
        "mem",
      );
    });
  });

  it("EBUSY, EMFILE and ENOMEM carry their numbers and name the function", async () => {
    await run(function* () {
      const mem = new CoroutineStorage();
      const h = go_mem(msleep(-1) as never, mem);
      checkShape(
        thrown(() => go_mem(msleep(-1) as never, mem)),
        "EBUSY",
        "go_mem",
        "mem",
      );
      hclose(h);
      const prevHandles = dill_stats().maxHandles;
      dill_configure({ handles: 1 });
      try {
        const h1 = go(msleep(-1) as never);
        checkShape(
          thrown(() => go(msleep(-1) as never)),
          "EMFILE",
          "go",
        );
        hclose(h1);
      } finally {
        dill_configure({ handles: prevHandles });
      }
      const prevPool = dill_stats().pool.capacity;
      dill_configure({ pool: dill_stats().pool.used });
      try {
        checkShape(
          thrown(() => chmake()),
          "ENOMEM",
          "chmake",
        );
      } finally {
        dill_configure({ pool: prevPool });
      }
    });
  });

  it("ETIMEDOUT, ECANCELED and EPIPE are DillErrors naming the blocking call", async () => {
    await run(function* () {
      const [a, b] = chmake();
      checkShape(yield* failure(chrecv(a, 0)), "ETIMEDOUT", "chrecv");
      checkShape(yield* failure(chsend(a, 1, now() + 5)), "ETIMEDOUT", "chsend");
      const errs: DillError[] = [];
      const h = go(
        (function* () {
          errs.push(yield* failure(msleep(-1)));
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(errs).toHaveLength(1);
      checkShape(errs[0]!, "ECANCELED", "msleep");
      chdone(a);
      checkShape(yield* failure(chsend(a, 1, 0)), "EPIPE", "chsend");
      checkShape(
        thrown(() => chdone(a)),
        "EPIPE",
        "chdone",
        "ch",
      );
      hclose(a);
      hclose(b);
    });
  });

  it("EPERM for a blocking call made outside any coroutine", () => {
    const it = msleep(-1)[Symbol.iterator]();
    let e: unknown;
    try {
      it.next(undefined); // as yield* calls it
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(DillError);
    checkShape(e as DillError, "EPERM", "msleep");
  });

  it("leaves index at -1 on errors that do not come from a choose clause", async () => {
    await run(function* () {
      expect(thrown(() => hclose(4321)).index).toBe(-1);
      expect((yield* failure(msleep(NaN))).index).toBe(-1);
    });
  });
});

describe("dill_configure", () => {
  it("checks every setting before applying any: a refused call changes nothing", async () => {
    const before = dill_stats();
    // A good handles value with a bad pool value: neither is applied.
    expect(thrown(() => dill_configure({ handles: 10, pool: -1 })).code).toBe("EINVAL");
    // A good pool value with a clock switch refused while a deadline is pending.
    await run(function* () {
      const sleeper = go(
        (function* sleep() {
          yield* msleep(now() + 60_000);
        })(),
      );
      yield* dill_yield();
      const e = thrown(() => dill_configure({ pool: 5, clock: "virtual" }));
      expect([e.code, e.message]).toEqual(["EBUSY", expect.stringContaining("'clock'")]);
      hclose(sleeper);
    });
    const after = dill_stats();
    expect([after.maxHandles, after.pool.capacity, after.clock]).toEqual([
      before.maxHandles,
      before.pool.capacity,
      before.clock,
    ]);
  });
});
