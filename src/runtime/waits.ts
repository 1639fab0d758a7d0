/**
 * What each coroutine waits on: the wait links that `dill_tree` shows and that a deadlock report
 * explains. Read from the records as they are, never tracked: a parked coroutine's channel
 * clauses, its bundle in `bundle_wait`, the handle table's owners. For inspection only, never the
 * hot path.
 */
import { handleEach, type HandleVfs } from "../handles/table.js";
import { BundleStorage } from "./bundle.js";
import type { Clause } from "./chan.js";
import { BLOCKED, type CrBase, DONE, Group, NEW, READY, RUNNING } from "./cr.js";
import { CoroutineStorage } from "./coroutine.js";
import { generatorName } from "./crname.js";
import { parkedSince, SLEEPING } from "./sched.js";

/** The other end of a channel a coroutine waits on, and who holds it. */
export interface DillWaitPeer {
  /** The handle of the other end, or -1 when it is closed. */
  handle: number;
  /**
   * Launch number of the coroutine that holds it: the one blocked on it, else its owner (the
   * coroutine that made it, or took it with `hown`); 0 outside any coroutine, -1 when closed.
   */
  holder: number;
  /** True when `holder` is blocked on this handle (it is the partner of the wait). */
  blocked: boolean;
  /** True when the waiting coroutine sends on this channel, false when it receives. */
  send: boolean;
}

/** A blocked coroutine's wait: the call it is in, the handles it waits on, since when. */
export interface DillWait {
  /** Launch number of the coroutine. */
  cr: number;
  /** Name of its generator function, `"anonymous"` when it has none. */
  name: string;
  /** Its own handle (`go()`), or -1 (a `run()` root, a bundle member). */
  handle: number;
  /** The blocking call it is in: `"chrecv"`, `"bundle_wait"`, `"brecv"`… */
  call: string;
  /** What it waits on: `"channel"`, `"bundle"`, `"timer"`, or the kind of the handle; `""` when not known. */
  kind: string;
  /** The handles it waits on (several for `choose`); empty when not known. */
  on: number[];
  /** For each channel in `on`, its other end and who holds it. */
  peers: DillWaitPeer[];
  /**
   * When it parked, on the `now()` clock: exact under the virtual clock and under `traceLaunch`;
   * otherwise the start of the scheduler turn in which it parked (a park reads no clock).
   */
  since: number;
  /** Its deadline, or -1. */
  deadline: number;
  /** The source line of the blocking call, under `traceLaunch`; else null. */
  site: string | null;
}

/** A snapshot of the handle table for one inspection: object → handle, handle → owner. */
export interface HandleIndex {
  handleOf: Map<unknown, number>;
  ownerOf: Map<number, number>;
  /** Every live coroutine reachable from a handle (go() records and bundle members), with its handle or -1. */
  coroutines: Map<CrBase, number>;
}

/** Index the handle table once, for describing many waits. */
export function indexHandles(): HandleIndex {
  const handleOf = new Map<unknown, number>();
  const ownerOf = new Map<number, number>();
  const coroutines = new Map<CrBase, number>();
  handleEach((h: number, vfs: HandleVfs, owner: number) => {
    handleOf.set(vfs, h);
    ownerOf.set(h, owner);
    if (vfs instanceof CoroutineStorage && vfs.state !== DONE) coroutines.set(vfs, h);
    if (vfs instanceof BundleStorage || vfs instanceof CoroutineStorage) {
      for (let c = vfs.head; c !== null; c = c.next) if (!coroutines.has(c)) coroutines.set(c, -1);
    }
  });
  return { handleOf, ownerOf, coroutines };
}

function handleOf(ix: HandleIndex, obj: unknown): number {
  return ix.handleOf.get(obj) ?? -1;
}

/** The wait of `cr` (its handle `h`, or -1), or null when it is not blocked. */
export function describeWait(cr: CrBase, h: number, ix: HandleIndex): DillWait | null {
  if (cr.state !== BLOCKED) return null;
  const traced = cr.tracedSeq === cr.seq; // parked under traceLaunch, and not woken since: the site is this wait's
  const w: DillWait = {
    cr: cr.id,
    name: generatorName(cr.gen) || "anonymous",
    handle: h,
    call: cr.waitOp,
    kind: "",
    on: [],
    peers: [],
    since: parkedSince(cr),
    deadline: cr.deadline,
    site: traced ? cr.waitSite : null,
  };
  // Recognised by their records, not by the call's name: channel clauses, a group, the sleep mark.
  if (cr.nclauses > 0) {
    w.kind = "channel";
    const cs = cr.clauses as Clause[];
    for (let i = 0; i < cr.nclauses; i++) {
      const hc = cs[i]!.hc;
      if (hc === null) continue;
      // A send is linked into the other end's inbound half; a receive into its own end's.
      const mine = cs[i]!.send ? hc.other : hc;
      const theirs = mine.other;
      const ch = handleOf(ix, mine);
      const peer = handleOf(ix, theirs);
      w.on.push(ch);
      w.peers.push({
        handle: peer,
        holder: peer < 0 ? -1 : (ix.ownerOf.get(peer) ?? 0),
        blocked: false,
        send: cs[i]!.send,
      });
    }
  } else if (cr.waitObj instanceof Group) {
    w.kind = "bundle";
    w.on.push(handleOf(ix, cr.waitObj));
  } else if (cr.waitObj === SLEEPING) {
    w.kind = "timer";
  } else if (cr.waitObj !== null && typeof cr.waitObj === "object") {
    const obj = cr.waitObj as { kind?: unknown };
    const on = handleOf(ix, obj);
    if (on >= 0) {
      w.on.push(on);
      w.kind = typeof obj.kind === "string" ? obj.kind : "";
    }
  }
  return w;
}

/** A peer handle that some coroutine in `waits` is blocked on is held by that coroutine. */
export function linkPeers(waits: DillWait[]): void {
  const waiter = new Map<number, number>();
  for (const w of waits) if (w.kind === "channel") for (const h of w.on) if (!waiter.has(h)) waiter.set(h, w.cr);
  for (const w of waits) {
    for (const p of w.peers) {
      const by = p.handle < 0 ? undefined : waiter.get(p.handle);
      if (by !== undefined) {
        p.holder = by;
        p.blocked = true;
      }
    }
  }
}

/** Short handle names, as libdill's programs call them. */
function handleWord(kind: string): string {
  if (kind === "channel") return "ch";
  return kind === "" ? "handle" : kind;
}

function crWord(id: number, name: string): string {
  return `cr ${id} \`${name}\``;
}

/** The coroutine's state in words, for the holder of a handle. */
function stateWords(cr: CrBase | undefined, w: DillWait | undefined): string {
  if (cr === undefined) return "which has finished";
  if (w !== undefined) return `blocked in ${waitWords(w)}`;
  switch (cr.state) {
    case READY:
    case NEW:
      return "ready to run";
    case RUNNING:
      return "running";
    case DONE:
      return "which has finished";
    default:
      return "";
  }
}

/** `chrecv on ch 4`, `bundle_wait on bundle 2`, `msleep`. */
export function waitWords(w: DillWait): string {
  if (w.on.length === 0) return w.call;
  const word = handleWord(w.kind);
  return `${w.call} on ${word} ${w.on.join(`, ${word} `)}`;
}

/**
 * One line per blocked coroutine, naming the call, the handle and who holds the other end:
 * "cr 7 `worker` in chsend on ch 12; ch 12's other end (ch 13) is held by cr 9 `main`, blocked in
 * chrecv on ch 4".
 */
export function explainWaits(waits: DillWait[], byId: Map<number, CrBase>): string[] {
  const waitOf = new Map<number, DillWait>();
  for (const w of waits) waitOf.set(w.cr, w);
  const lines: string[] = [];
  for (const w of waits) {
    let line = `${crWord(w.cr, w.name)} in ${waitWords(w)}`;
    if (w.kind === "channel") {
      for (let i = 0; i < w.on.length; i++) {
        const p = w.peers[i]!;
        const ch = `ch ${w.on[i]}`;
        if (p.handle < 0) {
          line += `; ${ch}'s other end is closed`;
          continue;
        }
        const end = `${ch}'s other end (ch ${p.handle})`;
        if (p.blocked) {
          const holder = byId.get(p.holder);
          const name = holder !== undefined ? generatorName(holder.gen) || "anonymous" : "";
          const who = p.holder === w.cr ? `${crWord(w.cr, w.name)} itself` : crWord(p.holder, name);
          line += `; ${end} is held by ${who}, blocked in ${waitWords(waitOf.get(p.holder)!)}`;
          continue;
        }
        let who: string;
        if (p.holder === 0) who = "outside any coroutine";
        else if (p.holder === w.cr) who = `by ${crWord(w.cr, w.name)} itself`;
        else {
          const holder = byId.get(p.holder);
          const name = holder !== undefined ? generatorName(holder.gen) || "anonymous" : "";
          who = `by ${holder !== undefined ? crWord(p.holder, name) : `cr ${p.holder}`}`;
          if (holder === undefined || holder.state === DONE) who += ", which has finished";
        }
        const nothing = p.send ? "receive from it" : "send on it or call chdone";
        line += `; ${end} is held ${who}, and no coroutine is blocked on it: nothing will ${nothing}`;
      }
    } else if (w.kind === "bundle") {
      const self = byId.get(w.cr);
      const g = self?.waitObj;
      const ghandle = `bundle ${w.on[0]}`;
      if (self !== undefined && memberOf(self, g)) {
        line += `; it is itself a member of ${ghandle}, which cannot finish before it does`;
      } else {
        const members = [...byId.values()].filter((c) => c.state !== DONE && memberOf(c, g));
        if (members.length > 0)
          line += `; ${ghandle}'s members: ${members.map((c) => `${crWord(c.id, generatorName(c.gen) || "anonymous")}, ${stateWords(c, waitOf.get(c.id))}`).join("; ")}`;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Is `cr` a member of group `g` (a bundle, or the bundle of one that a `go()` record is)? */
function memberOf(cr: CrBase, g: unknown): boolean {
  return cr === g || cr.owner === g;
}
