/** A reader of the trace files tsdill writes, for the tests. */
import type { ChromeTrace } from "../src/index.js";

/**
 * A reader of the Chrome Trace Event format, as strict as the viewers need: the fields each phase
 * requires, begin/end pairs nested per track, every flow started once and ended once after its
 * start inside a slice, times in order. Returns the problems found.
 */
export function validate(trace: ChromeTrace): string[] {
  const bad: string[] = [];
  if (!Array.isArray(trace.traceEvents)) return ["traceEvents is not an array"];
  const stacks = new Map<string, string[]>();
  const flows = new Map<number, { s: number; f: number; sTs: number }>();
  let lastTs = -Infinity;
  for (const [i, e] of trace.traceEvents.entries()) {
    const at = `event ${i} (${e.ph} ${e.name})`;
    if (typeof e.name !== "string" || typeof e.ph !== "string") bad.push(`${at}: no name or ph`);
    if (typeof e.pid !== "number" || typeof e.tid !== "number") bad.push(`${at}: no pid or tid`);
    if (typeof e.ts !== "number" || !Number.isFinite(e.ts)) bad.push(`${at}: no ts`);
    const key = `${e.pid}/${e.tid}`;
    const stack = stacks.get(key) ?? [];
    stacks.set(key, stack);
    if (e.ph === "M") {
      if (!["process_name", "thread_name", "thread_sort_index"].includes(e.name)) bad.push(`${at}: unknown metadata`);
      if (e.name.endsWith("_name") && typeof e.args?.name !== "string") bad.push(`${at}: no args.name`);
      continue;
    }
    if (e.ts < lastTs) bad.push(`${at}: ts ${e.ts} before ${lastTs}`);
    lastTs = e.ts;
    switch (e.ph) {
      case "B":
        stack.push(e.name);
        break;
      case "E": {
        const top = stack.pop();
        if (top !== e.name) bad.push(`${at}: ends ${e.name} but ${top ?? "nothing"} is open on ${key}`);
        break;
      }
      case "i":
        if (e.s !== "t") bad.push(`${at}: instant without thread scope`);
        break;
      case "s":
      case "f": {
        if (typeof e.id !== "number") {
          bad.push(`${at}: flow without id`);
          break;
        }
        const fl = flows.get(e.id) ?? { s: 0, f: 0, sTs: 0 };
        flows.set(e.id, fl);
        if (stack.length === 0) bad.push(`${at}: flow event outside a slice on ${key}`);
        if (e.ph === "s") {
          fl.s++;
          fl.sTs = e.ts;
        } else {
          fl.f++;
          if (e.bp !== "e") bad.push(`${at}: flow end without bp "e"`);
          if (fl.s !== 1 || e.ts < fl.sTs) bad.push(`${at}: flow end before its start`);
        }
        break;
      }
      default:
        bad.push(`${at}: unknown phase`);
    }
  }
  for (const [key, stack] of stacks) if (stack.length > 0) bad.push(`${key}: ${stack.join(", ")} never ended`);
  for (const [id, fl] of flows) if (fl.s !== 1 || fl.f > 1) bad.push(`flow ${id}: ${fl.s} starts, ${fl.f} ends`);
  return bad;
}
