/**
 * The HTTP workload (PERF.md: "HTTP ≥ 1.0× Node's http"), in its own file beside the catalogue,
 * which lists it in the IPC table. The trials are in `systems/tsdill-http.ts` and
 * `systems/net-http.ts`, driven by the same load in another process (`systems/http-load.ts`).
 */
import type { Target, Workload } from "./catalogue.js";

const K = 1000;

const VS_NODE_HTTP: Target = { text: "≥ 1.0× Node's http", kind: "minSpeedup", x: 1, vs: "net" };

export const HTTP_WORKLOADS: Workload[] = [
  {
    id: "httpServe",
    title: "HTTP server over TCP, 32 keep-alive clients in another process, GET / of 13 bytes",
    section: "ipc",
    unit: "req/s",
    trial: "httpServe",
    // n requests in all
    sizes: { tsdill: [60 * K, 3 * K], net: [60 * K, 3 * K] },
    notes: {
      tsdill:
        "`http_attach` per request over a `tcp_accept`ed connection, the same header fields as Node's, the body with `bsend`, a 5 s keep-alive deadline on each request's calls",
      net: "`http.createServer` (its 5 s keepAliveTimeout), `res.end(body)` with Content-Type and Content-Length set",
    },
    targets: [VS_NODE_HTTP],
  },
];
