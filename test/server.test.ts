/**
 * `tsdill serve`, `load` and the command line, as users run them: the server in a child
 * process on a socket in a temp dir, driven by socat, by raw sockets and by `tsdill load`.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT, tempDirPerFile } from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";
import { connect, killLeftovers, type Running, startServer, until } from "./server-helpers.js";

const exec = promisify(execFile);
const CLI = path.join(ROOT, "src/cli/main.ts");
let dir = "";
let serial = 0;
tempDirPerFile((d) => (dir = d));
afterEach(() => killLeftovers());

function cli(args: string[], timeout = 60_000) {
  return exec(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, timeout }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** Start `tsdill serve` (from the sources) on a fresh socket; resolves once it listens. */
function serve(...args: string[]): Promise<Running> {
  return startServer(path.join(dir, `s${++serial}.sock`), args);
}

async function stop(s: Running, sig: NodeJS.Signals = "SIGINT"): Promise<number | null> {
  s.kill(sig);
  return (await s.exit).code;
}

describe("tsdill serve", () => {
  needs("socat").it("answers a socat session: PING, SET, GET, DEL, ECHO, errors, STATS, QUIT", async () => {
    const s = await serve();
    try {
      const input =
        "PING\nSET fruit 5\napple\nGET fruit\nDEL fruit\nGET fruit\nECHO 3\nabc\nBOGUS\nSET k x\nSTATS\nQUIT\n";
      const child = spawn("socat", ["-t", "5", "-", `UNIX-CONNECT:${s.socket}`], {
        stdio: ["pipe", "pipe", "inherit"],
      });
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
      child.stdin!.end(input);
      await new Promise((r) => child.on("close", r));
      const lines = out.split("\n");
      expect(lines.slice(0, 9)).toEqual([
        "PONG",
        "OK",
        "VALUE 5",
        "apple",
        "OK",
        "NOTFOUND",
        "ECHO 3",
        "abc",
        'ERR EINVAL unknown command "BOGUS"',
      ]);
      expect(lines[9]).toBe("ERR EINVAL usage: SET key len, then len bytes");
      expect(lines[10]).toMatch(
        /^STATS pid=\d+ connections=1 open=1 refused=0 dropped=0 failed=0 requests=9 errors=2 timeouts=0 idle_timeouts=0 line_timeouts=0 nomem=0 keys=0 store_bytes=0 /,
      );
      expect(lines[11]).toBe("BYE");
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });

  it("cuts a request short at its deadline, keeps the connection, and closes one whose line is too long", async () => {
    const s = await serve("--request-timeout", "100");
    try {
      const c = await connect(s.socket);
      c.sock.write("SLEEP 10\nSLEEP 5000\nPING\n");
      await until(() => c.got().split("\n").length > 3, "three answers");
      expect(c.got()).toBe("OK\nERR ETIMEDOUT the request deadline (100 ms) expired\nPONG\n");
      c.sock.write(`${"x".repeat(2000)}\n`);
      await c.closed;
      expect(c.got()).toContain("ERR EMSGSIZE");
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });

  it("on SIGINT stops accepting, lets a request in progress finish, exits 0 and removes its socket file", async () => {
    const s = await serve("--grace", "5000");
    const c = await connect(s.socket);
    c.sock.write("PING\n");
    await until(() => c.got() === "PONG\n", "PONG");
    c.sock.write("SLEEP 300\n"); // in progress when the signal comes
    await new Promise((r) => setTimeout(r, 50));
    s.child.kill("SIGINT");
    await until(() => !existsSync(s.socket), "the socket file to go");
    await c.closed; // answered, then closed by the server
    expect(c.got()).toBe("PONG\nOK\n");
    expect((await s.exit).code).toBe(0);
    expect(s.stdout()).toContain("server: stopped (SIGINT)");
    expect(s.stdout()).toContain(
      "connections: 1 accepted, 0 refused (EBUSY), 0 dropped (EMFILE), 0 cancelled at shutdown",
    );
    expect(s.stdout()).toContain("left open: 0 coroutines, 0 handles");
    expect(existsSync(s.socket)).toBe(false);
  });

  it("cancels a connection that stays idle past --grace and still exits 0 (SIGTERM too)", async () => {
    const s = await serve("--grace", "200");
    const c = await connect(s.socket);
    c.sock.write("PING\n");
    await until(() => c.got() === "PONG\n", "PONG");
    const t0 = Date.now();
    expect(await stop(s, "SIGTERM")).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150); // it waited for the grace period first
    await c.closed;
    expect(s.stdout()).toContain("server: stopped (SIGTERM)");
    expect(s.stdout()).toContain(
      "connections: 1 accepted, 0 refused (EBUSY), 0 dropped (EMFILE), 1 cancelled at shutdown",
    );
    expect(s.stdout()).toContain("left open: 0 coroutines, 0 handles");
    expect(existsSync(s.socket)).toBe(false);
  });

  it("refuses connections over --max-conns with ERR EBUSY", async () => {
    const s = await serve("--max-conns", "1");
    try {
      const a = await connect(s.socket);
      a.sock.write("PING\n");
      await until(() => a.got() === "PONG\n", "PONG");
      const b = await connect(s.socket);
      await b.closed;
      expect(b.got()).toMatch(/^ERR EBUSY /);
      a.sock.end();
      await a.closed;
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });

  it("prints the live tree on SIGUSR2 with --trace, headed by the time and its name, as docs/server.md shows it", async () => {
    const s = await serve("--trace", "--trace-interval", "600000");
    try {
      const c = await connect(s.socket);
      c.sock.write("PING\n");
      await until(() => c.got() === "PONG\n", "PONG");
      s.kill("SIGUSR2");
      await until(() => s.stderr().includes("(tracer"), "the tree");
      const printed = s.stderr().trimEnd().split("\n");
      const docs = readFileSync(path.join(ROOT, "docs/server.md"), "utf8");
      const section = docs.slice(docs.indexOf("## The server's structure"));
      const shown = /```\n([\s\S]*?)\n```/.exec(section)![1]!.split("\n");
      // The same lines but for the time and the numbers (ids, handles, pid).
      const shape = (l: string) => l.replace(/^\[[^\]]+\]/, "[time]").replace(/\d+/g, "N");
      expect(printed.map(shape)).toEqual(shown.map(shape));
      expect(printed[0]).toMatch(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] server \(pid \d+\):$/);
      c.sock.end();
      await c.closed;
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });

  it("serves 500 concurrent clients of tsdill load without an error", async () => {
    const s = await serve();
    try {
      const r = await cli([
        "load",
        "--socket",
        s.socket,
        "--clients",
        "500",
        "--requests",
        "10",
        "--verify",
        "--quiet",
      ]);
      expect(r.stdout).toContain("requests: 5000 ok, 0 failed");
      expect(r.stdout).toContain("errors: none");
      expect(r.stdout).toContain("verify: 5000 answers checked, 0 lost, 0 duplicated, 0 corrupted");
      expect(r.code).toBe(0);
    } finally {
      expect(await stop(s)).toBe(0);
    }
    expect(s.stdout()).toContain(
      "connections: 500 accepted, 0 refused (EBUSY), 0 dropped (EMFILE), 0 cancelled at shutdown",
    );
  });

  it("serves with --workers 2: both workers share the socket, drain on SIGINT, the socket file goes", async () => {
    const s = await serve("--workers", "2");
    const r = await cli(["load", "--socket", s.socket, "--clients", "20", "--requests", "50", "--verify", "--quiet"]);
    expect(r.stdout).toContain("requests: 1000 ok, 0 failed");
    expect(r.code).toBe(0);
    await until(() => s.stdout().includes("worker 2: serving"), "the workers to report");
    expect(await stop(s)).toBe(0);
    const out = s.stdout();
    expect(out).toMatch(/listening on .* with 2 workers/);
    expect(out).toContain("worker 1: stopped (SIGINT)");
    expect(out).toContain("worker 2: stopped (SIGINT)");
    const served = [...out.matchAll(/requests: (\d+) served/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(served).toBe(1000);
    expect(out).toContain("all 2 workers exited; removed");
    expect(existsSync(s.socket)).toBe(false);
  });

  it("says EADDRINUSE and exits 1 when the socket path is taken", async () => {
    const s = await serve();
    try {
      const r = await cli(["serve", "--socket", s.socket]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("EADDRINUSE");
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });
});

describe("tsdill load", () => {
  it("prints its summary as JSON with --json", async () => {
    const s = await serve();
    try {
      const r = await cli([
        "load",
        "--socket",
        s.socket,
        "--clients",
        "4",
        "--requests",
        "25",
        "--size",
        "1-2000",
        "--verify",
        "--json",
      ]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(j).toMatchObject({
        clients: 4,
        requestsPerClient: 25,
        requests: 100,
        ok: 100,
        failed: 0,
        errors: {},
        verify: { checked: 100, lost: 0, duplicated: 0, corrupted: 0 },
      });
      const lat = j.latencyMs as Record<string, number>;
      expect(lat.p50).toBeLessThanOrEqual(lat.p90);
      expect(lat.p90).toBeLessThanOrEqual(lat.p99);
      expect(lat.p99).toBeLessThanOrEqual(lat.max);
      expect(j.requestsPerSecond).toBeGreaterThan(0);
      expect(j.bytesSent).toBeGreaterThan(100);
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });

  it("counts errors by errno and exits 1 when there is no server", async () => {
    const r = await cli([
      "load",
      "--socket",
      path.join(dir, "nobody.sock"),
      "--clients",
      "3",
      "--requests",
      "5",
      "--json",
      "--quiet",
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: 0,
      failed: 0,
      notSent: 15,
      connectFailed: 3,
      errors: { ENOENT: 3 },
    });
  });

  it("says it could not connect, and counts the requests it never sent apart from failed ones", async () => {
    const socket = path.join(dir, "nobody.sock");
    const r = await cli(["load", "--socket", socket, "--clients", "4", "--requests", "5", "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "could not connect: 4 of 4 clients (ENOENT: there is no socket file: is the server running, on this --socket?)",
    );
    expect(r.stdout).toContain("requests: 0 ok, 0 failed, 20 never sent");
    expect(r.stdout).toContain("latency ms: none measured (no request was answered)");
    expect(r.stdout).not.toMatch(/p50 0\.00/);
  });
});

describe("the soak test", () => {
  it("passes a short run: 50 connections x 20 rounds, nothing lost, no fd leaked", async () => {
    const { stdout } = await exec(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "test/soak.ts"), "--clients", "50", "--rounds", "20"],
      { cwd: ROOT, timeout: 60_000 },
    );
    expect(stdout).toContain("verify: 1000 answers checked, 0 lost, 0 duplicated, 0 corrupted");
    expect(stdout).toMatch(/server fds: (\d+) before the load, \1 after it; server exit code 0/);
    expect(stdout).toContain("soak: PASSED");
  });
});

describe("the tsdill command", () => {
  it("prints its help and each command's help", async () => {
    const [top, ...cmds] = await Promise.all(
      [["--help"], ...["serve", "load", "demo"].map((c) => [c, "--help"])].map((a) => cli(a)),
    );
    expect(top!.code).toBe(0);
    expect(top!.stdout).toMatch(/Usage: tsdill <command>[\s\S]*serve[\s\S]*load[\s\S]*demo[\s\S]*bench/);
    ["serve", "load", "demo"].forEach((cmd, i) => {
      expect(cmds[i]!.code).toBe(0);
      expect(cmds[i]!.stdout).toContain(`Usage: tsdill ${cmd}`);
    });
    expect(cmds[0]!.stdout).not.toContain("--parent-pipe"); // options one process passes to another
  });

  it("rejects a bad option, a bad value and an unknown command with a clear message and exit code 2", async () => {
    const [bad, value, range, cmd, proto] = await Promise.all([
      cli(["serve", "--no-such-option"]),
      cli(["load", "--clients", "many"]),
      cli(["load", "--size", "9-3"]),
      cli(["frobnicate"]),
      cli(["toString"]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("tsdill serve: unknown option --no-such-option");
    expect(value.code).toBe(2);
    expect(value.stderr).toContain('--clients must be a positive integer, got "many"');
    expect(range.code).toBe(2);
    expect(range.stderr).toContain("--size must be N or MIN-MAX");
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('unknown command "frobnicate"');
    expect(proto.code).toBe(2);
    expect(proto.stderr).toContain('unknown command "toString"');
  });

  it("validates --backlog and bounds --workers with the other options: exit code 2, the flag named", async () => {
    const [backlog, many, more, keys] = await Promise.all([
      cli(["serve", "--socket", path.join(dir, "b.sock"), "--backlog", "99999999999"]),
      cli(["serve", "--socket", path.join(dir, "w.sock"), "--workers", "100000"]),
      cli(["serve", "--socket", path.join(dir, "w.sock"), "--workers", "9", "--max-workers", "8"]),
      cli(["serve", "--max-keys", "16777216"]),
    ]);
    expect(backlog.code).toBe(2);
    expect(backlog.stderr).toContain("tsdill serve: --backlog must be at most 2147483647, got 99999999999");
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(
      /tsdill serve: --workers 100000 is more than --max-workers \(\d+: 4 per available core\); raise --max-workers to start more/,
    );
    expect(more.code).toBe(2);
    expect(more.stderr).toContain("--workers 9 is more than --max-workers (8)");
    expect(existsSync(path.join(dir, "w.sock"))).toBe(false);
    expect(keys.code).toBe(2);
    expect(keys.stderr).toContain("--max-keys must be at most 16777215, got 16777216");
  });
});
