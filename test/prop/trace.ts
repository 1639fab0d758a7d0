/** The event log of a run as text, one line per event: what a failing property prints. */
import { type Event, HARNESS, type Run } from "./interpreter.js";
import { endName } from "./program.js";

type Call = Extract<Event, { k: "call" }>;

/** The name of a coroutine in messages. */
export function who(cr: number): string {
  return cr === HARNESS ? "the harness" : `cr${cr}`;
}

/** The event log, one line per event, times in virtual ms since the run began. */
export function trace(r: Run, max = 80): string {
  const t = (x: number) => `t=${x - r.t0}`.padEnd(7);
  const dl = (x: number) => (x === -1 ? "never" : x === 0 ? "0" : t(x).trim());
  const calls = new Map<number, Call>();
  const lines = r.events.map((e, i) => {
    const at = `#${i}`.padEnd(5);
    switch (e.k) {
      case "launching":
        return `${at}${" ".repeat(7)} ${who(e.cr)} ${e.via === "go" ? "go" : "bundle_go"}(cr${e.child})${e.via === "join" ? " into a go() handle" : ""}`;
      case "launch":
        return `${at}${" ".repeat(7)} ${who(e.cr)}: the launch of cr${e.child} ${e.err === null ? "returns" : `fails: ${e.err}`}`;
      case "start":
        return `${at}${t(e.t)} cr${e.cr} starts`;
      case "exit":
        return `${at}${t(e.t)} cr${e.cr} finishes`;
      case "close":
        return `${at}${t(e.t)} ${who(e.cr)} hclose(handle of ${e.covers.map((c) => `cr${c}`).join(" ") || "an empty bundle"})`;
      case "closed":
        return `${at}${t(e.t)} ${who(e.cr)} hclose returns`;
      case "chmake":
        return `${at}${t(e.t)} ${who(e.cr)} chmake -> c${e.ch}`;
      case "chdone":
        return `${at}${t(e.t)} ${who(e.cr)} chdone(${endName(e.ch, e.end)})${e.err === null ? "" : ` -> ${e.err}`}`;
      case "chclose":
        return `${at}${t(e.t)} ${who(e.cr)} hclose(c${e.ch}a), hclose(c${e.ch}b)`;
      case "call": {
        calls.set(e.call, e);
        let args = "";
        if (e.op === "chsend") args = `${endName(e.ch!, e.end!)}, "${e.val}", `;
        else if (e.op === "chrecv") args = `${endName(e.ch!, e.end!)}, `;
        else if (e.op === "choose")
          args = `[${e.arms!.map((a) => (a.send ? `send ${endName(a.ch, a.end)} "${a.val}"` : `recv ${endName(a.ch, a.end)}`)).join(", ")}], `;
        else if (e.op === "bundle_wait") args = `${e.on} handle of {${e.covers!.map((c) => `cr${c}`).join(" ")}}, `;
        return `${at}${t(e.t)} cr${e.cr} ${e.op}(${args}${e.op === "dill_yield" ? "" : dl(e.dl)})`;
      }
      case "ret": {
        const c = calls.get(e.call)!;
        const what =
          e.err !== null
            ? e.err
            : c.op === "choose"
              ? `${e.idx}${e.value !== undefined ? ` "${e.value}"` : ""}`
              : e.value !== undefined
                ? `"${e.value}"`
                : "ok";
        return `${at}${t(e.t)} cr${e.cr} ${c.op} -> ${what}`;
      }
    }
  });
  if (lines.length > max) return [...lines.slice(0, max), `… ${lines.length - max} more events`].join("\n");
  return lines.join("\n");
}
