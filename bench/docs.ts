/** The machine a run happened on, and the generated section of docs/performance.md. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  os: string;
  /** 1-minute load average at the start and at the end of the run. */
  loadStart: number;
  loadEnd: number;
}

export function machineNow(loadStart = loadavg()[0]!): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown cpu",
    cores: c.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadStart,
    loadEnd: loadavg()[0]!,
  };
}

export function machineLine(m: Machine): string {
  return `${m.cores} × ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}, ${m.os}, load average ${m.loadStart.toFixed(2)} at the start, ${m.loadEnd.toFixed(2)} at the end`;
}

export const START = "<!-- results:start -->";
export const END = "<!-- results:end -->";

/**
 * `text` with everything between the results markers replaced by `section` (the markers stay);
 * without markers, the section is appended under a "Results" heading. Prose outside is kept.
 */
export function replaceResults(text: string, section: string): string {
  const i = text.indexOf(START);
  const j = text.indexOf(END);
  const body = `${START}\n${section.trim()}\n${END}`;
  if (i >= 0 && j > i) return text.slice(0, i) + body + text.slice(j + END.length);
  return `${text.trimEnd()}\n\n## Results\n\n${body}\n`;
}

/** Rewrites the results section of the markdown file at `path` (created if missing). */
export function writeResults(path: string, section: string): void {
  const old = existsSync(path) ? readFileSync(path, "utf8") : "# Performance\n";
  writeFileSync(path, replaceResults(old, section));
}
