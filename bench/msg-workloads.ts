/**
 * The message-protocol workloads (PERF.md: "message protocols (prefix, suffix) ≥ 1.0× the same
 * framing by hand over node:net"), in their own file beside the catalogue, which lists them in
 * the IPC table. The trials are in `systems/tsdill-msg.ts`, `systems/net-msg.ts`, and
 * `c/prefix.c`, `c/suffix.c` for libdill.
 */
import type { Target, Workload } from "./catalogue.js";

const K = 1000;

const VS_HAND: Target = {
  text: "≥ 1.0× framing by hand over node:net",
  kind: "minSpeedup",
  x: 1,
  vs: "net",
};

export const MSG_WORKLOADS: Workload[] = [
  {
    id: "prefixPingpong",
    title: "PREFIX ping-pong over IPC, 64 B each way, 4-byte size field",
    section: "ipc",
    unit: "rt/s",
    trial: "prefixPingpong",
    sizes: { tsdill: [100 * K, 5 * K], net: [100 * K, 5 * K], libdill: [100 * K, 5 * K] },
    c: "prefix",
    notes: {
      net: "size field and message gathered from `data` chunks by hand, one `write` per message",
      libdill: "`prefix_attach(s, 4, 0)`, `msend`/`mrecv`",
    },
    targets: [VS_HAND],
  },
  {
    id: "suffixLines",
    title: "SUFFIX framing over IPC, 1 KiB lines ended by CRLF, one way",
    section: "ipc",
    unit: "MB/s",
    trial: "suffixLines",
    // n lines; libdill's suffix socket reads one byte per call, hence its smaller size
    sizes: { tsdill: [200 * K, 5 * K], net: [200 * K, 5 * K], libdill: [1 * K, 100] },
    c: "suffix",
    notes: {
      net: "lines split with `indexOf` over gathered `data` chunks, one `write` per line",
      libdill: '`suffix_attach(s, "\\r\\n", 2)`: one `brecv` per byte',
    },
    targets: [VS_HAND],
  },
  {
    id: "udpPingpong",
    title: "UDP ping-pong over 127.0.0.1, 64 B datagrams each way, msend/mrecv on remote-bound sockets",
    section: "ipc",
    unit: "rt/s",
    trial: "udpPingpong",
    sizes: { tsdill: [50 * K, 2 * K], net: [50 * K, 2 * K] },
    notes: { net: "`node:dgram`: the echo and the next send from `message` callbacks" },
    targets: [{ text: "≥ 0.9× raw node:dgram", kind: "minSpeedup", x: 0.9, vs: "net" }],
  },
];
