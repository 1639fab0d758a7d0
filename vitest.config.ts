import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // One test file per core: many files mostly wait on sockets, timers and child processes, so
    // the cores stay busy (vitest's default leaves one core idle: a single file at a time on 2).
    maxWorkers: availableParallelism(),
    // The default reporter counts skipped tests; this one also lists them, each saying why.
    reporters: ["default", "./test/skipped-reporter.ts"],
  },
});
