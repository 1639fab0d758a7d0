import { afterEach, describe, expect, it } from "vitest";
import {
  bundle,
  bundle_go,
  chdone,
  chmake,
  chrecv,
  chsend,
  type ChromeTrace,
  type ChromeTraceEvent,
  dill_configure,
  dill_trace,
  dill_trace_json,
  dill_yield,
  go,
  hclose,
  ipc_close,
  ipc_pair,
  msleep,
  now,
  run,
} from "../src/index.js";
import { drawSvg } from "../src/cli/viewer.js";
import { validate } from "./trace-format.js";

function parse(): ChromeTrace {
  return JSON.parse(dill_trace_json()) as ChromeTrace;
}

function* worker(ch: number) {
  yield* chsend(ch, 1, -1);
  yield* msleep(now() + 50);
}

function* sleeper() {
  yield* msleep(-1);
}

function* main() {
  const [a, b] = chmake();
  const w = go(worker(a));
  yield* chrecv(b, -1);
  const bn = bundle();
  bundle_go(bn, sleeper());
  try {
    yield* chrecv(b, now() + 10);
  } catch {
    // ETIMEDOUT: the deadline firing is part of the picture
  }
  hclose(bn);
  hclose(w);
  hclose(a);
  hclose(b);
}

afterEach(() => {
  dill_configure({ trace: false, clock: "real" });
});

describe("the trace recorder", () => {
  it("records nothing before it is started, nor once it is stopped", async () => {
    await run(main);
    expect(dill_trace()).toEqual([]);
    dill_configure({ trace: true });
    dill_configure({ trace: false });
    await run(main);
    expect(dill_trace()).toEqual([]);
    expect(validate(parse())).toEqual([]);
  });

  it("records launch, start, park, wake, the deadline, hclose, cancel and exit, in order, on virtual time", async () => {
    dill_configure({ clock: "virtual", trace: true });
    const t0 = now();
    await run(main);
    const evs = dill_trace();
    const times = evs.map((e) => e.time);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(times[0]).toBe(t0);
    // Launch numbers go on from the earlier tests: numbered from 1 here.
    const base = evs[0]!.cr - 1;
    const line = evs.map(
      (e) =>
        `${e.kind} ${e.cr - base}${e.by ? ` by ${e.by - base}` : ""}${e.name ? ` ${e.name}` : ""}${e.type ? ` ${e.type}` : ""}${e.reason ? ` ${e.reason}` : ""}`,
    );
    expect(line).toEqual([
      "launch 1 main",
      "start 1",
      "launch 2 by 1 worker",
      "start 2",
      "park 2 chsend",
      "wake 2 by 1",
      "launch 3 by 1 sleeper",
      "start 3",
      "park 3 msleep",
      "park 1 chrecv",
      "resume 2",
      "park 2 msleep",
      "wake 1 ETIMEDOUT",
      "resume 1",
      "close 1 hclose bundle",
      "hclose 1",
      "cancel 3 by 1",
      "wake 3 by 1",
      "resume 3",
      "exit 3 ECANCELED",
      "hclosed 1",
      "close 1 hclose coroutine",
      "hclose 1",
      "cancel 2 by 1",
      "wake 2 by 1",
      "resume 2",
      "exit 2 ECANCELED",
      "hclosed 1",
      "close 1 hclose channel",
      "close 1 hclose channel",
      "exit 1",
    ]);
    const deadlineFired = evs.find((e) => e.reason === "ETIMEDOUT")!;
    expect(deadlineFired.time - t0).toBe(10);
    const park = evs.find((e) => e.kind === "park" && e.name === "chsend")!;
    expect(park).toMatchObject({ handle: expect.any(Number), deadline: -1 });
    expect(evs.find((e) => e.kind === "launch" && e.name === "sleeper")!.group).toBeLessThan(0);
  });

  it("exports the Chrome Trace Event format: tracks per coroutine, nested slices, matched flows", async () => {
    dill_configure({ clock: "virtual", trace: true });
    await run(main);
    const trace = parse();
    expect(validate(trace)).toEqual([]);
    expect(trace.otherData.clock).toBe("virtual");
    const base = trace.traceEvents.find((e) => e.ph !== "M")!.tid - 1;
    const ev = trace.traceEvents.map((e) => ({ ...e, tid: e.tid - base, pid: e.pid - base }));
    const renumber = (name: unknown): string =>
      String(name).replace(/cr (\d+)/, (_, n: string) => `cr ${Number(n) - base}`);
    const names = ev.filter((e) => e.name === "thread_name").map((e) => renumber(e.args!.name));
    expect(names).toEqual(["cr 1 main", "cr 2 worker", "cr 3 sleeper · bundle 1"]);
    expect(ev.filter((e) => e.name === "process_name").map((e) => renumber(e.args!.name))).toEqual(["run: cr 1 main"]);
    const of = (ph: string, cat: string): ChromeTraceEvent[] => ev.filter((e) => e.ph === ph && e.cat === cat);
    // Flows: cr 1 launched 2 and 3, woke 2 (its send completed), cancelled 3 and 2.
    expect(of("s", "launch").length).toBe(2);
    expect(of("s", "wake").map((e) => e.tid)).toEqual([1]);
    expect(of("f", "cancel").map((e) => e.tid)).toEqual([3, 2]);
    // The deadline fired 10 ms (10,000 µs) in, ending main's chrecv.
    const dl = of("i", "deadline")[0]!;
    expect(dl).toMatchObject({ tid: 1, ts: 10_000 });
    const recv = of("B", "park").find((e) => e.tid === 1)!;
    expect(recv.args).toMatchObject({ call: "chrecv", deadline: 10_000 });
    // The cancellations happen inside main's hclose slices.
    const closeB = of("B", "hclose").map((e) => e.ts);
    const closeE = of("E", "hclose").map((e) => e.ts);
    const cancels = of("i", "cancel").map((e) => e.ts);
    expect(cancels[0]).toBeGreaterThan(closeB[0]!);
    expect(cancels[0]).toBeLessThan(closeE[0]!);
  });

  it("keeps only the newest events when the ring is full", async () => {
    dill_configure({ trace: { size: 16 } });
    await run(function* spin() {
      for (let i = 0; i < 100; i++) yield* dill_yield();
    });
    const evs = dill_trace();
    expect(evs.length).toBe(16);
    expect(evs.at(-1)).toMatchObject({ kind: "exit", cr: expect.any(Number) });
    const trace = parse();
    expect(trace.otherData.dropped).toBeGreaterThan(50);
    expect(validate(trace)).toEqual([]);
  });

  it("records an exception that escaped a coroutine", async () => {
    const seen: unknown[] = [];
    dill_configure({ trace: true, onUncaught: (e) => seen.push(e) });
    try {
      await run(function* () {
        const h = go(
          (function* boom() {
            yield* dill_yield();
            throw new RangeError("out of range");
          })(),
        );
        yield* msleep(now() + 5);
        hclose(h);
      });
    } finally {
      dill_configure({ onUncaught: null });
    }
    expect(seen.length).toBe(1);
    const evs = dill_trace();
    expect(evs.find((e) => e.kind === "exit" && e.reason === "RangeError")).toBeDefined();
    expect(evs.find((e) => e.kind === "uncaught")?.reason).toBe("RangeError: out of range");
    expect(validate(parse())).toEqual([]);
  });

  it("records every handle closed and every chdone, naming the handle and its type, in order, on the Chrome trace's tracks", async () => {
    dill_configure({ clock: "virtual", trace: true });
    const ids: Record<string, number> = {};
    await run(function* closer() {
      const [a, b] = chmake();
      const r = go(drainer(b));
      ids.a = a;
      ids.b = b;
      ids.r = r;
      chdone(a); // the drainer's chrecv fails with EPIPE: it returns
      yield* dill_yield();
      hclose(a);
      hclose(b);
      hclose(r);
      const [s0, s1] = yield* ipc_pair();
      ids.s0 = s0;
      ids.s1 = s1;
      hclose(s0);
      yield* ipc_close(s1, -1);
    });
    const evs = dill_trace();
    const main = evs[0]!.cr;
    const closes = evs
      .filter((e) => e.kind === "close" || e.kind === "chdone" || (e.kind === "wake" && e.cr !== main))
      .map((e) =>
        e.kind === "wake"
          ? `wake ${e.cr - main}`
          : `${e.kind} ${e.name} ${e.type} ${e.handle} by ${e.cr === main ? "main" : e.cr}`,
      );
    expect(closes).toEqual([
      `chdone chdone channel ${ids.a} by main`,
      "wake 1",
      `close hclose channel ${ids.a} by main`,
      `close hclose channel ${ids.b} by main`,
      `close hclose coroutine ${ids.r} by main`,
      `close hclose ipc ${ids.s0} by main`,
      `close ipc_close ipc ${ids.s1} by main`,
    ]);
    // The drainer, woken by chdone with EPIPE, exited before the channel was closed.
    const exit = evs.findIndex((e) => e.kind === "exit" && e.cr === main + 1);
    const closeA = evs.findIndex((e) => e.kind === "close" && e.handle === ids.a);
    expect(exit).toBeGreaterThan(0);
    expect(exit).toBeLessThan(closeA);
    const trace = parse();
    expect(validate(trace)).toEqual([]);
    const marks = trace.traceEvents.filter((e) => e.cat === "close" || e.cat === "chdone");
    expect(marks.map((e) => `${e.ph} ${e.cat} ${e.name} ${e.tid === main}`)).toEqual([
      `i chdone chdone channel h${ids.a} true`,
      `i close hclose channel h${ids.a} true`,
      `i close hclose channel h${ids.b} true`,
      `i close hclose coroutine h${ids.r} true`,
      `i close hclose ipc h${ids.s0} true`,
      `i close ipc_close ipc h${ids.s1} true`,
    ]);
    expect(marks[0]!.args).toEqual({ call: "chdone", handle: ids.a, type: "channel" });
    // The viewer draws each as a mark on the closer's lane.
    const svg = drawSvg(trace);
    expect([...svg.matchAll(/<path class="close" data-name="([^"]*)"/g)].map((m) => m[1])).toEqual(
      marks.slice(1).map((e) => e.name),
    );
    expect([...svg.matchAll(/<path class="chdone" data-name="([^"]*)"/g)].map((m) => m[1])).toEqual([
      `chdone channel h${ids.a}`,
    ]);
  });

  it("records no close and no chdone while it is off", async () => {
    dill_configure({ trace: true });
    dill_configure({ trace: false });
    await run(function* () {
      const [a, b] = chmake();
      chdone(a);
      hclose(a);
      hclose(b);
      const [s0, s1] = yield* ipc_pair();
      hclose(s0);
      yield* ipc_close(s1, -1);
    });
    expect(dill_trace()).toEqual([]);
  });
});

function* drainer(ch: number) {
  try {
    for (;;) yield* chrecv(ch, -1);
  } catch {
    // EPIPE: the other end called chdone
  }
}
