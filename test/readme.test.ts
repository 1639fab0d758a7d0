/**
 * The README as a newcomer reads it: its first program is the shipped example, and its
 * Documentation section says which reference to read for what and reaches every page of docs/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");

function section(title: string): string {
  const m = new RegExp(`^## ${title}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, "m").exec(readme);
  expect(m, `README.md has a section "${title}"`).not.toBeNull();
  return m![1]!;
}

describe("the README", () => {
  it("shows as its first program examples/readme.ts, line for line, importing from tsdill", () => {
    const first = /^## A first program\n+```ts\n([\s\S]*?)^```$/m.exec(readme)?.[1];
    expect(first).toBe(readFileSync(join(root, "examples", "readme.ts"), "utf8"));
    expect(first).toMatch(/from "tsdill";/);
  });

  it("says which of the three references to read for what: tutorial, family pages, manual, API reference", () => {
    const docs = section("Documentation");
    const table = docs.split("\n").filter((l) => l.startsWith("| "));
    const rows = table.slice(1).map((l) => l.split(" | ")[1]!);
    expect(rows).toEqual([
      expect.stringContaining("(docs/tutorial/README.md)"),
      expect.stringContaining("family pages"),
      expect.stringContaining("(docs/man/README.md)"),
      expect.stringContaining("API reference"),
    ]);
    expect(docs).toContain("npm run docs");
  });

  it("links every page of docs/ from its Documentation section, every family page from the family row", () => {
    const docs = section("Documentation");
    const family = docs.split("\n").find((l) => l.includes("family pages"))!;
    const pages = readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md"));
    expect(pages.length).toBeGreaterThan(10);
    for (const page of pages) expect(docs, `docs/${page}`).toContain(`(docs/${page})`);
    // A family page is one in man-page form: it has a Synopsis.
    for (const page of pages) {
      if (/^## Synopsis$/m.test(readFileSync(join(root, "docs", page), "utf8")))
        expect(family, `docs/${page} is a family page`).toContain(`(docs/${page})`);
    }
    expect(docs).toContain("(CHANGELOG.md)");
  });
});
