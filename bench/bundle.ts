/**
 * The measuring process, compiled once per invocation: bench/child.ts and the system modules are
 * bundled with tsup into `.tmp/bench-child.js` so that each of the hundreds of measuring
 * processes starts as plain Node (about 0.07 s) rather than through tsx (about 0.25 s). tsdill
 * itself is not bundled when `dist/` exists: the child loads the built package, as users do.
 * If bundling fails, the measuring processes run the TypeScript through tsx instead.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
// In .tmp/ directly: bench/tsdill.ts finds `../dist/index.js` relative to the module's own place.
const OUT_DIR = join(ROOT, ".tmp");
const OUT = join(OUT_DIR, "bench-child.js");

/** Node arguments that start a measuring process (before its own arguments). */
export async function childCommand(log: (s: string) => void): Promise<string[]> {
  const flags = ["--expose-gc", "--max-old-space-size=8192"];
  try {
    const { build } = await import("tsup");
    await build({
      entry: { "bench-child": join(HERE, "child.ts") },
      outDir: OUT_DIR,
      format: ["esm"],
      platform: "node",
      target: "node20",
      splitting: false,
      sourcemap: false,
      dts: false,
      clean: false,
      silent: true,
      config: false,
      external: ["effection", "effect"],
      outExtension: () => ({ js: ".js" }),
    });
    if (existsSync(OUT)) return [...flags, OUT];
    log("bench: the measuring process was not bundled; running it through tsx");
  } catch (e) {
    log(`bench: could not bundle the measuring process (${(e as Error).message}); running it through tsx`);
  }
  return [...flags, "--import", "tsx", join(HERE, "child.ts")];
}
