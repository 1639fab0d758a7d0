/**
 * The benchmark harness's own logic: argument parsing, statistics, verdicts, the chart, the
 * docs section, the load generator's summary, and that the C workloads compile (syntax only).
 * Nothing here is timed.
 */
import { describe, expect, it } from "vitest";
import { parseArgs } from "../bench/args.js";
import { WORKLOADS, type Workload } from "../bench/catalogue.js";
import { END, replaceResults, START } from "../bench/docs.js";
import { markdownTable } from "../bench/format.js";
import { compiler, haveCompiler, syntaxCheck } from "../bench/libdill.js";
import { parseResult } from "../bench/lib.js";
import { rssTable, sectionTable, sizesTable, summarizeResults, variantTable } from "../bench/report.js";
import { unitsOf, type Cell } from "../bench/runner.js";
import { parseLoadSummary } from "../bench/serverload.js";
import { interleave, median, pairedRatio, quantile, summarize } from "../bench/stats.js";
import { ratioChart } from "../bench/svg.js";
import { when } from "./prerequisites.js";

const cell = (values: number[], n = 1000): Cell => ({
  n,
  values,
  maxRss: values.map(() => 50e6),
  extra: {},
  errors: [],
});
const workload = (id: string): Workload => WORKLOADS.find((w) => w.id === id)!;

describe("parseArgs", () => {
  it("gives defaults for no arguments", () => {
    expect(parseArgs([])).toEqual({
      filter: null,
      runs: null,
      quick: false,
      json: null,
      svg: null,
      md: null,
      mdSection: "results",
      noC: false,
      systems: null,
      help: false,
    });
  });

  it("reads every option, with a separate or an inline value", () => {
    const o = parseArgs([
      "--filter",
      "chan|ipc",
      "--runs=3",
      "--quick",
      "--json",
      "a.json",
      "--svg=b.svg",
      "--md",
      "c.md",
      "--no-c",
      "--help",
    ]);
    expect(o.filter?.test("IPC bulk")).toBe(true);
    expect(o.filter?.test("go")).toBe(false);
    expect(o).toMatchObject({ runs: 3, quick: true, json: "a.json", svg: "b.svg", md: "c.md", noC: true, help: true });
  });

  it("reads --systems, keeps tsdill and the catalogue's order, refuses unknown names", () => {
    expect(parseArgs(["--systems", "libdill,floor"]).systems).toEqual(["tsdill", "libdill", "floor"]);
    expect(parseArgs(["--systems=net,tsdill"]).systems).toEqual(["tsdill", "net"]);
    expect(() => parseArgs(["--systems", "libdill,golang"])).toThrow(/--systems: unknown system 'golang'/);
    expect(() => parseArgs(["--systems"])).toThrow(/needs a value/);
    // the plan then runs only those systems on each workload
    const systems = parseArgs(["--systems", "libdill"]).systems;
    expect(unitsOf(workload("go"), { quick: false, cBins: { go: "/bin/go" }, systems }).map((u) => u.key)).toEqual([
      "tsdill",
      "libdill",
    ]);
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
      {
        workload: workload("go"),
        cells: { tsdill: cell([60, 70, 65]), effection: cell([60000, 61000, 59000]), effect: cell([600, 700, 40]) },
      },
      { workload: workload("pingpong"), cells: { tsdill: cell([95, 90, 100]), net: cell([100, 100, 100]) } },
    ],
    { machine: "m", note: "n", figures: { go: 40, pingpong: 400 } },
  );

  it("fills the libdill column from the recorded figures when it was not run", () => {
    expect(rows[0]!.systems.libdill).toMatchObject({ recorded: true });
    expect(rows[0]!.systems.libdill!.costVsTsdill).toBeCloseTo(40 / 65);
  });

  it("tells which targets were met and which missed", () => {
    const [vsLibdill, vsEffection, vsEffect] = rows[0]!.verdicts;
    expect(vsLibdill).toMatchObject({ met: false, recorded: true, shown: "1.63×" }); // 65 / 40 > 1.5
    expect(vsEffection).toMatchObject({ met: true }); // about 920× faster
    // per-round ratios 10, 10 and 0.62: the median says 10× faster than Effect 4
    expect(vsEffect).toMatchObject({ text: "faster than Effect 4", met: true, shown: "10.0×" });
    expect(rows[1]!.verdicts[0]).toMatchObject({ met: false, shown: "0.95×" }); // 95 of 100 round trips/s, target ≥ 1.0×
  });

  it("draws a well-formed chart with a bar per system and workload", () => {
    const svg = ratioChart(rows, "a <test> & more");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
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
    expect(svg.match(/<rect [^>]*><title>/g)?.length).toBe(4 + 3); // go: tsdill, libdill, effection, Effect; pingpong: tsdill, libdill, net
  });

  it("gives Effect 4 a column and a cost ratio beside the other systems", () => {
    const [head, , line] = sectionTable(rows, "core").split("\n");
    expect(head).toMatch(/\| effection 4 +\| Effect 4 +\|/);
    expect(line).toContain("effect 10.0×");
    expect(line).toContain("faster than Effect 4: 10.0× met");
  });

  it("formats a markdown table with escaped pipes", () => {
    expect(markdownTable(["a", "b"], [["x|y", "1"]])).toBe("| a    | b   |\n|------|-----|\n| x\\|y | 1   |");
  });
});

describe("variants (the server with 1 and 2 workers)", () => {
  const server = workload("serverWorkers");
  const withP99 = (values: number[], p99: number[]): Cell => ({ ...cell(values, 3000), extra: { p99Ms: p99 } });
  const rows = summarizeResults(
    [
      { workload: workload("go"), cells: { tsdill: cell([60, 70, 65]) } },
      {
        workload: server,
        cells: {},
        variants: { w1: withP99([100, 80, 90], [3, 4, 5]), w2: withP99([150, 100, NaN], [6, 7, 8]) },
      },
    ],
    null,
  );
  const row = rows[1]!;

  it("are interleaved as units of their own, on tsdill, with their own parameter", () => {
    const units = unitsOf(server, { quick: false, cBins: {} });
    expect(units.map((u) => [u.key, u.system, u.variant?.param])).toEqual([
      ["w1", "tsdill", 1],
      ["w2", "tsdill", 2],
    ]);
    expect(interleave(units, 1).map((u) => u.key)).toEqual(["w2", "w1"]);
    // the others: one unit per system (libdill only when its C program was built)
    expect(unitsOf(workload("go"), { quick: false, cBins: {} }).map((u) => u.key)).toEqual([
      "tsdill",
      "floor",
      "effection",
      "effect",
      "async",
    ]);
  });

  it("are compared with the first variant round by round, skipping failed rounds", () => {
    expect(row.systems).toEqual({});
    expect(row.variants!.w1!.costVsTsdill).toBe(1);
    // rates: cost ratios 100/150 and 80/100, median 0.7333; the third round failed
    expect(row.variants!.w2!.costVsTsdill).toBeCloseTo((100 / 150 + 80 / 100) / 2);
    expect(row.variants!.w2!.failed).toBe(1);
    expect(row.variants!.w2!.extra.p99Ms).toBe(7);
  });

  it("get a table with each variant, the ratio of the last to the first, and p99", () => {
    const t = variantTable(rows, "server");
    const [head, , line] = t.split("\n");
    expect(head).toContain("| 1 worker ");
    expect(head).toContain("| 2 workers ÷ 1 worker ");
    expect(head).toContain("p99 latency (1 worker / 2 workers)");
    expect(line).toContain("90.0 req/s (80.0–100 req/s)");
    expect(line).toContain("[1 failed]");
    expect(line).toContain(`| ${(2 / (100 / 150 + 80 / 100)).toFixed(2)}× `); // 1.36×: requests/s of 2 workers ÷ 1 worker
    expect(line).toContain("4.00 ms / 7.00 ms");
    expect(variantTable(rows, "core")).toBe("");
  });

  it("are left out of the RSS table and show their size in the tsdill column", () => {
    expect(rssTable(rows)).not.toContain("serve");
    expect(rssTable([row])).toBe("");
    expect(sizesTable([row])).toMatch(/\| tsdill +\|/);
    expect(sizesTable([row])).toContain("3k: requests per client, 50 clients");
  });
});

describe("the load generator's summary", () => {
  const summary = {
    clients: 50,
    requestsPerClient: 1000,
    requests: 50000,
    ok: 50000,
    failed: 0,
    seconds: 2.41,
    requestsPerSecond: 20747,
    latencyMs: { p50: 2.1, p90: 3.9, p99: 8.0, max: 21.5, mean: 2.4 },
    bytesSent: 7412345,
    bytesReceived: 7462345,
    errors: {},
    verify: null,
  };

  it("gives requests/s and p99 from `tsdill load --json`, pretty-printed or not", () => {
    expect(parseLoadSummary(`${JSON.stringify(summary, null, 2)}\n`)).toEqual({
      requests: 50000,
      requestsPerSecond: 20747,
      p99Ms: 8,
    });
    expect(parseLoadSummary(`load: progress\n${JSON.stringify(summary)}`)).toMatchObject({ requestsPerSecond: 20747 });
  });

  it("refuses a run where requests failed, a missing figure, or no JSON", () => {
    expect(() =>
      parseLoadSummary(JSON.stringify({ ...summary, ok: 49990, failed: 10, errors: { ECONNRESET: 10 } })),
    ).toThrow(/10 of 50000 requests failed.*ECONNRESET/);
    expect(() => parseLoadSummary(JSON.stringify({ ...summary, latencyMs: {} }))).toThrow(/latencyMs.p99/);
    expect(() => parseLoadSummary(JSON.stringify({ ...summary, requestsPerSecond: 0 }))).toThrow(/0 requests\/s/);
    expect(() => parseLoadSummary("connect: ENOENT")).toThrow(/no JSON summary/);
    expect(() => parseLoadSummary("{ not json }")).toThrow(/not JSON/);
  });
});

describe("docs section", () => {
  it("replaces only what is between the markers", () => {
    const doc = `# Title\n\nprose before\n\n${START}\nold table\n${END}\n\nprose after\n`;
    const out = replaceResults(doc, "new table");
    expect(out).toBe(`# Title\n\nprose before\n\n${START}\nnew table\n${END}\n\nprose after\n`);
    expect(replaceResults(out, "newer")).toContain(`${START}\nnewer\n${END}\n\nprose after`);
  });

  it("replaces a named section and leaves the default one alone", () => {
    const doc = `# T\n\n${START}\nfull run\n${END}\n\n<!-- live:start -->\nold\n<!-- live:end -->\n`;
    expect(replaceResults(doc, "new", "live")).toBe(
      `# T\n\n${START}\nfull run\n${END}\n\n<!-- live:start -->\nnew\n<!-- live:end -->\n`,
    );
    expect(replaceResults("# P\n", "t", "live")).toBe(
      "# P\n\n## Results: live\n\n<!-- live:start -->\nt\n<!-- live:end -->\n",
    );
    expect(parseArgs(["--md-section", "live-libdill"]).mdSection).toBe("live-libdill");
    expect(() => parseArgs(["--md-section", "a b"])).toThrow(/--md-section/);
  });

  it("appends a results section to a page without markers", () => {
    expect(replaceResults("# P\n", "t")).toBe(`# P\n\n## Results\n\n${START}\nt\n${END}\n`);
  });
});

describe("measuring processes", () => {
  it("parse the result line that the C and Node programs print", () => {
    expect(parseResult('noise\nBENCH_RESULT {"value":38.500000,"maxRss":1867776}\n')).toEqual({
      value: 38.5,
      maxRss: 1867776,
    });
    expect(() => parseResult("no result here")).toThrow(/BENCH_RESULT/);
    expect(() => parseResult('BENCH_RESULT {"value":null,"maxRss":1}')).toThrow(/bad result/);
  });

  when(haveCompiler(), `the C compiler ${compiler()} is not installed (on Debian: apt-get install gcc)`).it(
    "C workloads pass `cc -fsyntax-only` against the stand-in header",
    () => {
      const results = syntaxCheck();
      expect(results.map((r) => r.file)).toEqual(
        expect.arrayContaining([
          "go.c",
          "ctxswitch.c",
          "chan.c",
          "choose.c",
          "done.c",
          "whispers.c",
          "timer.c",
          "pingpong.c",
          "bulk.c",
        ]),
      );
      for (const r of results) expect(r, r.message).toMatchObject({ ok: true });
    },
  );
});

describe("catalogue", () => {
  it("has unique ids and a tsdill size for every workload", () => {
    const ids = WORKLOADS.map((w) => w.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const w of WORKLOADS) expect(w.sizes.tsdill, w.id).toBeDefined();
  });
});
