/**
 * tsdill's TCP sockets against socat, over loopback: 1 MiB is echoed each way and compared byte
 * for byte. socat uses 4 KiB blocks (`-b 4096`), as in the IPC tests.
 */
import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import {
  await_promise,
  brecv,
  bsend,
  go,
  hclose,
  ipaddr_local,
  ipaddr_port,
  msleep,
  now,
  run,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_done,
  tcp_listen,
} from "../src/index.js";
import { codeOf, expectNoFdLeak, pattern } from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";
import { closedPort } from "./tcp-helpers.js";

const MiB = 1 << 20;
const CHUNK = 65536;

expectNoFdLeak();

/** Run socat; `done` resolves with its exit code and everything it wrote to stdout. */
function socat(args: string[], input: Buffer | null) {
  const p = spawn("socat", args, { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let err = "";
  p.stdout!.on("data", (d: Buffer) => out.push(d));
  p.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  if (input) p.stdin!.end(input);
  const done = new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) =>
    p.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err })),
  );
  return { done };
}

/** Accept one connection, echo exactly `n` bytes, expect the peer's end, close. */
function* echoServer(ls: number, n: number, out: { code: string }) {
  const s = yield* tcp_accept(ls, null, now() + 10_000);
  const buf = new Uint8Array(CHUNK);
  for (let left = n; left > 0; left -= CHUNK) {
    const k = Math.min(CHUNK, left);
    yield* brecv(s, buf, k, now() + 10_000);
    yield* bsend(s, buf, k, now() + 10_000);
  }
  out.code = yield* codeOf(brecv(s, null, 1, now() + 10_000));
  yield* tcp_close(s, now() + 10_000);
}

function* sendAll(s: number, data: Uint8Array) {
  for (let off = 0; off < data.length; off += CHUNK)
    yield* bsend(s, data.subarray(off, off + CHUNK), Math.min(CHUNK, data.length - off), now() + 10_000);
  yield* tcp_done(s, now() + 10_000);
}

needs("socat").describe("tsdill TCP and socat", () => {
  it("a tsdill server echoes 1 MiB to a socat client byte for byte", async () => {
    const data = pattern(MiB, 31);
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      const out = { code: "" };
      const cr = go(echoServer(ls, MiB, out));
      const p = socat(["-t", "10", "-b", "4096", "-", `TCP:127.0.0.1:${ipaddr_port(addr)}`], data);
      const r = yield* await_promise(p.done, now() + 20_000);
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBe(MiB);
      expect(Buffer.compare(r.stdout, data)).toBe(0);
      expect(out.code).toBe("EPIPE");
      hclose(cr);
      hclose(ls);
    });
  });

  it("a tsdill client gets 1 MiB echoed back by a socat server byte for byte", async () => {
    const data = pattern(MiB, 32);
    const port = await closedPort();
    await run(function* () {
      const p = socat(["-t", "10", "-b", "4096", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, "PIPE"], null);
      const addr = ipaddr_local("127.0.0.1", port, 0);
      let s = -1;
      for (let i = 0; s < 0; i++) {
        try {
          s = yield* tcp_connect(addr, now() + 1000);
        } catch (e) {
          if (i > 300) throw e;
          yield* msleep(now() + 10); // socat is still starting
        }
      }
      const cr = go(sendAll(s, data));
      const got = new Uint8Array(data.length);
      yield* brecv(s, got, got.length, now() + 10_000);
      expect(Buffer.compare(got, data)).toBe(0);
      expect(yield* codeOf(brecv(s, null, 1, now() + 10_000))).toBe("EPIPE");
      hclose(cr);
      hclose(s);
      const r = yield* await_promise(p.done, now() + 10_000);
      expect(r.code).toBe(0);
    });
  });
});
