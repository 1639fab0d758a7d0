/**
 * The published package: built as users get it, imported by its own name. "tsdill" and
 * "tsdill/effection" are two entries of one package and must share one runtime (one scheduler,
 * one handle table), in ESM and in CJS alike.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, string | Record<string, Record<string, string>>>;
};

/** A coroutine started through one entry must be seen by the other, and blocking calls of one must run in coroutines of the other. */
const CHECK = `
const during = await new Promise((resolve, reject) => {
  const task = effection.run(function* () {
    yield* entry.effection_go((function* () { yield* tsdill.msleep(-1); })());
  });
  setTimeout(() => {
    const n = tsdill.dill_stats().coroutines;
    task.halt().then(() => resolve(n), reject);
  }, 10);
});
const v = await tsdill.run(function* () {
  return yield* entry.effection_call(function* () { yield* effection.sleep(1); return 42; }, tsdill.now() + 5000);
});
console.log(JSON.stringify({ during, after: tsdill.dill_stats().coroutines, v }));
`;

describe("the built package", () => {
  let dir = "";

  beforeAll(async () => {
    // A copy of the package in a temporary folder: its package.json, a fresh build, and the
    // repository's node_modules for effection.
    dir = mkdtempSync(join(tmpdir(), "tsdill-package-"));
    writeFileSync(join(dir, "package.json"), readFileSync(join(root, "package.json")));
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
    await exec(
      process.execPath,
      [join(root, "node_modules", "tsup", "dist", "cli-default.js"), "--silent", "--out-dir", join(dir, "dist")],
      {
        cwd: root,
        timeout: 110_000,
      },
    );
  }, 120_000);

  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("has every file its exports name, types included", () => {
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      for (const cond of Object.values(target)) {
        for (const file of Object.values(cond)) expect(existsSync(join(dir, file)), `${name}: ${file}`).toBe(true);
      }
    }
    expect(Object.keys(pkg.exports)).toContain("./effection");
  });

  it("loads effection only from the tsdill/effection entry: it is an optional peer dependency", () => {
    const main = readdirSync(join(dir, "dist")).filter((f) => /\.(c?js|d\.c?ts)$/.test(f));
    expect(main).toContain("index.js");
    for (const f of main) expect(readFileSync(join(dir, "dist", f), "utf8"), f).not.toMatch(/["']effection["']/);
    expect(readFileSync(join(dir, "dist", "interop", "effection.js"), "utf8")).toMatch(/from ["']effection["']/);
    expect(readFileSync(join(dir, "dist", "interop", "effection.cjs"), "utf8")).toMatch(/require\(["']effection["']\)/);
  });

  it("shares one runtime between import('tsdill') and import('tsdill/effection')", async () => {
    const file = join(dir, "check.mjs");
    writeFileSync(
      file,
      `const tsdill = await import("tsdill");\nconst entry = await import("tsdill/effection");\nconst effection = await import("effection");\n${CHECK}`,
    );
    const { stdout, stderr } = await exec(process.execPath, [file], { cwd: dir, timeout: 30_000 });
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({ during: 1, after: 0, v: 42 });
  });

  it("shares one runtime between require('tsdill') and require('tsdill/effection')", async () => {
    const file = join(dir, "check.cjs");
    writeFileSync(
      file,
      `const tsdill = require("tsdill");\nconst entry = require("tsdill/effection");\nconst effection = require("effection");\n(async () => {\n${CHECK}\n})().catch((e) => { console.error(e); process.exitCode = 1; });\n`,
    );
    const { stdout, stderr } = await exec(process.execPath, [file], { cwd: dir, timeout: 30_000 });
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({ during: 1, after: 0, v: 42 });
  });
});
