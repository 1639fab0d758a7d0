/**
 * A child process for test/fd.test.ts: tsdill's native part must not be loaded when tsdill is
 * imported, only at the first IPC socket. Prints one JSON line: whether the addon was mapped
 * into the process after the import and after an `ipc_pair`.
 */
import { readFileSync } from "node:fs";
import { hclose, ipc_pair, run } from "../src/index.js";

function mapped(): boolean {
  return readFileSync("/proc/self/maps", "utf8").includes("tsdill.node");
}

const atImport = mapped();
await run(function* () {
  const [a, b] = yield* ipc_pair();
  hclose(a);
  hclose(b);
});
process.stdout.write(`${JSON.stringify({ atImport, afterPair: mapped() })}\n`);
