/**
 * The invariants every run of every program must keep, checked on the interpreter's event log:
 * child-first start (a launched coroutine runs inside go() or bundle_go() until it first blocks
 * or ends, and nothing else runs meanwhile), structured concurrency (hclose and bundle_wait return
 * after what they cover has finished, on a bundle and on a go() handle alike, no coroutine
 * outlives the one that launched it, every started coroutine's `finally` ran), sticky
 * cancellation, exact deadlines on the virtual clock, exactly-once channel delivery, and no leaks.
 */
import { type Event, HARNESS, type Run } from "./interpreter.js";
import { type End, endName, type Node } from "./program.js";
import { who } from "./trace.js";

type Call = Extract<Event, { k: "call" }>;
type Ret = Extract<Event, { k: "ret" }>;

interface CallRec {
  call: Call;
  at: number;
  ret: Ret | null;
  retAt: number;
}

/** Where channel directions ended: a channel's close ends all four of its ways, a chdone two. */
interface Term {
  at: number;
  t: number;
  done: boolean;
  /** The ways ended, as `line(ch, end, send)`. */
  lines: Set<string>;
}

function line(ch: number, end: number, send: boolean): string {
  return `${ch}${end}${send ? "s" : "r"}`;
}

interface Transfer {
  val: string;
  ch: number;
  end: End;
  cr: number;
  rec: CallRec;
}

/**
 * All the violations in one run, as sentences; empty when the run kept every invariant. `exact`
 * (the virtual clock) also requires deadlines to fire on time, not only never early: on the real
 * clock a timer may fire late and a ready coroutine may see time move.
 */
export function check(r: Run, exact = true): string[] {
  const ev = r.events;
  const bad: string[] = [];
  const t = (x: number) => `t=${x - r.t0}`;
  const start = new Map<number, number>();
  const exit = new Map<number, number>();
  const launched = new Map<number, number>();
  const launching = new Map<number, number>();
  const cancelAt = new Map<number, number>();
  const calls: CallRec[] = [];
  const byId = new Map<number, CallRec>();
  /** Where a channel direction ended: a channel's close ends all four, a chdone two. */
  const terms: Term[] = [];
  const doneEnds = new Set<string>();

  ev.forEach((e, i) => {
    switch (e.k) {
      case "start":
        if (start.has(e.cr)) bad.push(`cr${e.cr} started twice`);
        start.set(e.cr, i);
        break;
      case "exit":
        exit.set(e.cr, i);
        break;
      case "launching":
        launching.set(e.child, i);
        break;
      case "launch":
        if (e.err === null) launched.set(e.child, i);
        break;
      case "close":
        for (const c of e.covers) if (!cancelAt.has(c)) cancelAt.set(c, i);
        break;
      case "chclose":
        terms.push({
          at: i,
          t: e.t,
          done: false,
          lines: new Set([0, 1].flatMap((end) => [line(e.ch, end, true), line(e.ch, end, false)])),
        });
        break;
      case "chdone":
        if (e.err === null) {
          if (doneEnds.has(`${e.ch}${e.end}`))
            bad.push(`a second chdone(${endName(e.ch, e.end)}) (#${i}) succeeded: it must fail with EPIPE`);
          doneEnds.add(`${e.ch}${e.end}`);
          terms.push({
            at: i,
            t: e.t,
            done: true,
            lines: new Set([line(e.ch, e.end, true), line(e.ch, 1 - e.end, false)]),
          });
        } else if (e.err !== "EPIPE" || !doneEnds.has(`${e.ch}${e.end}`)) {
          bad.push(`chdone(${endName(e.ch, e.end)}) (#${i}) failed with ${e.err}, but it was the first on that end`);
        }
        break;
      case "call": {
        const rec: CallRec = { call: e, at: i, ret: null, retAt: -1 };
        calls.push(rec);
        byId.set(e.call, rec);
        break;
      }
      case "ret": {
        const rec = byId.get(e.call)!;
        rec.ret = e;
        rec.retAt = i;
        break;
      }
    }
  });
  /** The ways `q` waits: [channel, end, sending?] of its call, or of each choose arm. */
  const lines = (q: CallRec): [number, End, boolean][] =>
    q.call.op === "chsend" || q.call.op === "chrecv"
      ? [[q.call.ch!, q.call.end!, q.call.op === "chsend"]]
      : q.call.op === "choose"
        ? q.call.arms!.map((a) => [a.ch, a.end, a.send])
        : [];
  /** Index of the first of `q`'s ways that `term` ends, or -1. */
  const ends = (term: Term, q: CallRec) => lines(q).findIndex(([c, e, s]) => term.lines.has(line(c, e, s)));
  /** The index of the first of `q`'s ways already done when it was called (a choose stops there), or Infinity. */
  const doneAt = (q: CallRec) =>
    Math.min(Infinity, ...terms.filter((x) => x.done && x.at < q.at && ends(x, q) >= 0).map((x) => ends(x, q)));
  const cancelledBefore = (cr: number, i: number) => {
    const c = cancelAt.get(cr);
    return c !== undefined && c < i;
  };
  const finishedBefore = (cr: number, i: number) => !start.has(cr) || (exit.get(cr) ?? Infinity) < i;

  // Lifetimes: every started coroutine finished (its finally ran), before the one that launched it.
  for (const [cr, i] of start) {
    if (!launched.has(cr)) bad.push(`cr${cr} started without a successful launch`);
    else if (launched.get(cr)! < i)
      bad.push(`cr${cr} started after its launch returned: go() and bundle_go() start it at once`);
    else if (launching.get(cr)! > i) bad.push(`cr${cr} started before it was launched`);
    if (!exit.has(cr)) bad.push(`cr${cr} started but never finished: its finally block did not run`);
  }

  // Child-first: while go() or bundle_go() runs, only the new coroutine and what it launches run
  // (a coroutine it closes is among them), and the call returns once the new coroutine has
  // finished or is parked in a blocking call.
  const parentOf = new Map<number, number>();
  const family = (n: Node): void => {
    parentOf.set(n.id, n.parent);
    for (const s of n.steps) {
      if (s.op === "go" || s.op === "join") family(s.node);
      else if (s.op === "bundle") s.nodes.forEach(family);
    }
  };
  family(r.program.main);
  const within = (cr: number, root: number): boolean => {
    for (let c: number | undefined = cr; c !== undefined && c !== -1; c = parentOf.get(c)) if (c === root) return true;
    return false;
  };
  for (const [child, end] of launched) {
    const begin = launching.get(child)!;
    for (let i = begin + 1; i < end; i++) {
      const e = ev[i]!;
      if (!within(e.cr, child)) {
        bad.push(`${who(e.cr)} ran (#${i}) while the launch of cr${child} was starting it (#${begin}-#${end})`);
        break;
      }
    }
    if (!start.has(child)) continue; // a run already abandoned
    const done = (exit.get(child) ?? Infinity) < end;
    const parked = calls.some(
      (q) => q.call.cr === child && q.at > begin && q.at < end && (q.retAt === -1 || q.retAt > end),
    );
    if (!done && !parked)
      bad.push(
        `the launch of cr${child} returned (#${end}) while cr${child} was neither finished nor parked in a call`,
      );
  }
  for (const cr of launched.keys()) {
    if (!start.has(cr) && !cancelAt.has(cr)) bad.push(`cr${cr} was launched, never started, and never closed`);
  }
  const walk = (n: Node): void => {
    const e = exit.get(n.id);
    if (n.parent !== -1 && e !== undefined && exit.has(n.parent) && exit.get(n.parent)! < e) {
      bad.push(
        `cr${n.id} outlived cr${n.parent}, which launched it (it finished at #${e}, after cr${n.parent} at #${exit.get(n.parent)})`,
      );
    }
    for (const s of n.steps) {
      if (s.op === "go") walk(s.node);
      else if (s.op === "bundle") s.nodes.forEach(walk);
    }
  };
  walk(r.program.main);

  // hclose returns only once what it covers has finished.
  ev.forEach((e, i) => {
    if (e.k !== "closed") return;
    for (const c of e.covers) {
      const s = start.get(c);
      if (s !== undefined && s > i) bad.push(`cr${c} started after hclose of its handle returned (#${i})`);
      else if (!finishedBefore(c, i))
        bad.push(`hclose by ${who(e.cr)} returned (#${i}) while cr${c}, which it covers, was still running`);
    }
  });

  // Launches succeed unless the launcher was cancelled, and then fail with ECANCELED.
  ev.forEach((e, i) => {
    if (e.k !== "launch" || e.cr === HARNESS) return;
    const cancelled = cancelledBefore(e.cr, i);
    if (e.err === null && cancelled)
      bad.push(`cr${e.cr} launched cr${e.child} (#${i}) after it was cancelled: the launch should fail with ECANCELED`);
    else if (e.err === "ECANCELED" && !cancelled)
      bad.push(`launch of cr${e.child} failed with ECANCELED, but cr${e.cr} was not cancelled`);
    else if (e.err !== null && e.err !== "ECANCELED") bad.push(`launch of cr${e.child} failed with ${e.err}`);
  });

  // Blocking calls: cancellation, deadlines, bundle_wait.
  for (const rec of calls) {
    const { call } = rec;
    const ret = rec.ret;
    const name = `cr${call.cr}'s ${call.op} (#${rec.at})`;
    if (ret === null) {
      bad.push(`${name} never returned`);
      continue;
    }
    const c = cancelAt.get(call.cr);
    if (ret.err === "ECANCELED") {
      if (!(c !== undefined && c < rec.retAt))
        bad.push(`${name} failed with ECANCELED, but cr${call.cr} was not cancelled`);
      continue;
    }
    if (c !== undefined && c < rec.at) {
      bad.push(
        `${name} was called after cr${call.cr} was cancelled (#${c}) and ${ret.err === null ? "succeeded" : `failed with ${ret.err}`}: it must fail with ECANCELED`,
      );
      continue;
    }
    // A call on a direction already done fails with EPIPE (a choose may first perform an earlier clause).
    const firstDone = doneAt(rec);
    if (
      firstDone < Infinity &&
      ret.err !== "EPIPE" &&
      !(call.op === "choose" && ret.err === null && ret.idx! < firstDone)
    ) {
      bad.push(
        `${name} was called after chdone on its channel end and ${ret.err === null ? "succeeded" : `failed with ${ret.err}`}: it must fail with EPIPE`,
      );
    }
    const expected = call.dl === 0 ? call.t : Math.max(call.t, call.dl);
    if (ret.err === "ETIMEDOUT") {
      if (call.op === "msleep" || call.op === "dill_yield") bad.push(`${name} failed with ETIMEDOUT`);
      else if (call.dl === -1) bad.push(`${name} failed with ETIMEDOUT without a deadline`);
      else if (ret.t < expected) bad.push(`${name} timed out early: at ${t(ret.t)}, its deadline is ${t(expected)}`);
      else if (exact && ret.t > expected)
        bad.push(`${name} timed out late: at ${t(ret.t)}, its deadline is ${t(expected)}`);
    } else if (ret.err === "EPIPE") {
      if (!terms.some((x) => x.at < rec.retAt && ends(x, rec) >= 0))
        bad.push(`${name} failed with EPIPE, but its channel was neither closed nor done`);
    } else if (ret.err !== null) {
      bad.push(`${name} failed with ${ret.err}`);
    } else if (call.op === "msleep") {
      if (call.dl === -1) bad.push(`${name} with no deadline returned without being cancelled`);
      else if (ret.t < expected) bad.push(`${name} returned early: at ${t(ret.t)}, its deadline is ${t(expected)}`);
      else if (exact && ret.t > expected)
        bad.push(`${name} returned late: at ${t(ret.t)}, its deadline is ${t(expected)}`);
    } else if (call.op === "dill_yield") {
      if (exact && ret.t !== call.t)
        bad.push(`${name}: time moved from ${t(call.t)} to ${t(ret.t)} while the coroutine was ready to run`);
    } else {
      if (exact && call.dl === 0 && ret.t !== call.t) bad.push(`${name} with deadline 0 waited until ${t(ret.t)}`);
      if (exact && call.dl > 0 && ret.t >= call.dl && ret.t !== call.t)
        bad.push(
          `${name} succeeded at ${t(ret.t)}, at or after its deadline ${t(call.dl)}: the deadline should have fired first`,
        );
      if (call.op === "bundle_wait") {
        for (const m of call.covers!) {
          if (!finishedBefore(m, rec.retAt))
            bad.push(`${name} returned while cr${m}, a member of the bundle, was still running`);
          else if (c !== undefined && c < rec.retAt && !finishedBefore(m, c))
            bad.push(`${name} returned after cr${call.cr} was cancelled, although cr${m} finished only then`);
        }
      }
    }
  }

  // Deadlines due at the same time fire in the order they were set (as on the real clock): the
  // calls they end return in the order they were made, unless a cancellation reordered them.
  // (Exact clock only: on the real clock a call made just before its deadline may find it past
  // and fail at once, ahead of an older wait whose timer has not fired yet.)
  const fired = new Map<number, CallRec[]>();
  for (const rec of exact ? calls : []) {
    const ret = rec.ret;
    if (ret === null || rec.call.dl <= rec.call.t || ret.t !== rec.call.dl || cancelledBefore(rec.call.cr, rec.retAt))
      continue;
    if (ret.err === "ETIMEDOUT" || (ret.err === null && rec.call.op === "msleep")) {
      const same = fired.get(rec.call.dl) ?? [];
      same.push(rec);
      fired.set(rec.call.dl, same);
    }
  }
  for (const [dl, recs] of fired) {
    for (let k = 1; k < recs.length; k++) {
      const a = recs[k - 1]!;
      const b = recs[k]!;
      if (b.retAt < a.retAt)
        bad.push(
          `deadline ${t(dl)} fired out of order: cr${b.call.cr}'s ${b.call.op} (set at #${b.at}) returned before cr${a.call.cr}'s ${a.call.op} (set at #${a.at})`,
        );
    }
  }

  // Channels: every value received was sent successfully, on the other end, and is received once.
  const sent = new Map<string, Transfer>();
  const failed = new Set<string>();
  const got: Transfer[] = [];
  for (const rec of calls) {
    const { call } = rec;
    const ret = rec.ret;
    if (ret === null) continue;
    if (call.op === "chsend") {
      if (ret.err === null) sent.set(call.val!, { val: call.val!, ch: call.ch!, end: call.end!, cr: call.cr, rec });
      else failed.add(call.val!);
    } else if (call.op === "chrecv") {
      if (ret.err === null) got.push({ val: ret.value as string, ch: call.ch!, end: call.end!, cr: call.cr, rec });
    } else if (call.op === "choose") {
      call.arms!.forEach((a, k) => {
        if (ret.err === null && ret.idx === k) {
          if (a.send) sent.set(a.val!, { val: a.val!, ch: a.ch, end: a.end, cr: call.cr, rec });
          else got.push({ val: ret.value as string, ch: a.ch, end: a.end, cr: call.cr, rec });
        } else if (a.send) {
          failed.add(a.val!);
        }
      });
    }
  }
  const count = new Map<string, number>();
  const peer = new Map<CallRec, CallRec>();
  /** The channel end and direction on which each call that transferred a value did so. */
  const met = new Map<CallRec, [number, End, boolean]>();
  // A call that completed while its coroutine was being cancelled had to be matched before that.
  const matchedInTime = (x: Transfer, peer: Transfer) => {
    const c = cancelAt.get(x.cr);
    if (c !== undefined && c > x.rec.at && c < x.rec.retAt && !(peer.rec.retAt < c && peer.rec.at < c)) {
      bad.push(
        `cr${x.cr}'s ${x.rec.call.op} (#${x.rec.at}) was in progress when cr${x.cr} was cancelled (#${c}) and still completed with "${x.val}", matched only later by cr${peer.cr}`,
      );
    }
  };
  for (const g of got) {
    const s = sent.get(g.val);
    const n = (count.get(g.val) ?? 0) + 1;
    count.set(g.val, n);
    if (s === undefined) {
      bad.push(
        `cr${g.cr} received ${JSON.stringify(g.val)} on ${endName(g.ch, g.end)} (#${g.rec.retAt}), ${failed.has(g.val) ? "but its send failed" : "which nobody sent"}`,
      );
      continue;
    }
    if (n > 1) bad.push(`${JSON.stringify(g.val)} was received ${n} times (again by cr${g.cr} at #${g.rec.retAt})`);
    if (s.ch !== g.ch || s.end === g.end)
      bad.push(`${JSON.stringify(g.val)} was sent on ${endName(s.ch, s.end)} but received on ${endName(g.ch, g.end)}`);
    matchedInTime(g, s);
    matchedInTime(s, g);
    peer.set(g.rec, s.rec);
    peer.set(s.rec, g.rec);
    met.set(g.rec, [g.ch, g.end, false]);
    met.set(s.rec, [s.ch, s.end, true]);
  }
  for (const s of sent.values()) {
    if (!count.has(s.val))
      bad.push(
        `cr${s.cr}'s send of ${JSON.stringify(s.val)} on ${endName(s.ch, s.end)} succeeded (#${s.rec.retAt}) but nobody received it`,
      );
  }

  // Rendezvous order (exact clock only, where the log tells when each wait ended). A call that
  // finds a peer waiting completes at once; the peer it meets is the one waiting longest on that
  // channel end, and a choose that finds several clauses ready performs the earliest.
  /** Whether `q` was still parked at event `i`: it had begun and nothing had ended its wait yet. */
  const parkedAt = (q: CallRec, i: number): boolean => {
    const ret = q.ret;
    if (ret === null || !(q.at < i && i < q.retAt)) return false;
    if (ret.err === null) {
      const p = peer.get(q);
      return p === undefined || p.at > i; // it was woken by the peer that came to it
    }
    if (ret.err === "ETIMEDOUT") return q.call.dl > (ev[i] as { t?: number }).t!;
    if (ret.err === "ECANCELED") return !cancelledBefore(q.call.cr, i);
    if (ret.err === "EPIPE") return !terms.some((x) => x.at > q.at && x.at < i && ends(x, q) >= 0);
    return true;
  };
  /** A call parked at event `i` waiting on (`ch`, `end`) in direction `send`, other than `not`, that began before `before`. */
  const waiting = (ch: number, end: End, send: boolean, i: number, before: number, not: CallRec | null) =>
    calls.find(
      (q) =>
        q !== not &&
        q.at < before &&
        lines(q).some(([c, e, s]) => c === ch && e === end && s === send) &&
        parkedAt(q, i),
    );
  if (exact) {
    // No missed rendezvous: a call made while a peer waits on its channel end completes at once.
    for (const c of calls) {
      if (c.ret === null || (c.ret.err === null && c.retAt === c.at + 1) || cancelledBefore(c.call.cr, c.at)) continue;
      for (const [ch, e, s] of lines(c).slice(0, doneAt(c))) {
        const q = waiting(ch, (1 - e) as End, !s, c.at, c.at, c);
        if (q !== undefined)
          bad.push(
            `cr${c.call.cr}'s ${c.call.op} (#${c.at}) on ${endName(ch, e)} did not meet cr${q.call.cr}'s ${q.call.op} (#${q.at}), which was waiting on ${endName(ch, (1 - e) as End)}`,
          );
      }
    }
    for (const [a, p] of peer) {
      if (a.at < p.at || a.ret === null) continue; // a: the call that came second and completed at once
      const line = met.get(p);
      if (line !== undefined) {
        const [c, e, s] = line;
        const q = waiting(c, e, s, a.at, p.at, p);
        if (q !== undefined)
          bad.push(
            `cr${a.call.cr}'s ${a.call.op} (#${a.at}) met cr${p.call.cr}'s ${p.call.op} (#${p.at}) on ${endName(c, e)}, though cr${q.call.cr}'s ${q.call.op} (#${q.at}) had been waiting there longer`,
          );
      }
      if (a.call.op === "choose" && a.ret.idx !== undefined) {
        a.call.arms!.slice(0, a.ret.idx).forEach((arm, j) => {
          const q = waiting(arm.ch, (1 - arm.end) as End, !arm.send, a.at, a.at, null);
          if (q !== undefined)
            bad.push(
              `cr${a.call.cr}'s choose (#${a.at}) performed clause ${a.ret!.idx}, but clause ${j} was ready too (cr${q.call.cr}'s ${q.call.op}, #${q.at}, was waiting): the earliest ready clause wins`,
            );
        });
      }
    }
  }

  // Closing a channel, or chdone, fails every wait still parked on what it ended with EPIPE, at once.
  for (const x of terms) {
    for (const rec of calls) {
      const { call, ret } = rec;
      if (ret === null || !(rec.at < x.at && x.at < rec.retAt) || ends(x, rec) < 0 || ret.err === "EPIPE") continue;
      if (ret.err === "ECANCELED" && cancelledBefore(call.cr, x.at)) continue;
      if (ret.err === "ETIMEDOUT" && call.dl > 0 && call.dl <= x.t) continue; // its deadline had fired already
      const p = peer.get(rec);
      if (ret.err === null && p !== undefined && p.retAt < x.at) continue; // it had been matched already
      bad.push(
        `cr${call.cr}'s ${call.op} (#${rec.at}) was waiting on a channel end when ${x.done ? "chdone" : "hclose"} ended it (#${x.at}), and got ${ret.err ?? "a value"} (#${rec.retAt}) instead of EPIPE`,
      );
    }
  }

  // Nothing left behind, nothing escaped.
  const b = r.before;
  const a = r.after;
  if (b === null || a === null) bad.push("the harness did not finish");
  else {
    for (const [what, x, y] of [
      ["coroutines", b.coroutines, a.coroutines],
      ["handles", b.handles, a.handles],
      ["pending deadlines", b.timers, a.timers],
      ["pool storages", b.pool.used, a.pool.used],
    ] as const) {
      if (y !== x) bad.push(`${what} left behind: ${y} after the run, ${x} before`);
    }
  }
  for (const e of r.errors)
    bad.push(`an exception escaped: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return bad;
}
