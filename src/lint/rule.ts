/**
 * The ESLint rule `tsdill/no-forgotten-yield`: a blocking call of tsdill made without `yield*`.
 *
 * `bsend(s, buf, 3, -1);` makes the call and drops it: nothing is sent, and nothing says so.
 * The rule finds the calls of tsdill's blocking functions (imported from "tsdill" under their name
 * or an alias, or called through a namespace, `dill.bsend(…)`, or `require`d) and reports each
 * one whose result is not run by `yield*`: a call as a statement, under a bare `yield` or under
 * `await`, iterated (destructured, spread, `for…of`), or kept in a variable that is never run
 * with `yield*`. A call whose op is passed on (returned, given as an argument as in
 * `go(worker())`, stored in an array or an object) is left alone. The rule reads the syntax only:
 * no type information, so it works on JavaScript as well as TypeScript.
 */
import type { Rule, Scope } from "eslint";
import type * as ESTree from "estree";
import { blockingNames } from "./names.js";

/** The modules that are tsdill, besides those the `modules` option adds. */
const TSDILL_MODULES = ["tsdill", "tsdill/effection"];

type Node = ESTree.Node & Rule.NodeParentExtension;

/** How a call's result is dropped or misused. */
type Misuse = "statement" | "value" | "bareYield" | "await" | "iterated";

/** The nodes a value passes through unchanged on its way to where it is used. */
const TRANSPARENT = new Set([
  "TSAsExpression",
  "TSSatisfiesExpression",
  "TSNonNullExpression",
  "TSTypeAssertion",
  "TSInstantiationExpression",
  "ChainExpression",
]);

/** True when `p` hands the value of its child `child` on unchanged, as its own value. */
function passesOn(p: Node, child: Node): boolean {
  if (TRANSPARENT.has(p.type)) return true; // TypeScript's casts (not in ESTree's types, so by name)
  if (p.type === "ConditionalExpression") return p.test !== child; // either branch is the value
  if (p.type === "LogicalExpression") return true; // either side may be the value
  if (p.type === "SequenceExpression") return p.expressions[p.expressions.length - 1] === child;
  return false;
}

/** The node where the value of `node` ends up, and the child of it that carries the value. */
function destination(node: Node): [Node, Node] {
  let child = node;
  let p = node.parent as Node;
  while (passesOn(p, child)) {
    child = p;
    p = p.parent as Node;
  }
  return [p, child];
}

/** The variable named `name` where `node` is, or null. */
function variableAt(sourceCode: Rule.RuleContext["sourceCode"], node: Node, name: string): Scope.Variable | null {
  for (let s: Scope.Scope | null = sourceCode.getScope(node); s !== null; s = s.upper) {
    const v = s.set.get(name);
    if (v !== undefined) return v;
  }
  return null;
}

/** True when some read of `v` is run with `yield*` or handed on by `return`: the op was kept for later. */
function runLater(v: Scope.Variable): boolean {
  for (const ref of v.references) {
    if (!ref.isRead()) continue;
    const [p, child] = destination(ref.identifier as Node);
    if (p.type === "YieldExpression" && p.delegate) return true;
    if (p.type === "ReturnStatement") return true;
    if (p.type === "ArrowFunctionExpression" && p.body === child) return true;
  }
  return false;
}

/** What is wrong with the call `node`, or null when its op is run with `yield*` or passed on. */
function misuse(sourceCode: Rule.RuleContext["sourceCode"], node: Node): Misuse | null {
  const [p, child] = destination(node);
  switch (p.type) {
    case "YieldExpression":
      return p.delegate ? null : "bareYield";
    case "AwaitExpression":
      return "await";
    case "ExpressionStatement":
      return "statement";
    case "SequenceExpression":
      return "statement"; // not the last expression: its value is dropped
    case "UnaryExpression":
      return p.operator === "void" ? "statement" : "value";
    case "VariableDeclarator": {
      if (p.init !== child) return null;
      if (p.id.type === "ArrayPattern") return "iterated";
      if (p.id.type !== "Identifier") return "value";
      const [v] = sourceCode.getDeclaredVariables(p);
      return v !== undefined && runLater(v) ? null : "value";
    }
    case "AssignmentExpression": {
      if (p.right !== child) return null;
      if (p.operator !== "=") return "value";
      if (p.left.type === "ArrayPattern") return "iterated";
      if (p.left.type === "ObjectPattern") return "value";
      if (p.left.type !== "Identifier") return null; // stored in an object, for later
      const v = variableAt(sourceCode, p, p.left.name);
      return v !== null && runLater(v) ? null : "value";
    }
    case "ForOfStatement":
      return p.right === child ? "iterated" : null;
    case "SpreadElement":
      return (p.parent as Node).type === "ObjectExpression" ? "value" : "iterated";
    case "BinaryExpression":
    case "TemplateLiteral":
    case "ForInStatement":
      return "value";
    case "IfStatement":
    case "WhileStatement":
    case "DoWhileStatement":
    case "ConditionalExpression":
      return p.test === child ? "value" : null;
    case "SwitchStatement":
      return p.discriminant === child ? "value" : null;
    default:
      return null;
  }
}

/** The function that `node` is in, or null at the top level. */
function enclosingFunction(node: Node): Node | null {
  for (let p = node.parent as Node | null; p; p = p.parent as Node | null) {
    if (p.type === "FunctionDeclaration" || p.type === "FunctionExpression" || p.type === "ArrowFunctionExpression")
      return p;
  }
  return null;
}

/** The string a `require("…")` or `import("…")` call loads, or null. */
function loaded(init: ESTree.Node | null | undefined): string | null {
  let e = init;
  if (e?.type === "AwaitExpression") e = e.argument;
  if (e?.type === "ImportExpression") return e.source.type === "Literal" ? String(e.source.value) : null;
  if (e?.type !== "CallExpression" || e.callee.type !== "Identifier" || e.callee.name !== "require") return null;
  const a = e.arguments[0];
  return e.arguments.length === 1 && a?.type === "Literal" && typeof a.value === "string" ? a.value : null;
}

function keyName(key: ESTree.Node): string | null {
  if (key.type === "Identifier") return key.name;
  if (key.type === "Literal" && typeof key.value === "string") return key.value;
  return null;
}

const MESSAGES: Record<Misuse, string> = {
  statement: "{{call}}(…) is a blocking call of tsdill: made without yield* it does nothing. Write yield* {{call}}(…).",
  value:
    "{{call}}(…) is a blocking call of tsdill: without yield* it gives the call itself, not its result. Write yield* {{call}}(…).",
  bareYield:
    "{{call}}(…) is a blocking call of tsdill: a bare yield hands the call to the scheduler instead of running it. Write yield* {{call}}(…).",
  await:
    "{{call}}(…) is a blocking call of tsdill, not a Promise: await does not run it. Write yield* {{call}}(…) in a coroutine.",
  iterated:
    "{{call}}(…) is a blocking call of tsdill: destructured, spread or looped over, it runs outside the scheduler. Write yield* {{call}}(…).",
};

/** The rule's options: `modules`, more module specifiers that are tsdill (its sources, in tsdill's own tests). */
interface Options {
  modules?: string[];
}

/** `tsdill/no-forgotten-yield`: every blocking call of tsdill is run with `yield*`. */
export const noForgottenYield: Rule.RuleModule = {
  meta: {
    type: "problem",
    docs: {
      description: "Require yield* on every blocking call of tsdill",
      recommended: true,
      url: "https://github.com/tsdill/tsdill/blob/main/docs/lint.md",
    },
    hasSuggestions: true,
    schema: [
      {
        type: "object",
        properties: { modules: { type: "array", items: { type: "string" }, uniqueItems: true } },
        additionalProperties: false,
      },
    ],
    messages: { ...MESSAGES, insertYield: "Run it with yield*." },
  },
  create(context) {
    const options = (context.options[0] ?? {}) as Options;
    const modules = new Set([...TSDILL_MODULES, ...(options.modules ?? [])]);
    const blocking = blockingNames();
    const sourceCode = context.sourceCode;
    /** Local bindings of blocking calls: the variable, and the call's name. */
    const named = new Map<Scope.Variable, string>();
    /** Local bindings of the whole module (`import * as dill`, `const dill = require("tsdill")`). */
    const namespaces = new Set<Scope.Variable>();
    const calls: ESTree.CallExpression[] = [];

    function bind(id: ESTree.Node, name: string): void {
      const target = id.type === "AssignmentPattern" ? id.left : id;
      if (target.type !== "Identifier" || !blocking.has(name)) return;
      const v = variableAt(sourceCode, target as Node, target.name);
      if (v !== null) named.set(v, name);
    }

    /** The blocking call that `callee` names, as written, or null. */
    function blockingCallee(callee: ESTree.Node, at: Node): string | null {
      if (callee.type === "Identifier") {
        const v = variableAt(sourceCode, at, callee.name);
        return v !== null && named.has(v) ? callee.name : null;
      }
      if (callee.type === "MemberExpression" && callee.object.type === "Identifier") {
        const prop = callee.property;
        const name = !callee.computed || prop.type === "Literal" ? keyName(prop) : null;
        if (name === null || !blocking.has(name)) return null;
        const v = variableAt(sourceCode, at, callee.object.name);
        return v !== null && namespaces.has(v) ? sourceCode.getText(callee) : null;
      }
      return null;
    }

    return {
      ImportDeclaration(node) {
        if (!modules.has(String(node.source.value))) return;
        if ((node as { importKind?: string }).importKind === "type") return;
        for (const spec of node.specifiers) {
          if ((spec as { importKind?: string }).importKind === "type") continue;
          const [v] = sourceCode.getDeclaredVariables(spec);
          if (v === undefined) continue;
          if (spec.type === "ImportSpecifier") {
            const name = keyName(spec.imported);
            if (name !== null && blocking.has(name)) named.set(v, name);
          } else {
            namespaces.add(v);
          }
        }
      },
      VariableDeclarator(node) {
        const from = loaded(node.init);
        if (from === null || !modules.has(from)) return;
        if (node.id.type === "Identifier") {
          const [v] = sourceCode.getDeclaredVariables(node);
          if (v !== undefined) namespaces.add(v);
        } else if (node.id.type === "ObjectPattern") {
          for (const prop of node.id.properties) {
            if (prop.type !== "Property" || prop.computed) continue;
            const name = keyName(prop.key);
            if (name !== null) bind(prop.value, name);
          }
        }
      },
      CallExpression(node) {
        calls.push(node);
      },
      "Program:exit"() {
        for (const call of calls) {
          const node = call as Node;
          const name = blockingCallee(call.callee, node);
          if (name === null) continue;
          const what = misuse(sourceCode, node);
          if (what === null) continue;
          const fn = enclosingFunction(node);
          const inGenerator =
            fn !== null && (fn as ESTree.FunctionExpression).generator && !(fn as ESTree.FunctionExpression).async;
          const parent = node.parent as Node;
          const suggest: Rule.SuggestionReportDescriptor[] = [];
          if (inGenerator) {
            if (what === "bareYield" && parent.type === "YieldExpression") {
              const kw = sourceCode.getFirstToken(parent)!;
              suggest.push({ messageId: "insertYield", fix: (f) => f.insertTextAfter(kw, "*") });
            } else if (what === "await" && parent.type === "AwaitExpression") {
              const kw = sourceCode.getFirstToken(parent)!;
              suggest.push({ messageId: "insertYield", fix: (f) => f.replaceText(kw, "yield*") });
            } else if (
              parent.type === "ExpressionStatement" ||
              (parent.type === "VariableDeclarator" && parent.init === call) ||
              (parent.type === "AssignmentExpression" && parent.right === call)
            ) {
              suggest.push({ messageId: "insertYield", fix: (f) => f.insertTextBefore(call, "yield* ") });
            }
          }
          context.report({ node: call, messageId: what, data: { call: name }, suggest });
        }
      },
    };
  },
};
