/**
 * The programs some tests need beside Node, what they are for, and the Debian package that has
 * each: README.md's "Prerequisites" lists the same (test/prerequisites.test.ts checks it). A test
 * that needs one is declared through `needs(tool)`, or `when(condition, why)` for other
 * conditions. Where the need is not met, the test is skipped under a name that says why and how to
 * get what is missing, and test/skipped-reporter.ts prints that name at the end of the run: no
 * test is ever skipped silently.
 */
import { spawnSync } from "node:child_process";
import { describe, it, type TestFunction } from "vitest";

export const TOOLS = {
  socat: {
    debian: "socat",
    use: "a peer that is not tsdill: IPC and TCP echo both ways, the server's line protocol",
  },
  cc: {
    debian: "gcc",
    use: "a small C client with plain POSIX sockets, fds passed by a C program, the C benchmark workloads' syntax check",
  },
  "pkg-config": {
    debian: "pkg-config",
    use: "finding a libdill for the benchmarks: the rpath its flags get (with a stand-in library, not libdill)",
  },
  python3: { debian: "python3", use: "TCP peers that hold a listener's queue full or are killed with bytes unread" },
  curl: {
    debian: "curl",
    use: "an HTTP client against a tsdill HTTP server, and a SOCKS5 client through a tsdill proxy, with and without a password",
  },
  setpriv: {
    debian: "util-linux",
    use: "a process of another user (EACCES on a socket file), a lowered fs.file-max (ENFILE), as root",
  },
  chromium: {
    debian: "chromium",
    use: "a real browser, run headless: a WebSocket peer of a tsdill server, and the trace viewer's page, whose drawing is checked",
  },
} as const;

export type Tool = keyof typeof TOOLS;

/** Whether a command is on PATH. */
export function onPath(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** Why tests needing `tools` cannot run here, or "" when every tool is on PATH. */
export function missing(tools: readonly Tool[], have: (cmd: string) => boolean = onPath): string {
  return tools
    .filter((t) => !have(t))
    .map((t) => `${t} is not installed (on Debian: apt-get install ${TOOLS[t].debian})`)
    .join("; ");
}

/** The name a skipped test is reported under. */
export function skippedName(name: string, why: string): string {
  return `${name} [skipped: ${why}]`;
}

interface Gated {
  /** `it`, or a skipped test whose name says why. */
  it(name: string, fn: TestFunction, timeout?: number): void;
  /** `describe`, or a skipped group whose name says why. */
  describe(name: string, fn: () => void): void;
}

/** `it` and `describe` that run only where `condition` holds; elsewhere skipped, naming `why`. */
export function when(condition: boolean, why: string): Gated {
  if (condition)
    return { it: (name, fn, timeout) => it(name, fn, timeout), describe: (name, fn) => describe(name, fn) };
  return {
    it: (name, fn, timeout) => it.skip(skippedName(name, why), fn, timeout),
    describe: (name, fn) => describe.skip(skippedName(name, why), fn),
  };
}

/** `it` and `describe` for tests that need these programs. */
export function needs(...tools: Tool[]): Gated {
  const why = missing(tools);
  return when(why === "", why);
}
