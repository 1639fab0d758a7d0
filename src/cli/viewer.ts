/**
 * The trace drawn: {@link drawSvg} turns a Chrome Trace Event file written by tsdill into one SVG
 * picture (coroutines as lanes in tree order, run and parked spans, hclose spans, deadlines,
 * handles closed and `chdone` calls, arrows from the launcher, the waker and the canceller), and {@link viewerHtml} wraps a trace in
 * one self-contained page whose script draws it with the same function: no network, no library.
 *
 * The time axis is ordinal with gaps: each distinct moment takes a small step, and the time
 * between two moments adds a logarithmic gap, so that a burst of events at one virtual instant
 * and a sleep of a second both stay readable.
 *
 * `drawSvg` is written to run alone (the page embeds its source): it uses nothing outside itself.
 */

/** A trace event as the drawing reads it (the Chrome Trace Event fields tsdill writes). */
export interface DrawEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  id?: number;
  args?: Record<string, unknown>;
}

/** Draws `trace` (`{ traceEvents }`) as an SVG document; `title`, then `notes` a line each, go above the lanes. */
export function drawSvg(trace: { traceEvents: DrawEvent[] }, title?: string, notes: readonly string[] = []): string {
  const esc = (s: unknown): string =>
    String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const r = (n: number): string => String(Math.round(n * 10) / 10);
  const evs = trace.traceEvents.filter((e) => e.ph !== "M");
  const names: Record<number, string> = {};
  const order: Record<number, number> = {};
  for (const e of trace.traceEvents) {
    if (e.ph !== "M") continue;
    if (e.name === "thread_name") names[e.tid] = String(e.args?.name ?? `cr ${e.tid}`);
    if (e.name === "thread_sort_index") order[e.tid] = Number(e.args?.sort_index ?? e.tid);
  }
  const tids: number[] = [];
  for (const e of evs) if (!tids.includes(e.tid)) tids.push(e.tid);
  for (const k of Object.keys(names)) if (!tids.includes(Number(k))) tids.push(Number(k));
  tids.sort((a, b) => (order[a] ?? 1e9 + a) - (order[b] ?? 1e9 + b));
  const lane: Record<number, number> = {};
  tids.forEach((t, i) => (lane[t] = i));
  // The axis: distinct moments, a step each, plus a logarithmic gap for the time between them.
  const moments = [...new Set(evs.map((e) => e.ts))].sort((a, b) => a - b);
  const LABEL = 190;
  const LANE = 34;
  const TOP = (title ? 46 : 22) + 16 * notes.length;
  const step = Math.max(1, Math.min(10, 900 / Math.max(1, moments.length)));
  const xs: number[] = [];
  let x = LABEL + 10;
  moments.forEach((t, k) => {
    if (k > 0) x += step + 36 * Math.log10(1 + (t - moments[k - 1]!) / 1000);
    xs.push(x);
  });
  const xAt = (ts: number): number => {
    if (moments.length === 0) return LABEL + 10;
    if (ts <= moments[0]!) return xs[0]!;
    let lo = 0;
    let hi = moments.length - 1;
    if (ts >= moments[hi]!) return xs[hi]! + 36 * Math.log10(1 + (ts - moments[hi]!) / 1000);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (moments[mid]! <= ts) lo = mid;
      else hi = mid;
    }
    const f = (ts - moments[lo]!) / (moments[hi]! - moments[lo]!);
    return xs[lo]! + f * (xs[hi]! - xs[lo]!);
  };
  const laneY = (tid: number): number => TOP + (lane[tid] ?? 0) * LANE;
  const out: string[] = [];
  const spans: string[] = [];
  const marks: string[] = [];
  const arrows: string[] = [];
  let width = x + 60;
  // Slices: B/E pairs per track.
  const open: Record<number, DrawEvent[]> = {};
  const flowStart: Record<number, DrawEvent> = {};
  for (const e of evs) {
    const y = laneY(e.tid);
    if (e.ph === "B") (open[e.tid] ??= []).push(e);
    else if (e.ph === "E") {
      const b = (open[e.tid] ?? []).pop();
      if (b === undefined) continue;
      const x0 = xAt(b.ts);
      const w = Math.max(3, xAt(e.ts) - x0);
      const cat = b.cat ?? "run";
      const tip = `<title>${esc(names[b.tid] ?? `cr ${b.tid}`)}: ${esc(b.name)} ${r((b.ts / 1000) as number)}–${r(e.ts / 1000)} ms</title>`;
      if (cat === "run")
        spans.push(
          `<rect class="run" x="${r(x0)}" y="${r(y + 9)}" width="${r(w)}" height="16" fill="#2f6f4f">${tip}</rect>`,
        );
      else if (cat === "hclose")
        spans.push(
          `<rect class="hclose" data-name="${esc(b.name)}" x="${r(x0)}" y="${r(y + 5)}" width="${r(w)}" height="24" fill="none" stroke="#d9822b" stroke-width="2">${tip}</rect>`,
        );
      else {
        spans.push(
          `<rect class="park" data-name="${esc(b.name)}" x="${r(x0)}" y="${r(y + 11)}" width="${r(w)}" height="12" fill="#cfe0f3" stroke="#6b8fb8">${tip}</rect>`,
        );
        if (w > 7 * b.name.length)
          spans.push(
            `<text class="park-label" x="${r(x0 + 3)}" y="${r(y + 21)}" font-size="10" fill="#1d3b5c">${esc(b.name)}</text>`,
          );
        const dl = Number(b.args?.deadline ?? -1);
        if (dl > 0) {
          const dx = xAt(dl);
          marks.push(
            `<line class="deadline-due" x1="${r(dx)}" x2="${r(dx)}" y1="${r(y + 6)}" y2="${r(y + 28)}" stroke="#c0392b" stroke-dasharray="3,2"><title>deadline ${r(dl / 1000)} ms</title></line>`,
          );
          width = Math.max(width, dx + 60);
        }
      }
    } else if (e.ph === "i") {
      const ex = xAt(e.ts);
      if (e.name === "deadline")
        marks.push(
          `<path class="deadline" d="M${r(ex)} ${r(y + 3)} l5 7 l-5 7 l-5 -7 z" fill="#c0392b"><title>deadline fired: ETIMEDOUT</title></path>`,
        );
      else if (e.name === "exit")
        marks.push(
          `<rect class="exit" x="${r(ex - 1)}" y="${r(y + 6)}" width="3" height="22" fill="#222"><title>exit${e.args?.threw ? `: ${esc(e.args.threw)}` : ""}</title></rect>`,
        );
      else if (e.name === "uncaught exception")
        marks.push(
          `<text class="uncaught" x="${r(ex + 3)}" y="${r(y + 12)}" font-size="13" fill="#c0392b">✖<title>${esc(e.args?.message)}</title></text>`,
        );
      else if (e.name === "cancel")
        marks.push(
          `<circle class="cancelled" cx="${r(ex)}" cy="${r(y + 17)}" r="4" fill="#c0392b"><title>cancelled</title></circle>`,
        );
      else if (e.cat === "close")
        marks.push(
          `<path class="close" data-name="${esc(e.name)}" d="M${r(ex - 3.5)} ${r(y + 1)} l7 7 m0 -7 l-7 7" stroke="#d9822b" stroke-width="2"><title>${esc(e.name)}</title></path>`,
        );
      else if (e.cat === "chdone")
        marks.push(
          `<path class="chdone" data-name="${esc(e.name)}" d="M${r(ex)} ${r(y + 1)} v7 m-4 0 h8" stroke="#7d3c98" stroke-width="2" fill="none"><title>${esc(e.name)}</title></path>`,
        );
    } else if (e.ph === "s" && e.id !== undefined) flowStart[e.id] = e;
    else if (e.ph === "f" && e.id !== undefined) {
      const s = flowStart[e.id];
      if (s === undefined) continue;
      const cat = e.cat ?? "wake";
      const colour = cat === "cancel" ? "#c0392b" : cat === "launch" ? "#2c6fbb" : "#888";
      const y1 = laneY(s.tid) + 17;
      const y2 = laneY(e.tid) + 17 + (y1 < laneY(e.tid) + 17 ? -8 : 8);
      arrows.push(
        `<line class="arrow ${esc(cat)}" data-from="${s.tid}" data-to="${e.tid}" x1="${r(xAt(s.ts))}" y1="${r(y1)}" x2="${r(xAt(e.ts))}" y2="${r(y2)}" stroke="${colour}" stroke-width="1.5"${cat === "launch" ? ' stroke-dasharray="4,2"' : ""} marker-end="url(#head-${esc(cat)})"/>`,
      );
    }
  }
  // Wide enough for the title and the legend.
  width = Math.max(width, 900, title ? 8.5 * title.length + 20 : 0, ...notes.map((n) => 7.3 * n.length + 20));
  const height = TOP + tids.length * LANE + 36;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="dill-trace" width="${r(width)}" height="${height}" viewBox="0 0 ${r(width)} ${height}" font-family="sans-serif">`,
  );
  out.push("<defs>");
  for (const [cat, colour] of [
    ["wake", "#888"],
    ["cancel", "#c0392b"],
    ["launch", "#2c6fbb"],
  ])
    out.push(
      `<marker id="head-${cat}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="${colour}"/></marker>`,
    );
  out.push("</defs>");
  out.push(`<rect x="0" y="0" width="${r(width)}" height="${height}" fill="#fff"/>`);
  if (title) out.push(`<text class="title" x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`);
  notes.forEach((n, i) =>
    out.push(
      `<text class="note" x="10" y="${44 + 16 * i}" font-size="12" font-family="monospace" fill="#c0392b">${esc(n)}</text>`,
    ),
  );
  tids.forEach((t, i) => {
    const y = TOP + i * LANE;
    out.push(
      `<g class="lane" data-tid="${t}"><rect x="0" y="${y}" width="${r(width)}" height="${LANE}" fill="${i % 2 ? "#fafafa" : "#f2f2f2"}"/><text class="lane-label" x="8" y="${y + 21}" font-size="12">${esc(names[t] ?? `cr ${t}`)}</text></g>`,
    );
  });
  out.push(...spans, ...marks, ...arrows);
  // The axis: a few moments labelled with their time in ms.
  const axisY = TOP + tids.length * LANE + 14;
  let lastLabel = -Infinity;
  moments.forEach((t, k) => {
    if (xs[k]! - lastLabel < 70) return;
    lastLabel = xs[k]!;
    out.push(`<text class="tick" x="${r(xs[k]!)}" y="${axisY}" font-size="10" fill="#555">${r(t / 1000)} ms</text>`);
  });
  out.push(
    `<text x="8" y="${axisY + 16}" font-size="10" fill="#555">▮ running  ▭ parked (call)  ◆ deadline fired  ┆ deadline due  ● cancelled  ✕ handle closed  ⊥ chdone  → woken by  → cancelled by (red)  ⇢ launched by (blue)</text>`,
  );
  out.push("</svg>");
  return out.join("\n");
}

/** One self-contained HTML page that draws `json` (a trace file's text) when opened. */
export function viewerHtml(json: string, title = "tsdill trace"): string {
  // The trace sits in the page as JSON; "<" is escaped so that no "</script>" can end it early.
  const data = JSON.stringify(JSON.parse(json)).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title.replace(/</g, "&lt;")}</title>
<style>
body { font-family: sans-serif; margin: 1em; color: #222; }
#view { overflow-x: auto; border: 1px solid #ddd; }
#summary { color: #555; }
</style>
</head>
<body>
<h1>${title.replace(/</g, "&lt;")}</h1>
<p id="summary">drawing…</p>
<div id="view"></div>
<script type="application/json" id="trace">${data}</script>
<script>
// A build may wrap functions to keep their names; the drawing needs nothing of that.
const __name = (f) => f;
const drawSvg = ${drawSvg.toString()};
const trace = JSON.parse(document.getElementById("trace").textContent);
document.getElementById("view").innerHTML = drawSvg(trace);
const count = (sel) => document.querySelectorAll(sel).length;
document.getElementById("summary").textContent =
  count(".lane") + " coroutines, " + count("rect.park") + " parked spans, " + count("line.arrow.cancel") +
  " cancellations, " + count("path.deadline") + " deadlines fired, " + count("path.close") + " handles closed";
document.body.dataset.drawn = "yes";
</script>
</body>
</html>
`;
}
