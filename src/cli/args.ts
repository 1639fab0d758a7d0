/**
 * Command-line options of the subcommands. `node:util`'s `parseArgs` splits the command line
 * into options (`--name value`, `--name=value`, flags `--name`, `-h`) and positionals; this module
 * checks them against a spec and turns the values into numbers and ranges. Anything unknown or
 * malformed is a {@link UsageError} naming the flag, which the entry point reports with exit code 2.
 */
import { parseArgs as tokenize } from "node:util";

/** A bad command line: printed with a pointer to the usage text, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** What an option takes: a positive integer, a non-negative integer, a string, a `MIN-MAX` range, or nothing (a flag). */
export type OptionKind = "count" | "int" | "string" | "range" | "flag";

export interface OptionSpec {
  kind: OptionKind;
  /** One line for `--help`. */
  help: string;
  /** Shown in `--help` as the value's name. */
  value?: string;
  /** The largest value accepted (`count` and `int`). */
  max?: number;
  /** Left out of `--help` (options one tsdill process passes to another). */
  internal?: boolean;
}

export type Spec = Record<string, OptionSpec>;
export type Parsed = Record<string, string | number | boolean | [number, number] | undefined>;

function parseValue(name: string, spec: OptionSpec, raw: string): string | number | [number, number] {
  switch (spec.kind) {
    case "count":
    case "int": {
      const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n) || (spec.kind === "count" && n < 1)) {
        throw new UsageError(
          `--${name} must be a ${spec.kind === "count" ? "positive" : "non-negative"} integer, got "${raw}"`,
        );
      }
      if (spec.max !== undefined && n > spec.max)
        throw new UsageError(`--${name} must be at most ${spec.max}, got ${raw}`);
      return n;
    }
    case "range": {
      const m = /^(\d+)(?:-(\d+))?$/.exec(raw);
      const lo = m ? Number(m[1]) : Number.NaN;
      const hi = m ? Number(m[2] ?? m[1]) : Number.NaN;
      if (!m || !Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi)
        throw new UsageError(`--${name} must be N or MIN-MAX with MIN <= MAX, got "${raw}"`);
      return [lo, hi];
    }
    default:
      return raw;
  }
}

/**
 * Parse `argv` against `spec`. `--help` or `-h` gives `help: true`. Positional arguments, unknown
 * options, a missing value, a value given to a flag and a malformed value are each a
 * {@link UsageError} that names the flag.
 */
export function parseArgs(argv: readonly string[], spec: Spec): { opts: Parsed; help: boolean } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, s] of Object.entries(spec)) options[name] = { type: s.kind === "flag" ? "boolean" : "string" };
  // Not strict: every token comes back, and the errors below are worded here, naming the flag.
  const { tokens } = tokenize({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const opts: Parsed = {};
  let help = false;
  for (const t of tokens) {
    if (t.kind === "positional") throw new UsageError(`unexpected argument "${t.value}"`);
    if (t.kind === "option-terminator") throw new UsageError('unexpected argument "--"');
    if (t.name === "help") {
      if (t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
      help = true;
      continue;
    }
    const s = Object.hasOwn(spec, t.name) ? spec[t.name] : undefined;
    if (s === undefined || t.rawName !== `--${t.name}`) throw new UsageError(`unknown option ${t.rawName}`);
    if (s.kind === "flag") {
      if (t.value !== undefined) throw new UsageError(`--${t.name} takes no value`);
      opts[t.name] = true;
      continue;
    }
    // `--socket --trace` takes "--trace" as the value: a forgotten value, most likely.
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith("--")))
      throw new UsageError(
        `--${t.name} needs a value${t.value === undefined ? "" : ` (write --${t.name}=${t.value} if "${t.value}" is the value)`}`,
      );
    opts[t.name] = parseValue(t.name, s, t.value);
  }
  return { opts, help };
}

/** The options part of a `--help` text. */
export function optionHelp(spec: Spec): string {
  const rows = Object.entries(spec)
    .filter(([, s]) => s.internal !== true)
    .map(([name, s]) => [`--${name}${s.kind === "flag" ? "" : ` ${s.value ?? "N"}`}`, s.help] as const);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([l, h]) => `  ${l.padEnd(w)}  ${h}`).join("\n");
}
