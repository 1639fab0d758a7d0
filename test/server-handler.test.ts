/**
 * The server's connection handlers in this process: an error of the server's own code in one
 * connection (not a DillError: the engine's `Map` throws a RangeError past 2^24 keys, for
 * instance) is logged and counted, the other connections are served, and the shutdown succeeds.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { serveListener } from "../src/cli/server.js";
import { onSignals } from "../src/cli/signals.js";
import { DEFAULT_OPTIONS, Server } from "../src/cli/state.js";
import { await_promise, bundle, bundle_go, bundle_wait, hclose, ipc_listen, now, run } from "../src/index.js";
import { expectNoFdLeak, tempDirPerFile } from "./ipc-helpers.js";
import { ask, connect, until } from "./server-helpers.js";

let dir = "";
tempDirPerFile((d) => (dir = d));
expectNoFdLeak();

describe("a connection whose handler fails with an error that is not a DillError", () => {
  it("is answered ERR EIO and closed, logged and counted; the server goes on and shuts down cleanly", async () => {
    const socket = path.join(dir, "h.sock");
    const srv = new Server({ ...DEFAULT_OPTIONS, name: "test", grace: 100 });
    srv.store.set = () => {
      throw new RangeError("Map maximum size exceeded");
    };
    const stop = onSignals([]);
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    let logged: unknown[][] = [];
    try {
      await run(function* () {
        const ls = yield* ipc_listen(socket, 16);
        const server = bundle();
        bundle_go(server, serveListener(ls, srv, stop));
        try {
          const clients = (async () => {
            const failing = await ask(socket, "SET k 1\nv\n");
            const [pong] = await ask(socket, "PING\n");
            const c = await connect(socket); // an idle one, cancelled at the end of the grace period
            await until(() => srv.stats.open === 1, "the idle connection");
            stop.fire("done");
            await c.closed;
            return [failing[0], pong];
          })();
          const answers = yield* await_promise(clients, now() + 15_000);
          expect(answers).toEqual(["ERR EIO the server failed on this connection", "PONG"]);
          yield* bundle_wait(server, now() + 5000); // would rethrow the RangeError before
        } finally {
          hclose(server);
        }
      });
    } finally {
      logged = spy.mock.calls.slice();
      stop.dispose();
      spy.mockRestore();
    }
    expect(srv.stats.failures).toEqual({ exception: 1 });
    expect(srv.stats.cancelled).toBe(1);
    expect(logged.length).toBe(1);
    expect(String(logged[0]![0])).toMatch(
      /^test: a connection failed, the server goes on: RangeError: Map maximum size exceeded\n\s+at /,
    );
    expect(fs.existsSync(socket)).toBe(false);
  });
});
