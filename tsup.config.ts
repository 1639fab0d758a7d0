import { defineConfig, type Options } from "tsup";

const common: Options = {
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  // Both builds write into dist/ at the same time: `npm run build` empties it first instead.
  clean: false,
  target: "node20",
  // The published build compiles class fields as constructor assignments (see tsconfig.build.json).
  tsconfig: "tsconfig.build.json",
};

export default defineConfig([
  // ESM: the library and the `tsdill` command (bin). Both entries share one chunk holding the
  // runtime, so the command runs the library's own code, not a second copy of it.
  { ...common, entry: { index: "src/index.ts", cli: "src/cli/main.ts" }, format: ["esm"], splitting: true },
  // CommonJS: the library alone, in one file as before.
  { ...common, entry: { index: "src/index.ts" }, format: ["cjs"] },
]);
