/**
 * The tsdill the benchmarks measure: the built package (`dist/`, what users install and run),
 * which `npm run bench` builds first. When there is no build, the sources are measured instead,
 * and the suite says so. Types always come from the sources.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

type Tsdill = typeof import("../src/index.js");

const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/** What is measured: "dist" (the built package) or "src" (no build found). */
export const TSDILL_FROM: "dist" | "src" = existsSync(built) ? "dist" : "src";

const lib = (
  TSDILL_FROM === "dist"
    ? await import(new URL("../dist/index.js", import.meta.url).href)
    : await import("../src/index.js")
) as Tsdill;

export default lib;

/** The built command (`tsdill serve`, `tsdill load`), which the server workloads start. */
export const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
