/**
 * The manual under docs/man/: one page per public function, in libdill's man-page sections, each
 * with an example that really runs. A page's example is written as a user writes it, importing
 * from "tsdill"; here the import is pointed at the sources and the program runs in its own Node
 * process, which must exit 0 and write nothing to stderr.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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
  return program.replace(/(from\s+|import\s*\(\s*)(["'])tsdill(?:\/([\w-]+))?\2/g, (_m, pre: string, _q, sub?: string) => {
    const file = sub ? join(root, "src", "interop", `${sub}.ts`) : join(root, "src", "index.ts");
    return `${pre}${JSON.stringify(file)}`;
  });
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

  it("link only to files that exist", () => {
    const broken: string[] = [];
    for (const page of [...pages, "README.md"]) {
      for (const m of text(page).matchAll(/\]\(([^)#\s]+\.md)(#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(m[1]!)) continue;
        if (!existsSync(resolve(manDir, m[1]!))) broken.push(`${page} -> ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("the manual's examples", () => {
  const work = mkdtempSync(join(tmpdir(), "tsdill-man-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // Each example is its own Node process; a few at a time, so a busy machine is not swamped.
  let running = 0;
  const waiting: (() => void)[] = [];
  async function slot<T>(f: () => Promise<T>): Promise<T> {
    while (running >= 3) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await f();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  it.concurrent.each(pages)("%s runs, exits 0 and writes nothing to stderr", async (page) => {
    const [program] = tsBlocks(sections(text(page)).get("Example") ?? "");
    expect(program, "the page has an example").toBeDefined();
    const file = join(work, page.replace(/\.md$/, ".mts"));
    writeFileSync(file, pointAtSources(program!));
    const { stderr } = await slot(() =>
      exec(process.execPath, ["--import", "tsx", file], { cwd: root, timeout: 30_000 }),
    );
    expect(stderr).toBe("");
  });
});
