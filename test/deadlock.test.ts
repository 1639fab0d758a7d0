/**
 * Deadlock detection: a program in which no coroutine can ever run again makes run() reject with
 * EDEADLK, and the message explains the wait graph. Under the virtual clock in this process;
 * under the real clock in a child process, where Node's event loop can go idle.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DillDeadlock, DillError, dill_configure, run } from "../src/index.js";
import {
  bundleWaitsOnItself,
  forgottenChdone,
  promiseResolvedLater,
  rendezvousCycle,
  socketWait,
} from "./deadlock-programs.js";

const exec = promisify(execFile);

async function deadlockOf(p: Promise<unknown>): Promise<DillDeadlock> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DillError && e.code === "EDEADLK") return e as DillDeadlock;
    throw e;
  }
  throw new Error("run() resolved: no deadlock was reported");
}

/** The expected explanations, one pattern per blocked coroutine. */
const RENDEZVOUS = [
  /^ {2}cr \d+ `rendezvousCycle` in chsend on ch (\d+); ch \1's other end \(ch (\d+)\) is held by cr \d+ `greeter`, blocked in chsend on ch \2$/m,
  /^ {2}cr \d+ `greeter` in chsend on ch (\d+); ch \1's other end \(ch (\d+)\) is held by cr \d+ `rendezvousCycle`, blocked in chsend on ch \2$/m,
];
const CHDONE = [
  /^ {2}cr \d+ `forgottenChdone` in chrecv on ch (\d+); ch \1's other end \(ch \d+\) is held by cr \d+ `forgottenChdone` itself, and no coroutine is blocked on it: nothing will send on it or call chdone$/m,
];
const BUNDLE = [
  /^ {2}cr \d+ `selfWaiter` in bundle_wait on bundle (\d+); it is itself a member of bundle \1, which cannot finish before it does$/m,
  /^ {2}cr \d+ `bundleWaitsOnItself` in bundle_wait on bundle (\d+); bundle \1's members: cr \d+ `selfWaiter`, blocked in bundle_wait on bundle \1$/m,
];

function checkMessage(message: string, patterns: RegExp[]): void {
  expect(message).toMatch(/^run: EDEADLK: deadlock: every coroutine is blocked and nothing can wake one\n/);
  for (const p of patterns) expect(message).toMatch(p);
  expect(message.split("\n")).toHaveLength(patterns.length + 1);
}

let dir = "";
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsdill-deadlock-"));
});
afterEach(() => {
  dill_configure({ clock: "real", deadlock: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("deadlock detection under the virtual clock", () => {
  beforeEach(() => dill_configure({ clock: "virtual" }));

  it("explains a two-coroutine rendezvous cycle", async () => {
    const e = await deadlockOf(run(rendezvousCycle));
    checkMessage(e.message, RENDEZVOUS);
    expect(e.errno).toBe(35);
    expect(e.waits.map((w) => [w.name, w.call, w.kind])).toEqual([
      ["rendezvousCycle", "chsend", "channel"],
      ["greeter", "chsend", "channel"],
    ]);
    const [main, greeter] = e.waits;
    expect(main!.peers[0]).toMatchObject({ handle: greeter!.on[0], holder: greeter!.cr, blocked: true });
    expect(greeter!.peers[0]).toMatchObject({ handle: main!.on[0], holder: main!.cr, blocked: true });
  });

  it("explains a forgotten chdone", async () => {
    checkMessage((await deadlockOf(run(forgottenChdone))).message, CHDONE);
  });

  it("explains a bundle waiting on itself", async () => {
    const e = await deadlockOf(run(bundleWaitsOnItself));
    checkMessage(e.message, BUNDLE);
    expect(e.waits.map((w) => w.kind)).toEqual(["bundle", "bundle"]);
  });

  it("does not report a coroutine waiting for a Promise resolved later", async () => {
    expect(await run(promiseResolvedLater)).toBe("resolved");
  });

  it("does not report a coroutine waiting on a socket", async () => {
    expect(await run(socketWait(dir))).toBe("hi");
  });

  it("reports nothing when switched off", async () => {
    dill_configure({ deadlock: false });
    let settled = false;
    const p = run(rendezvousCycle).then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    dill_configure({ deadlock: true }); // switching it on looks at once
    await expect(p).resolves.toBe(true);
  });
});

describe("deadlock detection under the real clock", () => {
  it("reports the same deadlocks when Node's event loop goes idle, and none for waits on a Promise or a socket", async () => {
    const child = path.join(import.meta.dirname, "deadlock-child.ts");
    const { stdout } = await exec(process.execPath, ["--import", "tsx", child, dir], { timeout: 15_000 });
    const out = new Map<string, { name: string; code?: string; message?: string; value?: unknown }>();
    for (const line of stdout.trim().split("\n")) {
      const r = JSON.parse(line) as { name: string };
      out.set(r.name, r);
    }
    expect(out.get("rendezvous")?.code).toBe("EDEADLK");
    checkMessage(out.get("rendezvous")!.message!, RENDEZVOUS);
    checkMessage(out.get("chdone")!.message!, CHDONE);
    checkMessage(out.get("bundle")!.message!, BUNDLE);
    expect(out.get("promise")).toEqual({ name: "promise", value: "resolved" });
    expect(out.get("socket")).toEqual({ name: "socket", value: "hi" });
  });
});
