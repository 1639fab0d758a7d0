/**
 * The manual under docs/man/: one page per public function, in libdill's man-page sections, each
 * with an example that really runs. A page's example is written as a user writes it, importing
 * from "tsdill" (or "tsdill/<subpath>"); here the import is pointed at the sources and the program
 * runs in a child Node process with tsx. It must not throw, must write nothing to stderr, must
 * not set a failing exit code, and must leave no coroutine, deadline, handle or Node resource
 * (a server, a socket, a timer) open. The examples must also type-check exactly as the pages show
 * them, with "tsdill" mapped to the sources.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import * as api from "../src/index.js";

const exec = promisify(execFile);
const root = join(import.meta.dirname, "..");
const manDir = join(root, "docs", "man");
const SECTIONS = ["Synopsis", "Description", "Arguments", "Return value", "Errors", "Example", "See also"];

const pages = existsSync(manDir)
  ? readdirSync(manDir)
      .filter((f) => f.endsWith(".md") && f !== "README.md")
      .sort()
  : [];
const text = (page: string) => readFileSync(join(manDir, page), "utf8");

/** The body of each `## ` section of a page, by heading, in page order. */
function sections(md: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | null = null;
  let body: string[] = [];
  let fenced = false;
  for (const line of md.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    if (!fenced && line.startsWith("## ")) {
      if (name !== null) out.set(name, body.join("\n"));
      name = line.slice(3).trim();
      body = [];
    } else if (name !== null) body.push(line);
  }
  if (name !== null) out.set(name, body.join("\n"));
  return out;
}

/** The ```ts blocks of a piece of markdown. */
function tsBlocks(md: string): string[] {
  return [...md.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Public functions (not classes) exported from src/index.ts. */
function exportedFunctions(): string[] {
  return Object.entries(api)
    .filter(([, v]) => typeof v === "function" && !/^class\b/.test(Function.prototype.toString.call(v)))
    .map(([k]) => k)
    .sort();
}

/** Points the program's imports of "tsdill" and "tsdill/<sub>" at the sources. */
function pointAtSources(program: string): string {
  return program.replace(
    /(from\s+|import\s*\(\s*)(["'])tsdill(?:\/([\w-]+))?\2/g,
    (_m, pre: string, _q, sub?: string) => {
      const file = sub ? join(root, "src", "interop", `${sub}.ts`) : join(root, "src", "index.ts");
      return `${pre}${JSON.stringify(file)}`;
    },
  );
}

describe("the manual's pages", () => {
  it("exist for every function exported from src/index.ts", () => {
    const have = new Set(pages.map((p) => p.slice(0, -3)));
    const missing = exportedFunctions().filter((f) => {
      if (have.has(f)) return false;
      // dill_x is the prefixed alias of x: it is mentioned on x's page.
      return !(f.startsWith("dill_") && have.has(f.slice(5)));
    });
    expect(missing).toEqual([]);
  });

  it("are all listed in the index, docs/man/README.md", () => {
    const index = readFileSync(join(manDir, "README.md"), "utf8");
    const unlisted = pages.filter((p) => !index.includes(`](${p})`));
    expect(unlisted).toEqual([]);
  });

  it.each(pages)("%s follows the man-page layout", (page) => {
    const md = text(page);
    const name = page.slice(0, -3);
    const lines = md.split("\n");
    expect(lines[0], "the title is the function's name").toBe(`# ${name}`);
    const summary = lines.slice(1).find((l) => l.trim() !== "");
    expect(summary, "a one-line summary follows the title").toBeDefined();
    expect(summary!.startsWith("#")).toBe(false);

    const secs = sections(md);
    expect([...secs.keys()], "the sections, in libdill's order").toEqual(SECTIONS);

    const synopsis = secs.get("Synopsis")!;
    const [sig] = tsBlocks(synopsis);
    expect(sig, "the synopsis has a ts block").toBeDefined();
    expect(sig).toMatch(/from "tsdill(\/[\w-]+)?"/);
    expect(sig).toContain(name);
    if (`dill_${name}` in api) expect(synopsis).toContain(`Also exported as \`dill_${name}\`.`);

    const errors = secs.get("Errors")!.trim();
    if (errors !== "None.") {
      const items = errors.split("\n").filter((l) => l.startsWith("- "));
      expect(items.length, "errors are a list, or None.").toBeGreaterThan(0);
      for (const item of items) {
        const m = /^- `([A-Z0-9]+)`: \S/.exec(item);
        expect(m, `error item "${item}"`).not.toBeNull();
        expect(Object.keys(api.ERRNO), `${m![1]} is an errno tsdill knows`).toContain(m![1]);
      }
      const strays = errors.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("- ") && !l.startsWith("  "));
      expect(strays, "only list items (and their continuation lines) under Errors").toEqual([]);
    }

    const example = secs.get("Example")!;
    expect(tsBlocks(example).length, "exactly one ts block in the example").toBe(1);
    expect((example.match(/^```/gm) ?? []).length, "no other code block in the example").toBe(2);
    expect(tsBlocks(example)[0]).toMatch(/from "tsdill(\/[\w-]+)?"/);

    expect(secs.get("See also")!).toMatch(/\[[^\]]+\]\([\w-]+\.md\)/);
  });

  it("link only to files that exist, and so do the tutorial, the other docs and the README", () => {
    const docs = join(root, "docs");
    const files = [
      join(root, "README.md"),
      ...[docs, manDir, join(docs, "tutorial")].flatMap((d) =>
        existsSync(d)
          ? readdirSync(d)
              .filter((f) => f.endsWith(".md"))
              .map((f) => join(d, f))
          : [],
      ),
    ];
    const broken: string[] = [];
    for (const file of files) {
      const md = readFileSync(file, "utf8").replace(/^```[\s\S]*?^```$/gm, "");
      for (const m of md.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(m[1]!)) continue; // https:, mailto:
        if (!existsSync(resolve(dirname(file), m[1]!))) broken.push(`${file.slice(root.length + 1)} -> ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("the manual's examples", () => {
  // Inside the repository (.tmp/ is git-ignored), so that an example's own imports of packages
  // such as "effection" resolve from node_modules as they would in a project.
  mkdirSync(join(root, ".tmp"), { recursive: true });
  const work = mkdtempSync(join(root, ".tmp", "man-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // Starting Node with tsx costs far more than most examples take to run, so the examples run in
  // batches: one child process per batch, two at a time, each example imported in turn by a small
  // runner that records, for that example alone, what it wrote to stderr, whether it threw or set
  // a failing exit code, and what it left open (tsdill's objects and Node's resources). An
  // example that spawns a process of its own (it uses its own file name and arguments) runs alone
  // in its child, as a user would run it.
  const programs = new Map<string, string>();
  for (const page of pages) {
    const [program] = tsBlocks(sections(text(page)).get("Example") ?? "");
    if (program !== undefined) programs.set(page, pointAtSources(program));
  }
  const alone = (page: string) => /node:child_process/.test(programs.get(page)!);
  const batches: string[][] = [];
  const shared = [...programs.keys()].filter((p) => !alone(p));
  for (let i = 0; i < shared.length; i += 8) batches.push(shared.slice(i, i + 8));
  for (const p of programs.keys()) if (alone(p)) batches.push([p]);

  const runner = join(work, "runner.mts");
  writeFileSync(
    runner,
    `import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const api = await import(pathToFileURL(${JSON.stringify(join(root, "src", "index.ts"))}).href);
const [out, ...files] = process.argv.slice(2);
const results = {};
const { stdout, stderr } = process;
const write = { out: stdout.write, err: stderr.write };
// What an example left open: the difference to what was open before it (an earlier example's
// leak is that example's failure, not the next one's).
const count = () => {
  const s = api.dill_stats();
  const c = { coroutines: s.coroutines, timers: s.timers, ...s.handlesByKind };
  // Node's own resources too (servers, sockets, timers): each would keep a program from exiting.
  for (const r of process.getActiveResourcesInfo()) c["node " + r] = (c["node " + r] ?? 0) + 1;
  return c;
};
const diff = (a, b) => {
  const d = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if ((b[k] ?? 0) !== (a[k] ?? 0)) d[k] = (b[k] ?? 0) - (a[k] ?? 0);
  return d;
};
for (const file of files) {
  const before = count();
  let err = "";
  stderr.write = (chunk) => ((err += String(chunk)), true);
  stdout.write = () => true;
  let threw = null;
  try {
    await import(pathToFileURL(file).href);
    await new Promise((r) => setTimeout(r, 10)); // let the socket closes and timers settle
  } catch (e) {
    threw = String(e?.stack ?? e);
  }
  stdout.write = write.out;
  stderr.write = write.err;
  results[file] = { stderr: err, threw, exitCode: process.exitCode ?? 0, left: diff(before, count()) };
  process.exitCode = 0;
  api.dill_configure({ handles: 1_048_576, pool: 1_048_576, onUncaught: null, traceLaunch: false });
}
writeFileSync(out, JSON.stringify(results));
process.exit(0); // what an example left behind is reported above; it must not hang the batch
`,
  );

  interface Outcome {
    stderr: string;
    threw: string | null;
    exitCode: number;
    left: unknown;
  }
  let running = 0;
  const waiting: (() => void)[] = [];
  const outcomes = new Map<string, Promise<Outcome>>();
  batches.forEach((batch, n) => {
    const files = batch.map((page) => join(work, page.replace(/\.md$/, ".mts")));
    batch.forEach((page, i) => writeFileSync(files[i]!, programs.get(page)!));
    const result = join(work, `batch-${n}.json`);
    const done = (async () => {
      while (running >= 2) await new Promise<void>((r) => waiting.push(r));
      running++;
      try {
        // A single example runs as itself; a batch runs through the runner.
        if (batch.length === 1 && alone(batch[0]!)) {
          const { stderr } = await exec(process.execPath, ["--import", "tsx", files[0]!], {
            cwd: root,
            timeout: 30_000,
          });
          return { [files[0]!]: { stderr, threw: null, exitCode: 0, left: null } } as Record<string, Outcome>;
        }
        await exec(process.execPath, ["--import", "tsx", runner, result, ...files], { cwd: root, timeout: 60_000 });
        return JSON.parse(readFileSync(result, "utf8")) as Record<string, Outcome>;
      } finally {
        running--;
        waiting.shift()?.();
      }
    })();
    batch.forEach((page, i) => {
      const outcome = done.then((r) => r[files[i]!]!);
      outcome.catch(() => {}); // a failed batch is reported by each of its pages' tests
      outcomes.set(page, outcome);
    });
  });

  // tsc's own limit below: on a loaded machine the check takes longer than the default 20 s.
  it.concurrent('type-check as they are written, importing from "tsdill"', { timeout: 120_000 }, async () => {
    // The examples as the pages show them; "tsdill" is mapped to the sources by the tsconfig.
    const dir = join(work, "types");
    mkdirSync(dir);
    for (const page of pages) {
      const [program] = tsBlocks(sections(text(page)).get("Example") ?? "");
      if (program !== undefined) writeFileSync(join(dir, page.replace(/\.md$/, ".ts")), program);
    }
    const tsconfig = {
      extends: join(root, "tsconfig.json"),
      compilerOptions: {
        paths: { tsdill: [join(root, "src", "index.ts")], "tsdill/*": [join(root, "src", "interop", "*.ts")] },
      },
      include: ["*.ts"],
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const { stdout } = await exec(process.execPath, [tsc, "--noEmit", "-p", join(dir, "tsconfig.json")], {
      cwd: root,
      timeout: 110_000,
    }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? String(e) }));
    expect(stdout).toBe("");
  });

  // Each waits for its batch, and the batches run two at a time: on a loaded machine the last start late.
  const slow = { timeout: 120_000 };
  it.concurrent.each(pages)(
    "%s: the example runs, writes nothing to stderr and leaves nothing open",
    slow,
    async (page) => {
      expect(programs.has(page), "the page has an example").toBe(true);
      const o = await outcomes.get(page)!;
      expect(o.threw).toBeNull();
      expect(o.stderr).toBe("");
      expect(o.exitCode).toBe(0);
      if (o.left !== null)
        expect(o.left, "coroutines, deadlines, handles (by kind) and Node resources left open").toEqual({});
    },
  );
});
