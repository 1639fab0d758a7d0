/**
 * What the server workloads read from `tsdill load --json`: the figures, checked. Kept apart from
 * the trial (bench/systems/server.ts) so that it can be tested without starting anything.
 */

/** The figures of one run of the load generator. */
export interface LoadFigures {
  requests: number;
  requestsPerSecond: number;
  p99Ms: number;
}

/**
 * Reads the JSON summary that `tsdill load --json` prints on stdout. Throws when there is none,
 * when a figure is missing, or when any request failed: such a run measures nothing.
 */
export function parseLoadSummary(out: string): LoadFigures {
  const start = out.indexOf("{");
  const end = out.lastIndexOf("}");
  if (start < 0 || end < start) throw new Error(`no JSON summary in the load generator's output:\n${out.slice(-1000)}`);
  let s: {
    requests?: unknown;
    ok?: unknown;
    failed?: unknown;
    requestsPerSecond?: unknown;
    latencyMs?: { p99?: unknown };
    errors?: unknown;
  };
  try {
    s = JSON.parse(out.slice(start, end + 1)) as typeof s;
  } catch (e) {
    throw new Error(`the load generator's summary is not JSON (${(e as Error).message})`);
  }
  const num = (v: unknown, what: string): number => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw new Error(`the load generator's summary has no ${what}`);
    return v;
  };
  const requests = num(s.requests, "requests");
  const failed = num(s.failed, "failed");
  const ok = num(s.ok, "ok");
  if (failed > 0 || ok !== requests)
    throw new Error(`${failed} of ${requests} requests failed: ${JSON.stringify(s.errors ?? {})}`);
  const requestsPerSecond = num(s.requestsPerSecond, "requestsPerSecond");
  if (requestsPerSecond === 0) throw new Error("the load generator's summary gives 0 requests/s");
  return { requests, requestsPerSecond, p99Ms: num(s.latencyMs?.p99, "latencyMs.p99") };
}
