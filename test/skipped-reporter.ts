/**
 * A vitest reporter beside the default one: at the end of a run it lists every skipped test with
 * its file, and why (the name says it, see test/prerequisites.ts, or the note given to
 * `ctx.skip`). The default reporter only counts skipped tests. A run filtered by test name skips
 * tests on purpose: it lists nothing then.
 */
import { relative } from "node:path";
import type { Reporter, TestModule, Vitest } from "vitest/node";

export default class SkippedReporter implements Reporter {
  private filtered = false;
  private root = "";

  onInit(vitest: Vitest): void {
    this.filtered = vitest.config.testNamePattern !== undefined;
    this.root = vitest.config.root;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (this.filtered) return;
    const lines: string[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests("skipped")) {
        const result = t.result();
        const note = result.state === "skipped" && result.note ? ` (${result.note})` : "";
        lines.push(`  ${relative(this.root, m.moduleId)} > ${t.fullName}${note}`);
      }
    }
    if (lines.length > 0) process.stdout.write(`\nSkipped tests (${lines.length}):\n${lines.join("\n")}\n`);
  }
}
