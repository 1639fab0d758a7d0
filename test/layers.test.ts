/**
 * The layer rules of docs/architecture.md, checked on the sources: every import in src/ points
 * down. Each folder of src/ may import only the folders listed for it below (and itself); the
 * public face (src/index.ts) may import anything, the `tsdill` command only the public face. The
 * lowest layers may not import Node's socket modules either: sockets belong to the transports.
 * A new folder of src/ fails here until it has a row, which is where its place is decided.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const src = resolve(import.meta.dirname, "..", "src");

/** What each folder of src/ may import of tsdill, besides itself. `index` is src/index.ts. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  handles: [],
  runtime: ["handles"],
  ipaddr: ["runtime", "handles"],
  stream: ["runtime", "handles"],
  ipc: ["stream", "fd", "runtime", "handles"],
  fd: ["runtime", "handles"],
  tcp: ["stream", "ipaddr", "runtime", "handles"],
  udp: ["ipaddr", "runtime", "handles"],
  protocols: ["ipaddr", "runtime", "handles"],
  interop: ["runtime", "handles"],
  cli: ["index"],
  // The ESLint plugin reads source text: it needs nothing of the runtime.
  lint: [],
};

/** Node modules of sockets and name resolution, which the floors below the transports never import. */
const SOCKET_MODULES = ["node:net", "node:dgram", "node:tls", "node:dns", "net", "dgram", "tls", "dns"];
const NO_SOCKETS = ["handles", "runtime", "stream"];
/** The stream core is below the transports, but it is where the stream sockets are made. */
const SOCKETS_ALLOWED: Record<string, readonly string[]> = { stream: ["node:net", "net"] };

/** The layer of a file of src/: its folder, or `index` for the public face. */
function layerOf(file: string): string {
  const rel = relative(src, file).split(sep);
  return rel.length === 1 ? rel[0]!.replace(/\.[jt]s$/, "") : rel[0]!;
}

/** Every import, re-export and dynamic import of `text` (type-only ones too: they are dependencies). */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The broken rules of one file: `from → to (specifier)` lines. */
function violations(file: string, specifiers: readonly string[]): string[] {
  const from = layerOf(file);
  const out: string[] = [];
  const allowed = MAY_IMPORT[from];
  for (const spec of specifiers) {
    if (spec.startsWith(".")) {
      const target = resolve(file, "..", spec);
      const rel = relative(src, target);
      if (rel.startsWith("..")) {
        out.push(`${from} → outside src (${spec})`);
        continue;
      }
      const to = layerOf(target);
      if (to === from || from === "index") continue;
      if (allowed === undefined || !allowed.includes(to)) out.push(`${from} → ${to} (${spec})`);
    } else if (NO_SOCKETS.includes(from) && SOCKET_MODULES.includes(spec)) {
      if (!(SOCKETS_ALLOWED[from] ?? []).includes(spec)) out.push(`${from} → ${spec}`);
    }
  }
  return out;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

const files = sources(src);
const name = (f: string) => relative(src, f).split(sep).join(posix.sep);

describe("the layers of src/", () => {
  it("has a rule for every folder", () => {
    const layers = new Set(files.map(layerOf));
    layers.delete("index");
    const missing = [...layers].filter((l) => !(l in MAY_IMPORT));
    expect(missing, "folders of src/ without a row in MAY_IMPORT (and in docs/architecture.md)").toEqual([]);
  });

  it("imports only point down", () => {
    const broken: string[] = [];
    for (const f of files) {
      for (const v of violations(f, importsOf(readFileSync(f, "utf8")))) broken.push(`${name(f)}: ${v}`);
    }
    expect(broken).toEqual([]);
  });

  it("sees the imports that would break a rule", () => {
    const at = (p: string) => join(src, ...p.split("/"));
    const text = [
      'import type { StreamConn } from "../stream/conn.js";',
      'export { IPC_TYPE } from "../ipc/socket.js";',
      "import {",
      "  a,",
      '} from "../tcp/storage.js";',
      'const m = import("../ipc/listen.js");',
    ].join("\n");
    expect(importsOf(text)).toEqual(["../stream/conn.js", "../ipc/socket.js", "../tcp/storage.js", "../ipc/listen.js"]);
    expect(violations(at("tcp/x.ts"), importsOf(text))).toEqual([
      "tcp → ipc (../ipc/socket.js)",
      "tcp → ipc (../ipc/listen.js)",
    ]);
    expect(violations(at("ipc/x.ts"), ["../tcp/family.js"])).toEqual(["ipc → tcp (../tcp/family.js)"]);
    expect(violations(at("protocols/x.ts"), ["../ipc/socket.js", "../stream/conn.js"])).toEqual([
      "protocols → ipc (../ipc/socket.js)",
      "protocols → stream (../stream/conn.js)",
    ]);
    expect(violations(at("handles/x.ts"), ["../runtime/sched.js"])).toEqual([
      "handles → runtime (../runtime/sched.js)",
    ]);
    expect(violations(at("runtime/x.ts"), ["../stream/conn.js", "node:net"])).toEqual([
      "runtime → stream (../stream/conn.js)",
      "runtime → node:net",
    ]);
    expect(violations(at("ipaddr/x.ts"), ["../tcp/family.js"])).toEqual(["ipaddr → tcp (../tcp/family.js)"]);
    expect(violations(at("stream/x.ts"), ["../ipaddr/ipaddr.js", "node:dgram", "node:net"])).toEqual([
      "stream → ipaddr (../ipaddr/ipaddr.js)",
      "stream → node:dgram",
    ]);
    expect(violations(at("cli/x.ts"), ["../runtime/sched.js", "../index.js"])).toEqual([
      "cli → runtime (../runtime/sched.js)",
    ]);
    expect(violations(at("index.ts"), ["./tcp/storage.js", "./ipc/socket.js"])).toEqual([]);
  });
});
