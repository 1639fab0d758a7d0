/**
 * tsdill's native part (native/tsdill.c, built at install by native/build.cjs): loaded once, on
 * first use. When it is absent (not built, the build failed, or TSDILL_NO_ADDON=1 in the
 * environment) the calls that need it fail with ENOTSUP saying why, and nothing else changes.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dillError } from "../handles/errors.js";

/** The native calls. Each returns its result, or a negated errno. */
export interface Native {
  init(dispatch: (fd: number, status: number, events: number) => void): number;
  pollStart(fd: number, events: number): number;
  pollStop(fd: number): number;
  ready(fd: number, events: number): number;
  fdCheck(fd: number): number;
  dup(fd: number): number;
  close(fd: number): number;
  sendFd(sock: number, fd: number): number;
  recv(sock: number, buf: Uint8Array, out: Int32Array): number;
  pipe(out: Int32Array): number;
  socketpair(out: Int32Array): number;
}

/** libuv's poll events. */
export const READABLE = 1;
export const WRITABLE = 2;

declare const __filename: string | undefined;

/**
 * This module's file, under every build: CommonJS has __filename; elsewhere V8's call sites say
 * where this function is (import.meta cannot be written here: the CommonJS build would not parse).
 */
function here(): string {
  if (typeof __filename === "string") return __filename;
  const prepare = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_e, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    const file = frames[0]?.getFileName() ?? "";
    return file.startsWith("file:") ? fileURLToPath(file) : file;
  } finally {
    Error.prepareStackTrace = prepare;
  }
}

/** The package's root: the nearest folder above this file whose package.json is tsdill's. */
function packageRoot(): string | null {
  let dir = dirname(here());
  for (let i = 0; i < 5; i++) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name === "tsdill") return dir;
      } catch {
        // not ours
      }
    }
    dir = dirname(dir);
  }
  return null;
}

let loaded = false;
let addon: Native | null = null;
let why = "";

function load(): void {
  loaded = true;
  if (process.env.TSDILL_NO_ADDON === "1") {
    why = "tsdill's native part is turned off (TSDILL_NO_ADDON=1)";
    return;
  }
  const root = packageRoot();
  if (root === null) {
    why = "tsdill's native part was not found (no package folder)";
    return;
  }
  const file = join(root, "build", "Release", "tsdill.node");
  if (!existsSync(file)) {
    const status = join(root, "build", "tsdill-build.txt");
    const reason = existsSync(status)
      ? readFileSync(status, "utf8").trim()
      : "it was not built (install scripts did not run)";
    why = `tsdill's native part is absent: ${reason}; rebuild it with \`npm rebuild tsdill\` (needs a C compiler, make, python3 and Node's headers)`;
    return;
  }
  try {
    addon = createRequire(here())(file) as Native;
  } catch (e) {
    why = `tsdill's native part did not load: ${(e as Error).message}`;
  }
}

/** The native part, or null when it is absent (then {@link nativeMissing} says why). */
export function nativeOrNull(): Native | null {
  if (!loaded) load();
  return addon;
}

/** Why the native part is absent ("" when it is loaded). */
export function nativeMissing(): string {
  if (!loaded) load();
  return why;
}

/** The native part, for `fn`; ENOTSUP saying why when it is absent. */
export function native(fn: string): Native {
  if (!loaded) load();
  if (addon !== null) return addon;
  throw dillError("ENOTSUP", fn, undefined, why);
}
