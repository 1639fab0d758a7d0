/**
 * `tsdill bench [args]`: the benchmark suite lives in the repository (bench/index.ts), not in the
 * published package. From a clone it is run with tsx, the arguments passed through; elsewhere
 * this says how to get it.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the sources live: the same address as package.json's `repository`. */
const REPOSITORY = "https://github.com/tsdill/tsdill";

function findRepo(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, "bench", "index.ts")) && existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return null;
}

export async function bench(argv: readonly string[]): Promise<number> {
  const root = findRepo();
  const tsx = root && join(root, "node_modules", "tsx", "dist", "cli.mjs");
  if (root === null || tsx === null || !existsSync(tsx)) {
    console.error(
      [
        "tsdill bench: the benchmark suite is not part of the installed package. Run it from a clone:",
        `  git clone ${REPOSITORY} && cd tsdill && npm ci && npm run bench`,
      ].join("\n"),
    );
    return 1;
  }
  if (argv[0] === "--help" || argv[0] === "-h") {
    console.log(
      "Usage: tsdill bench [args]\n\nRuns bench/index.ts with tsx from the repository; the arguments are passed to it unchanged.\n",
    );
  }
  const child = spawn(process.execPath, [tsx, join(root, "bench", "index.ts"), ...argv], {
    cwd: root,
    stdio: "inherit",
  });
  return new Promise((resolve) => child.on("exit", (code, sig) => resolve(code ?? (sig ? 128 : 1))));
}
