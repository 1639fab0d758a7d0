/** What the IPC workloads of every Node system share: message sizes, socket paths, a clock. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Bytes per message in the ping-pong workloads. */
export const MSG = 64;
/** Bytes per send in the bulk workload. */
export const CHUNK = 64 * 1024;

let dir = "";
let serial = 0;
/** A fresh socket path in this process's temporary directory (removed at exit). */
export function addr(): string {
  if (dir === "") {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsdill-bench-"));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return path.join(dir, `b${++serial}.ipc`);
}

/** Seconds elapsed since `t0` (a `process.hrtime.bigint()` value). */
export function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
