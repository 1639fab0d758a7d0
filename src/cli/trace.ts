/**
 * `tsdill serve --trace`: the live tree of coroutines (`dill_tree`) on stderr, every few seconds
 * and on SIGUSR2, each print headed by the time and the server's name, so that the trees of
 * several workers sharing one terminal can be told apart.
 */
import { dill_tree, msleep, now } from "../index.js";

/** Print the tree now, headed by `[ISO time] name (pid N)`. */
export function printTree(name: string): void {
  process.stderr.write(`[${new Date().toISOString()}] ${name} (pid ${process.pid}):\n${dill_tree()}\n`);
}

/** Print the tree every `every` ms, until cancelled. */
export function* tracer(every: number, name: string) {
  for (;;) {
    yield* msleep(now() + every);
    printTree(name);
  }
}
