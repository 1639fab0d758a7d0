/**
 * Set to `true` by the build for bundlers (the "module" condition), and undefined everywhere else
 * (the CommonJS build that Node's `import` and `require` load, and the sources under tsx or
 * vitest). The iteration guard of the generator calls (`guardOps` in handles/op.ts) is installed
 * only where it is undefined: installed at load time, it would keep every call it names alive in a
 * bundle. In a bundle, the ESLint rule of `tsdill/eslint` is what catches a forgotten `yield*`.
 */
declare const __TSDILL_BUNDLER__: true | undefined;
