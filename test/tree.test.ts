import { describe, expect, it } from "vitest";
import {
  brecv,
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  choose,
  CHRECV,
  chrecv,
  chsend,
  dill_configure,
  dill_print_tree,
  dill_tree,
  dill_tree_json,
  type DillTreeNode,
  type DillWait,
  dill_yield,
  go,
  hclose,
  hown,
  ipc_pair,
  msleep,
  now,
  run,
} from "../src/index.js";

function* handler(ch: number) {
  const mine = hown(ch); // the handler owns the channel end from now on
  try {
    yield* msleep(-1);
  } finally {
    hclose(mine);
  }
}

function* ticker() {
  yield* msleep(-1);
}

describe("dill_tree", () => {
  it("shows coroutines by generator name under their owners, bundles with their members, and the handles each made", async () => {
    let tree = "";
    await run(function* main() {
      const b = bundle();
      const [c0, c1] = chmake();
      bundle_go(b, handler(c0));
      bundle_go(b, handler(c1));
      const t = go(ticker());
      yield* dill_yield();
      tree = dill_tree()
        .replace(/coroutine \d+/g, "coroutine N")
        .replace(/(bundle|channel|handle) \d+/g, "$1 H")
        .replace(/\(for \d+ ms\)/g, "(for T ms)");
      hclose(b);
      hclose(t);
    });
    expect(tree).toBe(
      [
        "coroutine N (main) running",
        "├── bundle H: 2 coroutines",
        "│   ├── coroutine N (handler) in msleep (for T ms) ── channel H",
        "│   └── coroutine N (handler) in msleep (for T ms) ── channel H",
        "└── coroutine N (ticker, handle H) in msleep (for T ms)",
      ].join("\n"),
    );
  });

  it("puts handles made outside any coroutine at the top level and says when nothing is open", () => {
    expect(dill_tree()).toBe("(nothing open)");
    const [a, b] = chmake();
    try {
      const [lo, hi] = a < b ? [a, b] : [b, a];
      expect(dill_tree()).toBe(`channel ${lo}\nchannel ${hi}`);
    } finally {
      hclose(a);
      hclose(b);
    }
  });

  it("nests a coroutine's own children under it and names anonymous generator functions", async () => {
    let tree = "";
    await run(function* () {
      const outer = go(
        (function* outerWorker() {
          const inner = go(ticker());
          try {
            yield* msleep(-1);
          } finally {
            hclose(inner);
          }
        })(),
      );
      yield* msleep(now() + 5);
      tree = dill_tree().replace(/\d+/g, "N");
      hclose(outer);
    });
    expect(tree).toBe(
      [
        "coroutine N (anonymous) running",
        "└── coroutine N (outerWorker, handle N) in msleep (for N ms)",
        "    └── coroutine N (ticker, handle N) in msleep (for N ms)",
      ].join("\n"),
    );
  });

  it("shows coroutines that own each other's handles, marked, instead of losing them", async () => {
    let tree = "";
    const box = { x: -1 };
    await run(function* main() {
      box.x = go(
        (function* x() {
          const y = go(
            (function* y() {
              yield* dill_yield(); // until go() has returned x's handle
              box.x = hown(box.x); // y takes over the handle of x, which made y
              yield* msleep(-1);
            })(),
          );
          try {
            yield* msleep(-1);
          } finally {
            hclose(y);
          }
        })(),
      );
      yield* msleep(now() + 5);
      tree = dill_tree().replace(/\d+/g, "N");
      hclose(box.x); // cancels x, whose finally closes y
    });
    // The cycle is cut above one of the two, which comes to the top, marked; the other hangs under it.
    const [first, cut, under] = tree.split("\n");
    expect(first).toBe("coroutine N (main) running");
    const top = /^coroutine N \((x|y), handle N\) in msleep \(for N ms\) \(in an ownership cycle\)$/.exec(cut ?? "");
    const below = /^└── coroutine N \((x|y), handle N\) in msleep \(for N ms\)$/.exec(under ?? "");
    expect([top?.[1], below?.[1]].sort()).toEqual(["x", "y"]);
  });

  it("prints the tree to a stream with a final newline", () => {
    let out = "";
    dill_print_tree({ write: (s: string) => (out += s) });
    expect(out).toBe("(nothing open)\n");
  });
});

function* receiver(ch: number) {
  yield* chrecv(ch, -1);
  yield* chrecv(ch, -1);
}

function* waiter(b: number) {
  yield* bundle_wait(b, -1);
}

function find(nodes: DillTreeNode[], name: string): DillTreeNode | undefined {
  for (const n of nodes) {
    if (n.name === name) return n;
    const c = find(n.children, name);
    if (c !== undefined) return c;
  }
  return undefined;
}

describe("wait links in the tree", () => {
  it("says on which handle a coroutine waits, and in the JSON form who holds the other end", async () => {
    dill_configure({ clock: "virtual" });
    try {
      await run(function* main() {
        const [a, b] = chmake();
        const r = go(receiver(b));
        const w = go(waiter(r));
        const parked = now();
        yield* msleep(now() + 250);
        const text = dill_tree();
        expect(text).toContain(`(receiver, handle ${r}) in chrecv on channel ${b} (for 250 ms)`);
        expect(text).toContain(`(waiter, handle ${w}) in bundle_wait on bundle ${r} (for 250 ms)`);
        const tree = dill_tree_json();
        const rec = find(tree, "receiver")!;
        expect(rec).toMatchObject({ kind: "coroutine", handle: r, state: "blocked" });
        expect(rec.wait).toMatchObject({
          call: "chrecv",
          kind: "channel",
          on: [b],
          peers: [{ handle: a, holder: find(tree, "main")!.id }],
          since: parked,
          deadline: -1,
          site: null,
        });
        expect(find(tree, "waiter")!.wait).toMatchObject({ call: "bundle_wait", kind: "bundle", on: [r] });
        expect(find(tree, "main")!.state).toBe("running");
        expect(JSON.parse(JSON.stringify(tree))).toEqual(tree);
        hclose(w);
        hclose(r);
        hclose(a);
        hclose(b);
      });
    } finally {
      dill_configure({ clock: "real" });
    }
  });

  it("gives the source line of the blocking call under traceLaunch, and forgets it once it is woken", async () => {
    dill_configure({ traceLaunch: true, clock: "virtual" });
    try {
      await run(function* main() {
        const [a, b] = chmake();
        const r = go(receiver(b));
        yield* msleep(now() + 40);
        const rec = find(dill_tree_json(), "receiver")!;
        expect(rec.wait!.site).toMatch(/^at receiver \(.*tree\.test\.ts:\d+:\d+\)$/);
        expect(rec.wait!.since).toBe(now() - 40);
        expect(dill_tree()).toMatch(/in chrecv on channel \d+ \(for 40 ms, at receiver \(.*tree\.test\.ts:\d+:\d+\)\)/);
        dill_configure({ traceLaunch: false });
        yield* chsend(a, 1, -1); // wakes the receiver, which waits again: that park is not traced
        yield* msleep(now() + 10);
        expect(find(dill_tree_json(), "receiver")!.wait).toMatchObject({
          call: "chrecv",
          since: now() - 10,
          site: null,
        });
        expect(dill_tree()).toMatch(/in chrecv on channel \d+ \(for 10 ms\)$/m);
        yield* chsend(a, 2, -1);
        hclose(r);
        hclose(a);
        hclose(b);
      });
    } finally {
      dill_configure({ traceLaunch: false, clock: "real" });
    }
  });
});

function* sender(ch: number) {
  yield* chsend(ch, 1, -1);
}

function* chooser(ch: number) {
  yield* choose([{ op: CHRECV, ch }], -1);
}

function* sleeper() {
  yield* msleep(-1);
}

function* reader(s: number) {
  yield* brecv(s, new Uint8Array(1), 1, -1);
}

/** The blocking calls {@link parkEach} parks a coroutine in. */
const CALLS = ["brecv", "bundle_wait", "choose", "chrecv", "chsend", "msleep"];

/**
 * Makes two channels and an IPC socket pair, then launches one coroutine blocked in each of
 * {@link CALLS} (the brecv on the socket). Returns what to close, in order.
 */
function* parkEach(): Generator<unknown, number[], unknown> {
  const [a, b] = chmake();
  const [c, d] = chmake();
  const [e, f] = chmake();
  const [s0, s1] = yield* ipc_pair();
  const crs = [go(receiver(a)), go(sender(c)), go(chooser(e)), go(sleeper())];
  crs.push(go(waiter(crs[3]!)), go(reader(s0)));
  return [...crs.reverse(), a, b, c, d, e, f, s0, s1];
}

/** The waits in the tree but main's, by call. */
function waitsOf(tree: DillTreeNode[]): Map<string, DillWait> {
  const out = new Map<string, DillWait>();
  const visit = (n: DillTreeNode): void => {
    if (n.wait !== undefined && n.name !== "main") out.set(n.wait.call, n.wait);
    n.children.forEach(visit);
  };
  tree.forEach(visit);
  return out;
}

/** The number of ms the text tree gives for the wait in `call`. */
function shownFor(text: string, call: string): number {
  const m = new RegExp(` in ${call}(?: on [a-z_]+ \\d+)? \\(for (\\d+) ms\\)`).exec(text);
  expect(m, `${call} in:\n${text}`).not.toBeNull();
  return Number(m![1]);
}

describe("since when a coroutine waits", () => {
  it("is exact under the virtual clock for every kind of wait: parked at 100 ms, seen at 350 ms, 250 ms", async () => {
    dill_configure({ clock: "virtual" });
    try {
      await run(function* main() {
        const start = now();
        yield* msleep(start + 100);
        const handles = yield* parkEach();
        try {
          yield* msleep(start + 350);
          const waits = waitsOf(dill_tree_json());
          expect([...waits.keys()].sort()).toEqual(CALLS);
          for (const [call, w] of waits) expect(w.since, call).toBe(start + 100);
          const text = dill_tree();
          for (const call of CALLS) expect(shownFor(text, call), call).toBe(250);
        } finally {
          for (const h of handles) hclose(h);
        }
      });
    } finally {
      dill_configure({ clock: "real" });
    }
  });

  it("is the latest park's: a coroutine woken and parked again counts from its new wait", async () => {
    dill_configure({ clock: "virtual" });
    try {
      await run(function* main() {
        const [a, b] = chmake();
        const r = go(receiver(b));
        yield* msleep(now() + 100);
        yield* chsend(a, 1, -1);
        const again = now();
        yield* msleep(now() + 30);
        expect(find(dill_tree_json(), "receiver")!.wait!.since).toBe(again);
        expect(shownFor(dill_tree(), "chrecv")).toBe(30);
        for (const h of [r, a, b]) hclose(h);
      });
    } finally {
      dill_configure({ clock: "real" });
    }
  });

  it("is bounded under the real clock for every kind of wait: from the start of the scheduler's turn to the park", async () => {
    await run(function* main() {
      const turn = now() + 5;
      yield* msleep(turn); // a timer wakes main: a new turn, which begins at or after `turn`
      const handles = yield* parkEach();
      try {
        const parked = now();
        yield* msleep(now() + 30);
        const before = now();
        const waits = waitsOf(dill_tree_json());
        const text = dill_tree();
        const after = now();
        expect([...waits.keys()].sort()).toEqual(CALLS);
        for (const [call, w] of waits) {
          expect(w.since, call).toBeGreaterThanOrEqual(turn);
          expect(w.since, call).toBeLessThanOrEqual(parked);
          const shown = shownFor(text, call);
          expect(shown, call).toBeGreaterThanOrEqual(before - parked);
          expect(shown, call).toBeLessThanOrEqual(after - turn);
        }
      } finally {
        for (const h of handles) hclose(h);
      }
    });
  });

  it("counts a coroutine started outside the loop, from a Node callback, from when it parked", async () => {
    await new Promise((r) => setTimeout(r, 30)); // the scheduler's last turn is 30 ms old
    const [a, b] = chmake();
    const before = now();
    const r = go(receiver(b)); // runs at once, outside any coroutine, and parks
    const after = now();
    const w = find(dill_tree_json(), "receiver")!.wait!;
    expect(w.since).toBeGreaterThanOrEqual(before);
    expect(w.since).toBeLessThanOrEqual(after);
    for (const h of [r, a, b]) hclose(h);
  });
});
