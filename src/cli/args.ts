/**
 * Command-line options: a small parser shared by the subcommands. Options are `--name value`
 * (or `--name=value`) and flags `--name`; anything unknown or malformed is a {@link UsageError},
 * which the entry point reports with the command's usage and exit code 2.
 */

/** A bad command line: printed with the usage text, exit code 2. */
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
 * Parse `argv` against `spec`. `--help`/`-h` gives `{ help: true }`. Positional arguments are
 * refused unless `rest` is set, in which case everything from the first one on is returned in `_`.
 */
export function parseArgs(argv: readonly string[], spec: Spec): { opts: Parsed; help: boolean } {
  const opts: Parsed = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") {
      help = true;
      continue;
    }
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument "${a}"`);
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name}`);
    if (s.kind === "flag") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      opts[name] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq >= 0) raw = a.slice(eq + 1);
    else raw = argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    opts[name] = parseValue(name, s, raw);
  }
  return { opts, help };
}

/** The options part of a `--help` text. */
export function optionHelp(spec: Spec): string {
  const rows = Object.entries(spec).map(
    ([name, s]) => [`--${name}${s.kind === "flag" ? "" : ` ${s.value ?? "N"}`}`, s.help] as const,
  );
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([l, h]) => `  ${l.padEnd(w)}  ${h}`).join("\n");
}
