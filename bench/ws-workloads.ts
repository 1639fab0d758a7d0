/**
 * The WebSocket workload (PERF.md: "WebSocket ≥ 1.0× the `ws` package"), in its own file beside
 * the catalogue, which lists it in the IPC table. The trials are in `systems/ws.ts`: tsdill's
 * client and server against the `ws` package's, each pair in one process over TCP on 127.0.0.1.
 */
import type { Target, Workload } from "./catalogue.js";

const K = 1000;

const VS_WS: Target = { text: "≥ 1.0× the ws package", kind: "minSpeedup", x: 1, vs: "net" };

export const WS_WORKLOADS: Workload[] = [
  {
    id: "wsEcho",
    title: "WebSocket echo over TCP, 1 KiB text messages, masked client to server and back",
    section: "ipc",
    unit: "rt/s",
    trial: "wsEcho",
    sizes: { tsdill: [50 * K, 2 * K], net: [50 * K, 2 * K] },
    notes: {
      tsdill: "`ws_attach_client`/`ws_attach_server` over `tcp_connect`/`tcp_accept`, `msend`/`mrecv`",
      net: "the `ws` package: `new WebSocket(url)` and `WebSocketServer`, `send` on each `message` event",
    },
    targets: [VS_WS],
  },
];
