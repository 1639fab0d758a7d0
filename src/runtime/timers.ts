/**
 * The timer heap: parked coroutines ordered by deadline (ties by arrival), so that one Node
 * timer, armed for the earliest, serves any number of deadlines.
 */
import type { CrBase } from "./cr.js";

const heap: CrBase[] = [];
let arrivals = 0;

function less(a: CrBase, b: CrBase): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.timerSeq < b.timerSeq);
}

function up(i: number): void {
  const x = heap[i]!;
  while (i > 0) {
    const p = (i - 1) >> 1;
    const y = heap[p]!;
    if (!less(x, y)) break;
    heap[i] = y;
    y.heapIdx = i;
    i = p;
  }
  heap[i] = x;
  x.heapIdx = i;
}

function down(i: number): void {
  const n = heap.length;
  const x = heap[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && less(heap[c + 1]!, heap[c]!)) c++;
    const y = heap[c]!;
    if (!less(y, x)) break;
    heap[i] = y;
    y.heapIdx = i;
    i = c;
  }
  heap[i] = x;
  x.heapIdx = i;
}

/** Add `cr` with its `deadline` already set. */
export function timerAdd(cr: CrBase): void {
  cr.timerSeq = arrivals++;
  heap.push(cr);
  up(heap.length - 1);
}

/** Remove `cr` if it is in the heap. */
export function timerRemove(cr: CrBase): void {
  const i = cr.heapIdx;
  if (i < 0) return;
  cr.heapIdx = -1;
  const last = heap.pop()!;
  if (last === cr) return;
  heap[i] = last;
  last.heapIdx = i;
  if (i > 0 && less(last, heap[(i - 1) >> 1]!)) up(i);
  else down(i);
}

/** The coroutine with the earliest deadline, or undefined. */
export function timerFirst(): CrBase | undefined {
  return heap[0];
}

/** Remove and return the coroutine with the earliest deadline. */
export function timerPop(): CrBase {
  const top = heap[0]!;
  timerRemove(top);
  return top;
}

/** Number of pending deadlines. */
export function timerCount(): number {
  return heap.length;
}
