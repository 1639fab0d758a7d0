/**
 * The socket file of `tsdill serve --workers`: the processes that did not bind it remove it
 * themselves, and only if it is still the file the server made (same device and inode), never a
 * file that replaced it meanwhile. A single-process server leaves this to its listener, which
 * does the same check.
 */
import { lstatSync, unlinkSync } from "node:fs";

/** The identity of the file at `path` as `DEV:INO`, or null when there is none. */
export function fileId(path: string): string | null {
  try {
    const st = lstatSync(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/**
 * Remove `path` if it is still the file `id` names. Returns what was done: "removed", "gone"
 * (nothing there any more) or "foreign" (another file is there now, left alone).
 */
export function removeIfOurs(path: string, id: string): "removed" | "gone" | "foreign" {
  const now = fileId(path);
  if (now === null) return "gone";
  if (now !== id) return "foreign";
  try {
    unlinkSync(path);
    return "removed";
  } catch {
    return "gone";
  }
}

/** The line that says what {@link removeIfOurs} did. */
export function removal(path: string, what: "removed" | "gone" | "foreign"): string {
  return what === "removed"
    ? `removed ${path}`
    : what === "gone"
      ? `${path} was already gone`
      : `left ${path} alone: it is not the socket file this server made`;
}
