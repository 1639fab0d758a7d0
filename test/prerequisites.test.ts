/**
 * What the tests need beside Node: the README lists it, and a test that cannot run for want of it
 * says so, in its name and in the run's output, never silently.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { missing, skippedName, TOOLS, type Tool, when } from "./prerequisites.js";

const exec = promisify(execFile);
const root = join(import.meta.dirname, "..");
const tools = Object.keys(TOOLS) as Tool[];

describe("the tests' prerequisites", () => {
  it("are listed in the README, each with its Debian package, and one apt-get line installs them all", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = /^## Prerequisites\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
    expect(section, "README.md has a Prerequisites section").toBeDefined();
    const install = /apt-get install(?: -y)? ([^\n`]+)/.exec(section!)?.[1]?.trim().split(/\s+/) ?? [];
    for (const t of tools) {
      expect(section, `README names ${t}`).toContain(`\`${t}\``);
      expect(install, `the apt-get line installs ${TOOLS[t].debian} (for ${t})`).toContain(TOOLS[t].debian);
    }
  });

  it("name the missing tool and the package to install, and nothing when all are there", () => {
    expect(missing(["socat", "cc"], (cmd) => cmd !== "socat")).toBe(
      "socat is not installed (on Debian: apt-get install socat)",
    );
    expect(missing(["cc", "python3"], () => false)).toBe(
      "cc is not installed (on Debian: apt-get install gcc); python3 is not installed (on Debian: apt-get install python3)",
    );
    expect(missing(tools, () => true)).toBe("");
  });

  when(false, "skipped on purpose, to check how a skipped test is named").it("a probe", () => {});

  it("skip a test under a name that says why", (ctx) => {
    const probe = ctx.task.suite!.tasks.find((t) => t.name.startsWith("a probe"));
    expect(probe?.mode).toBe("skip");
    expect(probe?.name).toBe(skippedName("a probe", "skipped on purpose, to check how a skipped test is named"));
    expect(probe?.name).toBe("a probe [skipped: skipped on purpose, to check how a skipped test is named]");
  });

  it("are the only way a test file skips for a condition: no runIf or skipIf, and every skip gives a reason", () => {
    const offences: string[] = [];
    const files = readdirSync(join(root, "test"), { recursive: true, encoding: "utf8" }).filter(
      (f) => f.endsWith(".ts") && f !== "prerequisites.ts" && f !== "prerequisites.test.ts",
    );
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) {
      const text = readFileSync(join(root, "test", f), "utf8");
      for (const m of text.matchAll(/\b(?:it|test|describe)(?:\.\w+)*\.(?:runIf|skipIf)\(/g))
        offences.push(`${f}: ${m[0]}`);
      for (const m of text.matchAll(/\b(?:it|test|describe)\.skip\(\s*([^\s])/g))
        if (!/["'`]/.test(m[1]!)) offences.push(`${f}: ${m[0]} without a name`);
      for (const m of text.matchAll(/\b(?:ctx|context)\.skip\(([^)]*)\)/g))
        if (!/["'`]/.test(m[1]!)) offences.push(`${f}: ${m[0]} without a reason`);
    }
    expect(offences).toEqual([]);
  });
});

describe("the skipped-tests reporter", () => {
  // Inside the repository (.tmp/ is git-ignored), so that the fixture's imports resolve.
  mkdirSync(join(root, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(root, ".tmp", "skipped-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lists each skipped test of a run with its file and reason, after the default report", async () => {
    mkdirSync(join(dir, "t"));
    writeFileSync(
      join(dir, "t", "x.test.ts"),
      [
        `import { it } from "vitest";`,
        `import { when } from ${JSON.stringify(join(root, "test", "prerequisites.ts"))};`,
        `it("runs", () => {});`,
        `when(false, "socat is not installed").it("talks to socat", () => {});`,
        `it("needs IPv6", (ctx) => ctx.skip("no IPv6 loopback"));`,
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "vitest.config.mjs"),
      `export default { test: { include: ["t/*.test.ts"], reporters: ["default", ${JSON.stringify(join(root, "test", "skipped-reporter.ts"))}] } };\n`,
    );
    const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
    const { stdout } = await exec(process.execPath, [vitest, "run", "--root", dir], {
      cwd: dir,
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    expect(stdout).toContain("Skipped tests (2):");
    expect(stdout).toContain("t/x.test.ts > talks to socat [skipped: socat is not installed]");
    expect(stdout).toContain("t/x.test.ts > needs IPv6 (no IPv6 loopback)");
  }, 70_000);
});
