/**
 * The ESLint rule `tsdill/no-forgotten-yield` (tsdill/eslint), run through ESLint's own API on
 * sources with every form of the mistake and every form of a call whose op is passed on: each
 * report is checked by line and by its whole message, and each legitimate line must stay silent.
 */
import { ESLint, Linter } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
import plugin from "../src/lint/eslint.js";

/** What the rule says, for a call written as `call`, in each of its forms. */
const say = {
  statement: (call: string) =>
    `${call}(…) is a blocking call of tsdill: made without yield* it does nothing. Write yield* ${call}(…).`,
  value: (call: string) =>
    `${call}(…) is a blocking call of tsdill: without yield* it gives the call itself, not its result. Write yield* ${call}(…).`,
  bareYield: (call: string) =>
    `${call}(…) is a blocking call of tsdill: a bare yield hands the call to the scheduler instead of running it. Write yield* ${call}(…).`,
  await: (call: string) =>
    `${call}(…) is a blocking call of tsdill, not a Promise: await does not run it. Write yield* ${call}(…) in a coroutine.`,
  iterated: (call: string) =>
    `${call}(…) is a blocking call of tsdill: destructured, spread or looped over, it runs outside the scheduler. Write yield* ${call}(…).`,
};

/** A fixture line and what the rule must say about it: nothing, or these messages in order. */
type Case = [code: string, ...expected: string[]];

const HEADER = [
  `import { bsend, brecv as recv, ipc_pair, chmake, msleep, go, now, hclose } from "tsdill";`,
  `import * as dill from "tsdill";`,
  `import { effection_call } from "tsdill/effection";`,
  `import { bsend as notOurs } from "./elsewhere.js";`,
  `const buf = new Uint8Array(1);`,
];

/** Inside `function* main(s, ch, cond, holder)`: the mistakes. */
const MISTAKES: Case[] = [
  [`bsend(s, "x", 1, -1);`, say.statement("bsend")],
  [`recv(s, buf, 1, -1);`, say.statement("recv")],
  [`dill.msleep(now() + 1);`, say.statement("dill.msleep")],
  [`dill["chsend"](ch, 1, -1);`, say.statement(`dill["chsend"]`)],
  [`void dill.dill_yield();`, say.statement("dill.dill_yield")],
  [`cond ? bsend(s, "x", 1, -1) : msleep(-1);`, say.statement("bsend"), say.statement("msleep")],
  [`(dill.chsend(ch, 1, -1), 0);`, say.statement("dill.chsend")],
  [`effection_call(() => null, -1);`, say.statement("effection_call")],
  [`const n = dill.ipc_recv_some(s, buf, 1, -1);`, say.value("dill.ipc_recv_some")],
  [`let got = dill.chrecv(ch, -1);`, say.value("dill.chrecv")],
  [`got = dill.chrecv(ch, -1);`, say.value("dill.chrecv")],
  [`const { length } = ipc_pair();`, say.value("ipc_pair")],
  [`if (dill.chrecv(ch, 0)) hclose(ch);`, say.value("dill.chrecv")],
  [`const text = "got " + dill.chrecv(ch, -1);`, say.value("dill.chrecv")],
  [`const [a, b] = ipc_pair();`, say.iterated("ipc_pair")],
  [`[got, got] = dill.ipc_pair_mem(holder);`, say.iterated("dill.ipc_pair_mem")],
  [`for (const v of dill.chrecv(ch, -1)) hclose(v);`, say.iterated("dill.chrecv")],
  [`const all = [...ipc_pair()];`, say.iterated("ipc_pair")],
  [`hclose(...dill.ipc_pair());`, say.iterated("dill.ipc_pair")],
  [`yield msleep(now() + 1);`, say.bareYield("msleep")],
  [`const r = yield dill.brecv(s, buf, 1, -1);`, say.bareYield("dill.brecv")],
];

/** Inside the same coroutine: calls run with yield*, or whose op is handed on. Not one report. */
const LEGITIMATE: Case[] = [
  [`yield* bsend(s, "x", 1, -1);`],
  [`const got2 = yield* recv(s, buf, 1, -1);`],
  [`const [c, d] = yield* ipc_pair();`],
  [`yield* (cond ? bsend(s, "x", 1, -1) : msleep(-1));`],
  [`yield* dill.msleep(now() + 1);`],
  [`const op = dill.chrecv(ch, -1);`],
  [`const v = yield* op;`],
  [`const [e, f] = chmake();`],
  [`go(worker(s));`],
  [`go(msleep(-1));`],
  [`hclose(go(dill.msleep(-1)));`],
  [`const later = () => bsend(s, "x", 1, -1);`],
  [`const ops = [msleep(-1), dill.chrecv(ch, -1)];`],
  [`const table = { op: msleep(-1) };`],
  [`holder.op = msleep(-1);`],
  [`notOurs(s, "x", 1, -1);`],
  [`now();`],
  [`dill.hclose(ch);`],
  [`dill.chmake();`],
];

/** After the coroutine: more legitimate forms, and the mistakes outside a generator. */
const AFTER: Case[] = [
  [`function send(s) { return bsend(s, "x", 1, -1); }`],
  [`function* shadowed(bsend) { bsend(1); }`],
  [`function* stored() { let op; op = msleep(-1); yield* op; }`],
  [`function* worker(s) { yield* dill.bsend(s, "x", 1, -1); }`],
  [`async function awaits() { await dill.msleep(-1); }`, say.await("dill.msleep")],
  [`async function awaits2(s) { const x = await bsend(s, "x", 1, -1); return x; }`, say.await("bsend")],
  [`msleep(now() + 1);`, say.statement("msleep")],
];

interface Fixture {
  text: string;
  /** `line: message` of every expected report, in order. */
  expected: string[];
}

/** A source made of `header`, then `body` inside a coroutine, then `after`; and the reports it must get. */
function fixture(header: string[], body: Case[], after: Case[]): Fixture {
  const lines = [...header, "function* main(s, ch, cond, holder) {"];
  const expected: string[] = [];
  const add = ([code, ...messages]: Case, indent: string) => {
    lines.push(indent + code);
    for (const m of messages) expected.push(`${lines.length}: ${m}`);
  };
  for (const c of body) add(c, "  ");
  lines.push("}");
  for (const c of after) add(c, "");
  return { text: lines.join("\n") + "\n", expected };
}

const rule = { "tsdill/no-forgotten-yield": "error" } as const;
const jsConfig: Linter.Config[] = [
  { plugins: { tsdill: plugin }, rules: rule, languageOptions: { ecmaVersion: "latest", sourceType: "module" } },
];

/** The rule's reports on `text`, as `line: message`; a parse error fails the test. */
function lint(text: string, config: Linter.Config[] = jsConfig, filename = "fixture.js"): string[] {
  const messages = new Linter().verify(text, config, filename);
  for (const m of messages) if (m.fatal) throw new Error(`${filename}:${m.line}: ${m.message}`);
  return messages.map((m) => `${m.line}: ${m.message}`);
}

describe("tsdill/no-forgotten-yield", () => {
  it("reports every mistake, on its line, with the message that names the call", () => {
    const f = fixture(HEADER, MISTAKES, []);
    const got = lint(f.text);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(f.expected);
    expect(got).toHaveLength(22);
  });

  it("reports nothing where the op is run with yield* or handed on", () => {
    expect(
      lint(
        fixture(
          HEADER,
          LEGITIMATE,
          AFTER.filter((c) => c.length === 1),
        ).text,
      ),
    ).toEqual([]);
  });

  it("checks the whole program at once: mistakes among legitimate calls, outside coroutines too", () => {
    const f = fixture(HEADER, [...LEGITIMATE, ...MISTAKES], AFTER);
    expect(f.expected).toHaveLength(25);
    expect(lint(f.text)).toEqual(f.expected);
  });

  it("finds the calls of a CommonJS program that requires tsdill, whole or destructured", () => {
    const text = [
      `const { bsend, msleep: sleep } = require("tsdill");`,
      `const dill = require("tsdill");`,
      `const other = require("other");`,
      `function* main(s) {`,
      `  bsend(s, "x", 1, -1);`,
      `  sleep(-1);`,
      `  const [a, b] = dill.ipc_pair();`,
      `  other.msleep(-1);`,
      `  yield* dill.msleep(1);`,
      `}`,
    ].join("\n");
    const config: Linter.Config[] = [
      { plugins: { tsdill: plugin }, rules: rule, languageOptions: { sourceType: "commonjs" } },
    ];
    expect(lint(text, config, "fixture.cjs")).toEqual([
      `5: ${say.statement("bsend")}`,
      `6: ${say.statement("sleep")}`,
      `7: ${say.iterated("dill.ipc_pair")}`,
    ]);
  });

  it("reads TypeScript through typescript-eslint's parser, casts included, without type information", () => {
    const text = [
      `import { bsend, type Op } from "tsdill";`,
      `import type { msleep } from "tsdill";`,
      `function* main(s: number): Generator<unknown, void, unknown> {`,
      `  bsend(s, "x", 1, -1) as Op<void>;`,
      `  bsend(s, "x", 1, -1)!;`,
      `  yield* (bsend(s, "x", 1, -1) as Op<void>);`,
      `  const n: Op<void> = bsend(s, "x", 1, -1) satisfies Op<void>;`,
      `  yield* n;`,
      `  const m = bsend(s, "x", 1, -1) as Op<void>;`,
      `}`,
      `declare const sleep: typeof msleep;`,
      `sleep(1);`,
    ].join("\n");
    const config: Linter.Config[] = [
      {
        files: ["**/*.ts"],
        languageOptions: { parser: tseslint.parser as Linter.Parser },
        plugins: { tsdill: plugin },
        rules: rule,
      },
    ];
    expect(lint(text, config, "fixture.ts")).toEqual([
      `4: ${say.statement("bsend")}`,
      `5: ${say.statement("bsend")}`,
      `9: ${say.value("bsend")}`,
    ]);
  });

  it("takes more module names for tsdill with the modules option (tsdill's own tests import its sources)", () => {
    const text = `import { bsend } from "../src/index.js";\nfunction* main(s) {\n  bsend(s, "x", 1, -1);\n}\n`;
    expect(lint(text)).toEqual([]);
    const config: Linter.Config[] = [
      {
        plugins: { tsdill: plugin },
        rules: { "tsdill/no-forgotten-yield": ["error", { modules: ["../src/index.js"] }] },
        languageOptions: { sourceType: "module" },
      },
    ];
    expect(lint(text, config)).toEqual([`3: ${say.statement("bsend")}`]);
  });

  it("suggests the yield* inside a generator, and only there", () => {
    const text = [
      `import { bsend, msleep } from "tsdill";`,
      `function* main(s) {`,
      `  bsend(s, "x", 1, -1);`,
      `  const op = msleep(-1);`,
      `  yield msleep(-1);`,
      `}`,
      `function plain(s) { bsend(s, "x", 1, -1); }`,
    ].join("\n");
    const messages = new Linter().verify(text, jsConfig, "fixture.js");
    expect(messages.map((m) => [m.line, m.suggestions?.length ?? 0])).toEqual([
      [3, 1],
      [4, 1],
      [5, 1],
      [7, 0],
    ]);
    // Applied from the last to the first, so that the earlier ranges stay valid.
    let out = text;
    for (const m of messages.slice(0, 3).reverse()) {
      const { range, text: insert } = m.suggestions![0]!.fix;
      out = out.slice(0, range[0]) + insert + out.slice(range[1]);
    }
    expect(out.split("\n").slice(2, 5)).toEqual([
      `  yield* bsend(s, "x", 1, -1);`,
      `  const op = yield* msleep(-1);`,
      `  yield* msleep(-1);`,
    ]);
  });

  it("is turned on by the plugin's recommended config, as a user's eslint.config.js does", async () => {
    const eslint = new ESLint({ overrideConfigFile: true, overrideConfig: [plugin.configs.recommended] });
    const [result] = await eslint.lintText(`import { msleep } from "tsdill";\nfunction* main() {\n  msleep(-1);\n}\n`, {
      filePath: "user.js",
    });
    expect(result!.messages.map((m) => [m.ruleId, m.severity, m.line, m.message])).toEqual([
      ["tsdill/no-forgotten-yield", 2, 3, say.statement("msleep")],
    ]);
    expect(plugin.meta.name).toBe("tsdill/eslint");
    expect(Object.keys(plugin.rules)).toEqual(["no-forgotten-yield"]);
  });
});
