import { build } from "esbuild";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig, type Options } from "tsup";

/** The library's entries: "tsdill" and "tsdill/effection". */
const library = { index: "src/index.ts", "interop/effection": "src/interop/effection.ts" };

/**
 * "tsdill/eslint", the ESLint plugin. It holds no state, so it needs no ES module re-exporting
 * the CommonJS build: Node's `import` gets the ES module build, and `require` the CommonJS one,
 * which is the plugin itself (`module.exports`, through `cjsInterop`), as ESLint's plugins are.
 */
const lint = { eslint: "src/lint/eslint.ts" };

const common: Options = {
  dts: { entry: { ...library, ...lint } },
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

/**
 * Node's entry for `import`: a small ES module per library entry that re-exports the CommonJS
 * build (`dist/index.mjs` for `dist/index.cjs`). A process that both imports and requires tsdill
 * then loads the runtime once: one scheduler, one handle table, one `DillError` class. The names
 * are the entry's value exports, as esbuild sees them in the sources.
 */
async function writeNodeEsmEntries(outDir: string): Promise<void> {
  for (const [name, source] of Object.entries(library)) {
    const { metafile } = await build({
      entryPoints: [source],
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: "node",
      packages: "external",
      outfile: "entry.js",
      logLevel: "error",
    });
    const keys = Object.values(metafile.outputs)
      .flatMap((o) => o.exports)
      .sort();
    if (keys.length === 0) throw new Error(`${source}: no exports found`);
    const base = name.slice(name.lastIndexOf("/") + 1);
    const text =
      `// Node's entry for \`import\`: the CommonJS build holds tsdill's runtime, once per process.\n` +
      `import cjs from "./${base}.cjs";\n` +
      `export const {\n${keys.map((k) => `  ${k},\n`).join("")}} = cjs;\n`;
    writeFileSync(join(outDir, `${name}.mjs`), text);
  }
}

export default defineConfig((flags) => {
  const outDir = flags.outDir ?? "dist";
  return [
    // ESM: the library entries, for bundlers (the "module" condition: tree-shaken, one copy per
    // bundle), and the `tsdill` command (bin).
    // The iteration guard of the generator calls is left out of it (see guardOps in
    // src/handles/op.ts), so that installing it does not keep every call alive in a user's bundle.
    {
      ...common,
      entry: { ...library, ...lint, cli: "src/cli/main.ts" },
      format: ["esm"],
      esbuildOptions(options) {
        options.define = { ...options.define, "globalThis.__TSDILL_BUNDLER__": "true" };
      },
    },
    // CommonJS: the library entries, for `require` and, through the .mjs entries, for `import`;
    // the ESLint plugin, for `require`.
    {
      ...common,
      entry: { ...library, ...lint },
      format: ["cjs"],
      cjsInterop: true,
      onSuccess: () => writeNodeEsmEntries(outDir),
    },
  ];
});
