/**
 * fdin, fdout and fdclean (libdill's tests/fd.c, ported): readiness of pipes and socketpairs made
 * by tsdill's native part, deadlines, cancellation, closed peers, and the calls without the
 * native part (a child process that loads tsdill with TSDILL_NO_ADDON=1).
 */
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fdclean, fdin, fdout, go, hclose, msleep, now, run } from "../src/index.js";
import { nativeOrNull } from "../src/fd/native.js";
import { codeOf, expectNoFdLeak, TEST_DIR } from "./ipc-helpers.js";
import { when } from "./prerequisites.js";

expectNoFdLeak();
const n = nativeOrNull();
const withNative = when(
  n !== null,
  "tsdill's native part is not built (npm rebuild builds it; needs cc, make, python3)",
);

function two(kind: "pipe" | "socketpair"): [number, number] {
  const out = new Int32Array(2);
  expect(n![kind](out)).toBe(0);
  return [out[0]!, out[1]!];
}

function closeAll(...fds: number[]): void {
  for (const fd of fds) {
    fdclean(fd);
    closeSync(fd);
  }
}

withNative.describe("fdin and fdout", () => {
  it("fail with EBADF on a descriptor that is not open", async () => {
    await run(function* () {
      expect(yield* codeOf(fdin(1_000_000, -1))).toBe("EBADF");
      expect(yield* codeOf(fdout(1_000_000, -1))).toBe("EBADF");
    });
  });

  it("say a fresh socket is writable and not readable, with deadlines 0, -1 and in the future", async () => {
    await run(function* () {
      const [a, b] = two("socketpair");
      yield* fdout(a, 0);
      expect(yield* codeOf(fdin(a, 0))).toBe("ETIMEDOUT");
      yield* fdout(a, -1);
      yield* fdout(a, now() + 100);
      const deadline = now() + 50;
      expect(yield* codeOf(fdin(a, deadline))).toBe("ETIMEDOUT");
      expect(now()).toBeGreaterThanOrEqual(deadline);
      closeAll(a, b);
    });
  });

  it("fail with ECANCELED when the coroutine is cancelled, also on every later call", async () => {
    const codes: string[] = [];
    await run(function* () {
      const [a, b] = two("socketpair");
      const cr = go(
        (function* () {
          codes.push(yield* codeOf(fdin(a, -1)));
          codes.push(yield* codeOf(fdin(a, -1)));
        })(),
      );
      hclose(cr);
      closeAll(a, b);
    });
    expect(codes).toEqual(["ECANCELED", "ECANCELED"]);
  });

  it("wake when bytes arrive, while Node's event loop keeps running", async () => {
    await run(function* () {
      const [a, b] = two("socketpair");
      writeSync(b, "A");
      yield* fdin(a, -1);
      const buf = Buffer.alloc(4);
      expect(readSync(a, buf)).toBe(1);
      // A Node timer writes: it can only fire if fdin leaves the event loop running.
      setTimeout(() => writeSync(b, "B"), 20);
      yield* fdin(a, now() + 5000);
      expect(readSync(a, buf)).toBe(1);
      expect(buf[0]).toBe(0x42);
      closeAll(a, b);
    });
  });

  it("two interleaved deadlines: a coroutine that sends after a sleep wakes the other's fdin", async () => {
    await run(function* () {
      const [a, b] = two("socketpair");
      const start = now();
      const cr = go(
        (function* () {
          yield* msleep(start + 30);
          writeSync(a, "A");
        })(),
      );
      yield* fdin(b, start + 5000);
      expect(now()).toBeGreaterThanOrEqual(start + 30);
      hclose(cr);
      closeAll(a, b);
    });
  });

  it("report a peer that closed as readable and writable; the reads then give the bytes and the end", async () => {
    await run(function* () {
      const [a, b] = two("socketpair");
      writeSync(b, "ABC");
      closeAll(b);
      yield* msleep(now() + 20);
      yield* fdin(a, -1);
      yield* fdout(a, -1);
      const buf = Buffer.alloc(10);
      expect(readSync(a, buf)).toBe(3);
      yield* fdin(a, -1);
      expect(readSync(a, buf)).toBe(0);
      closeAll(a);
    });
  });

  it("leave nothing polled after a timeout: bytes that arrive later wake nobody", async () => {
    await run(function* () {
      const [r, w] = two("pipe");
      expect(yield* codeOf(fdin(r, now() + 10))).toBe("ETIMEDOUT");
      writeSync(w, "ABC");
      yield* msleep(now() + 50);
      yield* fdin(r, 0);
      closeAll(r, w);
    });
  });

  it("allow one coroutine per direction: a second fdin is EBUSY, an fdout beside it is fine", async () => {
    await run(function* () {
      const [a, b] = two("socketpair");
      const code = { v: "" };
      const cr = go(
        (function* () {
          code.v = yield* codeOf(fdin(a, -1));
        })(),
      );
      expect(yield* codeOf(fdin(a, 0))).toBe("EBUSY");
      yield* fdout(a, 0);
      writeSync(b, "A");
      yield* msleep(now() + 20);
      expect(code.v).toBe("OK");
      hclose(cr);
      closeAll(a, b);
    });
  });

  it("fail with ENOTSUP on a regular file, which cannot be waited for", async () => {
    await run(function* () {
      const fd = openSync(path.join(TEST_DIR, "fd.test.ts"), "r");
      expect(yield* codeOf(fdin(fd, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(fdout(fd, -1))).toBe("ENOTSUP");
      closeAll(fd);
    });
  });
});

withNative.describe("fdclean", () => {
  it("wakes a coroutine still waiting on the descriptor with EBADF, and is a no-op on one never waited on", async () => {
    await run(function* () {
      const [a, b] = two("socketpair");
      const code = { v: "" };
      const cr = go(
        (function* () {
          code.v = yield* codeOf(fdin(a, -1));
        })(),
      );
      fdclean(a);
      yield* msleep(now() + 1);
      expect(code.v).toBe("EBADF");
      fdclean(b);
      fdclean(1_000_000);
      hclose(cr);
      closeAll(a, b);
    });
  });

  it("lets the descriptor number be reused: a new pipe under the same number is waited on afresh", async () => {
    await run(function* () {
      const [r, w] = two("pipe");
      expect(yield* codeOf(fdin(r, now() + 5))).toBe("ETIMEDOUT");
      closeAll(r, w);
      const [r2, w2] = two("pipe");
      writeSync(w2, "x");
      yield* fdin(r2, now() + 5000);
      closeAll(r2, w2);
    });
  });
});

withNative.describe("the native part", () => {
  it("is loaded at the first IPC socket, not when tsdill is imported", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(TEST_DIR, "fd-load-child.ts")], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, boolean>;
    expect(out).toEqual({ atImport: false, afterPair: true });
  });
});

describe("without the native part (TSDILL_NO_ADDON=1)", () => {
  it("fdin, fdout, ipc_sendfd and ipc_recvfd fail with ENOTSUP saying why; the rest works", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(TEST_DIR, "fd-child.ts")], {
      encoding: "utf8",
      env: { ...process.env, TSDILL_NO_ADDON: "1" },
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, string>;
    for (const k of ["fdin", "fdout", "sendfd", "recvfd"]) {
      expect(out[k]).toMatch(/^ENOTSUP /);
      expect(out[k]).toContain("TSDILL_NO_ADDON=1");
    }
    expect(out.fdin).toContain("fdin:");
    expect(out.bytes).toBe("still works");
  });
});
