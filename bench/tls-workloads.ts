/**
 * The TLS workload (PERF.md: "TLS bulk against raw `tls` ≥ 0.9×"), in its own file beside the
 * catalogue, which lists it in the IPC table. The trials are in `systems/tsdill-tls.ts` and
 * `systems/net-tls.ts`, over the same Unix-domain socket, with a certificate from `systems/tls-cert.ts`.
 */
import type { Target, Workload } from "./catalogue.js";

const VS_TLS: Target = { text: "≥ 0.9× raw node:tls", kind: "minSpeedup", x: 0.9, vs: "net" };

export const TLS_WORKLOADS: Workload[] = [
  {
    id: "tlsBulk",
    title: "TLS bulk one way over IPC, 64 KiB sends",
    section: "ipc",
    unit: "MB/s",
    trial: "tlsBulk",
    // n in MiB
    sizes: { tsdill: [256, 16], net: [256, 16] },
    notes: {
      tsdill: "`tls_attach_server`/`tls_attach_client` over `ipc_listen`/`ipc_connect`, `bsend`/`brecv` of 64 KiB",
      net: "`tls.createServer` and `tls.connect` on the socket file: Node's TLS reads and writes the socket from C++",
    },
    targets: [VS_TLS],
  },
];
