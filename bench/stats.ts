/** Summaries of samples: median, spread, and ratios of paired (interleaved) runs. */

/** The q-quantile (0..1) of a non-empty list, linear between order statistics. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Interquartile range: q3 - q1. */
  iqr: number;
  n: number;
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN, iqr: NaN, n: 0 };
  return {
    median: median(xs),
    min: Math.min(...xs),
    max: Math.max(...xs),
    iqr: quantile(xs, 0.75) - quantile(xs, 0.25),
    n: xs.length,
  };
}

/** The cost of a figure: itself for times and bytes, its inverse for rates. */
export function cost(value: number, higherIsBetter: boolean): number {
  return higherIsBetter ? 1 / value : value;
}

/**
 * The median of per-round cost ratios `a[i] / b[i]`, where round i of both systems ran back to
 * back: drift that moves both in one round cancels out. Rounds where either is missing are skipped.
 */
export function pairedRatio(a: readonly number[], b: readonly number[], higherIsBetter: boolean): number {
  const rs: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = cost(a[i]!, higherIsBetter);
    const y = cost(b[i]!, higherIsBetter);
    if (Number.isFinite(x) && Number.isFinite(y) && y > 0) rs.push(x / y);
  }
  return rs.length === 0 ? NaN : median(rs);
}

/**
 * The order of systems in round `round`: rotated by one each round, so that no system always
 * runs first (on a cooler machine) or right after the same neighbour.
 */
export function interleave<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
