import fs from "node:fs";
import { describe, expect, it } from "vitest";
import {
  brecv,
  bsend,
  go,
  hclose,
  ipc_close,
  ipc_pair,
  ipc_pair_mem,
  IpcPairStorage,
  msleep,
  now,
  run,
} from "../src/index.js";
import { codeOf, exhaustPool, expectNoFdLeak, fillHandleTable, pattern } from "./ipc-helpers.js";

expectNoFdLeak();

function socketFds(): number {
  let n = 0;
  for (const f of fs.readdirSync("/proc/self/fd")) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${f}`).startsWith("socket:")) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

function* closer(s: number, out: { code: string }) {
  out.code = yield* codeOf(ipc_close(s, now() + 2000));
}

describe("ipc_pair", () => {
  it("makes two connected OS-level sockets carrying bytes both ways, and creates no file", async () => {
    const before = socketFds();
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* msleep(now() + 5); // the private listener's close has completed
      expect(socketFds() - before).toBe(2);
      const data = pattern(200_000);
      yield* bsend(a, data, data.length, -1);
      const got = new Uint8Array(data.length);
      yield* brecv(b, got, got.length, now() + 2000);
      expect(Buffer.compare(got, data)).toBe(0);
      yield* bsend(b, "back", 4, -1);
      const back = new Uint8Array(4);
      yield* brecv(a, back, 4, now() + 1000);
      expect(Buffer.from(back).toString()).toBe("back");
      const out = { code: "" };
      const cr = go(closer(b, out));
      yield* ipc_close(a, now() + 2000);
      yield* msleep(now() + 5);
      expect(out.code).toBe("OK");
      hclose(cr);
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(socketFds()).toBe(before);
  });

  it("fails with ENOMEM when the storage pool is used up", async () => {
    await run(function* () {
      const restore = exhaustPool();
      try {
        expect(yield* codeOf(ipc_pair())).toBe("ENOMEM");
      } finally {
        restore();
      }
    });
  });

  it("fails with EMFILE when the handle table has room for one handle only, leaving nothing open", async () => {
    const before = socketFds();
    await run(function* () {
      const restore = fillHandleTable(1); // the first handle fits, the second does not
      let code: string;
      try {
        code = yield* codeOf(ipc_pair());
      } finally {
        restore();
      }
      expect(code).toBe("EMFILE");
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(socketFds()).toBe(before);
  });

  it("fails with ECANCELED when called from a cancelled coroutine", async () => {
    function* late(out: { code: string }) {
      try {
        yield* msleep(-1);
      } finally {
        out.code = yield* codeOf(ipc_pair());
      }
    }
    await run(function* () {
      const out = { code: "" };
      const cr = go(late(out));
      yield* msleep(now() + 5);
      hclose(cr);
      expect(out.code).toBe("ECANCELED");
    });
  });
});

describe("IpcPairStorage", () => {
  it("is EBUSY until both sockets are closed, then free again", async () => {
    await run(function* () {
      const mem = new IpcPairStorage();
      const [a, b] = yield* ipc_pair_mem(mem);
      expect(yield* codeOf(ipc_pair_mem(mem))).toBe("EBUSY");
      hclose(a);
      expect(yield* codeOf(ipc_pair_mem(mem))).toBe("EBUSY");
      hclose(b);
      const [c, d] = yield* ipc_pair_mem(mem);
      hclose(c);
      hclose(d);
      expect(yield* codeOf(ipc_pair_mem({} as IpcPairStorage))).toBe("EINVAL");
    });
  });
});
