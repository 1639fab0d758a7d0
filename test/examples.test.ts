/**
 * The programs users run first: the demo behind `npm start`, the README's program and the
 * tutorial steps. Each runs in its own Node process, as a user would run it.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

function example(file: string, ...args: string[]) {
  return run(process.execPath, ["--import", "tsx", join("examples", file), ...args], { cwd: root, timeout: 60_000 });
}

describe("the examples", () => {
  it("runs the demo server with its clients, checks every answer and leaves nothing open", async () => {
    const { stdout } = await example("server.ts", "--clients", "20", "--rounds", "25");
    expect(stdout).toContain("20 clients x 25 round trips");
    expect(stdout).toContain("served 20 connections, 500 requests");
    expect(stdout).toContain("answers checked byte for byte: all correct");
    expect(stdout).toContain("left open afterwards: 0 coroutines, 0 handles, 0 pool storages");
  });

  it("runs the README's program with the output the README shows", async () => {
    const { stdout } = await example("readme.ts");
    expect(stdout).toBe("worker 1 finished\nworker 2 finished\nworker 3 finished\nticker cancelled, cleanup ran\n");
  });

  it("runs the effection interop example: results and cancellation cross both ways", async () => {
    const { stdout } = await example("effection.ts");
    expect(stdout).toBe(
      [
        "effection inside tsdill",
        "  the effection operation returned 42",
        "  effection: the task was halted, its finally ran",
        "  tsdill: the wait failed with ETIMEDOUT",
        "tsdill inside effection",
        '  the coroutine returned "done in tsdill"',
        "  tsdill: the coroutine's msleep failed with ECANCELED",
        "  tsdill: the coroutine's finally ran",
        "  effection: halted the task that ran the coroutine",
        "left open: 0 coroutines, 0 handles",
        "",
      ].join("\n"),
    );
  });

  const steps = readdirSync(join(root, "examples")).filter((f) => /^step\d+-.*\.ts$/.test(f));
  it.each(steps)("runs the tutorial program %s to completion", async (file) => {
    const { stderr } = await example(file);
    expect(stderr).toBe("");
  });
});
