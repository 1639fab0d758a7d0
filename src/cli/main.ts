#!/usr/bin/env node
/**
 * The `tsdill` command: `serve`, `load`, `demo`, `trace` and `bench`, one module each, and `--version`. A
 * bad command line prints what is wrong and the usage, and exits with code 2.
 */
import { UsageError } from "./args.js";
import { bench } from "./bench.js";
import { demo } from "./demo.js";
import { load } from "./load.js";
import { serve } from "./serve.js";
import { trace } from "./tracecmd.js";
import { version } from "./version.js";

const COMMANDS: Record<string, { run: (argv: readonly string[]) => Promise<number>; summary: string }> = {
  serve: { run: serve, summary: "run the key-value server on a Unix socket (graceful shutdown, --workers N)" },
  load: { run: load, summary: "drive a server with N concurrent clients and report throughput and latency" },
  demo: { run: demo, summary: "a first look: the server and the load generator in one structured tree" },
  trace: { run: trace, summary: "run a program and write what its coroutines did (Chrome trace JSON, --html page)" },
  bench: { run: bench, summary: "run the benchmark suite (from a clone of the repository)" },
};

const HELP = `Usage: tsdill <command> [options]

tsdill is libdill's structured concurrency for TypeScript; this command shows it at work on a
concurrent local server.

Commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(6)}  ${c.summary}`)
  .join("\n")}

Options:
  --help, -h     this text
  --version, -v  the version of tsdill

Run "tsdill <command> --help" for a command's options.`;

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === "--version" || cmd === "-v") {
    console.log(`tsdill ${version()}`);
    return 0;
  }
  const c = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (c === undefined) {
    console.error(`tsdill: unknown ${cmd.startsWith("-") ? "option" : "command"} "${cmd}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await c.run(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`tsdill ${cmd}: ${e.message}\nRun "tsdill ${cmd} --help" for the options.`);
    return 2;
  }
}

// process.exit, not an exit once the event loop is empty: on the way out that way Node stops its
// signal watchers and the signals' default actions return, so a signal arriving in that moment
// (Ctrl-C pressed again) would kill the process with code 128 + its number after all went well.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
