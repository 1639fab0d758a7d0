/**
 * A browser as the WebSocket peer: headless Chromium opens a page whose script talks to a tsdill
 * server, once with ws_attach_server's own handshake, once through examples/ws-echo.ts (which
 * serves the page itself and answers the upgrade by hand).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import {
  hclose,
  ipaddr_local,
  ipaddr_port,
  isDillError,
  now,
  run,
  tcp_accept,
  tcp_close,
  tcp_listen,
  WS_TEXT,
  ws_attach_server,
  ws_detach,
  ws_recv,
  ws_send,
  ws_status,
} from "../src/index.js";
import { needs } from "./prerequisites.js";
import { chromiumArgs } from "./chromium.js";

const root = join(import.meta.dirname, "..");

/** Headless Chromium on `url`, with a profile of its own; `stop` kills it and removes the profile. */
function chromium(url: string): { proc: ChildProcess; stop: () => Promise<void> } {
  const profile = mkdtempSync(join(tmpdir(), "tsdill-chromium-"));
  const proc = spawn(
    "chromium",
    chromiumArgs(profile, url),
    // Its own process group: stopping it stops its renderer and helper processes too.
    { stdio: "ignore", detached: true },
  );
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  return {
    proc,
    stop: async () => {
      try {
        process.kill(-proc.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
      rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    },
  };
}

/** The page (Chromium opens no WebSocket from a data: URL, so Node's http serves it); its script: a text and a binary message, each checked when it comes back, then a close with 4000. */
function page(port: number): string {
  const script = `
    const ws = new WebSocket("ws://127.0.0.1:${port}/browser?from=chromium");
    ws.binaryType = "arraybuffer";
    const bin = new Uint8Array(70000).map((_, i) => i & 0xff);
    let step = 0;
    ws.onopen = () => ws.send("hello from chromium");
    ws.onmessage = (m) => {
      if (step === 0) {
        step = m.data === "hello from chromium" ? 1 : -1;
        ws.send(bin);
      } else if (step === 1) {
        const got = new Uint8Array(m.data);
        const same = got.length === bin.length && got.every((b, i) => b === bin[i]);
        ws.send(same ? "both echoes came back" : "wrong echo");
        ws.close(4000, "bye from chromium");
      }
    };`;
  return `<!doctype html><script>${script}</script>`;
}

needs("chromium").describe("Chromium as the WebSocket client", () => {
  needs("chromium").it(
    "opens a page that talks to ws_attach_server: handshake, masked text and binary, the close code it sent",
    async () => {
      let browser: { stop: () => Promise<void> } | null = null;
      const seen: string[] = [];
      let html = "";
      const web = createServer((_req, res) => res.end(html));
      await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
      const webPort = (web.address() as { port: number }).port;
      try {
        await run(function* () {
          const addr = ipaddr_local("127.0.0.1", 0, 0);
          const ls = yield* tcp_listen(addr, 4);
          html = page(ipaddr_port(addr));
          browser = chromium(`http://127.0.0.1:${webPort}/`);
          // A browser may open a connection it never uses (a speculative one) and close it: the
          // attach on that one fails, and the next connection is the page's.
          let attached: [number, string, string] | null = null;
          while (attached === null) {
            const u = yield* tcp_accept(ls, null, now() + 30_000);
            try {
              attached = yield* ws_attach_server(u, WS_TEXT, 256, 256, now() + 30_000);
            } catch (e) {
              if (!isDillError(e, "EPIPE") && !isDillError(e, "ECONNRESET")) throw e;
            }
          }
          hclose(ls);
          const [s, resource, host] = attached;
          seen.push(`${resource} ${host}`);
          const buf = new Uint8Array(100_000);
          try {
            for (;;) {
              const [n, flags] = yield* ws_recv(s, buf, buf.length, now() + 30_000);
              if (flags === WS_TEXT) seen.push(Buffer.from(buf.subarray(0, n)).toString());
              else seen.push(`binary ${n}`);
              yield* ws_send(s, flags, buf, n, now() + 30_000);
            }
          } catch (e) {
            if (!isDillError(e, "EPIPE")) {
              hclose(s);
              throw e;
            }
          }
          const [rn, status] = ws_status(s, buf, buf.length);
          seen.push(`close ${status} ${Buffer.from(buf.subarray(0, rn)).toString()}`);
          yield* tcp_close(yield* ws_detach(s, 4000, null, 0, now() + 30_000), now() + 30_000);
        });
      } finally {
        if (browser !== null) await (browser as { stop: () => Promise<void> }).stop();
        await new Promise((r) => web.close(r));
      }
      expect(seen).toEqual([
        `/browser?from=chromium 127.0.0.1:${seen[0]!.split(":").pop()}`,
        "hello from chromium",
        "binary 70000",
        "both echoes came back",
        "close 4000 bye from chromium",
      ]);
    },
    60_000,
  );

  needs("chromium").it(
    "loads the page examples/ws-echo.ts serves and gets its echoes back over the example's WebSocket",
    async () => {
      const server = spawn(process.execPath, ["--import", "tsx", join("examples", "ws-echo.ts"), "0"], {
        cwd: root,
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      let browser: { stop: () => Promise<void> } | null = null;
      try {
        const done = new Promise<void>((resolve, reject) => {
          server.stdout!.on("data", (d: Buffer) => {
            out += String(d);
            const m = /serving (http:\/\/\S+)/.exec(out);
            if (m !== null && browser === null) browser = chromium(m[1]!);
            if (out.includes("received: the browser got its echo back")) resolve();
          });
          server.once("exit", () => reject(new Error(`the example exited: ${out}`)));
          setTimeout(() => reject(new Error(`no echo in 45 s: ${out}`)), 45_000).unref();
        });
        await done;
      } finally {
        if (browser !== null) await (browser as { stop: () => Promise<void> }).stop();
        server.kill("SIGTERM");
      }
      expect(out).toContain("received: hello from the browser");
    },
    60_000,
  );
});
