/**
 * `npm run bench`: the benchmark suite. Every workload of bench/catalogue.ts runs once per system,
 * each measurement in a fresh process, the systems interleaved round by round; the tables go to
 * stdout, progress to stderr. `--help` lists the options.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { loadavg } from "node:os";
import { HELP, parseArgs, type Options } from "./args.js";
import { sizeOf, WORKLOADS, type Workload } from "./catalogue.js";
import { machineLine, machineNow, writeResults } from "./docs.js";
import {
  buildC,
  findLibdill,
  haveCompiler,
  INSTALL_HINT,
  libdillStatus,
  probeC,
  recorded,
  syntaxCheck,
  type CBuild,
} from "./libdill.js";
import {
  rssTable,
  scalingTable,
  sectionTable,
  sizesTable,
  summarizeResults,
  targetCounts,
  variantTable,
  type Row,
} from "./report.js";
import { childCommand } from "./bundle.js";
import { runPlan } from "./runner.js";
import { ratioChart } from "./svg.js";
import { TSDILL_FROM } from "./tsdill.js";

let opts: Options;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const t0 = Date.now();
const load0 = loadavg()[0]!;
const log = (s: string) => process.stderr.write(`${s}\n`);
let broken = false;

const selected: Workload[] = WORKLOADS.filter((w) => sizeOf(w, "tsdill", opts.quick) > 0).filter(
  (w) => opts.filter === null || opts.filter.test(w.id) || opts.filter.test(w.title),
);
if (selected.length === 0) {
  log(`bench: no workload matches ${String(opts.filter)}`);
  process.exit(2);
}

// ---- libdill: live when installed, recorded otherwise ----------------------------------------------
let cBins: Record<string, string> = {};
let cBuild: CBuild | null = null;
let cHow = "";
let libdillCaveat = "";
const wantC = !opts.noC && (opts.systems === null || opts.systems.includes("libdill"));
const build = wantC ? findLibdill() : null;
let notLive = opts.noC
  ? " (--no-c)"
  : !wantC
    ? " (not in --systems)"
    : " (libdill not found by pkg-config, LIBDILL_PREFIX unset)";
if (build && haveCompiler()) {
  const names = [...new Set(selected.flatMap((w) => (w.c ? [w.c] : [])))];
  cBuild = buildC(build, names);
  process.on("exit", () => cBuild?.remove());
  for (const e of cBuild.errors) log(`bench: could not compile ${e}`);
  const probe = probeC(cBuild.bins);
  for (const e of probe.errors) log(`bench: a C workload does not run: ${e}`);
  if (cBuild.errors.length > 0 || probe.errors.length > 0) broken = true;
  cBins = probe.bins;
  cHow = build.how;
  if (Object.keys(cBins).length === 0)
    notLive = ` (the C workloads ${cBuild.errors.length > 0 ? "did not compile" : "do not run"}: ${[...cBuild.errors, ...probe.errors][0]?.split("\n")[0] ?? ""})`;
} else if (build) notLive = " (no C compiler found)";
if (Object.keys(cBins).length === 0) {
  libdillCaveat = recorded().note;
  if (wantC && !build) log(`bench: libdill is not installed: its column shows recorded figures.\n${INSTALL_HINT}`);
  if (opts.quick && wantC) {
    if (!haveCompiler()) log("bench: no C compiler: the C workloads were not syntax-checked");
    else {
      const checks = syntaxCheck();
      const bad = checks.filter((c) => !c.ok);
      log(
        `bench: C workloads syntax-checked against bench/c/check/libdill.h: ${checks.length - bad.length}/${checks.length} ok`,
      );
      for (const b of bad) log(`  ${b.file}: ${b.message}`);
      if (bad.length > 0) broken = true;
    }
  }
}

// ---- measure ------------------------------------------------------------------------------------------
const runsOf = (w: Workload) => opts.runs ?? (opts.quick ? 1 : w.section === "core" || w.section === "ipc" ? 5 : 3);
log(
  `bench: ${selected.length} workloads, tsdill from ${TSDILL_FROM === "dist" ? "the built package (dist/)" : "the sources (no dist/: run `npm run build`)"}`,
);
const child = await childCommand(log);
const results = await runPlan({ workloads: selected, quick: opts.quick, runsOf, cBins, child, systems: opts.systems });
cBuild?.remove();
const libdillNote = libdillStatus(results, { how: cHow, notLive, recorded: recorded() });
const rows: Row[] = summarizeResults(results, recorded());
const failures = results.flatMap((r) =>
  Object.entries({ ...r.cells, ...r.variants }).flatMap(([s, c]) => c.errors.map((e) => `${r.workload.id} ${s}: ${e}`)),
);
if (failures.length > 0) broken = true;
const machine = machineNow(load0);
const wall = (Date.now() - t0) / 1000;
const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");

// ---- report -------------------------------------------------------------------------------------------
function section(title: string, body: string, after = ""): string {
  return body === "" ? "" : `### ${title}\n\n${body}\n${after ? `\n${after}\n` : ""}\n`;
}

function report(chartPath: string | null): string {
  const counts = targetCounts(rows);
  const runsText = opts.runs ?? (opts.quick ? "1" : "5 (memory, scaling and server: 3)");
  return [
    `Run on ${date}${opts.quick ? " with `--quick` (small sizes, one run: a smoke test, not a measurement)" : ""}: ${machineLine(machine)}.`,
    `tsdill: ${TSDILL_FROM === "dist" ? "the built package (dist/)" : "the sources (no build)"}. Counted runs per system and workload: ${runsText}, each in a fresh process after a warm-up run (memory: cold; the server: warmed up by a first load on the same server), systems interleaved round by round; a cell is the median (min–max), ratios are medians of per-round ratios. Wall time ${wall.toFixed(0)} s.`,
    libdillNote,
    `Targets of the performance plan: ${counts.met} met, ${counts.missed} missed${counts.unknown ? `, ${counts.unknown} not measurable here` : ""}.`,
    "",
    chartPath ? `![cost relative to tsdill](${chartPath})\n` : "",
    section("libdill's workloads", sectionTable(rows, "core"), libdillCaveat),
    section("IPC over a Unix socket", sectionTable(rows, "ipc")),
    section(
      "Memory",
      sectionTable(rows, "memory"),
      "Heap (JS heap + external) growth per object after a full collection; RSS growth beside it.",
    ),
    section(
      "Scaling: cost per operation as the load grows",
      scalingTable(rows),
      "With few timers, the fixed CPU cost of 50 ms of event-loop wake-ups is shared by few of them, so the CPU per timer falls as n grows. Cost growth: the cost per operation at the largest load ÷ at the smallest (for rates, the inverse of the rate).",
    ),
    section(
      "tsdill's server with 1 and 2 worker processes",
      variantTable(rows, "server"),
      `Each run starts the built server (\`node dist/cli.js serve --workers N\`) on a fresh Unix socket, waits until it answers PING, runs the built load generator (\`node dist/cli.js load --json\`) once to warm up and once to measure, then stops the server with SIGINT: a run counts only if no request failed and the server exits 0 and removes its socket file. The 1- and 2-worker runs are interleaved round by round; the ratio is the median of per-round ratios of requests/s. The load generator is one more Node process and keeps about one core busy: on a machine with 2 cores (this one has ${machine.cores}) the 2 workers have about one core between them, so 2 workers cannot be expected to double the throughput. p99: the median over runs of each run's 99th percentile, as \`tsdill load\` measures it.`,
    ),
    section("Peak RSS of each measuring process (median)", rssTable(rows)),
    section("Operations per run, and what stands in for tsdill's primitive", sizesTable(rows)),
  ].join("\n");
}

const text = report(null);
process.stdout.write(`\n${text}\n`);
if (failures.length > 0)
  process.stdout.write(`\nFailed measurements:\n${failures.map((f) => `- ${f.split("\n")[0]}`).join("\n")}\n`);

const write = (file: string, content: string) => {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, content);
  log(`bench: wrote ${file}`);
};
if (opts.svg)
  write(
    opts.svg,
    ratioChart(
      rows,
      `${date}, ${machine.cores} × ${machine.cpu}, Node ${machine.node}${opts.quick ? ", --quick" : ""}`,
    ),
  );
if (opts.md) {
  const chart = opts.svg ? relative(dirname(resolve(opts.md)), resolve(opts.svg)) : null;
  writeResults(opts.md, report(chart), opts.mdSection);
  log(`bench: wrote the ${opts.mdSection} section of ${opts.md}`);
}
if (opts.json) {
  const data = {
    date,
    machine,
    options: { ...opts, filter: opts.filter?.source ?? null },
    tsdill: TSDILL_FROM,
    libdill: libdillNote.startsWith("libdill: live") ? "live" : "recorded",
    wallSeconds: wall,
    results: rows.map((r) => ({
      id: r.workload.id,
      title: r.workload.title,
      section: r.workload.section,
      unit: r.workload.unit,
      param: r.workload.param,
      scale: r.workload.scale,
      systems: r.systems,
      variants: r.variants,
      targets: r.verdicts,
    })),
    failures,
  };
  write(opts.json, `${JSON.stringify(data, null, 1)}\n`);
}
log(`bench: done in ${wall.toFixed(1)} s${broken ? " (with failures)" : ""}`);
process.exitCode = broken ? 1 : 0;
