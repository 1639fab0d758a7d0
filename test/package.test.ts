/**
 * The published package, as users get it: built, packed with `npm pack` and installed with
 * `npm install` into a project of its own, then imported by its name from child processes.
 * "tsdill" and "tsdill/effection" are two entries of one package and must share one runtime (one
 * scheduler, one handle table), in ESM and in CJS alike, and also when one process loads the
 * package both ways (an `import` in one place, a `require` in a CommonJS dependency).
 *
 * TSDILL_TEST_NODE names another Node binary for the installed package's programs (CI runs this
 * file once more with the oldest Node that package.json's `engines` admits).
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = join(import.meta.dirname, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

interface Manifest {
  version: string;
  files: string[];
  engines: { node: string };
  homepage: string;
  repository: { type: string; url: string };
  bugs: { url: string };
  exports: Record<string, string | Record<string, Record<string, string>>>;
}
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Manifest;

/** The Node that runs the installed package's programs. */
const node = process.env.TSDILL_TEST_NODE || process.execPath;
const nodeVersion = (await exec(node, ["--version"])).stdout.trim();

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

/**
 * One process, the package loaded twice: \`a\` and \`aEff\` one way, \`b\` and \`bEff\` the other.
 * Handles, coroutines, blocking calls and errors must cross from one to the other.
 */
const MIX = `
const out = {};
out.same = [a.run === b.run, a.chsend === b.chsend, a.DillError === b.DillError, aEff.effection_go === bEff.effection_go];
const [c0, c1] = a.chmake();
const [c2, c3] = b.chmake();
out.handles = [c0, c1, c2, c3];
out.got = await a.run(function* () {
  // A coroutine launched by one, a blocking call of the other inside it, on a channel of the first.
  const h = b.go((function* () { yield* a.chsend(c0, "across", -1); })());
  out.during = a.dill_stats().coroutines;
  const got = yield* b.chrecv(c1, a.now() + 5000);
  a.hclose(h);
  try {
    yield* a.chrecv(c3, 0);
  } catch (e) {
    out.timedOut = [e instanceof b.DillError, e instanceof a.DillError, b.isDillError(e, "ETIMEDOUT")];
  }
  return got;
});
for (const h of [c0, c1, c2, c3]) b.hclose(h);
out.effection = await new Promise((resolve, reject) => {
  const task = effection.run(function* () {
    yield* aEff.effection_go((function* () { yield* b.msleep(-1); })());
  });
  setTimeout(() => {
    const n = a.dill_stats().coroutines;
    task.halt().then(() => resolve(n), reject);
  }, 10);
});
out.call = await b.run(function* () {
  return yield* bEff.effection_call(function* () { yield* effection.sleep(1); return 42; }, a.now() + 5000);
});
const s = a.dill_stats();
out.left = { coroutines: s.coroutines, handles: s.handles };
console.log(JSON.stringify(out));
`;

const MIXED = {
  same: [true, true, true, true],
  handles: [0, 1, 2, 3],
  got: "across",
  during: 2,
  timedOut: [true, true, true],
  effection: 1,
  call: 42,
  left: { coroutines: 0, handles: 0 },
};

/** Every relative link target in a Markdown file: inline links, images, reference definitions, HTML href/src. */
function relativeLinks(md: string): string[] {
  const text = md.replace(/^```[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "");
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)].map((m) => m[1]!),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\b(?:href|src)=["']([^"']+)["']/g)].map((m) => m[1]!),
  ];
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith("#"));
}

describe(`the packed and installed package (Node ${nodeVersion})`, () => {
  let base = "";
  let app = "";
  let tarball = "";
  let packed: string[] = [];

  /** Runs a program file of the consumer project with the Node under test. */
  async function runApp(file: string, text: string, args: string[] = []) {
    writeFileSync(join(app, file), text);
    return exec(node, [...args, file], { cwd: app, timeout: 60_000 });
  }

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "tsdill-package-"));
    // A copy of the package's source folder with what `files` names (npm applies the negations
    // when packing) and a fresh build, so the test needs no `npm run build` in the repository.
    const src = join(base, "pkg");
    mkdirSync(src);
    for (const f of ["package.json", "LICENSE", ...pkg.files.filter((f) => !f.startsWith("!") && f !== "dist")]) {
      cpSync(join(root, f), join(src, f), { recursive: true, filter: (p) => !p.startsWith(join(root, "docs", "api")) });
    }
    await exec(
      process.execPath,
      [join(root, "node_modules", "tsup", "dist", "cli-default.js"), "--silent", "--out-dir", join(src, "dist")],
      { cwd: root, timeout: 300_000 },
    );
    const { stdout } = await exec("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", base], {
      cwd: src,
      timeout: 60_000,
    });
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(base, info!.filename);
    packed = info!.files.map((f) => f.path);

    // The consumer: its own project, the tarball installed by npm; effection (an optional peer)
    // from the repository; and a CommonJS dependency of its own that requires tsdill.
    app = join(base, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    await exec(
      "npm",
      ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock", tarball],
      { cwd: app, timeout: 60_000 },
    );
    symlinkSync(join(root, "node_modules", "effection"), join(app, "node_modules", "effection"), "dir");
    const legacy = join(app, "node_modules", "legacy");
    mkdirSync(legacy);
    writeFileSync(join(legacy, "package.json"), JSON.stringify({ name: "legacy", version: "1.0.0", main: "index.js" }));
    writeFileSync(
      join(legacy, "index.js"),
      `"use strict";\nmodule.exports = { tsdill: require("tsdill"), entry: require("tsdill/effection") };\n`,
    );
  }, 420_000);

  afterAll(() => {
    if (base !== "") rmSync(base, { recursive: true, force: true });
  });

  it("has every file its exports name, types included", () => {
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      for (const cond of Object.values(target)) {
        for (const file of Object.values(cond)) expect(packed, `${name}: ${file}`).toContain(posix.normalize(file));
      }
    }
    expect(Object.keys(pkg.exports)).toContain("./effection");
  });

  it("loads effection only from the tsdill/effection entry: it is an optional peer dependency", () => {
    const dist = join(app, "node_modules", "tsdill", "dist");
    const main = packed.filter((f) => /^dist\/[^/]+\.(c?js|mjs|d\.c?ts)$/.test(f));
    expect(main).toContain("dist/index.js");
    for (const f of main)
      expect(readFileSync(join(app, "node_modules", "tsdill", f), "utf8"), f).not.toMatch(/["']effection["']/);
    expect(readFileSync(join(dist, "interop", "effection.js"), "utf8")).toMatch(/from ["']effection["']/);
    expect(readFileSync(join(dist, "interop", "effection.cjs"), "utf8")).toMatch(/require\(["']effection["']\)/);
  });

  it("shares one runtime between import('tsdill') and import('tsdill/effection')", async () => {
    const { stdout, stderr } = await runApp(
      "check.mjs",
      `const tsdill = await import("tsdill");\nconst entry = await import("tsdill/effection");\nconst effection = await import("effection");\n${CHECK}`,
    );
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({ during: 1, after: 0, v: 42 });
  });

  it("shares one runtime between require('tsdill') and require('tsdill/effection')", async () => {
    const { stdout, stderr } = await runApp(
      "check.cjs",
      `const tsdill = require("tsdill");\nconst entry = require("tsdill/effection");\nconst effection = require("effection");\n(async () => {\n${CHECK}\n})().catch((e) => { console.error(e); process.exitCode = 1; });\n`,
    );
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({ during: 1, after: 0, v: 42 });
  });

  it("is one runtime in an ES module that imports tsdill and uses a CommonJS dependency that requires it", async () => {
    const { stdout, stderr } = await runApp(
      "mixed.mjs",
      `import * as a from "tsdill";\nimport * as aEff from "tsdill/effection";\nimport * as effection from "effection";\nimport legacy from "legacy";\nconst { tsdill: b, entry: bEff } = legacy;\n${MIX}`,
    );
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual(MIXED);
  });

  it("is one runtime in a CommonJS program that requires tsdill and imports it", async () => {
    const { stdout, stderr } = await runApp(
      "mixed.cjs",
      `const a = require("tsdill");\nconst aEff = require("tsdill/effection");\n(async () => {\nconst b = await import("tsdill");\nconst bEff = await import("tsdill/effection");\nconst effection = await import("effection");\n${MIX}\n})().catch((e) => { console.error(e); process.exitCode = 1; });\n`,
    );
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual(MIXED);
  });

  it("ships its ESLint plugin as tsdill/eslint: the same plugin to import and to require, whose rule finds a forgotten yield*", async () => {
    const linter = pathToFileURL(join(root, "node_modules", "eslint", "lib", "api.js")).href;
    const { stdout, stderr } = await runApp(
      "lint.mjs",
      `import { createRequire } from "node:module";
import { Linter } from ${JSON.stringify(linter)};
import plugin from "tsdill/eslint";
const required = createRequire(import.meta.url)("tsdill/eslint");
const text = 'import { bsend } from "tsdill";\\nfunction* main(s) {\\n  bsend(s, "x", 1, -1);\\n  yield* bsend(s, "x", 1, -1);\\n}\\n';
const messages = new Linter().verify(text, [plugin.configs.recommended], "app.js");
console.log(JSON.stringify({ same: Object.keys(required).join() === Object.keys(plugin).join(), rules: Object.keys(required.rules), messages: messages.map((m) => [m.ruleId, m.line]) }));
`,
    );
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({
      same: true,
      rules: ["no-forgotten-yield"],
      messages: [["tsdill/no-forgotten-yield", 3]],
    });
  });

  it("gives bundlers the ES module build, so an import of run and msleep leaves the sockets out", async () => {
    writeFileSync(
      join(app, "shake.mjs"),
      `import { run, msleep } from "tsdill";\nawait run(function* () { yield* msleep(1); });\n`,
    );
    const out = join(app, "shake.bundle.mjs");
    await exec(
      bin("esbuild"),
      ["shake.mjs", "--bundle", "--minify", "--platform=node", "--format=esm", `--outfile=${out}`],
      {
        cwd: app,
        timeout: 30_000,
      },
    );
    const bundle = readFileSync(out, "utf8");
    // The CommonJS build would be taken whole; the ES module build keeps what run and msleep use.
    expect(bundle).not.toMatch(/\brequire\(|__commonJS/);
    expect(bundle).toContain('"msleep"');
    // The calls left out name themselves in their errors: none of those names is in the bundle.
    for (const gone of ["chsend", "bundle_wait", "dill_tree", "ipc_accept", "tcp_connect", "ipaddr_remote"])
      expect(bundle).not.toContain(`"${gone}"`);
    const { stdout, stderr } = await exec(node, [out], { cwd: app, timeout: 30_000 });
    expect(stdout + stderr).toBe("");
  });

  it("ships what its docs link to: every relative link in a packed Markdown file is a packed file", () => {
    const files = new Set(packed);
    const dirs = new Set(
      packed.flatMap((f) =>
        f
          .split("/")
          .slice(0, -1)
          .map((_, i, a) => a.slice(0, i + 1).join("/")),
      ),
    );
    const docs = packed.filter((f) => f.endsWith(".md"));
    expect(docs).toContain("README.md");
    expect(docs.length).toBeGreaterThan(20);
    const broken: string[] = [];
    let links = 0;
    for (const doc of docs) {
      for (const link of relativeLinks(readFileSync(join(app, "node_modules", "tsdill", doc), "utf8"))) {
        links++;
        const target = posix.normalize(posix.join(posix.dirname(doc), decodeURI(link.replace(/[?#].*$/, ""))));
        const inside = !target.startsWith("../") && target !== "..";
        if (!inside || !(files.has(target) || dirs.has(target.replace(/\/$/, "")))) broken.push(`${doc} -> ${link}`);
      }
    }
    expect(links).toBeGreaterThan(100);
    expect(broken).toEqual([]);
  });

  it("checks links as the test above does: a link to a file that is not packed is reported", () => {
    expect(relativeLinks("[a](../examples/x.ts) [b](https://x.y/z) [c](#here) ![d](img.svg 'title')")).toEqual([
      "../examples/x.ts",
      "img.svg",
    ]);
    expect(relativeLinks('[ref]: ./a.md\n<a href="b.md">b</a>\n```\n[e](not-a-link.md)\n```\n`[f](code.md)`')).toEqual([
      "./a.md",
      "b.md",
    ]);
  });

  it("ships the examples importing from tsdill, so that a copied example runs against the installed package", async () => {
    const example = readFileSync(join(app, "node_modules", "tsdill", "examples", "readme.ts"), "utf8");
    expect(example).toMatch(/from "tsdill"/);
    expect(example).not.toMatch(/\.\.\/src\//);
    const tsx = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;
    const { stdout, stderr } = await runApp("readme.ts", example, ["--import", tsx]);
    expect(stderr).toBe("");
    expect(stdout).toBe("worker 1 finished\nworker 2 finished\nworker 3 finished\nticker cancelled, cleanup ran\n");
  });

  it("names its repository, homepage and issue tracker, and the installed tsdill bench says where to clone from", async () => {
    const home = "https://github.com/tsdill/tsdill";
    expect(pkg.repository).toEqual({ type: "git", url: `git+${home}.git` });
    expect(pkg.homepage).toBe(`${home}#readme`);
    expect(pkg.bugs).toEqual({ url: `${home}/issues` });
    const cli = join(app, "node_modules", ".bin", "tsdill");
    expect(existsSync(cli)).toBe(true);
    const r = await exec(node, [cli, "bench"], { cwd: app, timeout: 30_000 }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`git clone ${home} && cd tsdill && npm ci && npm run bench`);
  });

  it("runs its command's demo: server, clients and checksums (zlib.crc32) on this Node", async () => {
    const cli = join(app, "node_modules", "tsdill", "dist", "cli.js");
    const { stdout, stderr } = await exec(node, [cli, "demo", "--clients", "3", "--requests", "20"], {
      cwd: app,
      timeout: 60_000,
    });
    expect(stderr).toBe("");
    expect(stdout).toContain("verify: 60 answers checked, 0 lost, 0 duplicated, 0 corrupted");
    expect(stdout).toContain("left open afterwards: 0 coroutines, 0 handles, 0 pool storages");
  });

  it("runs on this Node only if engines admits it, and engines asks for what the code uses", () => {
    const floor = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node);
    expect(floor, `engines.node is ">=x.y.z": ${pkg.engines.node}`).not.toBeNull();
    const [fmaj, fmin, fpat] = floor!.slice(1).map(Number) as [number, number, number];
    const [maj, min, pat] = nodeVersion.slice(1).split(".").map(Number) as [number, number, number];
    expect(maj * 1e6 + min * 1e3 + pat).toBeGreaterThanOrEqual(fmaj * 1e6 + fmin * 1e3 + fpat);
    // Node APIs of the 20 line that came after 20.0, as the shipped code uses them: each raises the floor.
    const newer: [RegExp, string, number][] = [
      [/import \{[^}]*\bcrc32\b[^}]*\} from "(node:)?zlib"/, "zlib.crc32", 20_015_000],
      [/\bimport\.meta\.(dirname|filename)\b/, "import.meta.dirname", 20_011_000],
      [/process\.getBuiltinModule\(/, "process.getBuiltinModule (unguarded)", 20_016_000],
    ];
    const dist = join(app, "node_modules", "tsdill");
    const shipped = packed.filter((f) => /\.(c?js|mjs)$/.test(f)).map((f) => readFileSync(join(dist, f), "utf8"));
    const sources = shipped.join("\n");
    for (const [use, what, since] of newer) {
      if (use.test(sources))
        expect(fmaj * 1e6 + fmin * 1e3 + fpat, `${what} needs Node ${since}`).toBeGreaterThanOrEqual(since);
    }
    expect(sources).toMatch(newer[0]![0]);
  });

  it("is clean for publint and for arethetypeswrong, both entries included", async () => {
    const pub = await exec(bin("publint"), ["run", tarball, "--strict"], { cwd: base, timeout: 60_000 });
    expect(pub.stdout).toContain("All good!");
    const attw = await exec(bin("attw"), [tarball, "--format", "json"], { cwd: base, timeout: 90_000 }).catch(
      (e: { stdout: string }) => e,
    );
    const report = JSON.parse(attw.stdout) as {
      analysis: { problems: unknown[]; entrypoints: Record<string, unknown> };
    };
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([".", "./effection", "./eslint", "./package.json"]);
    expect(report.analysis.problems).toEqual([]);
  }, 120_000);

  it("keeps a changelog whose newest release is package.json's version, under an Unreleased section", () => {
    expect(packed).toContain("CHANGELOG.md");
    const log = readFileSync(join(app, "node_modules", "tsdill", "CHANGELOG.md"), "utf8");
    const sections = [...log.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d\d-\d\d))?$/gm)].map((m) => [m[1], m[2]]);
    expect(sections[0]).toEqual(["Unreleased", undefined]);
    expect(sections[1]?.[0]).toBe(pkg.version);
    expect(sections[1]?.[1]).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(log).toMatch(new RegExp(`^\\[${pkg.version.replace(/\./g, "\\.")}\\]: https://`, "m"));
  });
});
