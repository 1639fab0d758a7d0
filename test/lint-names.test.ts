/**
 * The lint rule's list of blocking calls (src/lint/names.ts) against the API itself: TypeScript's
 * compiler reads the exports of both entries, "tsdill" (src/index.ts) and "tsdill/effection"
 * (src/interop/effection.ts), and every exported function whose result is an `Op` (or a
 * `Generator`) must be in the list, and nothing else. A new blocking call fails here until the
 * rule knows it.
 */
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { BLOCKING_CALLS, blockingNames, EFFECTION_BLOCKING_CALLS } from "../src/lint/names.js";

const src = join(import.meta.dirname, "..", "src");
const entries = [join(src, "index.ts"), join(src, "interop", "effection.ts")];

/** True when `type` is tsdill's `Op<T>` or a `Generator`, or a union of them. */
function isBlocking(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.every(isBlocking);
  const name = (type.aliasSymbol ?? type.getSymbol())?.getName();
  return name === "Op" || name === "Generator";
}

/** Every exported function of `entry`, with whether its result is blocking. */
function exportedFunctions(program: ts.Program, entry: string): Map<string, boolean> {
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const out = new Map<string, boolean>();
  for (const sym of checker.getExportsOfModule(module)) {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    const decl = target.valueDeclaration;
    if (decl === undefined) continue;
    const signatures = checker.getTypeOfSymbolAtLocation(target, decl).getCallSignatures();
    if (signatures.length === 0 || ts.isClassDeclaration(decl)) continue;
    out.set(
      sym.getName(),
      signatures.some((s) => isBlocking(s.getReturnType())),
    );
  }
  return out;
}

describe("the lint rule's blocking calls", () => {
  const program = ts.createProgram(entries, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const api = new Map<string, boolean>();
  for (const entry of entries)
    for (const [name, blocking] of exportedFunctions(program, entry)) api.set(name, blocking);
  const blockingInApi = [...api].filter(([, b]) => b).map(([n]) => n);

  it("are the exports whose result is an Op, in both entries, prefixed names included", () => {
    const listed = blockingNames();
    const missing = blockingInApi.filter((n) => !listed.has(n)).sort();
    const extra = [...listed].filter((n) => api.get(n) !== true).sort();
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  });

  it("were found by their types: the reading of the API sees both kinds of function", () => {
    // The check above would pass on an empty reading; these pin it to the API as it is.
    expect(blockingInApi.length).toBeGreaterThan(150);
    for (const n of ["bsend", "ipc_pair", "dill_yield", "dill_msleep", "effection_call", "tls_attach_client"])
      expect(api.get(n), n).toBe(true);
    for (const n of ["go", "chmake", "hclose", "now", "run", "prefix_attach", "effection_go", "ws_status"])
      expect(api.get(n), n).toBe(false);
  });

  it("are listed once each, sorted, under their libdill names", () => {
    expect([...BLOCKING_CALLS].sort()).toEqual(BLOCKING_CALLS);
    expect(new Set(BLOCKING_CALLS).size).toBe(BLOCKING_CALLS.length);
    expect(BLOCKING_CALLS.filter((n) => n.startsWith("dill_"))).toEqual(["dill_yield"]);
    expect(EFFECTION_BLOCKING_CALLS.every((n) => n.startsWith("effection_"))).toBe(true);
  });
});
