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

/** The markers of a named results section: `results` (the default), or another name. */
export function markers(name = "results"): { start: string; end: string; heading: string } {
  if (name === "results") return { start: START, end: END, heading: "Results" };
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->`, heading: `Results: ${name}` };
}

/**
 * `text` with everything between the markers of section `name` replaced by `section` (the markers
 * stay); without markers, the section is appended under a heading. Prose outside is kept.
 */
export function replaceResults(text: string, section: string, name = "results"): string {
  const m = markers(name);
  const i = text.indexOf(m.start);
  const j = text.indexOf(m.end);
  const body = `${m.start}\n${section.trim()}\n${m.end}`;
  if (i >= 0 && j > i) return text.slice(0, i) + body + text.slice(j + m.end.length);
  return `${text.trimEnd()}\n\n## ${m.heading}\n\n${body}\n`;
}

/** Rewrites the results section `name` of the markdown file at `path` (created if missing). */
export function writeResults(path: string, section: string, name = "results"): void {
  const old = existsSync(path) ? readFileSync(path, "utf8") : "# Performance\n";
  writeFileSync(path, replaceResults(old, section, name));
}
