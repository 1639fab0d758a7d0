import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // The default reporter counts skipped tests; this one also lists them, each saying why.
    reporters: ["default", "./test/skipped-reporter.ts"],
  },
});
