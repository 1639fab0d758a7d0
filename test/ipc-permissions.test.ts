/**
 * The permissions of the socket file ipc_listen creates: the process umask applies, an explicit
 * `{ mode }` replaces it, the file never has wider permissions than asked, and a process of
 * another user cannot connect when the mode forbids it.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  await_promise,
  bundle,
  bundle_go,
  bundle_wait,
  hclose,
  ipc_accept,
  ipc_connect,
  ipc_listen,
  ipc_listen_mem,
  IpcListenerStorage,
  now,
  run,
} from "../src/index.js";
import { childJson, expectNoFdLeak, runChild, tempDirPerFile } from "./ipc-helpers.js";
import { when } from "./prerequisites.js";

let dir: string;
expectNoFdLeak();
tempDirPerFile((d) => (dir = d));

let n = 0;
const fresh = (): string => path.join(dir, `p${++n}.ipc`);
const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

/** The process umask, read without changing it for longer than the two calls. */
function currentUmask(): number {
  const u = process.umask(0o022);
  process.umask(u);
  return u;
}

describe("the socket file of ipc_listen", () => {
  it("gets its permissions from the process umask (two umasks, each in a child process)", async () => {
    for (const [umask, want] of [
      ["077", "700"],
      ["022", "755"],
    ] as const) {
      const sub = fs.mkdtempSync(path.join(dir, "u"));
      const r = await runChild(["listen-mode", sub, "-"], { prelude: `umask ${umask};` });
      const out = childJson(r);
      expect(out, r.stderr).toEqual({ mode: want, umask, removed: "true" });
    }
  });

  it("gets exactly the explicit mode, whatever the umask, and the umask is left as it was", async () => {
    for (const [umask, mode] of [
      ["077", "666"],
      ["000", "600"],
    ] as const) {
      const sub = fs.mkdtempSync(path.join(dir, "m"));
      const r = await runChild(["listen-mode", sub, mode], { prelude: `umask ${umask};` });
      expect(childJson(r), r.stderr).toEqual({ mode, umask, removed: "true" });
    }
    const before = currentUmask();
    await run(function* () {
      const addr = fresh();
      const ls = yield* ipc_listen_mem(addr, 10, new IpcListenerStorage(), { mode: 0o640 });
      expect(modeOf(addr)).toBe(0o640);
      hclose(ls);
    });
    expect(currentUmask()).toBe(before);
  });

  it("is at its path as soon as the listening coroutine continues: a client launched beside it connects", async () => {
    await run(function* () {
      const addr = fresh();
      const b = bundle();
      bundle_go(
        b,
        (function* () {
          const ls = yield* ipc_listen(addr, 10, { mode: 0o600 });
          hclose(yield* ipc_accept(ls, now() + 5000));
          hclose(ls);
        })(),
      );
      bundle_go(
        b,
        (function* () {
          hclose(yield* ipc_connect(addr, now() + 5000));
        })(),
      );
      yield* bundle_wait(b, now() + 10_000);
      hclose(b);
      expect(fs.existsSync(addr)).toBe(false);
    });
  });

  it("gets its mode and is removed at close also in a directory whose path leaves no room for a hidden name", async () => {
    const long = path.join(dir, "d".repeat(100 - dir.length - 1));
    fs.mkdirSync(long);
    const addr = path.join(long, "s");
    await run(function* () {
      const ls = yield* ipc_listen(addr, 10, { mode: 0o600 });
      expect(modeOf(addr)).toBe(0o600);
      expect(fs.readdirSync(long)).toEqual(["s"]);
      hclose(ls);
      expect(fs.existsSync(addr)).toBe(false);
    });
  });

  it("never changes the process umask on the usual path (the socket is bound in a private directory)", async () => {
    // A process-wide umask change would also apply to files other threads create at that moment.
    const real = process.umask;
    const call = real.bind(process) as (mask?: number) => number;
    const set: number[] = [];
    process.umask = ((mask?: number) => {
      if (mask !== undefined) set.push(mask);
      return call(mask);
    }) as typeof process.umask;
    try {
      await run(function* () {
        const addr = fresh();
        const ls = yield* ipc_listen(addr, 10, { mode: 0o600 });
        expect(modeOf(addr)).toBe(0o600);
        expect(fs.readdirSync(dir).filter((f) => f.startsWith(".tsdill-"))).toEqual([]); // the private directory is gone
        hclose(ls);
      });
    } finally {
      process.umask = real;
    }
    expect(set, "umask values set during ipc_listen").toEqual([]);
  });

  it("leaves no hidden name behind, and no file after a failed listen", async () => {
    await run(function* () {
      const sub = fs.mkdtempSync(path.join(dir, "h"));
      const addr = path.join(sub, "x.ipc");
      const ls = yield* ipc_listen(addr, 10, { mode: 0o600 });
      expect(fs.readdirSync(sub)).toEqual(["x.ipc"]);
      let code = "OK";
      try {
        hclose(yield* ipc_listen(addr, 10, { mode: 0o600 }));
      } catch (e) {
        code = (e as { code: string }).code;
      }
      expect(code).toBe("EADDRINUSE");
      expect(fs.readdirSync(sub)).toEqual(["x.ipc"]);
      expect(modeOf(addr)).toBe(0o600);
      hclose(ls);
      expect(fs.readdirSync(sub)).toEqual([]);
    });
  });

  it("fails with EINVAL for a bad mode or options object, creating nothing", async () => {
    await run(function* () {
      for (const opts of [{ mode: -1 }, { mode: 0o1000 }, { mode: 1.5 }, { mode: NaN }, { mode: "600" }, null, 5]) {
        const addr = fresh();
        let code = "OK";
        try {
          hclose(yield* ipc_listen(addr, 10, opts as never));
        } catch (e) {
          code = (e as { code: string }).code;
          expect((e as Error).message).toMatch(/'(mode|opts)'/);
        }
        expect(code, JSON.stringify(opts)).toBe("EINVAL");
        expect(fs.existsSync(addr)).toBe(false);
      }
    });
  });

  it("never has wider permissions than the mode asked for, not even for a moment (a process watching the directory)", async () => {
    const sub = fs.mkdtempSync(path.join(dir, "w"));
    fs.chmodSync(sub, 0o755);
    // A watcher in another process: lists the directory and looks at every socket file in it, as
    // fast as it can, until told to stop; it reports every permission it saw wider than 0o600.
    const script = `
      const fs = require("fs"), path = require("path");
      const dir = process.argv[1], seen = new Set(); let looks = 0, files = 0;
      process.stdout.write("ready\\n");
      const end = Date.now() + 10000;
      while (Date.now() < end && !fs.existsSync(path.join(dir, "stop"))) {
        looks++;
        for (const f of fs.readdirSync(dir)) {
          try {
            const st = fs.lstatSync(path.join(dir, f));
            files++;
            if (st.isSocket() && (st.mode & 0o177) !== 0) seen.add((st.mode & 0o777).toString(8));
          } catch {}
        }
      }
      console.log(JSON.stringify({ wider: [...seen], looks, files }));`;
    const child = spawn(process.execPath, ["-e", script, sub], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const done = new Promise<void>((resolve) => child.on("close", () => resolve()));
    while (!out.includes("ready")) await new Promise((r) => setTimeout(r, 5));
    const old = process.umask(0o000); // without the mode, files would be 0o777
    try {
      // At least 40 listeners, and for at least 300 ms: the watcher needs the CPU too.
      await run(function* () {
        const end = now() + 300;
        for (let i = 0; i < 40 || now() < end; i++) {
          const ls = yield* ipc_listen(path.join(sub, `w${i}.ipc`), 10, { mode: 0o600 });
          hclose(ls);
        }
      });
    } finally {
      process.umask(old);
      fs.writeFileSync(path.join(sub, "stop"), "");
    }
    await done;
    const report = JSON.parse(out.trim().split("\n").pop()!) as { wider: string[]; looks: number; files: number };
    expect(report.looks).toBeGreaterThan(0); // it did watch
    expect(report.wider).toEqual([]);
  });

  const canSwitchUser =
    spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, "-e", ""]).status ===
    0;
  when(
    canSwitchUser,
    "setpriv cannot switch to the user nobody here: it needs root and setpriv (Debian: util-linux)",
  ).it("refuses a process of another user (EACCES) when the mode is 0o600, admits it with 0o666", async () => {
    // skipped where setpriv cannot switch to nobody (not root, or no setpriv): no other user to try with
    const sub = fs.mkdtempSync(path.join(dir, "o"));
    // nobody may pass through the directories to the socket file, not list them
    fs.chmodSync(dir, 0o711);
    fs.chmodSync(sub, 0o711);
    const connectAs = (addr: string): Promise<string> =>
      new Promise((resolve) => {
        const script = `const s = require("net").createConnection(process.argv[1]);
          s.on("connect", () => { console.log("OK"); s.destroy(); });
          s.on("error", (e) => console.log(e.code));`;
        const c = spawn(
          "setpriv",
          ["--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, "-e", script, addr],
          { stdio: ["ignore", "pipe", "inherit"] },
        );
        let o = "";
        c.stdout.setEncoding("utf8").on("data", (d: string) => (o += d));
        c.on("close", () => resolve(o.trim()));
      });
    await run(function* () {
      const closed = path.join(sub, "closed.ipc");
      const ls1 = yield* ipc_listen(closed, 10, { mode: 0o600 });
      expect(yield* await_promise(connectAs(closed), now() + 15_000)).toBe("EACCES");
      hclose(ls1);
      const open = path.join(sub, "open.ipc");
      const ls2 = yield* ipc_listen(open, 10, { mode: 0o666 });
      expect(yield* await_promise(connectAs(open), now() + 15_000)).toBe("OK");
      hclose(yield* ipc_accept(ls2, now() + 5000));
      hclose(ls2);
    });
  });
});
