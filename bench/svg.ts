/**
 * The chart: one group of bars per workload, one bar per system, the height its cost relative to
 * tsdill's (tsdill = 1) on a log scale. Hand-written SVG, no dependency.
 */
import { SYSTEM_NAMES, SYSTEMS, type System } from "./catalogue.js";
import { fmtRatio } from "./format.js";
import type { Row } from "./report.js";

const COLORS: Record<System, string> = {
  tsdill: "#2b6cb0",
  libdill: "#2f855a",
  floor: "#a0aec0",
  effection: "#c05621",
  effect: "#d53f8c",
  async: "#6b46c1",
  net: "#718096",
};

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The chart of the cost ratios of `rows` (scaling rows are left out: they have their own table). */
export function ratioChart(rows: readonly Row[], subtitle: string): string {
  const rs = rows.filter((r) => r.workload.section !== "scaling" && r.systems.tsdill && r.systems.tsdill.summary.n > 0);
  const bar = 16;
  const gap = 22;
  const left = 70;
  const top = 70;
  const plotH = 320;
  const bottom = 110;
  const groups = rs.map((r) => ({
    r,
    sys: SYSTEMS.filter((s) => Number.isFinite(r.systems[s]?.costVsTsdill ?? NaN) && r.systems[s]!.costVsTsdill > 0),
  }));
  const plotW = groups.reduce((acc, g) => acc + g.sys.length * bar + gap, gap);
  const width = Math.max(left + plotW + 20, 640);
  const height = top + plotH + bottom;
  const ratios = groups.flatMap((g) => g.sys.map((s) => g.r.systems[s]!.costVsTsdill));
  const lo = Math.floor(Math.log10(Math.min(1, ...ratios) / 1.2));
  const hi = Math.ceil(Math.log10(Math.max(1, ...ratios) * 1.2));
  const y = (v: number) => top + plotH - ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${left}" y="22" font-size="15" font-weight="bold">tsdill benchmarks: cost relative to tsdill (tsdill = 1, log scale, lower is better)</text>`,
  );
  out.push(`<text x="${left}" y="40" fill="#4a5568">${esc(subtitle)}</text>`);
  // grid lines at powers of ten
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    const yy = y(v).toFixed(1);
    out.push(
      `<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="${e === 0 ? "#1a202c" : "#e2e8f0"}" stroke-width="${e === 0 ? 1.5 : 1}"/>`,
    );
    out.push(
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${e >= 0 ? v.toLocaleString("en-US") : v.toFixed(-e)}×</text>`,
    );
  }
  let x = left + gap;
  for (const g of groups) {
    for (const s of g.sys) {
      const c = g.r.systems[s]!;
      const v = c.costVsTsdill;
      const yy = y(v);
      const base = top + plotH;
      const style = c.recorded
        ? `fill="${COLORS[s]}" fill-opacity="0.45" stroke="${COLORS[s]}" stroke-dasharray="3,2"`
        : `fill="${COLORS[s]}"`;
      out.push(
        `<rect x="${x}" y="${yy.toFixed(1)}" width="${bar - 2}" height="${(base - yy).toFixed(1)}" ${style}><title>${esc(`${g.r.workload.title}: ${SYSTEM_NAMES[s]}${c.recorded ? " (recorded)" : ""} ${fmtRatio(v)}`)}</title></rect>`,
      );
      const tx = x + (bar - 2) / 2;
      out.push(
        `<text x="${tx.toFixed(1)}" y="${(yy - 4).toFixed(1)}" font-size="9" text-anchor="start" transform="rotate(-60 ${tx.toFixed(1)} ${(yy - 4).toFixed(1)})">${esc(fmtRatio(v))}</text>`,
      );
      x += bar;
    }
    const cx = x - (g.sys.length * bar) / 2;
    const ly = top + plotH + 12;
    out.push(
      `<text x="${cx.toFixed(1)}" y="${ly}" text-anchor="end" transform="rotate(-35 ${cx.toFixed(1)} ${ly})">${esc(g.r.workload.id)}</text>`,
    );
    x += gap;
  }
  // legend
  const used = SYSTEMS.filter((s) => groups.some((g) => g.sys.includes(s)));
  let lx = left;
  const ly = height - 18;
  for (const s of used) {
    const rec = groups.some((g) => g.sys.includes(s) && g.r.systems[s]!.recorded);
    const label = `${SYSTEM_NAMES[s]}${rec ? " (recorded where not live)" : ""}`;
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[s]}"${rec ? ' fill-opacity="0.45"' : ""}/>`,
    );
    out.push(`<text x="${lx + 16}" y="${ly}">${esc(label)}</text>`);
    lx += 24 + label.length * 6.2;
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
