/** Numbers for people: durations, sizes, rates, ratios, counts, and markdown tables. */
import type { Unit } from "./catalogue.js";

/** A duration in ns, human-sized: `38 ns`, `12.1 µs`, `1.07 ms`. */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return "—";
  if (ns < 1000) return `${ns < 10 ? ns.toFixed(1) : Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/** A size in bytes: `246 B`, `8.2 KB`, `1.5 MB`. */
export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return "—";
  if (Math.abs(b) < 1024) return `${Math.round(b)} B`;
  if (Math.abs(b) < 1024 * 1024) return `${(b / 1024).toFixed(1)} KB`;
  return `${(b / 1024 / 1024).toFixed(1)} MB`;
}

/** A rate with thousands separators: `185,000`. */
export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return "—";
  return x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1);
}

/** A figure in its workload's unit. */
export function fmtValue(v: number, unit: Unit): string {
  if (unit === "ns") return fmtNs(v);
  if (unit === "B") return fmtBytes(v);
  return `${fmtRate(v)} ${unit}`;
}

/** A ratio: `1.52×`, `24.6×`, `898×`, `0.058×`. */
export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return "—";
  if (r >= 100) return `${Math.round(r).toLocaleString("en-US")}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  if (r >= 0.1) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}×`;
}

/** A count: `100k`, `1M`. */
export function fmtCount(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** A markdown table with padded columns (pipes in cells are escaped). */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replace(/\|/g, "\\|");
  const hs = headers.map(esc);
  const rs = rows.map((r) => hs.map((_, i) => esc(r[i] ?? "")));
  const w = hs.map((h, i) => Math.max(3, h.length, ...rs.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`;
  return [line(hs), `|${w.map((x) => "-".repeat(x + 2)).join("|")}|`, ...rs.map(line)].join("\n");
}
