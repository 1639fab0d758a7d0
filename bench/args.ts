/** The command line of `npm run bench`: parsing and the help text. */
import { SYSTEMS, type System } from "./catalogue.js";

export interface Options {
  filter: RegExp | null;
  /** Counted runs per (workload, system); each in a fresh process. null: the default. */
  runs: number | null;
  quick: boolean;
  json: string | null;
  svg: string | null;
  md: string | null;
  /** The name of the section --md rewrites: `results`, or another (`--md-section`). */
  mdSection: string;
  /** Skip the C workloads even when libdill is installed. */
  noC: boolean;
  /** Only these systems (`--systems`); null: all. tsdill always runs (every ratio is to it). */
  systems: System[] | null;
  help: boolean;
}

export const HELP = `Usage: npm run bench -- [options]      (or: npx tsx bench/index.ts [options])

Runs every workload once per system (tsdill, libdill in C, effection 4, Effect 4,
async/await, raw node:net), each measurement in a fresh process: a warm-up, then one
counted run.
The runs of the systems are interleaved (A B C A B C ...) so that machine drift
cancels out of the ratios. Progress goes to stderr, the tables to stdout.

Options:
  --filter REGEX   only the workloads whose id or title matches (e.g. 'chan|ipc')
  --runs N         counted runs per system and workload (default 5, 3 for the
                   memory, scaling and server sections; --quick: 1)
  --quick          small sizes, one run each: proves the harness works (< 30 s);
                   also syntax-checks the C workloads when libdill is absent
  --json FILE      write every sample, the machine and the summary as JSON
  --svg FILE       write a bar chart of the cost ratios (tsdill = 1)
  --md FILE        rewrite the results section of FILE (between the markers
                   <!-- results:start --> and <!-- results:end -->), e.g.
                   --md docs/performance.md --svg docs/performance.svg
  --md-section NAME  rewrite the section between <!-- NAME:start --> and
                   <!-- NAME:end --> instead (default: results), e.g. a run of
                   some systems only beside the full one
  --no-c           do not build or run the C workloads
  --systems LIST   only these systems, comma-separated, from: ${SYSTEMS.join(", ")}
                   (tsdill always runs: every ratio is to it), e.g. --systems libdill,floor
  --help           this text

libdill: when 'pkg-config --exists libdill' succeeds, or LIBDILL_PREFIX names an
install prefix, the C workloads in bench/c/ are compiled with 'cc -O2' and run
live, interleaved with the others. Otherwise the libdill column shows recorded
figures from bench/libdill-recorded.json, labelled "recorded".
`;

/** Parses argv (without node and the script). Throws an Error with a message on bad input. */
export function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
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
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const take = (): string => {
      if (inline !== undefined) return inline;
      return value(i++, flag);
    };
    switch (flag) {
      case "--filter": {
        const src = take();
        try {
          o.filter = new RegExp(src, "i");
        } catch {
          throw new Error(`--filter: not a regular expression: ${src}`);
        }
        break;
      }
      case "--runs": {
        const src = take();
        const n = Number(src);
        if (!Number.isInteger(n) || n < 1 || n > 100)
          throw new Error(`--runs: expected an integer from 1 to 100, got ${src}`);
        o.runs = n;
        break;
      }
      case "--json":
        o.json = take();
        break;
      case "--svg":
        o.svg = take();
        break;
      case "--md":
        o.md = take();
        break;
      case "--md-section": {
        const src = take();
        if (!/^[a-z][a-z0-9-]*$/.test(src))
          throw new Error(`--md-section: expected a name of lower-case letters, digits and -, got ${src}`);
        o.mdSection = src;
        break;
      }
      case "--quick":
        o.quick = true;
        break;
      case "--no-c":
        o.noC = true;
        break;
      case "--systems": {
        const src = take();
        const names = src.split(",").map((x) => x.trim());
        const bad = names.filter((x) => !(SYSTEMS as readonly string[]).includes(x));
        if (bad.length > 0 || names.length === 0)
          throw new Error(
            `--systems: unknown system ${bad.map((b) => `'${b}'`).join(", ")} (choose from ${SYSTEMS.join(", ")})`,
          );
        o.systems = SYSTEMS.filter((x) => x === "tsdill" || names.includes(x));
        break;
      }
      case "--help":
      case "-h":
        o.help = true;
        break;
      default:
        throw new Error(`unknown argument: ${a} (see --help)`);
    }
  }
  return o;
}
