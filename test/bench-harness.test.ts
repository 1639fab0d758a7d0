/**
 * The benchmark harness's own logic: argument parsing, statistics, verdicts, the chart, the
 * docs section, and that the C workloads compile (syntax only). Nothing here is timed.
 */
import { describe, expect, it } from "vitest";
import { parseArgs } from "../bench/args.js";
import { WORKLOADS, type Workload } from "../bench/catalogue.js";
import { END, replaceResults, START } from "../bench/docs.js";
import { markdownTable } from "../bench/format.js";
import { haveCompiler, syntaxCheck } from "../bench/libdill.js";
import { parseResult } from "../bench/lib.js";
import { summarizeResults } from "../bench/report.js";
import type { Cell } from "../bench/runner.js";
import { interleave, median, pairedRatio, quantile, summarize } from "../bench/stats.js";
import { ratioChart } from "../bench/svg.js";

const cell = (values: number[], n = 1000): Cell => ({ n, values, maxRss: values.map(() => 50e6), extra: {}, errors: [] });
const workload = (id: string): Workload => WORKLOADS.find((w) => w.id === id)!;

describe("parseArgs", () => {
  it("gives defaults for no arguments", () => {
    expect(parseArgs([])).toEqual({ filter: null, runs: null, quick: false, json: null, svg: null, md: null, noC: false, help: false });
  });

  it("reads every option, with a separate or an inline value", () => {
    const o = parseArgs(["--filter", "chan|ipc", "--runs=3", "--quick", "--json", "a.json", "--svg=b.svg", "--md", "c.md", "--no-c", "--help"]);
    expect(o.filter?.test("IPC bulk")).toBe(true);
    expect(o.filter?.test("go")).toBe(false);
    expect(o).toMatchObject({ runs: 3, quick: true, json: "a.json", svg: "b.svg", md: "c.md", noC: true, help: true });
  });

  it("rejects unknown arguments, missing values, bad counts and bad patterns", () => {
    expect(() => parseArgs(["--fast"])).toThrow(/unknown argument/);
    expect(() => parseArgs(["--json"])).toThrow(/needs a value/);
    expect(() => parseArgs(["--runs", "0"])).toThrow(/--runs/);
    expect(() => parseArgs(["--runs", "2.5"])).toThrow(/--runs/);
    expect(() => parseArgs(["--filter", "("])).toThrow(/regular expression/);
  });
});

describe("stats", () => {
  it("computes medians, quantiles and spreads", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, iqr: 2, n: 3 });
    expect(summarize([]).n).toBe(0);
  });

  it("takes ratios round by round, inverting rates, skipping failed rounds", () => {
    // times: a costs twice b in every round, though the machine drifts
    expect(pairedRatio([20, 40, 80], [10, 20, 40], false)).toBe(2);
    // rates: a does half b's work per second, so costs twice as much
    expect(pairedRatio([50, 100], [100, 200], true)).toBe(2);
    expect(pairedRatio([NaN, 30], [10, 10], false)).toBe(3);
    expect(pairedRatio([], [], false)).toBeNaN();
  });

  it("rotates the order of systems every round", () => {
    expect(interleave(["a", "b", "c"], 0)).toEqual(["a", "b", "c"]);
    expect(interleave(["a", "b", "c"], 1)).toEqual(["b", "c", "a"]);
    expect(interleave(["a", "b", "c"], 3)).toEqual(["a", "b", "c"]);
  });
});

describe("report", () => {
  const rows = summarizeResults(
    [
      { workload: workload("go"), cells: { tsdill: cell([60, 70, 65]), effection: cell([60000, 61000, 59000]) } },
      { workload: workload("pingpong"), cells: { tsdill: cell([95, 90, 100]), net: cell([100, 100, 100]) } },
    ],
    { machine: "m", note: "n", figures: { go: 40, pingpong: 400 } },
  );

  it("fills the libdill column from the recorded figures when it was not run", () => {
    expect(rows[0]!.systems.libdill).toMatchObject({ recorded: true });
    expect(rows[0]!.systems.libdill!.costVsTsdill).toBeCloseTo(40 / 65);
  });

  it("tells which targets were met and which missed", () => {
    const [vsLibdill, vsEffection] = rows[0]!.verdicts;
    expect(vsLibdill).toMatchObject({ met: false, recorded: true, shown: "1.63×" }); // 65 / 40 > 1.5
    expect(vsEffection).toMatchObject({ met: true }); // about 920× faster
    expect(rows[1]!.verdicts[0]).toMatchObject({ met: true, shown: "0.95×" }); // 95 of 100 round trips/s
  });

  it("draws a well-formed chart with a bar per system and workload", () => {
    const svg = ratioChart(rows, "a <test> & more");
    expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    expect(svg).toContain("a &lt;test&gt; &amp; more");
    // every opened element is closed, in order
    const stack: string[] = [];
    for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (m[3] === "/") continue;
      if (m[1] === "/") expect(stack.pop()).toBe(m[2]);
      else stack.push(m[2]!);
    }
    expect(stack).toEqual([]);
    expect(svg.match(/<rect [^>]*><title>/g)?.length).toBe(3 + 3); // go: tsdill, libdill, effection; pingpong: tsdill, libdill, net
  });

  it("formats a markdown table with escaped pipes", () => {
    expect(markdownTable(["a", "b"], [["x|y", "1"]])).toBe("| a    | b   |\n|------|-----|\n| x\\|y | 1   |");
  });
});

describe("docs section", () => {
  it("replaces only what is between the markers", () => {
    const doc = `# Title\n\nprose before\n\n${START}\nold table\n${END}\n\nprose after\n`;
    const out = replaceResults(doc, "new table");
    expect(out).toBe(`# Title\n\nprose before\n\n${START}\nnew table\n${END}\n\nprose after\n`);
    expect(replaceResults(out, "newer")).toContain(`${START}\nnewer\n${END}\n\nprose after`);
  });

  it("appends a results section to a page without markers", () => {
    expect(replaceResults("# P\n", "t")).toBe(`# P\n\n## Results\n\n${START}\nt\n${END}\n`);
  });
});

describe("measuring processes", () => {
  it("parse the result line that the C and Node programs print", () => {
    expect(parseResult('noise\nBENCH_RESULT {"value":38.500000,"maxRss":1867776}\n')).toEqual({ value: 38.5, maxRss: 1867776 });
    expect(() => parseResult("no result here")).toThrow(/BENCH_RESULT/);
    expect(() => parseResult('BENCH_RESULT {"value":null,"maxRss":1}')).toThrow(/bad result/);
  });

  it.skipIf(!haveCompiler())("C workloads pass `cc -fsyntax-only` against the stand-in header", () => {
    const results = syntaxCheck();
    expect(results.map((r) => r.file)).toEqual(expect.arrayContaining(["go.c", "ctxswitch.c", "chan.c", "choose.c", "done.c", "whispers.c", "timer.c", "pingpong.c", "bulk.c"]));
    for (const r of results) expect(r, r.message).toMatchObject({ ok: true });
  });
});

describe("catalogue", () => {
  it("has unique ids and a tsdill size for every workload", () => {
    const ids = WORKLOADS.map((w) => w.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const w of WORKLOADS) expect(w.sizes.tsdill, w.id).toBeDefined();
  });
});
