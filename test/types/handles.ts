/**
 * Compile-time checks of the handle types, never run: `test/types.test.ts` type-checks this file
 * and asserts that the lines under each `// @ts-expect-error` fail (with a message naming what
 * follows the directive) and that no other line does. `npm run typecheck` checks it too.
 */
import { expectTypeOf } from "vitest";
import {
  brecv,
  bsend,
  type Bsock,
  type Bundle,
  bundle,
  bundle_go,
  bundle_mem,
  bundle_wait,
  BundleStorage,
  type Chan,
  ChannelStorage,
  chdone,
  chmake,
  chmake_mem,
  choose,
  type ChooseClause,
  CHRECV,
  chrecv,
  CHSEND,
  chsend,
  CoroutineStorage,
  go,
  go_mem,
  happyeyeballs_connect,
  hclose,
  hown,
  hquery,
  http_attach,
  http_attach_mem,
  http_detach,
  http_recvfield,
  http_sendrequest,
  type HttpSocket,
  HttpStorage,
  type IpAddr,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_fd,
  ipc_listen,
  ipc_pair,
  ipc_recvfd,
  ipc_sendfd,
  type IpcListener,
  type IpcSocket,
  mrecv,
  msend,
  type Msock,
  prefix_attach,
  prefix_detach,
  type PrefixSocket,
  socks5_client_connect,
  socks5_proxy_auth,
  suffix_attach,
  suffix_detach,
  type SuffixSocket,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_listen,
  type TcpListener,
  type TcpSocket,
  term_attach,
  term_detach,
  type TermSocket,
  tls_attach_client,
  tls_detach,
  type TlsSocket,
  udp_open,
  udp_open_mem,
  udp_recv,
  udp_send,
  type UdpSocket,
  UdpStorage,
  ws_attach_client,
  ws_attach_server,
  ws_attach_server_mem,
  ws_detach,
  ws_recv,
  ws_send,
  ws_status,
  WS_TEXT,
  type WsSocket,
  WsStorage,
} from "../../src/index.js";

function* worker(): Generator<unknown, void, unknown> {}

export function* channels() {
  const [a, b] = chmake<string>();
  expectTypeOf(a).toEqualTypeOf<Chan<string>>();
  expectTypeOf(chmake_mem<number>(new ChannelStorage())).toEqualTypeOf<[Chan<number>, Chan<number>]>();
  yield* chsend(a, "hi", -1);
  // @ts-expect-error number
  yield* chsend(a, 42, -1);
  const v = yield* chrecv(b, -1);
  expectTypeOf(v).toEqualTypeOf<string>();
  // @ts-expect-error string
  const w: number = yield* chrecv(b, -1);
  chdone(a);
  // A plain number is accepted, and chrecv's T is then given explicitly.
  const n: number = b;
  yield* chsend(n, 42, -1);
  expectTypeOf(yield* chrecv<number>(n, -1)).toEqualTypeOf<number>();
  chdone(n);
  // A channel of another type, or a handle of another kind, is not.
  const [c] = chmake<number>();
  // @ts-expect-error Chan<number>
  yield* chrecv<string>(c, -1);
  const bn = bundle();
  // @ts-expect-error Bundle
  yield* chsend(bn, 1, -1);
  // @ts-expect-error Bundle
  yield* chrecv(bn, -1);
  // @ts-expect-error IpcSocket
  chdone(yield* ipc_connect("/tmp/x", -1));
  // An untyped channel carries unknown.
  const [u] = chmake();
  expectTypeOf(yield* chrecv(u, -1)).toEqualTypeOf<unknown>();
  return w;
}

export function* clauses() {
  const [s] = chmake<string>();
  const [q] = chmake<number>();
  const got: ChooseClause<string> = { op: CHRECV, ch: s };
  const i = yield* choose([got, { op: CHSEND, ch: q, val: 1 }], -1);
  expectTypeOf(i).toEqualTypeOf<number>();
  expectTypeOf(got.val).toEqualTypeOf<string | undefined>();
  // @ts-expect-error Chan<number>
  const bad: ChooseClause<string> = { op: CHRECV, ch: q };
  // @ts-expect-error string
  yield* choose([{ op: CHSEND, ch: q, val: "one" }], -1);
  // @ts-expect-error Bundle
  yield* choose([{ op: CHRECV, ch: bundle() }], -1);
  // An untyped list of clauses, and plain numbers, still work.
  const cls: ChooseClause[] = [
    { op: CHRECV, ch: s },
    { op: CHSEND, ch: q, val: 2 },
  ];
  yield* choose(cls, -1);
  const n: number = s;
  yield* choose([{ op: CHSEND, ch: n, val: { any: "thing" } }], -1);
  return bad;
}

export function* bundles() {
  const cr = go(worker());
  expectTypeOf(cr).toEqualTypeOf<Bundle>();
  expectTypeOf(go_mem(worker(), new CoroutineStorage())).toEqualTypeOf<Bundle>();
  expectTypeOf(bundle_mem(new BundleStorage())).toEqualTypeOf<Bundle>();
  bundle_go(cr, worker());
  yield* bundle_wait(cr, -1);
  const n: number = bundle();
  bundle_go(n, worker());
  const [a] = chmake();
  // @ts-expect-error Chan<unknown>
  bundle_go(a, worker());
  // @ts-expect-error Chan<unknown>
  yield* bundle_wait(a, -1);
  // Any handle closes, is queried, and keeps its type when moved.
  hclose(cr);
  hclose(a);
  hquery(a, Symbol("x"));
  expectTypeOf(hown(a)).toEqualTypeOf<Chan<unknown>>();
  expectTypeOf(hown(n)).toEqualTypeOf<number>();
}

export function* sockets(addr: IpAddr) {
  const ls = yield* ipc_listen("/tmp/x", 10);
  expectTypeOf(ls).toEqualTypeOf<IpcListener>();
  const s = yield* ipc_accept(ls, -1);
  expectTypeOf(s).toEqualTypeOf<IpcSocket>();
  expectTypeOf(yield* ipc_pair()).toEqualTypeOf<[IpcSocket, IpcSocket]>();
  yield* bsend(s, "x", 1, -1);
  const t = yield* tcp_connect(addr, -1);
  expectTypeOf(t).toEqualTypeOf<TcpSocket>();
  expectTypeOf(yield* tcp_listen(addr, 10)).toEqualTypeOf<TcpListener>();
  yield* brecv(t, null, 1, -1);
  // @ts-expect-error IpcListener
  yield* ipc_accept(s, -1);
  // @ts-expect-error TcpListener
  yield* ipc_accept(yield* tcp_listen(addr, 10), -1);
  // @ts-expect-error IpcSocket
  yield* tcp_accept(s, null, -1);
  // @ts-expect-error TcpSocket
  yield* ipc_close(t, -1);
  // @ts-expect-error Chan<unknown>
  yield* bsend(chmake()[0], "x", 1, -1);
  // @ts-expect-error IpcSocket
  yield* msend(s, "x", 1, -1);
  // Listeners close with the family's close call too.
  yield* ipc_close(ls, -1);
  yield* tcp_close(yield* tcp_listen(addr, 10), -1);
  const n: number = s;
  yield* bsend(n, "x", 1, -1);
  yield* ipc_close(n, -1);
}

export function* protocols(addr: IpAddr) {
  const s = yield* ipc_connect("/tmp/x", -1);
  const p = prefix_attach(s, 4, 0);
  expectTypeOf(p).toEqualTypeOf<PrefixSocket<IpcSocket>>();
  expectTypeOf(p).toMatchTypeOf<Msock>();
  yield* msend(p, "x", 1, -1);
  expectTypeOf(yield* mrecv(p, null, 1, -1)).toEqualTypeOf<number>();
  // @ts-expect-error PrefixSocket<IpcSocket>
  yield* bsend(p, "x", 1, -1);
  // @ts-expect-error PrefixSocket<IpcSocket>
  prefix_attach(p, 4, 0);
  // @ts-expect-error Bundle
  prefix_attach(go(worker()), 4, 0);
  const back = prefix_detach(p);
  expectTypeOf(back).toEqualTypeOf<IpcSocket>();
  yield* ipc_close(back, -1);
  // Protocols stack: TERM over SUFFIX over TLS over TCP, and come off in order.
  const tls = yield* tls_attach_client(yield* tcp_connect(addr, -1), -1);
  expectTypeOf(tls).toEqualTypeOf<TlsSocket<TcpSocket>>();
  expectTypeOf(tls).toMatchTypeOf<Bsock>();
  const sx = suffix_attach(tls, "\n", 1);
  expectTypeOf(sx).toEqualTypeOf<SuffixSocket<TlsSocket<TcpSocket>>>();
  const tm = term_attach(sx, null, 0);
  expectTypeOf(tm).toEqualTypeOf<TermSocket<SuffixSocket<TlsSocket<TcpSocket>>>>();
  // @ts-expect-error TlsSocket<TcpSocket>
  term_attach(tls, null, 0);
  const sx2 = yield* term_detach(tm, -1);
  // @ts-expect-error SuffixSocket
  yield* term_detach(sx2, -1);
  const tls2 = yield* suffix_detach(sx2, -1);
  const tcp = yield* tls_detach(tls2, -1);
  expectTypeOf(tcp).toEqualTypeOf<TcpSocket>();
  yield* tcp_close(tcp, -1);
  // Plain numbers in, plain numbers out.
  const n: number = s;
  const pn = prefix_attach(n, 4, 0);
  expectTypeOf(prefix_detach(pn)).toEqualTypeOf<number>();
  expectTypeOf(yield* term_detach(n, -1)).toEqualTypeOf<number>();
}

export function* http(addr: IpAddr) {
  const c = yield* tcp_connect(addr, -1);
  const h = http_attach(c);
  expectTypeOf(h).toEqualTypeOf<HttpSocket<TcpSocket>>();
  expectTypeOf(http_attach_mem(c, new HttpStorage())).toEqualTypeOf<HttpSocket<TcpSocket>>();
  yield* http_sendrequest(h, "GET", "/", -1);
  // @ts-expect-error TcpSocket
  yield* http_sendrequest(c, "GET", "/", -1);
  // @ts-expect-error HttpSocket<TcpSocket>
  yield* bsend(h, "x", 1, -1);
  // @ts-expect-error HttpSocket<TcpSocket>
  yield* msend(h, "x", 1, -1);
  // @ts-expect-error PrefixSocket<TcpSocket>
  http_attach(prefix_attach(c, 4, 0));
  const back = yield* http_detach(h, -1);
  expectTypeOf(back).toEqualTypeOf<TcpSocket>();
  // HTTP over TLS over TCP comes apart in order.
  const tls = yield* tls_attach_client(c, -1);
  expectTypeOf(yield* http_detach(http_attach(tls), -1)).toEqualTypeOf<TlsSocket<TcpSocket>>();
  const n: number = c;
  yield* http_recvfield(n, 8, 8, -1);
  expectTypeOf(yield* http_detach(http_attach(n), -1)).toEqualTypeOf<number>();
}

export function* websockets(addr: IpAddr) {
  const c = yield* tcp_connect(addr, -1);
  const [ws, resource, host] = yield* ws_attach_server(c, WS_TEXT, 256, 256, -1);
  expectTypeOf(ws).toEqualTypeOf<WsSocket<TcpSocket>>();
  expectTypeOf(ws).toMatchTypeOf<Msock>();
  expectTypeOf([resource, host]).toEqualTypeOf<string[]>();
  expectTypeOf((yield* ws_attach_server_mem(c, WS_TEXT, 9, 9, new WsStorage(), -1))[0]).toEqualTypeOf<
    WsSocket<TcpSocket>
  >();
  yield* msend(ws, "x", 1, -1);
  yield* ws_send(ws, WS_TEXT, "x", 1, -1);
  expectTypeOf(yield* ws_recv(ws, null, 1, -1)).toEqualTypeOf<[number, number]>();
  ws_status(ws, null, 0);
  // @ts-expect-error TcpSocket
  yield* ws_send(c, WS_TEXT, "x", 1, -1);
  // @ts-expect-error WsSocket<TcpSocket>
  yield* bsend(ws, "x", 1, -1);
  // @ts-expect-error WsSocket<TcpSocket>
  yield* ws_attach_client(ws, WS_TEXT, "/", "h", -1);
  // @ts-expect-error PrefixSocket<TcpSocket>
  yield* ws_recv(prefix_attach(c, 4, 0), null, 1, -1);
  expectTypeOf(yield* ws_detach(ws, 1000, null, 0, -1)).toEqualTypeOf<TcpSocket>();
  const tls = yield* tls_attach_client(c, -1);
  const wt = yield* ws_attach_client(tls, WS_TEXT, "/", "h", -1);
  expectTypeOf(wt).toEqualTypeOf<WsSocket<TlsSocket<TcpSocket>>>();
  expectTypeOf(term_attach(wt, null, 0)).toEqualTypeOf<TermSocket<WsSocket<TlsSocket<TcpSocket>>>>();
  expectTypeOf(yield* ws_detach(wt, 1000, null, 0, -1)).toEqualTypeOf<TlsSocket<TcpSocket>>();
  const n: number = c;
  const wn = yield* ws_attach_client(n, WS_TEXT, "/", "h", -1);
  yield* ws_send(n, WS_TEXT, "x", 1, -1);
  expectTypeOf(yield* ws_detach(wn, 1000, null, 0, -1)).toEqualTypeOf<number>();
}

export function* socks5(addr: IpAddr) {
  const c = yield* tcp_connect(addr, -1);
  yield* socks5_client_connect(c, null, null, addr, -1);
  yield* socks5_client_connect(yield* tls_attach_client(c, -1), "u", "p", addr, -1);
  yield* socks5_proxy_auth((yield* ipc_pair())[0], null, -1);
  // @ts-expect-error PrefixSocket<TcpSocket>
  yield* socks5_client_connect(prefix_attach(c, 4, 0), null, null, addr, -1);
  // @ts-expect-error Bundle
  yield* socks5_proxy_auth(bundle(), null, -1);
  const n: number = c;
  yield* socks5_proxy_auth(n, null, -1);
}

export function* udp(addr: IpAddr) {
  const u = yield* udp_open(null, addr);
  expectTypeOf(u).toEqualTypeOf<UdpSocket>();
  expectTypeOf(u).toMatchTypeOf<Msock>();
  expectTypeOf(yield* udp_open_mem(addr, null, new UdpStorage())).toEqualTypeOf<UdpSocket>();
  udp_send(u, null, "x", 1);
  expectTypeOf(yield* udp_recv(u, null, null, 1, -1)).toEqualTypeOf<number>();
  yield* msend(u, "x", 1, -1);
  expectTypeOf(term_attach(u, null, 0)).toEqualTypeOf<TermSocket<UdpSocket>>();
  const c = yield* tcp_connect(addr, -1);
  // @ts-expect-error TcpSocket
  udp_send(c, addr, "x", 1);
  // @ts-expect-error UdpSocket
  yield* bsend(u, "x", 1, -1);
  // @ts-expect-error UdpSocket
  yield* tcp_close(u, -1);
  const n: number = u;
  udp_send(n, addr, "x", 1);
  yield* udp_recv(n, null, null, 1, -1);
}

export function* connections() {
  const t = yield* happyeyeballs_connect("localhost", 80, -1);
  expectTypeOf(t).toEqualTypeOf<TcpSocket>();
  yield* tcp_close(t, -1);
  const [a, b] = yield* ipc_pair();
  yield* ipc_sendfd(a, 0, -1);
  expectTypeOf(yield* ipc_recvfd(b, -1)).toEqualTypeOf<number>();
  expectTypeOf(ipc_fd(a)).toEqualTypeOf<number>();
  // @ts-expect-error TcpSocket
  yield* ipc_sendfd(t, 0, -1);
  // @ts-expect-error TcpSocket
  yield* ipc_recvfd(t, -1);
  // @ts-expect-error TcpSocket
  ipc_fd(t);
  // @ts-expect-error PrefixSocket<IpcSocket>
  ipc_fd(prefix_attach(a, 4, 0));
  const n: number = t;
  yield* ipc_sendfd(n, 0, -1);
  ipc_fd(n);
}
