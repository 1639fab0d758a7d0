/** Shared helpers of the TLS tests: certificates made with openssl, temp dirs, data, openssl peers. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { DillError, type Op } from "../src/index.js";

/** The files a test file works with: a certificate and its key, another pair, a file that is neither. */
export interface Certs {
  dir: string;
  /** Self-signed, CN and subjectAltName localhost. */
  cert: string;
  key: string;
  /** Another self-signed certificate and its own key. */
  otherCert: string;
  otherKey: string;
  /** A text file that holds no PEM at all. */
  junk: string;
}

function selfSigned(dir: string, name: string): [string, string] {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  // An EC key: quick to make, even on a loaded machine.
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  return [cert, key];
}

/**
 * For the calling test file: a temp directory with certificates made by openssl (removed after
 * the file). `use` gets them once they exist.
 */
export function certsPerFile(use: (c: Certs) => void): void {
  let dir = "";
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsdill-tls-"));
    const [cert, key] = selfSigned(dir, "cert");
    const [otherCert, otherKey] = selfSigned(dir, "other");
    const junk = path.join(dir, "junk.txt");
    fs.writeFileSync(junk, "this is not a certificate\n");
    use({ dir, cert, key, otherCert, otherKey, junk });
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** Run `op`; its DillError code, or "OK". Other exceptions pass through. */
export function* codeOf(op: Op<unknown>): Generator<unknown, string, unknown> {
  try {
    yield* op;
    return "OK";
  } catch (e) {
    if (e instanceof DillError) return e.code;
    throw e;
  }
}

/** Run `op`, which must fail; its DillError. */
export function* failure(op: Op<unknown>): Generator<unknown, DillError, unknown> {
  try {
    yield* op;
  } catch (e) {
    if (e instanceof DillError) return e;
    throw e;
  }
  throw new Error("the call was expected to fail, but it completed");
}

/** Deterministic test bytes: `n` bytes from a seed (xorshift). */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** SHA-256 of some bytes, in hex. */
export function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** A running openssl peer, its output collected as it comes. */
export class OpensslPeer {
  out = "";
  err = "";
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding("latin1").on("data", (d: string) => (this.out += d));
    child.stderr!.setEncoding("latin1").on("data", (d: string) => (this.err += d));
    this.exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  }
  /** Resolves once stdout or stderr has matched `re` (openssl prints ACCEPT when it listens). */
  async waitFor(re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.out.match(re) ?? this.err.match(re);
      if (m) return m;
      if (this.child.exitCode !== null) throw new Error(`openssl exited: ${this.err}${this.out}`);
      if (Date.now() > end) throw new Error(`openssl did not print ${re}: ${this.err}${this.out}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** Start `openssl` with `args`, stdin a pipe. */
export function openssl(args: string[]): OpensslPeer {
  return new OpensslPeer(spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] }));
}
