/**
 * The libdill side: finding an installed libdill, compiling the C workloads of `bench/c/` against
 * it, syntax-checking them when it is absent, and the recorded reference figures.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const C_DIR = join(dirname(fileURLToPath(import.meta.url)), "c");
const RECORDED_FILE = join(dirname(fileURLToPath(import.meta.url)), "libdill-recorded.json");

/** How to build against libdill: compiler flags and where they came from. */
export interface LibdillBuild {
  how: string;
  cflags: string[];
  libs: string[];
}

export const INSTALL_HINT = [
  "For a live libdill column: download a libdill release tarball (2.14 or later, for the ipc_* family),",
  "then `./configure && make && sudo make install` (or `./configure --prefix=$HOME/.local` and set",
  "LIBDILL_PREFIX=$HOME/.local). `pkg-config --exists libdill` must succeed, or LIBDILL_PREFIX must name",
  "the prefix; the suite then compiles bench/c/*.c with `cc -O2` and runs them beside the others.",
].join("\n");

function run(cmd: string, args: readonly string[]): { ok: boolean; out: string; err: string } {
  try {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
  } catch (e) {
    return { ok: false, out: "", err: String(e) };
  }
}

/** The C compiler: $CC or cc. */
export function compiler(): string {
  return process.env.CC ?? "cc";
}

export function haveCompiler(): boolean {
  return run(compiler(), ["--version"]).ok;
}

/** libdill's build flags, from LIBDILL_PREFIX or pkg-config; null when it is not installed. */
export function findLibdill(env: NodeJS.ProcessEnv = process.env): LibdillBuild | null {
  const prefix = env.LIBDILL_PREFIX;
  if (prefix) {
    const lib = join(prefix, "lib");
    return {
      how: `LIBDILL_PREFIX=${prefix}`,
      cflags: [`-I${join(prefix, "include")}`],
      libs: [`-L${lib}`, `-Wl,-rpath,${lib}`, "-ldill"],
    };
  }
  if (!run("pkg-config", ["--exists", "libdill"]).ok) return null;
  const cflags = run("pkg-config", ["--cflags", "libdill"]).out.trim();
  const libs = run("pkg-config", ["--libs", "libdill"]).out.trim();
  const split = (s: string) => s.split(/\s+/).filter((x) => x !== "");
  return { how: "pkg-config", cflags: split(cflags), libs: split(libs) };
}

/** The C workloads: bench/c/*.c, by name without `.c`. */
export function cPrograms(): string[] {
  return readdirSync(C_DIR)
    .filter((f) => f.endsWith(".c"))
    .map((f) => f.slice(0, -2))
    .sort();
}

/** Compiles the named programs with `cc -O2` into a fresh temporary directory: name → binary. */
export function buildC(
  build: LibdillBuild,
  names: readonly string[],
): { bins: Record<string, string>; errors: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "tsdill-bench-c-"));
  const bins: Record<string, string> = {};
  const errors: string[] = [];
  for (const name of names) {
    const out = join(dir, name);
    const r = run(compiler(), [
      "-O2",
      "-I",
      C_DIR,
      ...build.cflags,
      "-o",
      out,
      join(C_DIR, `${name}.c`),
      ...build.libs,
    ]);
    if (r.ok) bins[name] = out;
    else errors.push(`${name}.c: ${r.err.trim()}`);
  }
  return { bins, errors };
}

export interface SyntaxResult {
  file: string;
  ok: boolean;
  message: string;
}

/**
 * `cc -fsyntax-only` on every C workload against the declarations in bench/c/check/ (not libdill:
 * a stand-in header that only lets the compiler check the programs' syntax and calls).
 */
export function syntaxCheck(names: readonly string[] = cPrograms()): SyntaxResult[] {
  return names.map((name) => {
    const file = `${name}.c`;
    const r = run(compiler(), [
      "-fsyntax-only",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-I",
      join(C_DIR, "check"),
      "-I",
      C_DIR,
      join(C_DIR, file),
    ]);
    return { file, ok: r.ok, message: r.err.trim() };
  });
}

export interface Recorded {
  machine: string;
  note: string;
  /** The figure per workload key, in that workload's unit. */
  figures: Record<string, number>;
}

export function recorded(): Recorded {
  return JSON.parse(readFileSync(RECORDED_FILE, "utf8")) as Recorded;
}
