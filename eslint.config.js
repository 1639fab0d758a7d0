// ESLint for tsdill: typescript-eslint's recommended rules, with formatting left to Prettier.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";
import { tsImport } from "tsx/esm/api";

// tsdill's own ESLint plugin (the package's "tsdill/eslint"), from its sources: the examples and
// the tests are linted with it, as a user's code would be.
const { default: tsdill } = await tsImport("./src/lint/eslint.ts", import.meta.url);

export default tseslint.config(
  { ignores: ["dist/", "docs/api/", "node_modules/", "coverage/", ".tmp/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: "readonly",
        process: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setImmediate: "readonly",
        Buffer: "readonly",
      },
    },
    rules: {
      // A coroutine body is a generator function, and one that never blocks is still a coroutine.
      "require-yield": "off",
      // Unused names are the compiler's job (noUnusedLocals, noUnusedParameters); `_` marks a deliberate one.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
  {
    // Tests throw from finally blocks on purpose, to check what the runtime does with cleanup that fails.
    files: ["test/**/*.ts"],
    rules: { "no-unsafe-finally": "off" },
  },
  {
    // The examples import "tsdill", as a user's program does.
    files: ["examples/**/*.ts"],
    plugins: { tsdill },
    rules: { "tsdill/no-forgotten-yield": "error" },
  },
  {
    // The tests import the sources.
    files: ["test/**/*.ts"],
    plugins: { tsdill },
    rules: {
      "tsdill/no-forgotten-yield": [
        "error",
        {
          modules: [
            "../src/index.js",
            "../../src/index.js",
            "../src/interop/effection.js",
            "../../src/interop/effection.js",
          ],
        },
      ],
    },
  },
  prettier,
);
