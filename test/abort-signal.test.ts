import { execFileSync } from "node:child_process";
import { getEventListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  abort_signal,
  await_promise,
  bundle,
  bundle_go,
  DillError,
  dill_abort_signal,
  dill_stats,
  dill_yield,
  go,
  hclose,
  msleep,
  now,
  run,
} from "../src/index.js";
import { codeOf, LONG, thrown } from "./expect-dill.js";

/** Settles after the current macrotask: lets Node callbacks and the scheduler run. */
function tick(ms = 0): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe("abort_signal", () => {
  it("returns one signal per coroutine, made on the first call", async () => {
    await run(function* () {
      const s = abort_signal();
      expect(s).toBeInstanceOf(AbortSignal);
      expect(dill_abort_signal()).toBe(s);
      expect(s.aborted).toBe(false);
      let other: AbortSignal | null = null;
      const h = go(
        (function* () {
          other = abort_signal();
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(other).not.toBe(s);
    });
  });

  it("is aborted with an ECANCELED DillError when the coroutine is cancelled, before its finally runs", async () => {
    await run(function* () {
      let signal: AbortSignal | null = null;
      const seenInFinally: unknown[] = [];
      const h = go(
        (function* () {
          signal = abort_signal();
          try {
            yield* msleep(-1);
          } finally {
            seenInFinally.push(signal.aborted, abort_signal() === signal);
          }
        })(),
      );
      yield* dill_yield();
      expect(signal!.aborted).toBe(false);
      hclose(h);
      expect(signal!.aborted).toBe(true);
      expect(signal!.reason).toBeInstanceOf(DillError);
      expect((signal!.reason as DillError).code).toBe("ECANCELED");
      expect(seenInFinally).toEqual([true, true]);
    });
  });

  it("comes back aborted when asked for in a coroutine that is already cancelled", async () => {
    await run(function* () {
      let signal: AbortSignal | null = null;
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            signal = abort_signal();
          }
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(signal!.aborted).toBe(true);
      expect((signal!.reason as DillError).code).toBe("ECANCELED");
    });
  });

  it("is aborted for every member when their bundle is closed", async () => {
    await run(function* () {
      const signals: AbortSignal[] = [];
      const b = bundle();
      for (let i = 0; i < 3; i++) {
        bundle_go(
          b,
          (function* () {
            signals.push(abort_signal());
            yield* msleep(-1);
          })(),
        );
      }
      yield* dill_yield();
      hclose(b);
      expect(signals.map((s) => s.aborted)).toEqual([true, true, true]);
    });
  });

  it("is left alone when the coroutine exits, and a later coroutine in the same storage gets its own", async () => {
    await run(function* () {
      let first: AbortSignal | null = null;
      const h1 = go(
        (function* () {
          first = abort_signal();
        })(),
      );
      yield* dill_yield();
      hclose(h1);
      let second: AbortSignal | null = null;
      const h2 = go(
        (function* () {
          second = abort_signal();
          yield* msleep(-1);
        })(),
      );
      yield* dill_yield();
      hclose(h2);
      expect(second).not.toBe(first);
      expect(second!.aborted).toBe(true);
      expect(first!.aborted).toBe(false);
    });
  });

  it("fails with EPERM outside a coroutine", () => {
    expect(thrown(() => abort_signal()).code).toBe("EPERM");
  });

  it("stops fs/promises.readFile on a FIFO that is never written: the read rejects with an AbortError", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsdill-signal-"));
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    try {
      let read: Promise<Buffer> | null = null;
      await run(function* () {
        const h = go(
          (function* () {
            read = readFile(fifo, { signal: abort_signal() });
            yield* await_promise(read, -1);
          })(),
        );
        yield* msleep(now() + 10);
        hclose(h);
      });
      read!.catch(() => {}); // looked at below
      // readFile is still opening the FIFO in Node's thread pool, which no AbortSignal can
      // interrupt: give it a writer that writes nothing, and readFile then sees the abort.
      const w = await open(fifo, "w");
      await w.close();
      await expect(read!).rejects.toMatchObject({ name: "AbortError", cause: { code: "ECANCELED" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stops a fetch to a local server that never answers: fetch rejects with the signal's reason", async () => {
    const server: Server = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      let req: Promise<Response> | null = null;
      let signal: AbortSignal | null = null;
      const codes: string[] = [];
      await run(function* () {
        const h = go(
          (function* () {
            signal = abort_signal();
            req = fetch(url, { signal });
            codes.push(yield* codeOf(await_promise(req, -1)));
          })(),
        );
        // Wait until the request has reached the server.
        for (let i = 0; i < 500 && (yield* await_promise(connections(server), -1)) === 0; i++) yield* msleep(now() + 2);
        hclose(h);
      });
      expect(codes).toEqual(["ECANCELED"]);
      // As the fetch standard says: the rejection is the signal's reason, here tsdill's ECANCELED.
      await expect(req!).rejects.toBe(signal!.reason);
      expect(signal!.reason).toMatchObject({ code: "ECANCELED" });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
}

describe("run with an AbortSignal", () => {
  it("cancels the root when the signal is aborted: its blocking call fails, its finally runs, run rejects with ECANCELED", async () => {
    const ac = new AbortController();
    const log: string[] = [];
    const p = run(
      function* () {
        try {
          yield* msleep(-1);
        } catch (e) {
          log.push((e as DillError).code);
          throw e;
        } finally {
          log.push("finally");
        }
      },
      { signal: ac.signal },
    );
    await tick(5);
    const reason = new Error("stop");
    ac.abort(reason);
    expect(log).toEqual(["ECANCELED", "finally"]);
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DillError);
    expect(e).toMatchObject({ code: "ECANCELED", syscall: "run", cause: reason });
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
  });

  it("aborts the root's own abort_signal too", async () => {
    const ac = new AbortController();
    let inner: AbortSignal | null = null;
    const p = run(
      function* () {
        inner = abort_signal();
        yield* msleep(-1);
      },
      { signal: ac.signal },
    );
    await tick(2);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "ECANCELED" });
    expect(inner!.aborted).toBe(true);
  });

  it("refuses to start when the signal is already aborted", async () => {
    let called = false;
    const p = run(
      function* () {
        called = true;
      },
      { signal: AbortSignal.abort("early") },
    );
    await expect(p).rejects.toMatchObject({ code: "ECANCELED", cause: "early" });
    expect(called).toBe(false);
    expect(dill_stats().coroutines).toBe(0);
  });

  it("rejects with ECANCELED when aborted before the root ran, running none of its code", async () => {
    const ac = new AbortController();
    let ran = false;
    const p = run(
      (function* () {
        ran = true;
        yield* dill_yield();
      })(),
      { signal: ac.signal },
    );
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "ECANCELED" });
    expect(ran).toBe(false);
  });

  it("discards a value returned after the cancellation, but passes another exception through", async () => {
    const ac1 = new AbortController();
    const p1 = run(
      function* () {
        try {
          yield* msleep(-1);
        } catch {
          return "ignored";
        }
        return "never";
      },
      { signal: ac1.signal },
    );
    await tick(2);
    ac1.abort();
    await expect(p1).rejects.toMatchObject({ code: "ECANCELED" });

    const ac2 = new AbortController();
    const err = new Error("cleanup failed");
    const p2 = run(
      function* () {
        try {
          yield* msleep(-1);
        } finally {
          throw err;
        }
      },
      { signal: ac2.signal },
    );
    await tick(2);
    ac2.abort();
    await expect(p2).rejects.toBe(err);
  });

  it("resolves as usual when the signal is never aborted, and leaves no listener behind", async () => {
    const ac = new AbortController();
    expect(
      await run(
        function* () {
          yield* msleep(now() + 1);
          return 7;
        },
        { signal: ac.signal },
      ),
    ).toBe(7);
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
    ac.abort();
  });

  it("rejects with EINVAL for options that are not { signal: AbortSignal }", async () => {
    await expect(run(function* () {}, { signal: {} as AbortSignal })).rejects.toMatchObject({ code: "EINVAL" });
    await expect(run(function* () {}, 5 as never)).rejects.toMatchObject({ code: "EINVAL" });
    expect(
      await run(function* () {
        return 1;
      }, {}),
    ).toBe(1);
  });

  it("can be cancelled from inside another coroutine", async () => {
    const ac = new AbortController();
    const p = run(
      function* () {
        yield* msleep(now() + LONG);
      },
      { signal: ac.signal },
    );
    await run(function* () {
      yield* dill_yield();
      ac.abort();
    });
    await expect(p).rejects.toMatchObject({ code: "ECANCELED" });
  });
});
