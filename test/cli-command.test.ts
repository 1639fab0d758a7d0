/**
 * The tsdill command as a newcomer meets it: the commands the README gives for a checkout run,
 * from the sources and after a build, and `--version` prints the package's version.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT, tempDirPerFile } from "./ipc-helpers.js";
import { bundleCli } from "./server-helpers.js";

const exec = promisify(execFile);
let dir = "";
tempDirPerFile((d) => (dir = d));

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** The README's paragraph on the command, and the commands with --help it gives for a checkout. */
function readmeCommands(): { paragraph: string; commands: string[] } {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf("The same server and load generator are the `tsdill` command");
  expect(at).toBeGreaterThan(0);
  const paragraph = readme.slice(at, readme.indexOf("\n\n", at));
  const spans = [...paragraph.matchAll(/`([^`]+--help)`/g)].map((m) => m[1]!);
  return { paragraph, commands: spans.filter((c) => c !== "npx tsdill --help") };
}

async function sh(command: string, cwd: string) {
  return exec("sh", ["-c", command], { cwd, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe("the README's commands for a checkout", () => {
  it("are the build's and the sources' (npx tsdill is for an installed package only)", () => {
    const { paragraph, commands } = readmeCommands();
    expect(commands).toEqual(["node dist/cli.js --help", "npx tsx src/cli/main.ts --help"]);
    expect(paragraph).toContain("`npm run build`");
    expect(paragraph).toMatch(/installed as a\s+dependency, `npx tsdill --help` runs it/);
  });

  it("run from the sources: npx tsx src/cli/main.ts --help", async () => {
    const r = await sh(readmeCommands().commands[1]!, ROOT);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tsdill <command> \[options\]/);
    expect(r.stdout).toContain("--version, -v  the version of tsdill");
  });

  it("run after a build: node dist/cli.js --help, and --version reads the package's version", async () => {
    // The command's entry built as the package build makes it, into a copy of the package's layout.
    fs.mkdirSync(path.join(dir, "dist"));
    fs.copyFileSync(path.join(ROOT, "package.json"), path.join(dir, "package.json"));
    const [bundle] = await bundleCli(path.join(dir, "dist"));
    fs.renameSync(bundle!, path.join(dir, "dist", "cli.js"));
    const help = await sh(readmeCommands().commands[0]!, dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tsdill <command> \[options\]/);
    for (const flag of ["--version", "-v"]) {
      const v = await sh(`node dist/cli.js ${flag}`, dir);
      expect(v).toMatchObject({ code: 0, stdout: `tsdill ${VERSION}\n` });
    }
  });
});

describe("tsdill --version", () => {
  it("prints the version of the package, run from the sources too", async () => {
    const r = await sh(`'${process.execPath}' --import tsx src/cli/main.ts --version`, ROOT);
    expect(r).toMatchObject({ code: 0, stdout: `tsdill ${VERSION}\n` });
  });
});
