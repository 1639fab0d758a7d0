/**
 * Loaded before every test file: after each test, nothing may be left behind. No coroutine still
 * running, no handle open, no deadline pending, no storage taken from the pool.
 */
import { afterEach, expect } from "vitest";
import { dill_stats } from "../src/index.js";

afterEach(async () => {
  // Let callbacks already queued (socket closes, immediates) run before looking.
  await new Promise((r) => setImmediate(r));
  const s = dill_stats();
  expect(
    { coroutines: s.coroutines, handles: s.handlesByKind, timers: s.timers, pool: s.pool.used },
    "a test left coroutines, handles, deadlines or pool storage behind",
  ).toEqual({ coroutines: 0, handles: {}, timers: 0, pool: 0 });
});
