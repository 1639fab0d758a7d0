import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // The published build compiles class fields as constructor assignments (see tsconfig.build.json).
  tsconfig: "tsconfig.build.json",
});
