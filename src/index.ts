/**
 * tsdill: libdill's structured concurrency for TypeScript on Node.js.
 * The public face: re-exports only, each under its libdill name and its `dill_` prefixed name.
 */
export { DillError, ERRNO, type ErrnoCode, isDillError } from "./handles/errors.js";
export type { Op } from "./handles/op.js";
export type { HandleVfs } from "./handles/table.js";
export type {
  Branded,
  Bsock,
  Bundle,
  Chan,
  HttpSocket,
  IpcListener,
  IpcSocket,
  Msock,
  PrefixSocket,
  SuffixSocket,
  TcpListener,
  TcpSocket,
  TermSocket,
  TlsSocket,
  UdpSocket,
  Unbranded,
  WsSocket,
} from "./handles/types.js";
export { Storage } from "./handles/pool.js";
export { hclose, hmake, hown, hquery } from "./handles/handle.js";
export { now } from "./runtime/clock.js";
export { COROUTINE_TYPE, type Coroutine, CoroutineStorage, go, go_mem } from "./runtime/coroutine.js";
export { BUNDLE_TYPE, BundleStorage, bundle, bundle_go, bundle_go_mem, bundle_mem } from "./runtime/bundle.js";
export { bundle_wait } from "./runtime/bundlewait.js";
export { dill_yield, msleep } from "./runtime/time.js";
export { CHAN_TYPE, ChannelStorage, chdone, chmake, chmake_mem, chrecv, chsend } from "./runtime/chan.js";
export { CHRECV, CHSEND, type ChooseClause, choose } from "./runtime/choose.js";
export { await_promise } from "./runtime/awaitpromise.js";
export { run, type RunOptions } from "./runtime/promise.js";
export { abort_signal } from "./runtime/signal.js";
export { type DillOptions, type DillStats, dill_configure, dill_stats } from "./runtime/stats.js";
export { type DillTraceRecord, dill_trace } from "./runtime/trace.js";
export { type ChromeTrace, type ChromeTraceEvent, dill_trace_json } from "./runtime/traceexport.js";
export type { UncaughtHandler } from "./runtime/sched.js";
export { type DillTreeNode, dill_print_tree, dill_tree, dill_tree_json } from "./runtime/tree.js";
export type { DillDeadlock } from "./runtime/deadlock.js";
export type { DillWait, DillWaitPeer } from "./runtime/waits.js";

// libdill's prefixed names (what its header exposes with DILL_DISABLE_RAW_NAMES).
export {
  hclose as dill_hclose,
  hmake as dill_hmake,
  hown as dill_hown,
  hquery as dill_hquery,
} from "./handles/handle.js";
export { now as dill_now } from "./runtime/clock.js";
export { go as dill_go, go_mem as dill_go_mem } from "./runtime/coroutine.js";
export {
  bundle as dill_bundle,
  bundle_go as dill_bundle_go,
  bundle_go_mem as dill_bundle_go_mem,
  bundle_mem as dill_bundle_mem,
} from "./runtime/bundle.js";
export { bundle_wait as dill_bundle_wait } from "./runtime/bundlewait.js";
export { msleep as dill_msleep } from "./runtime/time.js";
export {
  chdone as dill_chdone,
  chmake as dill_chmake,
  chmake_mem as dill_chmake_mem,
  chrecv as dill_chrecv,
  chsend as dill_chsend,
} from "./runtime/chan.js";
export { CHRECV as DILL_CHRECV, CHSEND as DILL_CHSEND, choose as dill_choose } from "./runtime/choose.js";
export { await_promise as dill_await_promise } from "./runtime/awaitpromise.js";
export { run as dill_run } from "./runtime/promise.js";
export { abort_signal as dill_abort_signal } from "./runtime/signal.js";

// Bytestreams and IPC sockets.
export { BSOCK_TYPE, type Bytestream, type IoList, brecv, brecvl, bsend, bsendl } from "./handles/bytestream.js";
export { IPC_TYPE } from "./ipc/socket.js";
export { IPC_LISTENER_TYPE } from "./ipc/listener.js";
export { IpcListenerStorage, IpcPairStorage, IpcStorage } from "./ipc/storage.js";
export { type IpcListenOptions, ipc_listen, ipc_listen_mem } from "./ipc/listen.js";
export { ipc_accept, ipc_accept_mem } from "./ipc/accept.js";
export { ipc_connect, ipc_connect_mem } from "./ipc/connect.js";
export { ipc_close, ipc_done } from "./ipc/close.js";
export { ipc_pair, ipc_pair_mem } from "./ipc/pair.js";
export { ipc_fromfd, ipc_fromfd_mem, ipc_listener_fromfd, ipc_listener_fromfd_mem } from "./ipc/fromfd.js";
export { ipc_recv_some } from "./ipc/recvsome.js";
export { ipc_listener_fd } from "./ipc/listenerfd.js";
export { ipc_recvfd, ipc_sendfd } from "./ipc/fdpass.js";
export { ipc_fd } from "./ipc/connfd.js";
export { fdclean, fdin, fdout } from "./fd/poll.js";
export {
  brecv as dill_brecv,
  brecvl as dill_brecvl,
  bsend as dill_bsend,
  bsendl as dill_bsendl,
} from "./handles/bytestream.js";
export { ipc_listen as dill_ipc_listen, ipc_listen_mem as dill_ipc_listen_mem } from "./ipc/listen.js";
export { ipc_accept as dill_ipc_accept, ipc_accept_mem as dill_ipc_accept_mem } from "./ipc/accept.js";
export { ipc_connect as dill_ipc_connect, ipc_connect_mem as dill_ipc_connect_mem } from "./ipc/connect.js";
export { ipc_close as dill_ipc_close, ipc_done as dill_ipc_done } from "./ipc/close.js";
export { ipc_pair as dill_ipc_pair, ipc_pair_mem as dill_ipc_pair_mem } from "./ipc/pair.js";
export { ipc_recv_some as dill_ipc_recv_some } from "./ipc/recvsome.js";
export { ipc_listener_fd as dill_ipc_listener_fd } from "./ipc/listenerfd.js";
export { ipc_recvfd as dill_ipc_recvfd, ipc_sendfd as dill_ipc_sendfd } from "./ipc/fdpass.js";
export { ipc_fd as dill_ipc_fd } from "./ipc/connfd.js";
export { fdclean as dill_fdclean, fdin as dill_fdin, fdout as dill_fdout } from "./fd/poll.js";
export {
  ipc_fromfd as dill_ipc_fromfd,
  ipc_fromfd_mem as dill_ipc_fromfd_mem,
  ipc_listener_fromfd as dill_ipc_listener_fromfd,
  ipc_listener_fromfd_mem as dill_ipc_listener_fromfd_mem,
} from "./ipc/fromfd.js";

// Message sockets, and the protocols that attach over bytestreams and message sockets.
export { MSOCK_TYPE, type MessageSocket, mrecv, mrecvl, msend, msendl } from "./handles/msock.js";
export {
  PREFIX_BIG_ENDIAN,
  PREFIX_LITTLE_ENDIAN,
  PrefixStorage,
  prefix_attach,
  prefix_attach_mem,
  prefix_detach,
} from "./protocols/prefix.js";
export { SuffixStorage, suffix_attach, suffix_attach_mem, suffix_detach } from "./protocols/suffix.js";
export { TermStorage, term_attach, term_attach_mem, term_detach, term_done } from "./protocols/term.js";
export {
  mrecv as dill_mrecv,
  mrecvl as dill_mrecvl,
  msend as dill_msend,
  msendl as dill_msendl,
} from "./handles/msock.js";
export {
  PREFIX_BIG_ENDIAN as DILL_PREFIX_BIG_ENDIAN,
  PREFIX_LITTLE_ENDIAN as DILL_PREFIX_LITTLE_ENDIAN,
  prefix_attach as dill_prefix_attach,
  prefix_attach_mem as dill_prefix_attach_mem,
  prefix_detach as dill_prefix_detach,
} from "./protocols/prefix.js";
export {
  suffix_attach as dill_suffix_attach,
  suffix_attach_mem as dill_suffix_attach_mem,
  suffix_detach as dill_suffix_detach,
} from "./protocols/suffix.js";
export {
  term_attach as dill_term_attach,
  term_attach_mem as dill_term_attach_mem,
  term_detach as dill_term_detach,
  term_done as dill_term_done,
} from "./protocols/term.js";

// TCP sockets and IP addresses.
export { TCP_LISTENER_TYPE, TCP_TYPE } from "./tcp/family.js";
export { TcpListenerStorage, TcpStorage } from "./tcp/storage.js";
export {
  AF_INET,
  AF_INET6,
  IpAddr,
  IPADDR_IPV4,
  IPADDR_IPV6,
  IPADDR_MAXSTRLEN,
  IPADDR_PREF_IPV4,
  IPADDR_PREF_IPV6,
  ipaddr_equal,
  ipaddr_family,
  ipaddr_local,
  ipaddr_port,
  ipaddr_remote,
  ipaddr_remotes,
  ipaddr_setport,
  ipaddr_str,
} from "./ipaddr/ipaddr.js";
export { tcp_listen, tcp_listen_mem } from "./tcp/listen.js";
export { tcp_accept, tcp_accept_mem } from "./tcp/accept.js";
export { tcp_connect, tcp_connect_mem } from "./tcp/connect.js";
export { tcp_close, tcp_done } from "./tcp/close.js";
export { tcp_fromfd, tcp_fromfd_mem, tcp_listener_fromfd, tcp_listener_fromfd_mem } from "./tcp/fromfd.js";
export { tcp_listener_fd } from "./tcp/listenerfd.js";
export { tcp_recv_some } from "./tcp/recvsome.js";
export { happyeyeballs_connect } from "./tcp/happyeyeballs.js";
export {
  IPADDR_IPV4 as DILL_IPADDR_IPV4,
  IPADDR_IPV6 as DILL_IPADDR_IPV6,
  IPADDR_MAXSTRLEN as DILL_IPADDR_MAXSTRLEN,
  IPADDR_PREF_IPV4 as DILL_IPADDR_PREF_IPV4,
  IPADDR_PREF_IPV6 as DILL_IPADDR_PREF_IPV6,
  ipaddr_equal as dill_ipaddr_equal,
  ipaddr_family as dill_ipaddr_family,
  ipaddr_local as dill_ipaddr_local,
  ipaddr_port as dill_ipaddr_port,
  ipaddr_remote as dill_ipaddr_remote,
  ipaddr_remotes as dill_ipaddr_remotes,
  ipaddr_setport as dill_ipaddr_setport,
  ipaddr_str as dill_ipaddr_str,
} from "./ipaddr/ipaddr.js";
export { tcp_listen as dill_tcp_listen, tcp_listen_mem as dill_tcp_listen_mem } from "./tcp/listen.js";
export { tcp_accept as dill_tcp_accept, tcp_accept_mem as dill_tcp_accept_mem } from "./tcp/accept.js";
export { tcp_connect as dill_tcp_connect, tcp_connect_mem as dill_tcp_connect_mem } from "./tcp/connect.js";
export { tcp_close as dill_tcp_close, tcp_done as dill_tcp_done } from "./tcp/close.js";
export {
  tcp_fromfd as dill_tcp_fromfd,
  tcp_fromfd_mem as dill_tcp_fromfd_mem,
  tcp_listener_fromfd as dill_tcp_listener_fromfd,
  tcp_listener_fromfd_mem as dill_tcp_listener_fromfd_mem,
} from "./tcp/fromfd.js";
export { tcp_listener_fd as dill_tcp_listener_fd } from "./tcp/listenerfd.js";
export { tcp_recv_some as dill_tcp_recv_some } from "./tcp/recvsome.js";
export { happyeyeballs_connect as dill_happyeyeballs_connect } from "./tcp/happyeyeballs.js";

// Socket addresses as bytes.
export { ipaddr_len, ipaddr_sockaddr } from "./ipaddr/sockaddr.js";
export { ipaddr_len as dill_ipaddr_len, ipaddr_sockaddr as dill_ipaddr_sockaddr } from "./ipaddr/sockaddr.js";

// UDP sockets: datagrams, and a message socket when a remote address is set.
export { UDP_TYPE } from "./udp/socket.js";
export { UdpStorage } from "./udp/storage.js";
export { udp_open, udp_open_mem } from "./udp/open.js";
export { udp_recv, udp_recvl, udp_send, udp_sendl } from "./udp/sendrecv.js";
export { udp_open as dill_udp_open, udp_open_mem as dill_udp_open_mem } from "./udp/open.js";
export {
  udp_recv as dill_udp_recv,
  udp_recvl as dill_udp_recvl,
  udp_send as dill_udp_send,
  udp_sendl as dill_udp_sendl,
} from "./udp/sendrecv.js";

// SOCKS5, the client's and the proxy's handshakes over any bytestream.
export {
  SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED,
  SOCKS5_BIND,
  SOCKS5_COMMAND_NOT_SUPPORTED,
  SOCKS5_CONNECT,
  SOCKS5_CONNECTION_NOT_ALLOWED,
  SOCKS5_CONNECTION_REFUSED,
  SOCKS5_GENERAL_FAILURE,
  SOCKS5_HOST_UNREACHABLE,
  SOCKS5_NETWORK_UNREACHABLE,
  SOCKS5_SUCCESS,
  SOCKS5_TTL_EXPIRED,
  SOCKS5_UDP_ASSOCIATE,
  type Socks5AuthFunction,
  socks5_client_connect,
  socks5_client_connectbyname,
  socks5_proxy_auth,
  socks5_proxy_recvcommand,
  socks5_proxy_recvcommandbyname,
  socks5_proxy_sendreply,
} from "./protocols/socks5.js";
export {
  SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED as DILL_SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED,
  SOCKS5_BIND as DILL_SOCKS5_BIND,
  SOCKS5_COMMAND_NOT_SUPPORTED as DILL_SOCKS5_COMMAND_NOT_SUPPORTED,
  SOCKS5_CONNECT as DILL_SOCKS5_CONNECT,
  SOCKS5_CONNECTION_NOT_ALLOWED as DILL_SOCKS5_CONNECTION_NOT_ALLOWED,
  SOCKS5_CONNECTION_REFUSED as DILL_SOCKS5_CONNECTION_REFUSED,
  SOCKS5_GENERAL_FAILURE as DILL_SOCKS5_GENERAL_FAILURE,
  SOCKS5_HOST_UNREACHABLE as DILL_SOCKS5_HOST_UNREACHABLE,
  SOCKS5_NETWORK_UNREACHABLE as DILL_SOCKS5_NETWORK_UNREACHABLE,
  SOCKS5_SUCCESS as DILL_SOCKS5_SUCCESS,
  SOCKS5_TTL_EXPIRED as DILL_SOCKS5_TTL_EXPIRED,
  SOCKS5_UDP_ASSOCIATE as DILL_SOCKS5_UDP_ASSOCIATE,
  socks5_client_connect as dill_socks5_client_connect,
  socks5_client_connectbyname as dill_socks5_client_connectbyname,
  socks5_proxy_auth as dill_socks5_proxy_auth,
  socks5_proxy_recvcommand as dill_socks5_proxy_recvcommand,
  socks5_proxy_recvcommandbyname as dill_socks5_proxy_recvcommandbyname,
  socks5_proxy_sendreply as dill_socks5_proxy_sendreply,
} from "./protocols/socks5.js";

// TLS, a bytestream protocol over any bytestream.
export {
  TLS_TYPE,
  TlsStorage,
  tls_attach_client,
  tls_attach_client_mem,
  tls_attach_server,
  tls_attach_server_mem,
  tls_detach,
  tls_done,
} from "./protocols/tls.js";
export {
  tls_attach_client as dill_tls_attach_client,
  tls_attach_client_mem as dill_tls_attach_client_mem,
  tls_attach_server as dill_tls_attach_server,
  tls_attach_server_mem as dill_tls_attach_server_mem,
  tls_detach as dill_tls_detach,
  tls_done as dill_tls_done,
} from "./protocols/tls.js";

// HTTP: request and status lines and header fields over any bytestream.
export {
  HTTP_MAX_LINE,
  HTTP_TYPE,
  HttpStorage,
  http_attach,
  http_attach_mem,
  http_detach,
  http_done,
  http_recvfield,
  http_recvrequest,
  http_recvstatus,
  http_sendfield,
  http_sendrequest,
  http_sendstatus,
} from "./protocols/http.js";
export {
  http_attach as dill_http_attach,
  http_attach_mem as dill_http_attach_mem,
  http_detach as dill_http_detach,
  http_done as dill_http_done,
  http_recvfield as dill_http_recvfield,
  http_recvrequest as dill_http_recvrequest,
  http_recvstatus as dill_http_recvstatus,
  http_sendfield as dill_http_sendfield,
  http_sendrequest as dill_http_sendrequest,
  http_sendstatus as dill_http_sendstatus,
} from "./protocols/http.js";
// WebSocket (RFC 6455), a message protocol over any bytestream.
export {
  WS_BINARY,
  WS_KEY_SIZE,
  WS_MAX_REASON,
  WS_NOHTTP,
  WS_TEXT,
  WS_TYPE,
  WsStorage,
  ws_attach_client,
  ws_attach_client_mem,
  ws_attach_server,
  ws_attach_server_mem,
  ws_detach,
  ws_done,
  ws_recv,
  ws_recvl,
  ws_request_key,
  ws_response_key,
  ws_send,
  ws_sendl,
  ws_status,
} from "./protocols/ws.js";
export {
  WS_BINARY as DILL_WS_BINARY,
  WS_NOHTTP as DILL_WS_NOHTTP,
  WS_TEXT as DILL_WS_TEXT,
  ws_attach_client as dill_ws_attach_client,
  ws_attach_client_mem as dill_ws_attach_client_mem,
  ws_attach_server as dill_ws_attach_server,
  ws_attach_server_mem as dill_ws_attach_server_mem,
  ws_detach as dill_ws_detach,
  ws_done as dill_ws_done,
  ws_recv as dill_ws_recv,
  ws_recvl as dill_ws_recvl,
  ws_request_key as dill_ws_request_key,
  ws_response_key as dill_ws_response_key,
  ws_send as dill_ws_send,
  ws_sendl as dill_ws_sendl,
  ws_status as dill_ws_status,
} from "./protocols/ws.js";
