import { describe, expect, it } from "vitest";
import {
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  dill_configure,
  dill_print_tree,
  dill_tree,
  dill_tree_json,
  type DillTreeNode,
  dill_yield,
  go,
  hclose,
  hown,
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
        .replace(/(bundle|channel|handle) \d+/g, "$1 H");
      hclose(b);
      hclose(t);
    });
    expect(tree).toBe(
      [
        "coroutine N (main) running",
        "├── bundle H: 2 coroutines",
        "│   ├── coroutine N (handler) in msleep ── channel H",
        "│   └── coroutine N (handler) in msleep ── channel H",
        "└── coroutine N (ticker, handle H) in msleep",
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
        "└── coroutine N (outerWorker, handle N) in msleep",
        "    └── coroutine N (ticker, handle N) in msleep",
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
    const top = /^coroutine N \((x|y), handle N\) in msleep \(in an ownership cycle\)$/.exec(cut ?? "");
    const below = /^└── coroutine N \((x|y), handle N\) in msleep$/.exec(under ?? "");
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
        yield* msleep(now() + 250);
        const text = dill_tree();
        expect(text).toContain(`(receiver, handle ${r}) in chrecv on channel ${b}`);
        expect(text).toContain(`(waiter, handle ${w}) in bundle_wait on bundle ${r}`);
        const tree = dill_tree_json();
        const rec = find(tree, "receiver")!;
        expect(rec).toMatchObject({ kind: "coroutine", handle: r, state: "blocked" });
        expect(rec.wait).toMatchObject({
          call: "chrecv",
          kind: "channel",
          on: [b],
          peers: [{ handle: a, holder: find(tree, "main")!.id }],
          since: -1,
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

  it("gives since when and the source line of the blocking call under traceLaunch, and forgets them once it is woken", async () => {
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
        expect(find(dill_tree_json(), "receiver")!.wait).toMatchObject({ call: "chrecv", since: -1, site: null });
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
