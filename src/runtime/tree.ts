/**
 * The live tree: `dill_tree` and `dill_print_tree`. Structured concurrency made visible: every
 * running coroutine under the coroutine (or bundle) that owns it, with the handles it made.
 *
 * Nothing is tracked for it on the hot path but one number per handle (the launch number of the
 * coroutine that made it, kept by the handle table). The tree is rebuilt from the handle table,
 * the bundles' member lists and the run() roots each time it is asked for.
 */
import { dillError } from "../handles/errors.js";
import { handleEach, type HandleVfs } from "../handles/table.js";
import { BundleStorage } from "./bundle.js";
import { BLOCKED, type CrBase, DONE, NEW, READY, RUNNING } from "./cr.js";
import { CoroutineStorage } from "./coroutine.js";
import { now } from "./clock.js";
import { generatorName } from "./crname.js";
import { roots } from "./promise.js";
import { type DillWait, describeWait, type HandleIndex, indexHandles, linkPeers } from "./waits.js";

/** One object of the tree, from {@link dill_tree_json}. */
export interface DillTreeNode {
  /** `"coroutine"`, `"bundle"`, or the kind of another handle (`"channel"`, `"ipc"`…; `"user"` for `hmake`'s). */
  kind: string;
  /** Its handle, or -1 (a `run()` root, a bundle member). */
  handle: number;
  /** For a coroutine: its launch number. */
  id?: number;
  /** For a coroutine: its generator function's name (`"anonymous"` when it has none). */
  name?: string;
  /** For a coroutine: `"ready"`, `"running"`, `"blocked"` or `"finished"`. */
  state?: "ready" | "running" | "blocked" | "finished";
  /** For a blocked coroutine: what it waits in, on which handle, since when (see `DillWait`). */
  wait?: DillWait;
  /** For a bundle: the coroutines in it that have not finished. */
  count?: number;
  /** Set when it hangs from nothing because handles own each other in a cycle (see `hown`). */
  cycle?: boolean;
  /** What it owns: the handles it made, a bundle's members. */
  children: DillTreeNode[];
}

interface Node {
  label: string;
  children: Node[];
  data: DillTreeNode;
}

function stateName(cr: CrBase): "ready" | "running" | "blocked" | "finished" {
  switch (cr.state) {
    case BLOCKED:
      return "blocked";
    case RUNNING:
      return "running";
    case DONE:
      return "finished";
    default:
      return "ready";
  }
}

/** When the tree being built was asked for: the waits' durations are counted up to this moment. */
let asked = 0;

/** `on channel 4 (for 12 ms)`, and under `traceLaunch` from which line: `(for 12 ms, at …)`. */
function waitText(w: DillWait): string {
  const on = w.on.length > 0 ? ` on ${w.on.map((h) => `${w.kind || "handle"} ${h}`).join(", ")}` : "";
  const at = w.site !== null ? `, at ${w.site.replace(/^at /, "")}` : "";
  return `${on} (for ${Math.max(0, asked - w.since)} ms${at})`;
}

function state(cr: CrBase, w: DillWait | null): string {
  switch (cr.state) {
    case BLOCKED:
      return ` in ${cr.waitOp}${w !== null ? waitText(w) : ""}`;
    case READY:
    case NEW:
      return " ready";
    case RUNNING:
      return " running";
    case DONE:
      return " finished";
    default:
      return "";
  }
}

function crNode(cr: CrBase, h: number, ix: HandleIndex, waits: DillWait[]): Node {
  const name = generatorName(cr.gen) || "anonymous";
  const handle = h >= 0 ? `, handle ${h}` : "";
  const w = describeWait(cr, h, ix);
  const data: DillTreeNode = { kind: "coroutine", handle: h, id: cr.id, name, state: stateName(cr), children: [] };
  if (w !== null) {
    data.wait = w;
    waits.push(w);
  }
  return { label: `coroutine ${cr.id} (${name}${handle})${state(cr, w)}`, children: [], data };
}

function render(nodes: Node[], prefix: string, out: string[]): void {
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const last = i === nodes.length - 1;
    out.push(prefix + (last ? "└── " : "├── ") + line(n));
    render(inner(n), prefix + (last ? "    " : "│   "), out);
  }
}

/** A node whose children are all leaves shows them on its own line: `coroutine 6 (handler) ── ipc 7`. */
function inline(n: Node): boolean {
  return (
    n.children.length > 0 &&
    n.label.startsWith("coroutine") &&
    n.children.every((c) => c.children.length === 0 && !c.label.startsWith("coroutine"))
  );
}

function line(n: Node): string {
  return inline(n) ? `${n.label} ── ${n.children.map((c) => c.label).join(", ")}` : n.label;
}

function inner(n: Node): Node[] {
  return inline(n) ? [] : n.children;
}

/**
 * Returns the live tree of coroutines, bundles and open handles as text, one line per object.
 * A coroutine shows its launch number, the name of its generator function, its handle when it
 * has one, and where it waits and for how long (under `traceLaunch` also the line of the call);
 * under it are the handles it made (a handle belongs to the coroutine that made it: hand one over
 * with `hown` to make the receiver its owner). A bundle lists its coroutines; handles made
 * outside any coroutine are at the top level.
 *
 * @returns the tree, lines separated by `\n` (no newline at the end); `"(nothing open)"` when
 * nothing runs and no handle is open.
 *
 * @example
 * ```ts
 * await run(function* main() {
 *   const b = bundle();
 *   bundle_go(b, worker());
 *   yield* dill_yield();
 *   console.log(dill_tree());
 *   // coroutine 1 (main) running
 *   // └── bundle 0: 1 coroutine
 *   //     └── coroutine 2 (worker) in msleep (for 0 ms)
 *   hclose(b);
 * });
 * ```
 */
export function dill_tree(): string {
  const top = build();
  if (top.length === 0) return "(nothing open)";
  const out: string[] = [];
  for (const n of top) {
    out.push(line(n));
    render(inner(n), "", out);
  }
  return out.join("\n");
}

/**
 * Returns the live tree as data: what {@link dill_tree} prints, one object per coroutine, bundle
 * or handle, with a blocked coroutine's wait (the call, the handles it waits on, the other end of
 * a channel and who holds it, when it parked, and under `traceLaunch` the line of the call).
 *
 * @returns the top-level nodes; an empty array when nothing runs and no handle is open.
 *
 * @example
 * ```ts
 * const [root] = dill_tree_json();
 * console.log(JSON.stringify(root, null, 2));
 * // { "kind": "coroutine", "id": 1, "name": "main", "state": "blocked",
 * //   "wait": { "call": "chrecv", "kind": "channel", "on": [4], … }, "children": […] }
 * ```
 */
export function dill_tree_json(): DillTreeNode[] {
  return build().map(function data(n: Node): DillTreeNode {
    n.data.children = n.children.map(data);
    return n.data;
  });
}

/** The tree's top-level nodes. */
function build(): Node[] {
  asked = now();
  const ix = indexHandles();
  const waits: DillWait[] = [];
  const byId = new Map<number, Node>();
  const top: Node[] = [];
  const members: CrBase[] = [];
  const owned: [number, Node][] = [];
  const add = (cr: CrBase, h: number): Node => {
    const n = crNode(cr, h, ix, waits);
    if (cr.id !== 0) byId.set(cr.id, n);
    return n;
  };
  for (const cr of roots) top.push(add(cr, -1));
  handleEach((h: number, vfs: HandleVfs, owner: number) => {
    let n: Node;
    if (vfs instanceof CoroutineStorage && vfs.head === null) {
      n = add(vfs, h);
    } else if (vfs instanceof BundleStorage || vfs instanceof CoroutineStorage) {
      // A bundle, or a go() handle that bundle_go made a bundle of more than its own coroutine.
      const count = vfs.count;
      n = {
        label: `bundle ${h}: ${count} coroutine${count === 1 ? "" : "s"}`,
        children: [],
        data: { kind: "bundle", handle: h, count, children: [] },
      };
      if (vfs instanceof CoroutineStorage && vfs.state !== DONE) n.children.push(add(vfs, h));
      for (let c = vfs.head; c !== null; c = c.next) {
        n.children.push(add(c, -1));
        members.push(c);
      }
    } else {
      const kind = vfs.kind ?? "user";
      n = { label: `${kind} ${h}`, children: [], data: { kind, handle: h, children: [] } };
    }
    owned.push([owner, n]);
  });
  const parentOf = new Map<Node, Node>();
  for (const [owner, n] of owned) {
    const parent = owner === 0 ? undefined : byId.get(owner);
    if (parent !== undefined && parent !== n) {
      parent.children.push(n);
      parentOf.set(n, parent);
    } else {
      top.push(n);
    }
  }
  // Handles can own each other in a cycle (a coroutine took over, with hown, the handle of the
  // coroutine that launched it): such nodes hang from nothing on top. Show them, marked.
  const seen = new Set<Node>();
  const visit = (n: Node): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const c of n.children) visit(c);
  };
  for (const n of top) visit(n);
  for (const [, n] of owned) {
    if (seen.has(n)) continue;
    const p = parentOf.get(n)!; // every node of a cycle has a parent: cut the cycle above n
    p.children.splice(p.children.indexOf(n), 1);
    n.label += " (in an ownership cycle)";
    n.data.cycle = true;
    top.push(n);
    visit(n);
  }
  linkPeers(waits);
  return top;
}

/**
 * Prints {@link dill_tree} to `out` (standard output by default), followed by a newline.
 *
 * @param out where to write: anything with a `write(text)` method, such as `process.stderr`.
 * @throws `EINVAL` when `out` has no `write` method.
 *
 * @example
 * ```ts
 * process.on("SIGUSR2", () => dill_print_tree(process.stderr));
 * ```
 */
export function dill_print_tree(out: { write(text: string): unknown } = process.stdout): void {
  if (typeof (out as { write?: unknown } | null)?.write !== "function") {
    throw dillError("EINVAL", "dill_print_tree", "out", "out must have a write(text) method, such as process.stdout");
  }
  out.write(`${dill_tree()}\n`);
}
