import { defineConfig, type Options } from "tsup";

/** The library's entries: "tsdill" and "tsdill/effection". */
const library = { index: "src/index.ts", "interop/effection": "src/interop/effection.ts" };

const common: Options = {
  dts: { entry: library },
  sourcemap: true,
  // Both builds write into dist/ at the same time: `npm run build` empties it first instead.
  clean: false,
  target: "node20",
  // Every entry of a build is split into shared chunks, so "tsdill", "tsdill/effection" and the
  // command all load the same runtime module (one scheduler, one handle table).
  splitting: true,
  // The published build compiles class fields as constructor assignments (see tsconfig.build.json).
  tsconfig: "tsconfig.build.json",
};

export default defineConfig([
  // ESM: the library entries and the `tsdill` command (bin).
  { ...common, entry: { ...library, cli: "src/cli/main.ts" }, format: ["esm"] },
  // CommonJS: the library entries only.
  { ...common, entry: library, format: ["cjs"] },
]);
