/**
 * The name of a coroutine: the name of the generator function that made its body.
 *
 * A generator object does not expose its function to JavaScript, but V8 knows it (the debugger
 * shows it as `[[GeneratorFunction]]`). It is asked through an in-process inspector session,
 * once per generator function: the answer is cached by the function's `prototype` object, which
 * every generator made by that function inherits from. This is for `dill_tree`, never the hot path.
 */
import type { Session } from "node:inspector";

const names = new WeakMap<object, string>();
let session: Session | null = null;
let broken = false;
const PROBE = "__tsdill_generator_probe";

/** Post a command to the in-process inspector; its callback runs before `post` returns. */
function post(method: string, params: object): Record<string, unknown> | null {
  let out: Record<string, unknown> | null = null;
  session!.post(method, params, (err, res) => {
    if (!err) out = res as Record<string, unknown>;
  });
  return out;
}

interface RemoteObject {
  objectId?: string;
  value?: unknown;
}

function ask(gen: object): string {
  if (session === null) {
    // Loaded on first use only: most programs never ask for a name, and a Node built without
    // the inspector still loads tsdill (its coroutines then stay unnamed).
    const inspector = process.getBuiltinModule?.("node:inspector") as typeof import("node:inspector") | undefined;
    if (inspector === undefined) throw new Error("node:inspector is not available");
    session = new inspector.Session();
    session.connect();
  }
  const g = globalThis as Record<string, unknown>;
  g[PROBE] = gen;
  const ids: string[] = [];
  try {
    const ev = post("Runtime.evaluate", { expression: `globalThis.${PROBE}` });
    const obj = ev?.result as RemoteObject | undefined;
    if (obj?.objectId === undefined) return "";
    ids.push(obj.objectId);
    const props = post("Runtime.getProperties", { objectId: obj.objectId, ownProperties: true });
    const internal = (props?.internalProperties ?? []) as { name: string; value?: RemoteObject }[];
    const fn = internal.find((p) => p.name === "[[GeneratorFunction]]")?.value;
    if (fn?.objectId === undefined) return "";
    ids.push(fn.objectId);
    const name = post("Runtime.callFunctionOn", {
      objectId: fn.objectId,
      functionDeclaration: "function () { return this.name; }",
      returnByValue: true,
    });
    const v = (name?.result as RemoteObject | undefined)?.value;
    return typeof v === "string" ? v : "";
  } finally {
    delete g[PROBE];
    for (const objectId of ids) post("Runtime.releaseObject", { objectId });
  }
}

/** The generator function's name behind `gen`, or "" when it has none or cannot be known. */
export function generatorName(gen: object | null): string {
  if (gen === null) return "";
  const proto = Object.getPrototypeOf(gen) as object | null;
  if (proto === null) return "";
  const known = names.get(proto);
  if (known !== undefined) return known;
  let name = "";
  if (Object.prototype.toString.call(gen) !== "[object Generator]") {
    // A hand-written iterator: its class names it.
    const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
    name = typeof ctor?.name === "string" ? ctor.name : "";
  } else if (!broken) {
    try {
      name = ask(gen);
    } catch {
      broken = true; // no inspector in this runtime: coroutines stay unnamed
    }
  }
  names.set(proto, name);
  return name;
}

/** The scripts V8 has parsed, by script id: URL and source map URL, learnt from the debugger. */
const scripts = new Map<string, { url: string; map: string }>();

function scriptOf(id: string): { url: string; map: string } | undefined {
  if (!scripts.has(id)) {
    // Enabling the debugger reports every script parsed so far; it is disabled again at once.
    const onScript = (m: { params: { scriptId: string; url: string; sourceMapURL?: string } }): void => {
      scripts.set(m.params.scriptId, { url: m.params.url, map: m.params.sourceMapURL ?? "" });
    };
    session!.on("Debugger.scriptParsed", onScript);
    try {
      post("Debugger.enable", {});
      post("Debugger.disable", {});
    } finally {
      session!.off("Debugger.scriptParsed", onScript);
    }
  }
  return scripts.get(id);
}

/**
 * `url:line:column`, through the script's source map when it has one (TypeScript run by a loader
 * or a test runner): the one Node registered, or an inline one.
 */
function original(url: string, mapUrl: string, line: number, column: number): string {
  try {
    const mod = process.getBuiltinModule?.("node:module") as typeof import("node:module") | undefined;
    let map = mod?.findSourceMap(url);
    const inline = /^data:application\/json[^,]*;base64,(.*)$/.exec(mapUrl);
    if (map === undefined && mod !== undefined && inline !== null) {
      map = new mod.SourceMap(JSON.parse(Buffer.from(inline[1]!, "base64").toString("utf8")) as never);
    }
    const e = map?.findEntry(line, column) as
      { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
    if (e?.originalSource !== undefined && e.originalLine !== undefined)
      return `${e.originalSource}:${e.originalLine + 1}:${(e.originalColumn ?? 0) + 1}`;
  } catch {
    // no source map: the generated position is the best there is
  }
  return `${url}:${line + 1}:${column + 1}`;
}

/**
 * Where the suspended generator `gen` stands, as a stack frame: `at worker (file:///app/x.ts:3:5)`;
 * null when it cannot be known. For error reports only (it enables the debugger for a moment).
 */
export function generatorLocation(gen: object | null): string | null {
  if (gen === null || broken || Object.prototype.toString.call(gen) !== "[object Generator]") return null;
  try {
    const name = generatorName(gen) || "anonymous";
    if (session === null) return null;
    const g = globalThis as Record<string, unknown>;
    g[PROBE] = gen;
    let objectId: string | undefined;
    try {
      const ev = post("Runtime.evaluate", { expression: `globalThis.${PROBE}` });
      objectId = (ev?.result as RemoteObject | undefined)?.objectId;
      if (objectId === undefined) return null;
      const props = post("Runtime.getProperties", { objectId, ownProperties: true });
      const internal = (props?.internalProperties ?? []) as { name: string; value?: { value?: unknown } }[];
      const loc = internal.find((p) => p.name === "[[GeneratorLocation]]")?.value?.value as
        { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
      if (loc === undefined) return null;
      const script = scriptOf(loc.scriptId);
      if (script === undefined || script.url === "") return null;
      return `at ${name} (${original(script.url, script.map, loc.lineNumber, loc.columnNumber)})`;
    } finally {
      delete g[PROBE];
      if (objectId !== undefined) post("Runtime.releaseObject", { objectId });
    }
  } catch {
    return null;
  }
}
