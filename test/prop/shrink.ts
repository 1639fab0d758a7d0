/**
 * A second shrinking pass for a failing program. fast-check shrinks each part of a program in
 * place (fewer steps, smaller deadlines) but cannot change its shape: a failure found three
 * launches deep stays three launches deep. This pass also inlines a launched body into its
 * launcher, turns a bundle into one `go`, drops choose arms and bundle members, moves a channel to
 * a lower number, and keeps every edit after which the program still fails, until no single
 * edit does.
 */
import { MAX_CHANNELS, Program, type Step } from "./program.js";

/** Every program one edit away from `body`, smallest edits of structure first. */
function* edits(body: Step[]): Generator<Step[]> {
  for (let i = 0; i < body.length; i++) {
    const s = body[i]!;
    const put = (...r: Step[]) => [...body.slice(0, i), ...r, ...body.slice(i + 1)];
    yield put();
    if (s.op === "go" || s.op === "join") {
      yield put(...s.body);
      if (s.op === "join") yield put({ op: "go", body: s.body });
      for (const b of edits(s.body)) yield put({ op: s.op, body: b });
    } else if (s.op === "bundle") {
      for (const m of s.members) yield put({ op: "go", body: m });
      if (s.members.length > 1)
        for (let j = 0; j < s.members.length; j++)
          yield put({ op: "bundle", members: s.members.filter((_, k) => k !== j) });
      for (let j = 0; j < s.members.length; j++) {
        for (const b of edits(s.members[j]!))
          yield put({ op: "bundle", members: s.members.map((m, k) => (k === j ? b : m)) });
      }
    } else if (s.op === "choose" && s.arms.length > 1) {
      for (let j = 0; j < s.arms.length; j++) yield put({ ...s, arms: s.arms.filter((_, k) => k !== j) });
    }
    if ("dl" in s && s.dl > 1) {
      yield put({ ...s, dl: 1 });
      yield put({ ...s, dl: s.dl - 1 });
    }
  }
}

/** `body` with every reference to channel `from` made to channel `to` instead. */
function renameChannel(body: Step[], from: number, to: number): Step[] {
  return body.map((s): Step => {
    switch (s.op) {
      case "go":
      case "join":
        return { op: s.op, body: renameChannel(s.body, from, to) };
      case "bundle":
        return { op: "bundle", members: s.members.map((m) => renameChannel(m, from, to)) };
      case "send":
      case "recv":
      case "done":
        return s.ch === from ? { ...s, ch: to } : s;
      case "choose":
        return { ...s, arms: s.arms.map((a) => (a.ch === from ? { ...a, ch: to } : a)) };
      default:
        return s;
    }
  });
}

function* candidates(p: Program): Generator<Program> {
  for (const b of edits(p.body)) yield new Program(b, p.horizon);
  for (let ch = MAX_CHANNELS - 1; ch > 0; ch--) {
    const b = renameChannel(p.body, ch, ch - 1);
    if (JSON.stringify(b) !== JSON.stringify(p.body)) yield new Program(b, p.horizon);
  }
  if (p.horizon > 1) {
    yield new Program(p.body, Math.floor(p.horizon / 2));
    yield new Program(p.body, p.horizon - 1);
  }
}

/** The smallest program reachable from `p` by single edits that all keep `fails` true. */
export async function minimize(p: Program, fails: (p: Program) => Promise<boolean>, budget = 5000): Promise<Program> {
  let tries = 0;
  for (let progress = true; progress && tries < budget;) {
    progress = false;
    for (const c of candidates(p)) {
      if (++tries > budget) break;
      if (await fails(c)) {
        p = c;
        progress = true;
        break;
      }
    }
  }
  return p;
}
