/**
 * `tsdill trace <program.ts|js> [args]`: run a program with the trace recorder on and write its
 * trace, as a Chrome Trace Event file (`-o`, for Perfetto and chrome://tracing) and/or as one
 * self-contained HTML page (`--html`). The program runs in a child process with `TSDILL_TRACE`
 * set, so whichever copy of tsdill it loads records from its start and writes the file at exit.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UsageError, optionHelp, parseArgs, type Spec } from "./args.js";
import { viewerHtml } from "./viewer.js";

const SPEC: Spec = {
  out: { kind: "string", value: "FILE", help: "write the Chrome Trace Event JSON here (-o; default trace.json)" },
  html: { kind: "string", value: "FILE", help: "write a self-contained page that draws the trace" },
  size: { kind: "count", max: 1 << 24, help: "events the ring keeps (default 65536)" },
};

const USAGE = `Usage: tsdill trace [options] <program.ts|program.js> [program arguments]

Runs the program with tsdill's trace recorder on, then writes what its coroutines did: every
launch, park, wake-up, cancellation, hclose and exit, with time stamps. Open the JSON in
ui.perfetto.dev or chrome://tracing, or the --html page in any browser (it needs no network).

Options:
  -o FILE       the same as --out
${optionHelp(SPEC)}`;

/** Options come before the program; everything from the program on is the program's. */
function split(argv: readonly string[]): { mine: string[]; program: string | undefined; rest: string[] } {
  const mine: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("-")) return { mine, program: a, rest: argv.slice(i + 1) };
    const flag = a === "-o" ? "--out" : a;
    mine.push(flag);
    if (!flag.includes("=") && flag !== "--help" && flag !== "-h" && i + 1 < argv.length) mine.push(argv[++i]!);
  }
  return { mine, program: undefined, rest: [] };
}

/** The tsx command line interface, from the program's folder or tsdill's own. */
function findTsx(from: string): string | null {
  for (const base of [join(from, "noop.js"), import.meta.url]) {
    try {
      const pkg = createRequire(base).resolve("tsx/package.json");
      const cli = join(dirname(pkg), "dist", "cli.mjs");
      if (existsSync(cli)) return cli;
    } catch {
      // not installed there
    }
  }
  return null;
}

/** `tsdill trace`: the exit code is the program's, or 1 when it left no trace; 2 for a bad command line. */
export async function trace(argv: readonly string[]): Promise<number> {
  const { mine, program, rest } = split(argv);
  const { opts, help } = parseArgs(mine, SPEC);
  if (help) {
    console.log(USAGE);
    return 0;
  }
  if (program === undefined) throw new UsageError("which program? tsdill trace <program.ts|js>");
  const file = resolve(program);
  if (!existsSync(file)) throw new UsageError(`no such program: ${program}`);
  const html = opts.html as string | undefined;
  const tmp = mkdtempSync(join(tmpdir(), "tsdill-trace-"));
  const json =
    opts.out !== undefined
      ? resolve(opts.out as string)
      : html !== undefined
        ? join(tmp, "trace.json")
        : resolve("trace.json");
  rmSync(json, { force: true });
  const args = [file, ...rest];
  if (/\.[mc]?tsx?$/.test(file)) {
    const tsx = findTsx(dirname(file));
    if (tsx === null) {
      console.error("tsdill trace: a TypeScript program needs tsx (npm install --save-dev tsx), or give a .js one");
      return 1;
    }
    args.unshift(tsx);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, TSDILL_TRACE: json };
  if (opts.size !== undefined) env.TSDILL_TRACE_SIZE = String(opts.size);
  const child = spawn(process.execPath, args, { stdio: "inherit", env });
  const code = await new Promise<number>((done) => child.on("exit", (c, sig) => done(c ?? (sig ? 128 : 1))));
  try {
    if (!existsSync(json)) {
      console.error(`tsdill trace: ${program} left no trace (it exited with code ${code}; does it use tsdill?)`);
      return code === 0 ? 1 : code;
    }
    if (html !== undefined) writeFileSync(resolve(html), viewerHtml(readFileSync(json, "utf8")));
    const wrote = [opts.out !== undefined || html === undefined ? json : null, html ?? null].filter((f) => f !== null);
    console.error(`tsdill trace: wrote ${wrote.join(" and ")}`);
    return code;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
