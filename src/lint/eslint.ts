/**
 * "tsdill/eslint": tsdill's ESLint plugin, for a flat config (ESLint 9). Its one rule,
 * `tsdill/no-forgotten-yield`, reports a blocking call of tsdill made without `yield*`.
 *
 * @example
 * ```js
 * // eslint.config.js
 * import tsdill from "tsdill/eslint";
 *
 * export default [tsdill.configs.recommended];
 * ```
 */
import type { ESLint, Linter, Rule } from "eslint";
import { noForgottenYield } from "./rule.js";

/** The plugin's type: its rule, and the `recommended` config that turns it on as an error. */
interface TsdillPlugin extends ESLint.Plugin {
  meta: { name: string };
  rules: { "no-forgotten-yield": Rule.RuleModule };
  configs: { recommended: Linter.Config };
}

const recommended: Linter.Config = {
  name: "tsdill/recommended",
  rules: { "tsdill/no-forgotten-yield": "error" },
};

/** tsdill's ESLint plugin: `plugins: { tsdill }`, or `tsdill.configs.recommended` as a whole. */
const plugin: TsdillPlugin = {
  meta: { name: "tsdill/eslint" },
  rules: { "no-forgotten-yield": noForgottenYield },
  configs: { recommended },
};
recommended.plugins = { tsdill: plugin };

export default plugin;
