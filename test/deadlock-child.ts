/**
 * Child process of the deadlock tests (run with `node --import tsx`): runs every program of
 * deadlock-programs.ts on the real clock, one after the other, and prints one JSON line each with
 * how its run() ended. A deadlock is found when Node's event loop has nothing left to do, which
 * the test runner's own process never reaches.
 *   deadlock-child.ts DIR
 */
import { run } from "../src/index.js";
import {
  bundleWaitsOnItself,
  forgottenChdone,
  promiseResolvedLater,
  rendezvousCycle,
  socketWait,
} from "./deadlock-programs.js";

const dir = process.argv[2]!;
const programs: [string, () => Iterator<unknown, unknown, unknown>][] = [
  ["rendezvous", rendezvousCycle],
  ["chdone", forgottenChdone],
  ["bundle", bundleWaitsOnItself],
  ["promise", promiseResolvedLater],
  ["socket", () => socketWait(dir)],
];

for (const [name, main] of programs) {
  try {
    const value = await run(main);
    console.log(JSON.stringify({ name, value }));
  } catch (e) {
    const err = e as { code?: string; message?: string };
    console.log(JSON.stringify({ name, code: err.code, message: err.message }));
  }
}
