/**
 * The programs users run first: the demo behind `npm start`, the README's program and the
 * tutorial steps, each checked against the output its documentation shows. Each runs in its own
 * Node process, as a user would run it.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

function example(file: string, ...args: string[]) {
  return run(process.execPath, ["--import", "tsx", join("examples", file), ...args], { cwd: root, timeout: 60_000 });
}

describe("the examples", () => {
  it("npm start runs the demo: server and clients in one tree, every answer verified, nothing left open", async () => {
    const { stdout, stderr } = await run("npm", ["run", "--silent", "start"], { cwd: root, timeout: 60_000 });
    expect(stderr).toBe("");
    expect(stdout).toContain("tsdill demo: a key-value server and 20 clients in one process");
    // The live tree, halfway through: the server's handlers and the clients, each under its owner.
    expect(stdout).toMatch(/coroutine \d+ \(demoMain\)/);
    expect(stdout).toMatch(/coroutine \d+ \(serveListener\)/);
    expect(stdout).toMatch(/coroutine \d+ \(handler\) .*── ipc \d+/);
    expect(stdout).toMatch(/coroutine \d+ \(client\) .*── ipc \d+/);
    expect(stdout).toContain("load: 20 clients x 250 requests");
    expect(stdout).toContain("requests: 5000 ok, 0 failed");
    expect(stdout).toContain("errors: none");
    expect(stdout).toContain("verify: 5000 answers checked, 0 lost, 0 duplicated, 0 corrupted");
    expect(stdout).toContain(
      "connections: 20 accepted, 0 refused (EBUSY), 0 dropped (EMFILE), 0 cancelled at shutdown",
    );
    expect(stdout).toContain("requests: 5000 served, 0 answered with ERR");
    expect(stdout).toContain("left open afterwards: 0 coroutines, 0 handles, 0 pool storages");
  });

  it("runs the pre-fork example: two workers share the parent's socket and exit cleanly", async () => {
    const { stdout, stderr } = await example("prefork.ts");
    expect(stderr).toBe("");
    expect(stdout).toBe(
      [
        "20 of 20 requests answered by the 2 workers",
        "workers exited with codes 0, 0",
        "socket file removed: true",
        "left open: 0 coroutines, 0 handles",
        "",
      ].join("\n"),
    );
  });

  it("runs the WebSocket echo example: tsdill clients get their echoes, the page is served, nothing left open", async () => {
    const { stdout, stderr } = await example("ws-echo.ts", "--clients", "3");
    expect(stderr).toBe("");
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^serving http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(lines.filter((l) => l.startsWith("received: client ")).sort()).toEqual([
      "received: client 1",
      "received: client 2",
      "received: client 3",
    ]);
    expect(lines.slice(-4)).toEqual([
      "page: HTTP/1.1 200 OK",
      "clients: 3 of 3 got their echoes",
      "left open: 0 coroutines, 0 handles",
      "",
    ]);
  });

  it("runs the README's program with the output the README shows", async () => {
    const { stdout } = await example("readme.ts");
    expect(stdout).toBe("worker 1 finished\nworker 2 finished\nworker 3 finished\nticker cancelled, cleanup ran\n");
  });

  it("runs the effection interop example: results and cancellation cross both ways", async () => {
    const { stdout } = await example("effection.ts");
    expect(stdout).toBe(
      [
        "effection inside tsdill",
        "  the effection operation returned 42",
        "  effection: the task was halted, its finally ran",
        "  tsdill: the wait failed with ETIMEDOUT",
        "tsdill inside effection",
        '  the coroutine returned "done in tsdill"',
        "  tsdill: the coroutine's msleep failed with ECANCELED",
        "  tsdill: the coroutine's finally ran",
        "  effection: halted the task that ran the coroutine",
        "left open: 0 coroutines, 0 handles",
        "",
      ].join("\n"),
    );
  });

  // Tutorial steps are examples/stepNN-name.ts; each is shown on the page of docs/tutorial/ that
  // links to it, followed by the output it prints. The program must print exactly that output.
  const steps = readdirSync(join(root, "examples"))
    .filter((f) => /^step\d+-.*\.ts$/.test(f))
    .sort();
  const pages = readdirSync(join(root, "docs", "tutorial")).map((f) =>
    readFileSync(join(root, "docs", "tutorial", f), "utf8"),
  );

  function documentedOutput(file: string): string | undefined {
    const page = pages.find((md) => md.includes(`(../../examples/${file})`));
    if (page === undefined) return undefined;
    // The output is the page's one code block without a language.
    return [...page.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].find((m) => m[1] === "")?.[2];
  }

  it("numbers the tutorial steps with two digits, so that they sort in order", () => {
    expect(steps.length).toBeGreaterThan(0);
    for (const f of steps) expect(f).toMatch(/^step\d\d-/);
  });

  it.each(steps)("shows on the tutorial page only code that is in %s", (file) => {
    const page = pages.find((md) => md.includes(`(../../examples/${file})`));
    expect(page, `a page of docs/tutorial/ shows ${file}`).toBeDefined();
    const program = new Set(
      readFileSync(join(root, "examples", file), "utf8")
        .split("\n")
        .map((l) => l.trim()),
    );
    const shown = [...page!.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].flatMap((m) =>
      m[1]!.split("\n").map((l) => l.trim()),
    );
    // Lines left out of an excerpt are marked with a comment starting "// ...".
    expect(shown.filter((l) => l !== "" && !l.startsWith("// ...") && !program.has(l))).toEqual([]);
  });

  it.each(steps)("runs the tutorial program %s and prints the output its page shows", async (file) => {
    const expected = documentedOutput(file);
    expect(expected, `a page of docs/tutorial/ shows ${file} and its output`).toBeDefined();
    const { stdout, stderr } = await example(file);
    expect(stderr).toBe("");
    expect(stdout).toBe(expected);
  });
});
