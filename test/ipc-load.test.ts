/**
 * Many connections at once: 200 clients, each doing 100 request/response round trips of varying
 * sizes with checksums, against one tsdill server in the same process.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ipc_accept, ipc_close, ipc_connect, ipc_listen, now } from "../src/index.js";
import { expectNoFdLeak, tempDirPerFile } from "./ipc-helpers.js";
import { echoLoad } from "./load-echo.js";

const CONNS = 200;
const ROUNDS = 100;
let dir: string;
expectNoFdLeak();
tempDirPerFile((d) => (dir = d));

describe("200 concurrent connections", () => {
  it("each do 100 request/response round trips: every byte arrives, in order", async () => {
    const addr = path.join(dir, "load.ipc");
    const ok = await echoLoad(
      {
        listen: () => ipc_listen(addr, 256),
        connect: () => ipc_connect(addr, now() + 10_000),
        accept: (ls) => ipc_accept(ls, now() + 10_000),
        close: (s) => ipc_close(s, now() + 10_000),
      },
      CONNS,
      ROUNDS,
    );
    expect(ok).toBe(CONNS * ROUNDS);
  });
});
