/**
 * The C side of the benchmark harness, with a real compiler and real processes (libdill itself is
 * not needed): the rpath when pkg-config finds libdill, the probe that keeps programs which do not
 * start out of a "live" column, the temporary build directory, the C programs' own peak RSS
 * (not their Node parent's), and the timers' scrambled sequence, the same in C and TypeScript.
 * Nothing here is timed.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WORKLOADS } from "../bench/catalogue.js";
import { buildC, C_DIR, compiler, findLibdill, haveCompiler, libdillStatus, probeC } from "../bench/libdill.js";
import { parseResult, peakRss, spread } from "../bench/lib.js";
import type { Cell, WorkloadResult } from "../bench/runner.js";
import { needs, when } from "./prerequisites.js";

const base = mkdtempSync(join(tmpdir(), "tsdill-test-bench-c-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let serial = 0;
const fresh = (): string => {
  const d = join(base, `d${++serial}`);
  mkdirSync(d);
  return d;
};

const cc = (args: string[]) => spawnSync(compiler(), args, { encoding: "utf8" });
const noCc = `the C compiler ${compiler()} is not installed (on Debian: apt-get install gcc)`;

/** Compiles a program that includes bench/c/bench.h (which needs only the C library). */
function benchProgram(source: string): string {
  const dir = fresh();
  writeFileSync(join(dir, "p.c"), source);
  const r = cc(["-O2", "-Wall", "-Werror", "-I", C_DIR, "-o", join(dir, "p"), join(dir, "p.c")]);
  expect(r.status, r.stderr).toBe(0);
  return join(dir, "p");
}

describe("finding libdill with pkg-config", () => {
  needs("cc", "pkg-config").it(
    "adds an rpath, so that a library outside the loader's paths loads when the program runs",
    () => {
      // a stand-in libdill.so in a prefix of its own, and a .pc file that names it
      const prefix = fresh();
      mkdirSync(join(prefix, "lib", "pkgconfig"), { recursive: true });
      mkdirSync(join(prefix, "include"));
      writeFileSync(join(prefix, "stub.c"), "int dill_stub_answer(void) { return 42; }\n");
      const lib = join(prefix, "lib");
      let r = cc(["-shared", "-fPIC", "-o", join(lib, "libdill.so"), join(prefix, "stub.c")]);
      expect(r.status, r.stderr).toBe(0);
      writeFileSync(
        join(lib, "pkgconfig", "libdill.pc"),
        `prefix=${prefix}\nlibdir=\${prefix}/lib\nincludedir=\${prefix}/include\n\nName: libdill\nDescription: stand-in\nVersion: 2.14\nLibs: -L\${libdir} -ldill\nCflags: -I\${includedir}\n`,
      );
      const env: NodeJS.ProcessEnv = { ...process.env, PKG_CONFIG_LIBDIR: join(lib, "pkgconfig"), PKG_CONFIG_PATH: "" };
      delete env.LIBDILL_PREFIX;
      const build = findLibdill(env)!;
      expect(build.how).toBe("pkg-config");
      expect(build.libs).toContain(`-Wl,-rpath,${lib}`);
      // the proof: a program linked with those flags starts without LD_LIBRARY_PATH
      writeFileSync(
        join(prefix, "main.c"),
        '#include <stdio.h>\nint dill_stub_answer(void);\nint main(void) { printf("%d\\n", dill_stub_answer()); return 0; }\n',
      );
      r = cc([...build.cflags, "-o", join(prefix, "main"), join(prefix, "main.c"), ...build.libs]);
      expect(r.status, r.stderr).toBe(0);
      const env2 = { ...process.env };
      delete env2.LD_LIBRARY_PATH;
      const ran = spawnSync(join(prefix, "main"), [], { encoding: "utf8", env: env2 });
      expect(ran.stderr).toBe("");
      expect(ran.stdout).toBe("42\n");
    },
  );

  it("gives an rpath for LIBDILL_PREFIX too", () => {
    const build = findLibdill({ LIBDILL_PREFIX: "/opt/dill" })!;
    expect(build.libs).toEqual(["-L/opt/dill/lib", "-Wl,-rpath,/opt/dill/lib", "-ldill"]);
  });
});

describe("the live libdill column", () => {
  it("keeps only the C programs that start and print a result", () => {
    const dir = fresh();
    const good = join(dir, "good");
    const bad = join(dir, "bad");
    writeFileSync(good, '#!/bin/sh\necho \'BENCH_RESULT {"value":1,"maxRss":1}\'\n');
    writeFileSync(
      bad,
      "#!/bin/sh\necho './go: error while loading shared libraries: libdill.so.20: cannot open shared object file' >&2\nexit 127\n",
    );
    chmodSync(good, 0o755);
    chmodSync(bad, 0o755);
    const r = probeC({ go: bad, chan: good });
    expect(r.bins).toEqual({ chan: good });
    expect(r.errors).toEqual([expect.stringMatching(/^go: .*libdill\.so\.20/)]);
  });

  const go = WORKLOADS.find((w) => w.id === "go")!;
  const withLibdill = (values: number[]): WorkloadResult[] => {
    const c: Cell = { n: 10, values, maxRss: values, extra: {}, errors: [] };
    return [{ workload: go, cells: { libdill: c } }];
  };
  const rec = { machine: "m", note: "", figures: {} };
  const o = { how: "pkg-config", notLive: " (libdill not found)", recorded: rec };

  it("says live only when every C run succeeded", () => {
    expect(libdillStatus(withLibdill([40, 41]), o)).toMatch(/^libdill: live, .*\(pkg-config\)/);
    expect(libdillStatus(withLibdill([40, NaN]), o)).toMatch(/^libdill: partly live, 1 of 2 runs/);
    expect(libdillStatus(withLibdill([NaN, NaN]), o)).toMatch(/^libdill: not live: every one of the 2 runs/);
    expect(libdillStatus([{ workload: go, cells: {} }], o)).toMatch(/^libdill: \*\*recorded\*\* .*not found/);
  });

  when(haveCompiler(), noCc).it("leaves no build directory behind", () => {
    const parent = fresh();
    // no libdill here: nothing links, but the directory is made, and removed
    const b = buildC({ how: "test", cflags: [], libs: [] }, ["go"], parent);
    expect(b.errors.length).toBe(1);
    expect(readdirSync(parent)).toEqual([expect.stringMatching(/^tsdill-bench-c-/)]);
    b.remove();
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe("the C programs' result line", () => {
  when(haveCompiler(), noCc).it("carries the program's own peak RSS, not its Node parent's", () => {
    const bin = benchProgram(
      '#include "bench.h"\nstatic double measure(long n, long p) { (void)p; return (double)n; }\nBENCH_MAIN(measure)\n',
    );
    const r = spawnSync(bin, ["7", "0"], { encoding: "utf8" });
    const res = parseResult(r.stdout);
    expect(res.value).toBe(7);
    // a program of the C library alone: a few MB; this test's process has far more
    expect(peakRss()).toBeGreaterThan(30e6);
    expect(res.maxRss).toBeGreaterThan(0);
    expect(res.maxRss).toBeLessThan(16e6);
  });

  when(haveCompiler(), noCc).it("draws the timers' sequence exactly as spread() does, with a side figure", () => {
    const n = 20_000; // beyond the 7323 values after which an inexact sequence would cycle
    const bin = benchProgram(
      [
        '#include "bench.h"',
        "static double measure(long n, long p) {",
        "    (void)p;",
        "    uint32_t x = 12345;",
        '    for (long i = 0; i < n; i++) printf("%u\\n", (unsigned)(bench_lcg(&x) % 51));',
        '    bench_extra("wallNs", 2.5);',
        "    return 1;",
        "}",
        "BENCH_MAIN(measure)",
        "",
      ].join("\n"),
    );
    const r = spawnSync(bin, [String(n), "0"], { encoding: "utf8", maxBuffer: 1 << 24 });
    const lines = r.stdout.trim().split("\n");
    const c = lines.slice(0, n).map(Number);
    expect(c.slice(0, 4)).toEqual([18, 25, 30, 17]);
    expect(Array.from(spread(n, 0))).toEqual(c);
    expect(parseResult(r.stdout).extra).toEqual({ wallNs: 2.5 });
  });
});
