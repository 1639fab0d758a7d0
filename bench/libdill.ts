/**
 * The libdill side: finding an installed libdill, compiling the C workloads of `bench/c/` against
 * it, syntax-checking them when it is absent, and the recorded reference figures.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { WorkloadResult } from "./runner.js";
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
  "For a live libdill column: build libdill 2.14 or later (for the ipc_* family) into a prefix, from a",
  "release tarball (`./configure --prefix=$HOME/.local && make && make install`) or from its git",
  "repository (`./autogen.sh` first, which needs autoconf, automake and libtool), then set",
  "LIBDILL_PREFIX=$HOME/.local (or install it where `pkg-config --exists libdill` finds it). The suite",
  "then compiles bench/c/*.c with `cc -O2` and runs them beside the others (docs/performance.md).",
].join("\n");

function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { ok: boolean; out: string; err: string } {
  try {
    const r = spawnSync(cmd, args, { encoding: "utf8", env, timeout: 60_000 });
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
      how: "LIBDILL_PREFIX", // not the path: the header goes into docs
      cflags: [`-I${join(prefix, "include")}`],
      libs: [`-L${lib}`, `-Wl,-rpath,${lib}`, "-ldill"],
    };
  }
  const pc = (...args: string[]) => run("pkg-config", [...args, "libdill"], env);
  if (!pc("--exists").ok) return null;
  const split = (s: string) => s.split(/\s+/).filter((x) => x !== "");
  const cflags = split(pc("--cflags").out.trim());
  const libs = split(pc("--libs").out.trim());
  // pkg-config gives -L but no rpath: without one, a libdill outside the loader's default paths
  // links but cannot be loaded when the program runs.
  const dirs = libs.filter((f) => f.startsWith("-L")).map((f) => f.slice(2));
  const libdir = pc("--variable=libdir").out.trim();
  if (libdir !== "" && !dirs.includes(libdir)) dirs.push(libdir);
  return { how: "pkg-config", cflags, libs: [...libs, ...dirs.map((d) => `-Wl,-rpath,${d}`)] };
}

/** The C workloads: bench/c/*.c, by name without `.c`. */
export function cPrograms(): string[] {
  return readdirSync(C_DIR)
    .filter((f) => f.endsWith(".c"))
    .map((f) => f.slice(0, -2))
    .sort();
}

/** The compiled C workloads, in a temporary directory that `remove()` deletes. */
export interface CBuild {
  bins: Record<string, string>;
  errors: string[];
  dir: string;
  remove: () => void;
}

/**
 * Compiles the named programs with `cc -O2` into a fresh temporary directory under `parent`:
 * name → binary. The caller removes the directory (`remove()`) once the programs have run.
 */
export function buildC(build: LibdillBuild, names: readonly string[], parent: string = tmpdir()): CBuild {
  const dir = mkdtempSync(join(parent, "tsdill-bench-c-"));
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
  return { bins, errors, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs each compiled program once at a tiny size (`PROG 1 0`) and keeps those that print a result
 * line: a program that links but cannot start (a libdill the loader does not find, say) must not
 * make the column look live. Returns the programs that ran and an error per one that did not.
 */
export function probeC(bins: Record<string, string>): { bins: Record<string, string>; errors: string[] } {
  const ok: Record<string, string> = {};
  const errors: string[] = [];
  for (const [name, bin] of Object.entries(bins)) {
    const r = run(bin, ["1", "0"]);
    if (r.ok && r.out.includes("BENCH_RESULT ")) ok[name] = bin;
    else errors.push(`${name}: ${(r.err || r.out).trim().split("\n")[0] ?? "no output"}`);
  }
  return { bins: ok, errors };
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

/**
 * The header line of the libdill column: live only when C programs ran and every one of their
 * measurements succeeded; otherwise it says how many failed, or that the figures are recorded.
 */
export function libdillStatus(
  results: readonly WorkloadResult[],
  o: { how: string; notLive: string; recorded: Recorded },
): string {
  const cells = results.flatMap((r) => (r.workload.c && r.cells.libdill ? [r.cells.libdill] : []));
  const runs = cells.flatMap((c) => c.values);
  const failed = runs.filter((v) => !Number.isFinite(v)).length;
  const recordedText = `libdill: **recorded** figures from bench/libdill-recorded.json, not measured by this run`;
  if (runs.length === 0) return `${recordedText}${o.notLive}: ${o.recorded.machine}.`;
  if (failed === runs.length)
    return `libdill: not live: every one of the ${runs.length} runs of the C workloads failed (see the failures).`;
  const how = `the C workloads of bench/c/ built with \`cc -O2\` (${o.how}) and run interleaved with the others`;
  if (failed > 0) return `libdill: partly live, ${failed} of ${runs.length} runs of ${how} failed (see the failures).`;
  return `libdill: live, ${how}.`;
}
