/**
 * From samples to verdicts: per-system summaries, ratios to tsdill from interleaved rounds, the
 * targets of the performance plan (met / missed), and the markdown tables.
 */
import { higherIsBetter, SYSTEM_NAMES, SYSTEMS, type Section, type System, type Workload } from "./catalogue.js";
import { fmtBytes, fmtCount, fmtRatio, fmtValue, markdownTable } from "./format.js";
import type { Recorded } from "./libdill.js";
import type { Cell, WorkloadResult } from "./runner.js";
import { cost, median, pairedRatio, summarize, type Summary } from "./stats.js";

export interface SystemSummary {
  n: number;
  summary: Summary;
  /** Median peak RSS of the measuring processes, bytes. */
  maxRss: number;
  /** Medians of the side figures (memory workloads: rssPerObject). */
  extra: Record<string, number>;
  /** This system's cost ÷ tsdill's, median over interleaved rounds (recorded: over medians). */
  costVsTsdill: number;
  /** A figure from bench/libdill-recorded.json, not measured by this run. */
  recorded: boolean;
  failed: number;
  samples: number[];
}

export interface Verdict {
  text: string;
  /** The measured side of the target, formatted as the target reads (`1.72×`, `898×`, `490 B`). */
  shown: string;
  /** null when it cannot be told (a system missing or failed). */
  met: boolean | null;
  recorded: boolean;
}

export interface Row {
  workload: Workload;
  systems: Partial<Record<System, SystemSummary>>;
  /**
   * A workload with variants (on tsdill alone): a summary per variant key, in the workload's
   * order; `costVsTsdill` is then the cost relative to the first variant, round by round.
   */
  variants?: Record<string, SystemSummary>;
  verdicts: Verdict[];
}

function finite(xs: readonly number[]): number[] {
  return xs.filter((x) => Number.isFinite(x));
}

/** Summaries, ratios and verdicts for every workload. `rec`: recorded libdill figures, or null. */
export function summarizeResults(results: readonly WorkloadResult[], rec: Recorded | null): Row[] {
  return results.map(({ workload: w, cells, variants }) => {
    const hib = higherIsBetter(w.unit);
    const systems: Partial<Record<System, SystemSummary>> = {};
    const ts = cells.tsdill;
    for (const s of SYSTEMS) {
      const c = cells[s];
      if (c === undefined) continue;
      systems[s] = cellSummary(c, s === "tsdill" ? 1 : ts ? pairedRatio(c.values, ts.values, hib) : NaN);
    }
    const figure = w.recorded !== undefined ? rec?.figures[w.recorded] : undefined;
    if (systems.libdill === undefined && figure !== undefined && systems.tsdill) {
      systems.libdill = {
        n: 0,
        summary: summarize([figure]),
        maxRss: NaN,
        extra: {},
        costVsTsdill: cost(figure, hib) / cost(systems.tsdill.summary.median, hib),
        recorded: true,
        failed: 0,
        samples: [figure],
      };
    }
    const row: Row = { workload: w, systems, verdicts: verdicts(w, systems) };
    if (variants !== undefined) {
      const first = w.variants?.map((v) => variants[v.key]).find((c) => c !== undefined);
      row.variants = {};
      for (const [k, c] of Object.entries(variants))
        row.variants[k] = cellSummary(c, first ? pairedRatio(c.values, first.values, hib) : NaN);
    }
    return row;
  });
}

function cellSummary(c: Cell, costVsTsdill: number): SystemSummary {
  const extra: Record<string, number> = {};
  for (const [k, v] of Object.entries(c.extra)) extra[k] = median(finite(v));
  return {
    n: c.n,
    summary: summarize(finite(c.values)),
    maxRss: median(finite(c.maxRss)),
    extra,
    costVsTsdill,
    recorded: false,
    failed: c.values.filter((x) => !Number.isFinite(x)).length,
    samples: c.values,
  };
}

function verdicts(w: Workload, systems: Partial<Record<System, SystemSummary>>): Verdict[] {
  const ts = systems.tsdill;
  return (w.targets ?? []).map((t) => {
    if (t.kind === "max") {
      const v = ts?.summary.median ?? NaN;
      return { text: t.text, shown: fmtValue(v, w.unit), met: Number.isFinite(v) ? v <= t.x : null, recorded: false };
    }
    const other = t.vs ? systems[t.vs] : undefined;
    const r = other?.costVsTsdill ?? NaN; // other's cost ÷ tsdill's
    const recorded = other?.recorded ?? false;
    if (!Number.isFinite(r)) return { text: t.text, shown: "—", met: null, recorded };
    if (t.kind === "maxCost") return { text: t.text, shown: fmtRatio(1 / r), met: 1 / r <= t.x, recorded };
    return { text: t.text, shown: fmtRatio(r), met: r >= t.x, recorded };
  });
}

// ---- tables -------------------------------------------------------------------------------------
function cellText(w: Workload, s: SystemSummary | undefined): string {
  if (s === undefined) return "";
  if (s.recorded) return `${fmtValue(s.summary.median, w.unit)} (recorded)`;
  if (s.summary.n === 0) return "failed";
  const m = fmtValue(s.summary.median, w.unit);
  const rss = s.extra.rssPerObject;
  const wall = s.extra.wallNs;
  const side =
    (rss !== undefined && Number.isFinite(rss) ? `, RSS ${fmtBytes(rss)}` : "") +
    (wall !== undefined && Number.isFinite(wall) ? `, wall ${fmtValue(wall, "ns")}` : "");
  const spread = s.summary.n > 1 ? ` (${fmtRange(s.summary.min, s.summary.max, w)})` : "";
  const failed = s.failed > 0 ? ` [${s.failed} failed]` : "";
  return `${m}${spread}${side}${failed}`;
}

/** `82–162 ns`, or `820 ns–1.62 µs` when the two ends have different units. */
function fmtRange(lo: number, hi: number, w: Workload): string {
  const a = fmtValue(lo, w.unit);
  const b = fmtValue(hi, w.unit);
  const ua = a.slice(a.lastIndexOf(" "));
  return ua === b.slice(b.lastIndexOf(" ")) ? `${a.slice(0, -ua.length)}–${b}` : `${a}–${b}`;
}

function verdictText(v: Verdict): string {
  const met = v.met === null ? "n/a" : v.met ? "met" : "missed";
  return `${v.text}: ${v.shown} ${met}${v.recorded ? " (vs recorded)" : ""}`;
}

function present(rows: readonly Row[]): System[] {
  return SYSTEMS.filter((s) => rows.some((r) => r.systems[s] !== undefined));
}

/** The table of one section: a column per system, the cost ratios and the targets. */
export function sectionTable(rows: readonly Row[], section: Section): string {
  const rs = rows.filter((r) => r.workload.section === section);
  if (rs.length === 0) return "";
  const sys = present(rs);
  const headers = ["workload", ...sys.map((s) => SYSTEM_NAMES[s]), "cost ÷ tsdill", "target: met / missed"];
  const body = rs.map((r) => [
    r.workload.title,
    ...sys.map((s) => cellText(r.workload, r.systems[s])),
    sys
      .filter((s) => s !== "tsdill" && r.systems[s] !== undefined)
      .map((s) => `${s} ${fmtRatio(r.systems[s]!.costVsTsdill)}`)
      .join(", "),
    r.verdicts.map(verdictText).join("; "),
  ]);
  return markdownTable(headers, body);
}

/**
 * The table of a section whose workloads have variants: the figure of each variant, the last
 * variant's figure ÷ the first's (median of per-round ratios), and the p99 latency when the trial
 * reports one (`p99Ms`).
 */
export function variantTable(rows: readonly Row[], section: Section): string {
  const rs = rows.filter(
    (r) => r.workload.section === section && r.variants !== undefined && r.workload.variants !== undefined,
  );
  if (rs.length === 0) return "";
  const labels = [...new Set(rs.flatMap((r) => r.workload.variants!.map((v) => v.label)))];
  const ratios = [...new Set(rs.map((r) => ratioHeader(r.workload)))];
  const p99 = rs.some((r) => Object.values(r.variants!).some((v) => v.extra.p99Ms !== undefined));
  const headers = ["workload", ...labels, ...ratios, ...(p99 ? [`p99 latency (${labels.join(" / ")})`] : [])];
  const body = rs.map((r) => {
    const w = r.workload;
    const byLabel = new Map(w.variants!.map((v) => [v.label, r.variants![v.key]] as const));
    const first = r.variants![w.variants![0]!.key];
    const last = r.variants![w.variants![w.variants!.length - 1]!.key];
    // costVsTsdill is the cost relative to the first variant: a figure ratio is its inverse for rates
    const rel = last ? (higherIsBetter(w.unit) ? 1 / last.costVsTsdill : last.costVsTsdill) : NaN;
    return [
      w.title,
      ...labels.map((l) => cellText(w, byLabel.get(l))),
      ...ratios.map((h) => (h === ratioHeader(w) && first && last ? fmtRatio(rel) : "")),
      ...(p99 ? [labels.map((l) => fmtMs(byLabel.get(l)?.extra.p99Ms)).join(" / ")] : []),
    ];
  });
  return markdownTable(headers, body);
}

function ratioHeader(w: Workload): string {
  const vs = w.variants!;
  return `${vs[vs.length - 1]!.label} ÷ ${vs[0]!.label}`;
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? "—" : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

/** The scaling tables, one per family: cost per operation at each load, per system. */
export function scalingTable(rows: readonly Row[]): string {
  const rs = rows.filter((r) => r.workload.scale !== undefined);
  const families = [...new Set(rs.map((r) => r.workload.scale!.family))];
  return families
    .map((f) =>
      familyTable(
        f,
        rs.filter((r) => r.workload.scale!.family === f),
      ),
    )
    .join("\n\n");
}

function familyTable(family: string, fr: readonly Row[]): string {
  const loads = [...new Set(fr.map((r) => r.workload.scale!.load))].sort((a, b) => a - b);
  const byLoad = new Map(fr.map((r) => [r.workload.scale!.load, r] as const));
  const body: string[][] = [];
  for (const s of present(fr)) {
    const cells = loads.map((l) => {
      const r = byLoad.get(l);
      const c = r?.systems[s];
      return c && c.summary.n > 0 ? fmtValue(c.summary.median, r!.workload.unit) : "";
    });
    const have = fr.filter((r) => r.systems[s] && r.systems[s]!.summary.n > 0);
    const first = have[0];
    const last = have[have.length - 1];
    let growth = "";
    if (first && last && first !== last) {
      const hib = higherIsBetter(first.workload.unit);
      const g = cost(last.systems[s]!.summary.median, hib) / cost(first.systems[s]!.summary.median, hib);
      growth = `${fmtRatio(g)} (${fmtCount(first.workload.scale!.load)} → ${fmtCount(last.workload.scale!.load)})`;
    }
    body.push([SYSTEM_NAMES[s], ...cells, growth]);
  }
  return markdownTable([family, ...loads.map((l) => `n = ${fmtCount(l)}`), "cost growth"], body);
}

/** Peak RSS of the measuring processes, per workload and system (median over runs). */
export function rssTable(rows: readonly Row[]): string {
  // Variants (the server) measure other processes: the measuring process's own peak says nothing.
  const rs = rows.filter((r) => r.variants === undefined);
  if (rs.length === 0) return "";
  const sys = present(rs).filter((s) => rs.some((r) => r.systems[s] && !r.systems[s]!.recorded));
  const body = rs.map((r) => [
    r.workload.title,
    ...sys.map((s) => {
      const c = r.systems[s];
      return c && !c.recorded && Number.isFinite(c.maxRss) ? fmtBytes(c.maxRss) : "";
    }),
  ]);
  return markdownTable(["workload", ...sys.map((s) => SYSTEM_NAMES[s])], body);
}

/** Operations per run and what stands in for the tsdill primitive in each peer. */
export function sizesTable(rows: readonly Row[]): string {
  const rs = rows.filter((r) => r.workload.section !== "scaling");
  // a row with variants runs on tsdill: its sizes go to the tsdill column
  const on = (r: Row, s: System) =>
    r.systems[s] ?? (s === "tsdill" && r.variants ? Object.values(r.variants)[0] : undefined);
  const sys = SYSTEMS.filter((s) => rs.some((r) => on(r, s) && !on(r, s)!.recorded));
  const body = rs.map((r) => [
    r.workload.title,
    ...sys.map((s) => {
      const c = on(r, s);
      const note = r.workload.notes?.[s];
      if (c === undefined || c.recorded) return note && s !== "libdill" ? note : "";
      return `${fmtCount(c.n)}${r.workload.unit === "MB/s" ? " MiB" : ""}${note ? `: ${note}` : ""}`;
    }),
  ]);
  return markdownTable(["workload", ...sys.map((s) => SYSTEM_NAMES[s])], body);
}

/** How many targets were met, missed, or could not be told. */
export function targetCounts(rows: readonly Row[]): { met: number; missed: number; unknown: number } {
  const all = rows.flatMap((r) => r.verdicts);
  return {
    met: all.filter((v) => v.met === true).length,
    missed: all.filter((v) => v.met === false).length,
    unknown: all.filter((v) => v.met === null).length,
  };
}
