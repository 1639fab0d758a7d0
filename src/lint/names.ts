/**
 * The blocking calls of tsdill, by name: every export whose result is an `Op`, what a coroutine
 * must run with `yield*`. test/lint-names.test.ts checks this list against the API (the exports of
 * src/index.ts and src/interop/effection.ts, by their types), so it cannot drift from it.
 */

/** The blocking calls of "tsdill" under their libdill names; each is also exported as `dill_<name>`. */
export const BLOCKING_CALLS: readonly string[] = [
  "await_promise",
  "brecv",
  "brecvl",
  "bsend",
  "bsendl",
  "bundle_wait",
  "choose",
  "chrecv",
  "chsend",
  "dill_yield",
  "fdin",
  "fdout",
  "happyeyeballs_connect",
  "http_detach",
  "http_done",
  "http_recvfield",
  "http_recvrequest",
  "http_recvstatus",
  "http_sendfield",
  "http_sendrequest",
  "http_sendstatus",
  "ipaddr_remote",
  "ipaddr_remotes",
  "ipc_accept",
  "ipc_accept_mem",
  "ipc_close",
  "ipc_connect",
  "ipc_connect_mem",
  "ipc_done",
  "ipc_listen",
  "ipc_listen_mem",
  "ipc_listener_fromfd",
  "ipc_listener_fromfd_mem",
  "ipc_pair",
  "ipc_pair_mem",
  "ipc_recv_some",
  "ipc_recvfd",
  "ipc_sendfd",
  "mrecv",
  "mrecvl",
  "msend",
  "msendl",
  "msleep",
  "socks5_client_connect",
  "socks5_client_connectbyname",
  "socks5_proxy_auth",
  "socks5_proxy_recvcommand",
  "socks5_proxy_recvcommandbyname",
  "socks5_proxy_sendreply",
  "suffix_detach",
  "tcp_accept",
  "tcp_accept_mem",
  "tcp_close",
  "tcp_connect",
  "tcp_connect_mem",
  "tcp_done",
  "tcp_listen",
  "tcp_listen_mem",
  "tcp_listener_fromfd",
  "tcp_listener_fromfd_mem",
  "tcp_recv_some",
  "term_detach",
  "term_done",
  "tls_attach_client",
  "tls_attach_client_mem",
  "tls_attach_server",
  "tls_attach_server_mem",
  "tls_detach",
  "tls_done",
  "udp_open",
  "udp_open_mem",
  "udp_recv",
  "udp_recvl",
  "ws_attach_client",
  "ws_attach_client_mem",
  "ws_attach_server",
  "ws_attach_server_mem",
  "ws_detach",
  "ws_done",
  "ws_recv",
  "ws_recvl",
  "ws_send",
  "ws_sendl",
];

/** The blocking calls of "tsdill/effection"; each is also exported as `dill_<name>`. */
export const EFFECTION_BLOCKING_CALLS: readonly string[] = ["effection_call", "effection_drain"];

/** Every name under which a blocking call is exported, prefixed names included. */
export function blockingNames(): Set<string> {
  const out = new Set<string>();
  for (const n of [...BLOCKING_CALLS, ...EFFECTION_BLOCKING_CALLS]) {
    out.add(n);
    if (!n.startsWith("dill_")) out.add(`dill_${n}`);
  }
  return out;
}
