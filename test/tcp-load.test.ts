/**
 * Many TCP connections at once: 100 clients, each doing 50 request/response round trips of
 * varying sizes with checksums, against one tsdill server in the same process, over loopback.
 */
import { describe, expect, it } from "vitest";
import { ipaddr_local, now, tcp_accept, tcp_close, tcp_connect, tcp_listen } from "../src/index.js";
import { expectNoFdLeak } from "./ipc-helpers.js";
import { echoLoad } from "./load-echo.js";

const CONNS = 100;
const ROUNDS = 50;
expectNoFdLeak();

describe("100 concurrent TCP connections", () => {
  it("each do 50 request/response round trips: every byte arrives, in order", async () => {
    const addr = ipaddr_local("127.0.0.1", 0, 0); // tcp_listen fills in the port
    const ok = await echoLoad(
      {
        listen: () => tcp_listen(addr, 256),
        connect: () => tcp_connect(addr, now() + 10_000),
        accept: (ls) => tcp_accept(ls, null, now() + 10_000),
        close: (s) => tcp_close(s, now() + 10_000),
      },
      CONNS,
      ROUNDS,
    );
    expect(ok).toBe(CONNS * ROUNDS);
  });
});
