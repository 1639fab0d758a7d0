import { defineConfig } from "tsup";

export default defineConfig({
  // One build for every library entry, split into shared chunks: "tsdill" and "tsdill/effection"
  // load the same runtime module (one scheduler, one handle table), in ESM and in CJS alike.
  entry: {
    index: "src/index.ts",
    "interop/effection": "src/interop/effection.ts",
  },
  format: ["esm", "cjs"],
  splitting: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // The published build compiles class fields as constructor assignments (see tsconfig.build.json).
  tsconfig: "tsconfig.build.json",
});
