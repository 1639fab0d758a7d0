/**
 * `tsdill trace`: a real program run under the recorder, its Chrome trace read back, and the
 * viewer page it writes loaded in headless Chromium, which must draw the program's coroutines,
 * their parked spans, the cancellations and the deadline.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChromeTrace } from "../src/index.js";
import { needs } from "./prerequisites.js";
import { validate } from "./trace-format.js";
import { chromiumArgs } from "./chromium.js";

const root = join(import.meta.dirname, "..");
const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
let dir = "";

function tsdill(...args: string[]) {
  return spawnSync(process.execPath, [tsx, join(root, "src", "cli", "main.ts"), ...args], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
  });
}

let traced: ReturnType<typeof tsdill>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tsdill-trace-cli-"));
  traced = tsdill("trace", "-o", "out.json", "--html", "out.html", join(root, "test", "trace-program.ts"));
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tsdill trace", () => {
  it("runs the program and writes its trace in the Chrome Trace Event format", () => {
    expect(traced.stderr).toContain("tsdill trace: wrote");
    expect(traced.status).toBe(0);
    const trace = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as ChromeTrace;
    expect(validate(trace)).toEqual([]);
    const names = trace.traceEvents.filter((e) => e.name === "thread_name").map((e) => e.args!.name);
    expect(names).toEqual(["cr 1 main", "cr 2 worker", "cr 3 sleeper · bundle 1", "cr 4 sleeper · bundle 1"]);
    expect(trace.traceEvents.filter((e) => e.ph === "f" && e.cat === "cancel").length).toBe(3);
  });

  it("writes a page that needs nothing from the network", () => {
    const html = readFileSync(join(dir, "out.html"), "utf8");
    expect(html).not.toMatch(/<script[^>]+src=|<link|@import|url\(http/);
    expect(html.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, "")).not.toMatch(/https?:\/\//);
  });

  it("refuses a command line without a program, with the usage", () => {
    const r = tsdill("trace", "-o", "x.json");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("which program?");
  });
});

needs("chromium").describe("the trace viewer in a browser", () => {
  it("draws the lanes, the parked spans, the cancellations and the deadline", () => {
    const profile = mkdtempSync(join(tmpdir(), "tsdill-chromium-"));
    try {
      const r = spawnSync("chromium", chromiumArgs(profile, "--dump-dom", `file://${join(dir, "out.html")}`), {
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status).toBe(0);
      // What the page's script drew, not the script itself: the view's content and the summary.
      const view = /<div id="view">([\s\S]*?)<\/div>/.exec(r.stdout)?.[1] ?? "";
      expect(r.stdout).toContain('data-drawn="yes"');
      expect(/<p id="summary">([^<]*)</.exec(r.stdout)?.[1]).toBe(
        "4 coroutines, 5 parked spans, 3 cancellations, 1 deadlines fired, 4 handles closed",
      );
      const lanes = [...view.matchAll(/class="lane-label"[^>]*>([^<]*)</g)].map((m) => m[1]);
      expect(lanes).toEqual(["cr 1 main", "cr 2 worker", "cr 3 sleeper · bundle 1", "cr 4 sleeper · bundle 1"]);
      const parked = [...view.matchAll(/<rect class="park" data-name="([^"]*)"/g)].map((m) => m[1]);
      expect(parked.sort()).toEqual(["chrecv h1", "chsend h0", "msleep", "msleep", "msleep"].sort());
      const cancels = [...view.matchAll(/class="arrow cancel" data-from="(\d+)" data-to="(\d+)"/g)].map(
        (m) => `${m[1]}→${m[2]}`,
      );
      expect(cancels).toEqual(["1→3", "1→4", "1→2"]);
      expect(view.match(/class="deadline"/g)?.length).toBe(1);
      expect(view.match(/class="hclose"/g)?.length).toBe(2);
      // main closed the bundle, the worker's coroutine handle and both ends of the channel.
      const closed = [...view.matchAll(/<path class="close" data-name="([^"]*)"/g)].map((m) => m[1]);
      expect(closed.map((n) => n!.replace(/h\d+/, "hN"))).toEqual([
        "hclose bundle hN",
        "hclose coroutine hN",
        "hclose channel hN",
        "hclose channel hN",
      ]);
      expect(view.match(/<path class="chdone" data-name="chdone channel h\d+"/g)?.length).toBe(1);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }, 60_000);
});
