/**
 * A child of `tsdill serve --workers` (the supervisor, a worker) watches its parent: its stdin is
 * a pipe from the parent, and the end of that pipe means the parent is gone (killed, even with
 * SIGKILL), so the child stops instead of serving on as an orphan. Its stdout leads to the dead
 * parent by then: write errors on it are ignored.
 */

/** Call `gone` once stdin reaches its end. The watch does not keep the process alive. */
export function watchParent(gone: () => void): void {
  const stdin = process.stdin;
  stdin.on("end", gone);
  stdin.on("error", gone);
  stdin.resume();
  (stdin as { unref?: () => void }).unref?.();
}

/** Ignore write errors on stdout and stderr (EPIPE once the reading side is gone). */
export function ignoreBrokenOutput(): void {
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
}
