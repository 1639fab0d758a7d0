/**
 * `npm run bench`: runs every `bench/*.bench.ts` file, sorted by name, each in its own Node
 * process, with its output streamed as it comes. Exits non-zero when one of them fails.
 * `BENCH_QUICK=1` asks every file for small sizes (a smoke run).
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { QUICK, ROOT, machineLine, tsNodeArgs } from "./lib.js";

function runFile(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, tsNodeArgs(join("bench", file)), { cwd: ROOT, stdio: "inherit", env: process.env });
    child.on("error", (e) => {
      console.error(`bench: could not start ${file}: ${e.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const only = process.argv.slice(2);
const files = readdirSync(join(ROOT, "bench"))
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

console.log(`# tsdill benchmarks${QUICK ? " (BENCH_QUICK: small sizes, not for comparison)" : ""}`);
console.log(`${new Date().toISOString()} — ${machineLine()}\n`);

const failed: string[] = [];
const t0 = Date.now();
for (const f of files) {
  console.log(`## ${f}\n`);
  const code = await runFile(f);
  if (code !== 0) {
    failed.push(f);
    console.error(`bench: ${f} failed (exit ${code})`);
  }
  console.log("");
}
console.log(`${files.length} bench file(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s${failed.length ? `; failed: ${failed.join(", ")}` : ""}`);
process.exitCode = failed.length > 0 ? 1 : 0;
