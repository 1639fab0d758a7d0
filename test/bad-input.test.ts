/**
 * Bad input at every public function, table-driven.
 *
 * Each row calls one exported function with one bad argument and names the errno libdill gives
 * and the argument the message must name. After each bad call the runtime must still work: the
 * handles of the test's context still send and receive, and (checked by test/setup.ts after each
 * test) nothing is left open. A last test checks that every function exported from src/index.ts
 * has rows here or is exempt with a reason, so a new export without bad-input rows fails.
 *
 * To cover a new family: add its rows to TABLE, using the generators below (`badHandles`,
 * `badDeadlines`, `badMems`, `badCounts`, `badFds`, `badIpAddrs`, `badPorts`, `badModes`,
 * `badNames`) for the common kinds of argument.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";
import { nativeOrNull } from "../src/fd/native.js";
import {
  BundleStorage,
  ChannelStorage,
  CHRECV,
  CHSEND,
  CoroutineStorage,
  DillError,
  type ErrnoCode,
  type IoList,
  IpcListenerStorage,
  IpcPairStorage,
  IpcStorage,
  AF_INET6,
  IpAddr,
  IPADDR_IPV4,
  IPADDR_IPV6,
  TCP_LISTENER_TYPE,
  TcpListenerStorage,
  TcpStorage,
  ipaddr_equal,
  ipaddr_family,
  ipaddr_local,
  ipaddr_port,
  ipaddr_remote,
  ipaddr_remotes,
  ipaddr_setport,
  ipaddr_str,
  tcp_accept,
  tcp_accept_mem,
  tcp_close,
  tcp_connect,
  tcp_connect_mem,
  tcp_done,
  tcp_fromfd,
  tcp_fromfd_mem,
  tcp_listen,
  tcp_listen_mem,
  tcp_listener_fd,
  tcp_listener_fromfd,
  tcp_listener_fromfd_mem,
  brecv,
  brecvl,
  bsend,
  bsendl,
  bundle,
  bundle_go,
  bundle_go_mem,
  bundle_mem,
  bundle_wait,
  chdone,
  chmake,
  chmake_mem,
  chrecv,
  chsend,
  choose,
  await_promise,
  dill_configure,
  go,
  go_mem,
  hclose,
  hmake,
  hown,
  hquery,
  ipc_accept,
  ipc_accept_mem,
  ipc_close,
  ipc_connect,
  ipc_connect_mem,
  ipc_done,
  ipc_fromfd,
  ipc_fromfd_mem,
  ipc_listen,
  ipc_listen_mem,
  ipc_listener_fromfd,
  ipc_listener_fd,
  ipc_recv_some,
  ipc_recvfd,
  ipc_sendfd,
  fdin,
  fdout,
  tcp_recv_some,
  dill_print_tree,
  ipc_listener_fromfd_mem,
  ipc_pair,
  ipc_pair_mem,
  msleep,
  now,
  run,
  type Op,
  mrecv,
  mrecvl,
  msend,
  msendl,
  prefix_attach,
  prefix_attach_mem,
  prefix_detach,
  PrefixStorage,
  suffix_attach,
  suffix_attach_mem,
  suffix_detach,
  SuffixStorage,
  term_attach,
  term_attach_mem,
  term_detach,
  term_done,
  TermStorage,
  tls_attach_client,
  tls_attach_client_mem,
  tls_attach_server,
  tls_attach_server_mem,
  tls_detach,
  tls_done,
  WS_BINARY,
  WS_NOHTTP,
  WsStorage,
  ws_attach_client,
  ws_attach_client_mem,
  ws_attach_server,
  ws_attach_server_mem,
  ws_detach,
  ws_done,
  ws_recv,
  ws_recvl,
  ws_response_key,
  ws_send,
  ws_sendl,
  ws_status,
  TlsStorage,
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
  ipaddr_len,
  ipaddr_sockaddr,
  happyeyeballs_connect,
  socks5_client_connect,
  socks5_client_connectbyname,
  socks5_proxy_auth,
  socks5_proxy_recvcommand,
  socks5_proxy_recvcommandbyname,
  socks5_proxy_sendreply,
  UdpStorage,
  udp_open,
  udp_open_mem,
  udp_recv,
  udp_recvl,
  udp_send,
  udp_sendl,
} from "../src/index.js";
import { userPair } from "./msg-helpers.js";
import { expectNoFdLeak, tempDirPerFile } from "./ipc-helpers.js";
import { type Certs, certsPerFile } from "./tls-helpers.js";

let dir: string;
expectNoFdLeak();
tempDirPerFile((d) => (dir = d));
let certs: Certs;
certsPerFile((x) => (certs = x));

/** Valid objects of every kind, made fresh for each row and closed after it. */
interface Ctx {
  /** Two ends of a channel. */
  ch: number;
  ch2: number;
  /** A coroutine (parked forever). */
  cr: number;
  /** A bundle. */
  b: number;
  /** A listener, and its socket file. */
  ls: number;
  addr: string;
  /** Two connected IPC sockets. */
  s: number;
  s2: number;
  /** A TCP listener on 127.0.0.1 and its address (with the port the system chose). */
  tls: number;
  taddr: IpAddr;
  /** Two connected TCP sockets over 127.0.0.1. */
  t: number;
  t2: number;
  /** A user handle (hmake). */
  user: number;
  /** A message socket (prefix, over a user's bytestream), its storage, and the stream's other end. */
  m: number;
  m2: number;
  busyPrefix: PrefixStorage;
  /** Handles a row made for itself (a fresh stream an attach takes over...), closed after it if still open. */
  extra: number[];
  /** A handle number that was closed. */
  closed: number;
  /** A storage of each kind in use by one of the handles above. */
  busyCr: CoroutineStorage;
  busyBundle: BundleStorage;
  busyTcp: TcpStorage;
  busyTcpListener: TcpListenerStorage;
  /** A regular file, open: an fd that is not a socket. */
  fileFd: number;
}

type Call = (c: Ctx) => unknown;
interface Row {
  /** What is wrong, for the test's name. */
  what: string;
  call: Call;
  code: ErrnoCode;
  /** The argument the message must name (`(argument 'x')`); omitted where no single one is at fault. */
  arg?: string;
}

/** The kinds of handle a call may be handed by mistake. */
type Kind = "ch" | "cr" | "b" | "ls" | "s" | "tls" | "t" | "user" | "m";
const KINDS: Kind[] = ["ch", "cr", "b", "ls", "s", "tls", "t", "user", "m"];
/** The kinds that are bytestreams (`bsend`, `brecv`...): IPC and TCP connections. */
const STREAMS: Kind[] = ["s", "t"];

/**
 * Rows for a handle argument: numbers that are no handle (`EBADF`), a closed handle (`EBADF`), a
 * valid handle given as a string (`EBADF`: handles are numbers), and a handle of every kind but
 * `ok` (`ENOTSUP`). `f` calls the function with the handle in that argument.
 */
function badHandles(arg: string, ok: Kind[], f: (h: number, c: Ctx) => unknown): Row[] {
  const rows: Row[] = [];
  for (const h of [-1, 1e9, 1.5, NaN, Infinity, null, undefined]) {
    rows.push({ what: `${arg} = ${String(h)}`, call: (c) => f(h as number, c), code: "EBADF", arg });
  }
  rows.push({ what: `${arg} closed`, call: (c) => f(c.closed, c), code: "EBADF", arg });
  rows.push({
    what: `${arg} a valid handle as a string`,
    call: (c) => f(String(c[ok[0]!]) as unknown as number, c),
    code: "EBADF",
    arg,
  });
  rows.push({ what: `${arg} = "length"`, call: (c) => f("length" as unknown as number, c), code: "EBADF", arg });
  for (const k of KINDS) {
    if (!ok.includes(k)) rows.push({ what: `${arg} of kind ${k}`, call: (c) => f(c[k], c), code: "ENOTSUP", arg });
  }
  return rows;
}

/** Rows for a deadline argument. */
function badDeadlines(f: (d: number, c: Ctx) => unknown): Row[] {
  return [NaN, Infinity, -Infinity, -2, -0.5, "5", null, undefined, {}].map((d) => ({
    what: `deadline = ${typeof d === "string" ? `"${d}"` : String(d)}`,
    call: (c: Ctx) => f(d as number, c),
    code: "EINVAL" as const,
    arg: "deadline",
  }));
}

/** Rows for a storage argument: not a storage, a storage of another class, one in use. */
function badMems(
  good: abstract new () => object,
  busy: ((c: Ctx) => unknown) | null,
  f: (m: never, c: Ctx) => unknown,
): Row[] {
  const others = [
    new ChannelStorage(),
    new IpcPairStorage(),
    new IpcStorage(),
    new BundleStorage(),
    new TcpStorage(),
    new TcpListenerStorage(),
  ].filter((m) => !(m instanceof good));
  const rows: Row[] = [null, undefined, {}, 5, ...others].map((m) => ({
    what: `mem = ${m === null || m === undefined ? String(m) : ((m as object).constructor?.name ?? typeof m)}`,
    call: (c: Ctx) => f(m as never, c),
    code: "EINVAL" as const,
    arg: "mem",
  }));
  if (busy !== null) rows.push({ what: "mem in use", call: (c) => f(busy(c) as never, c), code: "EBUSY", arg: "mem" });
  return rows;
}

/** Rows for a count (a length, a backlog): negative, fractional, NaN, too large, not a number. */
function badCounts(arg: string, f: (n: number, c: Ctx) => unknown, extra: unknown[] = []): Row[] {
  return [-1, 1.5, NaN, Infinity, 2 ** 53, "3", null, undefined, ...extra].map((n) => ({
    what: `${arg} = ${typeof n === "string" ? `"${n}"` : String(n)}`,
    call: (c: Ctx) => f(n as number, c),
    code: "EINVAL" as const,
    arg,
  }));
}

/** Rows for a file-path address. */
function badAddrs(f: (a: string, c: Ctx) => unknown): Row[] {
  return [
    { what: "addr = 5", call: (c) => f(5 as unknown as string, c), code: "EINVAL", arg: "addr" },
    { what: "addr = undefined", call: (c) => f(undefined as unknown as string, c), code: "EINVAL", arg: "addr" },
    {
      what: "addr = Buffer",
      call: (c) => f(Buffer.from("/tmp/x") as unknown as string, c),
      code: "EINVAL",
      arg: "addr",
    },
    { what: "addr empty", call: (c) => f("", c), code: "ENOENT", arg: "addr" },
    { what: "addr with a NUL byte", call: () => f(`${dir}/a\0b.ipc`, null as never), code: "EINVAL", arg: "addr" },
    {
      what: "addr of 108 bytes",
      call: () => f(`${dir}/${"x".repeat(107 - dir.length)}`, null as never),
      code: "ENAMETOOLONG",
      arg: "addr",
    },
    {
      what: "addr of 4096 bytes",
      call: () => f("/" + "y".repeat(4095), null as never),
      code: "ENAMETOOLONG",
      arg: "addr",
    },
    {
      what: "addr in a missing directory",
      call: () => f(`${dir}/missing/x.ipc`, null as never),
      code: "ENOENT",
      arg: "addr",
    },
  ];
}

/** Rows for an fd argument of the fromfd calls. */
function badFds(f: (fd: number, c: Ctx) => unknown): Row[] {
  const rows: Row[] = [-1, 1.5, NaN, "3", null, undefined, 2 ** 53].map((fd) => ({
    what: `fd = ${typeof fd === "string" ? `"${fd}"` : String(fd)}`,
    call: (c: Ctx) => f(fd as number, c),
    code: "EINVAL" as const,
    arg: "fd",
  }));
  rows.push({ what: "fd not open", call: (c) => f(1_000_000, c), code: "EBADF", arg: "fd" });
  rows.push({ what: "fd of a regular file", call: (c) => f(c.fileFd, c), code: "EINVAL", arg: "fd" });
  return rows;
}

/** Whether tsdill's native part is here: without it the fd calls fail with ENOTSUP past their first checks. */
const HAVE_NATIVE = nativeOrNull() !== null;

/** Rows for the descriptor of fdin and fdout: not a descriptor or not open (EBADF), a regular file (ENOTSUP). */
function waitFdRows(f: (fd: number, c: Ctx) => unknown): Row[] {
  const rows: Row[] = [-1, 1.5, NaN, "3", null, undefined, 2 ** 53].map((fd) => ({
    what: `fd = ${typeof fd === "string" ? `"${fd}"` : String(fd)}`,
    call: (c: Ctx) => f(fd as number, c),
    code: "EBADF" as const,
    arg: "fd",
  }));
  if (!HAVE_NATIVE) return rows;
  rows.push({ what: "fd not open", call: (c) => f(1_000_000, c), code: "EBADF", arg: "fd" });
  rows.push({ what: "fd of a regular file", call: (c) => f(c.fileFd, c), code: "ENOTSUP", arg: "fd" });
  return rows;
}

/** Rows of ipc_sendfd's and ipc_recvfd's connection and arguments (without the native part: ENOTSUP). */
function fdPassRows(send: boolean): Row[] {
  const call = (h: number, fd: number, d: number) => (send ? ipc_sendfd(h, fd, d) : ipc_recvfd(h, d));
  if (!HAVE_NATIVE) return [{ what: "no native part", call: (c) => call(c.s, c.fileFd, -1), code: "ENOTSUP" }];
  const rows = [
    ...badHandles("s", ["s"], (h, c) => call(h, c.fileFd, -1)),
    ...badDeadlines((d, c) => call(c.s, c.fileFd, d)),
  ];
  if (!send) return rows;
  for (const fd of [-1, 1.5, NaN, "3", null, undefined, 2 ** 53])
    rows.push({
      what: `fd = ${typeof fd === "string" ? `"${fd}"` : String(fd)}`,
      call: (c) => ipc_sendfd(c.s, fd as number, -1),
      code: "EINVAL",
      arg: "fd",
    });
  rows.push({ what: "fd not open", call: (c) => ipc_sendfd(c.s, 1_000_000, -1), code: "EBADF", arg: "fd" });
  return rows;
}

/**
 * Rows for an IpAddr argument: not an IpAddr at all, or an IpAddr whose fields were broken by a
 * cast (the family does not match the address, an unknown family, a port out of range).
 */
function badIpAddrs(arg: string, f: (a: IpAddr, c: Ctx) => unknown): Row[] {
  const broken = (fields: Record<string, unknown>): IpAddr => Object.assign(new IpAddr(), fields);
  return [
    ["null", null],
    ["undefined", undefined],
    ["{}", {}],
    ["a string", "127.0.0.1"],
    ["a look-alike object", { family: 2, address: "127.0.0.1", port: 80 }],
    ["an IpAddr with no fields", Object.create(IpAddr.prototype)],
    ["an IpAddr of family AF_INET6 holding an IPv4 address", broken({ family: AF_INET6, address: "127.0.0.1" })],
    ["an IpAddr of family AF_INET holding an IPv6 address", broken({ address: "::1" })],
    ["an IpAddr of family 7", broken({ family: 7 })],
    ["an IpAddr with port -1", broken({ port: -1 })],
    ["an IpAddr with port 65536", broken({ port: 65536 })],
  ].map(([what, a]) => ({
    what: `${arg} ${what as string}`,
    call: (c: Ctx) => f(a as IpAddr, c),
    code: "EINVAL" as const,
    arg,
  }));
}

/** Rows for a port argument. */
function badPorts(f: (p: number, c: Ctx) => unknown): Row[] {
  return [-1, 65536, 1.5, NaN, Infinity, "80", null, undefined].map((p) => ({
    what: `port = ${typeof p === "string" ? `"${p}"` : String(p)}`,
    call: (c: Ctx) => f(p as number, c),
    code: "EINVAL" as const,
    arg: "port",
  }));
}

/** Rows for an address-family mode argument. */
function badModes(f: (m: number, c: Ctx) => unknown): Row[] {
  return [-1, 5, 1.5, NaN, "1", null, undefined].map((m) => ({
    what: `mode = ${typeof m === "string" ? `"${m}"` : String(m)}`,
    call: (c: Ctx) => f(m as number, c),
    code: "EINVAL" as const,
    arg: "mode",
  }));
}

/**
 * Rows for a host name: not a string, empty, a NUL byte, longer than a host name can be, and a
 * literal of the family `mode` excludes (`family`: the errno that gives, ENODEV for a local name,
 * EADDRNOTAVAIL for a remote one). `f` gets the name and a mode.
 */
function badNames(family: ErrnoCode, f: (name: string, mode: number, c: Ctx) => unknown): Row[] {
  const row = (what: string, name: unknown, code: ErrnoCode, mode = 0): Row => ({
    what: `name ${what}`,
    call: (c) => f(name as string, mode, c),
    code,
    arg: "name",
  });
  return [
    row("= 5", 5, "EINVAL"),
    row("= {}", {}, "EINVAL"),
    row("a Buffer", Buffer.from("127.0.0.1"), "EINVAL"),
    row("empty", "", "EINVAL"),
    row("with a NUL byte", "127.0.0.1\0", "EINVAL"),
    row("with a NUL byte inside", "local\0host", "EINVAL"),
    row("of 254 characters", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`, "ENAMETOOLONG"),
    row("of 4096 characters", "x".repeat(4096), "ENAMETOOLONG"),
    row("an IPv6 literal with mode IPADDR_IPV4", "::1", family, IPADDR_IPV4),
    row("an IPv4 literal with mode IPADDR_IPV6", "127.0.0.1", family, IPADDR_IPV6),
  ];
}

const el = (base: Uint8Array | null, len: number, next: IoList | null = null): IoList => ({
  iol_base: base,
  iol_len: len,
  iol_next: next,
  iol_rsvd: 0,
});

/** Rows for a malformed iolist, for bsendl (`recv` false) or brecvl. */
function badLists(recv: boolean, f: (first: IoList, last: IoList, c: Ctx) => unknown): Row[] {
  const loop = (): [IoList, IoList] => {
    const last = el(new Uint8Array(1), 1);
    const b = el(new Uint8Array(1), 1);
    const a = el(new Uint8Array(1), 1, b);
    b.iol_next = a;
    return [a, last];
  };
  const rows: Row[] = [
    { what: "first = null", call: (c) => f(null as never, el(new Uint8Array(1), 1), c), code: "EINVAL", arg: "first" },
    { what: "last = null", call: (c) => f(el(new Uint8Array(1), 1), null as never, c), code: "EINVAL", arg: "last" },
    { what: "first = 5", call: (c) => f(5 as never, el(new Uint8Array(1), 1), c), code: "EINVAL", arg: "first" },
    {
      what: "last.iol_next not null",
      call: (c) => {
        const b = el(new Uint8Array(1), 1);
        const a = el(new Uint8Array(1), 1, b);
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "last",
    },
    { what: "a loop in the list", call: (c) => f(...loop(), c), code: "EINVAL", arg: "first" },
    {
      what: "last not in the list",
      call: (c) => f(el(new Uint8Array(1), 1), el(new Uint8Array(1), 1), c),
      code: "EINVAL",
      arg: "first",
    },
    {
      what: "iol_len negative",
      call: (c) => {
        const a = el(new Uint8Array(4), -1);
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "first",
    },
    {
      what: "iol_len NaN",
      call: (c) => {
        const a = el(new Uint8Array(4), NaN);
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "first",
    },
    {
      what: "iol_len fractional",
      call: (c) => {
        const a = el(new Uint8Array(4), 1.5);
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "first",
    },
    {
      what: "iol_len beyond the buffer",
      call: (c) => {
        const a = el(new Uint8Array(4), 5);
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "first",
    },
    {
      what: "iol_base an array",
      call: (c) => {
        const a = el([1, 2] as never, 2);
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "first",
    },
    {
      what: "iol_base missing",
      call: (c) => {
        const a = { iol_len: 0, iol_next: null, iol_rsvd: 0 } as unknown as IoList;
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "first",
    },
    {
      what: "iol_rsvd not 0",
      call: (c) => {
        const a = el(new Uint8Array(1), 1);
        a.iol_rsvd = 5;
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "first",
    },
    {
      what: "iol_next a number",
      call: (c) => {
        const last = el(new Uint8Array(1), 1);
        const a = el(new Uint8Array(1), 1, 7 as never);
        return f(a, last, c);
      },
      code: "EINVAL",
      arg: "first",
    },
  ];
  if (!recv)
    rows.push({
      what: "iol_base null on send",
      call: (c) => {
        const a = el(null, 1);
        return f(a, a, c);
      },
      code: "EINVAL",
      arg: "first",
    });
  return rows;
}

/** A body that returns at once. */
function* quick(): Generator<unknown, void, unknown> {}

function* forever(): Generator<unknown, void, unknown> {
  yield* msleep(-1);
}

/** A generator function, a promise, a plain function, null, a number: not generator objects. */
function badBodies(arg: string, f: (e: never, c: Ctx) => unknown): Row[] {
  return [
    ["a generator function", forever],
    ["a promise", Promise.resolve(1)],
    ["a plain function", () => 1],
    ["null", null],
    ["undefined", undefined],
    ["a number", 5],
    ["an array", [1, 2]],
    ["an object with next only", { next: () => ({ done: true, value: undefined }) }],
  ].map(([what, e]) => ({
    what: `${arg} ${what as string}`,
    call: (c: Ctx) => f(e as never, c),
    code: "EINVAL" as const,
    arg,
  }));
}

const buf4 = (): Uint8Array => new Uint8Array(4);

/** Every public function, by its libdill name, and its bad-input rows. */
/** Rows for `ipc_recv_some` and `tcp_recv_some`, whose connection kind is `kind`. */
function recvSomeRows(
  kind: "s" | "t",
  f: (s: number, buf: Uint8Array, len: number, deadline: number) => unknown,
): Row[] {
  return [
    ...badHandles("s", [kind], (h) => f(h, buf4(), 4, 0)),
    ...[null, "abcd", [0, 0, 0, 0], new ArrayBuffer(4)].map((b) => ({
      what: `buf = ${Array.isArray(b) ? "an array" : String(b)}`,
      call: (c: Ctx) => f(c[kind], b as never, 4, 0),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    ...badCounts("len", (n, c) => f(c[kind], buf4(), n, 0)),
    { what: "len beyond the buffer", call: (c) => f(c[kind], buf4(), 5, 0), code: "EINVAL", arg: "len" },
    ...badDeadlines((d, c) => f(c[kind], buf4(), 4, d)),
  ];
}

/**
 * Run an attach `f` on a fresh handle made by `make`: an attach takes its handle over and closes
 * it when it fails, so its rows never give it one of the context's. A failure must have closed the
 * handle (else the row fails); the row's other handles are closed after it.
 */
function* freshAttach(make: () => Op<number[]>, f: (s: number) => Op<unknown>): Op<unknown> {
  const hs = yield* make();
  const s = hs[0]!;
  try {
    return yield* f(s);
  } catch (e) {
    if (isOpen(s)) throw new Error(`the failed attach left s open (${String(e)})`);
    throw e;
  } finally {
    for (const h of hs.slice(1)) if (isOpen(h)) hclose(h);
  }
}

/** A fresh IPC pair: the end an attach takes over, then the other. */
function* freshPair(): Op<number[]> {
  return yield* ipc_pair();
}

/** An attach row's call on a fresh IPC pair. */
function freshTls(f: (s: number) => Op<unknown>): () => Op<unknown> {
  return () => freshAttach(freshPair, f);
}

/**
 * Rows for the handle of a TLS attach: numbers that are no handle and a closed one (`EBADF`,
 * nothing closed), then fresh handles that are no bytestream: `EPROTO` (libdill's errno here),
 * and the handle is closed.
 */
function tlsAttachHandles(f: (h: number) => Op<unknown>): Row[] {
  const rows = badHandles("s", STREAMS, (h) => f(h)).filter((r) => r.code === "EBADF");
  const wrong: [string, () => Op<number[]>][] = [
    [
      "a channel",
      function* () {
        return chmake();
      },
    ],
    [
      "a bundle",
      function* () {
        return [bundle()];
      },
    ],
    [
      "a user handle without interfaces",
      function* () {
        return [hmake({ query: () => undefined, close() {} })];
      },
    ],
    [
      "an IPC listener",
      function* () {
        return [yield* ipc_listen(`${dir}/tls-ls-${++serial}.ipc`, 1)];
      },
    ],
  ];
  for (const [what, make] of wrong)
    rows.push({ what: `s ${what}`, call: () => freshAttach(make, f), code: "EPROTO", arg: "s" });
  return rows;
}

/** Rows for the TLS socket of tls_done and tls_detach: the context has none, so every kind is ENOTSUP. */
function tlsHandles(f: (h: number) => unknown): Row[] {
  return [
    ...badHandles("s", ["s"], (h) => f(h)),
    { what: "s an IPC socket (without TLS)", call: (c) => f(c.s), code: "ENOTSUP", arg: "s" },
    { what: "s a TCP socket (without TLS)", call: (c) => f(c.t), code: "ENOTSUP", arg: "s" },
  ];
}

/** Rows for a file path of tls_attach_server: not a string, a NUL byte, a file that is not there. */
function badPaths(arg: string, f: (p: string) => unknown): Row[] {
  return [
    ...[null, undefined, 5, {}, Buffer.from("cert.pem")].map((p) => ({
      what: `${arg} = ${p === null || p === undefined ? String(p) : Buffer.isBuffer(p) ? "a Buffer" : JSON.stringify(p)}`,
      call: () => f(p as never),
      code: "EINVAL" as const,
      arg,
    })),
    { what: `${arg} with a NUL byte`, call: () => f(`${certs.cert}\0`), code: "EINVAL", arg },
    { what: `${arg} a file that does not exist`, call: () => f(`${dir}/missing.pem`), code: "EFAULT", arg },
    { what: `${arg} empty`, call: () => f(""), code: "EFAULT", arg },
  ];
}

/**
 * Run `f` on the server end of a fresh TLS connection over an IPC pair, closing everything after
 * (both ends, whatever `f` did with its own).
 */
function* onTls(f: (s: number) => Op<unknown>): Op<unknown> {
  const [a, b] = yield* ipc_pair();
  const cr = bundle();
  let client = -1;
  bundle_go(
    cr,
    (function* () {
      client = yield* tls_attach_client(b, now() + 5000);
    })(),
  );
  const s = yield* tls_attach_server(a, certs.cert, certs.key, now() + 5000);
  yield* bundle_wait(cr, now() + 5000);
  hclose(cr);
  try {
    return yield* f(s);
  } finally {
    for (const h of [s, client]) if (isOpen(h)) hclose(h);
  }
}

/** True when `h` is still an open handle. */
function isOpen(h: number): boolean {
  try {
    hquery(h, Symbol("probe"));
  } catch (e) {
    return (e as DillError).code !== "EBADF";
  }
  return true;
}

const TABLE: Record<string, Row[]> = {
  hclose: badHandles("h", [...KINDS], (h) => hclose(h)),
  hown: badHandles("h", [...KINDS], (h) => hown(h)),
  hquery: [
    ...badHandles("h", [...KINDS], (h) => hquery(h, Symbol("nothing"))).filter((r) => r.code === "EBADF"),
    { what: "type a string", call: (c) => hquery(c.ch, "chan" as never), code: "EINVAL", arg: "type" },
    { what: "type undefined", call: (c) => hquery(c.ch, undefined as never), code: "EINVAL", arg: "type" },
    { what: "type unknown to the object", call: (c) => hquery(c.ch, Symbol("unknown")), code: "ENOTSUP", arg: "h" },
  ],
  hmake: [null, undefined, 5, "x", {}, { query: () => 1 }, { close() {} }, { query: 1, close: 2 }].map((v) => ({
    what: `vfs = ${JSON.stringify(v) ?? String(v)}`,
    call: () => hmake(v as never),
    code: "EINVAL" as const,
    arg: "vfs",
  })),
  go: badBodies("expr", (e) => go(e)),
  go_mem: [
    ...badBodies("expr", (e) => go_mem(e, new CoroutineStorage())),
    ...badMems(
      CoroutineStorage,
      (c) => c.busyCr,
      (m) => go_mem(forever(), m),
    ),
  ],
  bundle_mem: badMems(
    BundleStorage,
    (c) => c.busyBundle,
    (m) => bundle_mem(m),
  ),
  bundle_go: [
    ...badHandles("bndl", ["b", "cr"], (h) => bundle_go(h, forever())),
    ...badBodies("expr", (e, c) => bundle_go(c.b, e)),
  ],
  bundle_go_mem: [
    ...badHandles("bndl", ["b", "cr"], (h) => bundle_go_mem(h, forever(), new CoroutineStorage())),
    ...badBodies("expr", (e, c) => bundle_go_mem(c.b, e, new CoroutineStorage())),
    ...badMems(
      CoroutineStorage,
      (c) => c.busyCr,
      (m, c) => bundle_go_mem(c.b, forever(), m),
    ),
  ],
  bundle_wait: [
    ...badHandles("bndl", ["b", "cr"], (h) => bundle_wait(h, -1)),
    ...badDeadlines((d, c) => bundle_wait(c.b, d)),
  ],
  msleep: badDeadlines((d) => msleep(d)),
  chmake_mem: badMems(ChannelStorage, null, (m) => chmake_mem(m)),
  chsend: [...badHandles("ch", ["ch"], (h) => chsend(h, 1, 0)), ...badDeadlines((d, c) => chsend(c.ch, 1, d))],
  chrecv: [...badHandles("ch", ["ch"], (h) => chrecv(h, 0)), ...badDeadlines((d, c) => chrecv(c.ch, d))],
  chdone: badHandles("ch", ["ch"], (h) => chdone(h)),
  choose: [
    ...[null, undefined, 5, "x", {}].map((cl) => ({
      what: `clauses = ${String(cl)}`,
      call: () => choose(cl as never, 0),
      code: "EINVAL" as const,
      arg: "clauses",
    })),
    {
      what: "a clause null",
      call: (c) => choose([{ op: CHRECV, ch: c.ch }, null as never], 0),
      code: "EINVAL",
      arg: "clauses[1]",
    },
    {
      what: "a clause with a bad op",
      call: (c) => choose([{ op: 7 as never, ch: c.ch }], 0),
      code: "EINVAL",
      arg: "clauses[0].op",
    },
    ...badHandles("ch", ["ch"], (h) => choose([{ op: CHSEND, ch: h, val: 1 }], 0)).map((r) => ({ ...r, arg: "ch" })),
    ...badDeadlines((d, c) => choose([{ op: CHRECV, ch: c.ch }], d)),
  ],
  await_promise: [
    ...[null, undefined, 5, "x", {}, { then: 5 }].map((p) => ({
      what: `promise = ${JSON.stringify(p) ?? String(p)}`,
      call: () => await_promise(p as never, -1),
      code: "EINVAL" as const,
      arg: "promise",
    })),
    {
      what: "a function returning no promise",
      call: () => await_promise((() => 5) as never, -1),
      code: "EINVAL",
      arg: "promise",
    },
    ...badDeadlines((d) => await_promise(Promise.resolve(1), d)),
  ],
  run: [
    ...badBodies("main", (e) => run(e)).filter((r) => !r.what.includes("generator function")),
    ...[null, 5, "signal"].map((o) => ({
      what: `options = ${String(o)}`,
      call: () => run(quick(), o as never),
      code: "EINVAL" as const,
      arg: "options",
    })),
    ...[5, {}, new AbortController()].map((sg) => ({
      what: `options.signal = ${sg.constructor.name}`,
      call: () => run(quick(), { signal: sg as never }),
      code: "EINVAL" as const,
      arg: "options.signal",
    })),
  ],
  dill_configure: [
    { what: "opts = null", call: () => dill_configure(null as never), code: "EINVAL", arg: "opts" },
    { what: "opts = 5", call: () => dill_configure(5 as never), code: "EINVAL", arg: "opts" },
    ...[-1, 0, 1.5, NaN, "10"].map((n) => ({
      what: `handles = ${String(n)}`,
      call: () => dill_configure({ handles: n as number }),
      code: "EINVAL" as const,
      arg: "handles",
    })),
    ...[-1, 1.5, NaN, "10"].map((n) => ({
      what: `pool = ${String(n)}`,
      call: () => dill_configure({ pool: n as number }),
      code: "EINVAL" as const,
      arg: "pool",
    })),
    {
      what: "onUncaught = 5",
      call: () => dill_configure({ onUncaught: 5 as never }),
      code: "EINVAL",
      arg: "onUncaught",
    },
    ...["fake", 1, null].map((k) => ({
      what: `clock = ${String(k)}`,
      call: () => dill_configure({ clock: k as never }),
      code: "EINVAL" as const,
      arg: "clock",
    })),
    {
      what: "traceLaunch = 'yes'",
      call: () => dill_configure({ traceLaunch: "yes" as never }),
      code: "EINVAL",
      arg: "traceLaunch",
    },
    ...["yes", null, { size: 3 }, { size: 1.5 }, { size: "big" }].map((t) => ({
      what: `trace = ${JSON.stringify(t)}`,
      call: () => dill_configure({ trace: t as never }),
      code: "EINVAL" as const,
      arg: "trace",
    })),
    ...(["deadlock", "checkOps"] as const).map((k) => ({
      what: `${k} = 1`,
      call: () => dill_configure({ [k]: 1 as never }),
      code: "EINVAL" as const,
      arg: k,
    })),
  ],
  bsend: [
    ...badHandles("s", STREAMS, (h) => bsend(h, "ABCD", 4, -1)),
    ...badCounts("len", (n, c) => bsend(c.s, buf4(), n, -1)),
    { what: "len beyond the buffer", call: (c) => bsend(c.s, buf4(), 5, -1), code: "EINVAL", arg: "len" },
    { what: "len beyond the string's UTF-8 bytes", call: (c) => bsend(c.s, "é", 3, -1), code: "EINVAL", arg: "len" },
    ...[null, undefined, 5, [1, 2, 3, 4], new ArrayBuffer(4), new Uint16Array(4), new DataView(new ArrayBuffer(4))].map(
      (b) => ({
        what: `buf = ${b === null || b === undefined ? String(b) : (b as object).constructor.name}`,
        call: (c: Ctx) => bsend(c.s, b as never, 4, -1),
        code: "EINVAL" as const,
        arg: "buf",
      }),
    ),
    ...badDeadlines((d, c) => bsend(c.s, buf4(), 4, d)),
  ],
  brecv: [
    ...badHandles("s", STREAMS, (h) => brecv(h, buf4(), 4, -1)),
    ...badCounts("len", (n, c) => brecv(c.s, buf4(), n, 0)),
    { what: "len beyond the buffer", call: (c) => brecv(c.s, buf4(), 5, -1), code: "EINVAL", arg: "len" },
    ...[undefined, 5, "ABCD", [1, 2, 3, 4], new ArrayBuffer(4), new Uint16Array(4)].map((b) => ({
      what: `buf = ${b === undefined ? "undefined" : typeof b === "string" ? "a string" : (b as object).constructor.name}`,
      call: (c: Ctx) => brecv(c.s, b as never, 4, -1),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    ...badDeadlines((d, c) => brecv(c.s, buf4(), 4, d)),
  ],
  bsendl: [
    ...badHandles("s", STREAMS, (h) => {
      const a = el(buf4(), 4);
      return bsendl(h, a, a, -1);
    }),
    ...badLists(false, (first, last, c) => bsendl(c.s, first, last, -1)),
    ...badDeadlines((d, c) => {
      const a = el(buf4(), 4);
      return bsendl(c.s, a, a, d);
    }),
  ],
  brecvl: [
    ...badHandles("s", STREAMS, (h) => {
      const a = el(buf4(), 4);
      return brecvl(h, a, a, -1);
    }),
    ...badLists(true, (first, last, c) => brecvl(c.s, first, last, 0)),
    ...badDeadlines((d, c) => {
      const a = el(buf4(), 4);
      return brecvl(c.s, a, a, d);
    }),
  ],
  ipc_listen: [
    ...badAddrs((a) => ipc_listen(a, 10)),
    ...badCounts("backlog", (n) => ipc_listen(`${dir}/bl.ipc`, n), [2 ** 31]),
    ...[null, 5, "0o600"].map((o) => ({
      what: `opts = ${String(o)}`,
      call: () => ipc_listen(`${dir}/o.ipc`, 10, o as never),
      code: "EINVAL" as const,
      arg: "opts",
    })),
    ...[-1, 0o1000, 1.5, NaN, "600"].map((m) => ({
      what: `mode = ${String(m)}`,
      call: () => ipc_listen(`${dir}/o.ipc`, 10, { mode: m as number }),
      code: "EINVAL" as const,
      arg: "mode",
    })),
  ],
  ipc_listen_mem: [
    ...badAddrs((a) => ipc_listen_mem(a, 10, new IpcListenerStorage())),
    ...badCounts("backlog", (n) => ipc_listen_mem(`${dir}/bl.ipc`, n, new IpcListenerStorage()), [2 ** 31]),
    ...badMems(IpcListenerStorage, null, (m) => ipc_listen_mem(`${dir}/mem.ipc`, 10, m)),
    {
      what: "mode = 0o1000",
      call: () => ipc_listen_mem(`${dir}/o.ipc`, 10, new IpcListenerStorage(), { mode: 0o1000 }),
      code: "EINVAL",
      arg: "mode",
    },
  ],
  ipc_accept: [...badHandles("ls", ["ls"], (h) => ipc_accept(h, 0)), ...badDeadlines((d, c) => ipc_accept(c.ls, d))],
  ipc_accept_mem: [
    ...badHandles("ls", ["ls"], (h) => ipc_accept_mem(h, new IpcStorage(), 0)),
    ...badMems(IpcStorage, null, (m, c) => ipc_accept_mem(c.ls, m, 0)),
    ...badDeadlines((d, c) => ipc_accept_mem(c.ls, new IpcStorage(), d)),
  ],
  ipc_connect: [...badAddrs((a) => ipc_connect(a, -1)), ...badDeadlines((d, c) => ipc_connect(c.addr, d))],
  ipc_connect_mem: [
    ...badAddrs((a) => ipc_connect_mem(a, new IpcStorage(), -1)),
    ...badMems(IpcStorage, null, (m, c) => ipc_connect_mem(c.addr, m, -1)),
    ...badDeadlines((d, c) => ipc_connect_mem(c.addr, new IpcStorage(), d)),
  ],
  ipc_done: [...badHandles("s", ["s"], (h) => ipc_done(h, -1)), ...badDeadlines((d, c) => ipc_done(c.s, d))],
  ipc_close: [
    ...badHandles("s", ["s", "ls"], (h) => ipc_close(h, -1)),
    ...badDeadlines((d, c) => ipc_close(c.s, d)),
    ...badDeadlines((d, c) => ipc_close(c.ls, d)).map((r) => ({ ...r, what: `${r.what} on a listener` })),
  ],
  ipc_pair_mem: badMems(IpcPairStorage, null, (m) => ipc_pair_mem(m)),
  ipc_fromfd: [
    ...badFds((fd) => ipc_fromfd(fd)),
    { what: "fd of a TCP listener", call: (c) => ipc_fromfd(tcp_listener_fd(c.tls)), code: "EINVAL", arg: "fd" },
  ],
  ipc_fromfd_mem: [
    ...badFds((fd) => ipc_fromfd_mem(fd, new IpcStorage())),
    ...badMems(IpcStorage, null, (m) => ipc_fromfd_mem(0, m)),
  ],
  ipc_listener_fromfd: [
    ...badFds((fd) => ipc_listener_fromfd(fd)),
    {
      what: "fd of a TCP listener",
      call: (c) => ipc_listener_fromfd(tcp_listener_fd(c.tls)),
      code: "EINVAL",
      arg: "fd",
    },
  ],
  ipc_listener_fromfd_mem: [
    ...badFds((fd) => ipc_listener_fromfd_mem(fd, new IpcListenerStorage())),
    ...badMems(IpcListenerStorage, null, (m) => ipc_listener_fromfd_mem(0, m)),
  ],
  ipc_listener_fd: badHandles("ls", ["ls"], (h) => ipc_listener_fd(h)),
  ipc_recv_some: recvSomeRows("s", ipc_recv_some),
  fdin: [...waitFdRows((fd) => fdin(fd, -1)), ...badDeadlines((d, c) => fdin(c.fileFd, d))],
  fdout: [...waitFdRows((fd) => fdout(fd, -1)), ...badDeadlines((d, c) => fdout(c.fileFd, d))],
  ipc_fd: badHandles("s", ["s"], (h) => api.ipc_fd(h)),
  ipc_sendfd: fdPassRows(true),
  ipc_recvfd: fdPassRows(false),
  tcp_recv_some: recvSomeRows("t", tcp_recv_some),
  dill_print_tree: [null, 5, "stdout", {}].map((o) => ({
    what: `out = ${JSON.stringify(o)}`,
    call: () => dill_print_tree(o as never),
    code: "EINVAL" as const,
    arg: "out",
  })),
  ipaddr_local: [
    ...badNames("ENODEV", (n, m) => ipaddr_local(n, 0, m)),
    { what: "name of no interface", call: () => ipaddr_local("no-such-interface", 0, 0), code: "ENODEV", arg: "name" },
    ...badPorts((p) => ipaddr_local("127.0.0.1", p, 0)),
    ...badModes((m) => ipaddr_local("127.0.0.1", 0, m)),
  ],
  ipaddr_remote: [
    ...badNames("EADDRNOTAVAIL", (n, m) => ipaddr_remote(n, 0, m, -1)),
    ...[null, undefined].map((n) => ({
      what: `name = ${String(n)}`,
      call: () => ipaddr_remote(n as never, 0, 0, -1),
      code: "EINVAL" as const,
      arg: "name",
    })),
    ...badPorts((p) => ipaddr_remote("127.0.0.1", p, 0, -1)),
    ...badModes((m) => ipaddr_remote("127.0.0.1", 0, m, -1)),
    ...badDeadlines((d) => ipaddr_remote("127.0.0.1", 0, 0, d)),
  ],
  ipaddr_remotes: [
    // A literal of a family mode excludes is an empty answer here, not an error.
    ...badNames("EADDRNOTAVAIL", (n, m) => ipaddr_remotes(n, 0, m, 4, -1)).filter((r) => !r.what.includes("literal")),
    ...[null, undefined].map((n) => ({
      what: `name = ${String(n)}`,
      call: () => ipaddr_remotes(n as never, 0, 0, 4, -1),
      code: "EINVAL" as const,
      arg: "name",
    })),
    ...badPorts((p) => ipaddr_remotes("127.0.0.1", p, 0, 4, -1)),
    ...badModes((m) => ipaddr_remotes("127.0.0.1", 0, m, 4, -1)),
    ...badCounts("naddrs", (n) => ipaddr_remotes("127.0.0.1", 0, 0, n, -1), [0]),
    ...badDeadlines((d) => ipaddr_remotes("127.0.0.1", 0, 0, 4, d)),
  ],
  ipaddr_port: badIpAddrs("addr", (a) => ipaddr_port(a)),
  ipaddr_family: badIpAddrs("addr", (a) => ipaddr_family(a)),
  ipaddr_str: badIpAddrs("addr", (a) => ipaddr_str(a)),
  ipaddr_setport: [
    ...badIpAddrs("addr", (a) => ipaddr_setport(a, 80)),
    ...badPorts((p) => ipaddr_setport(ipaddr_local("127.0.0.1", 0, 0), p)),
  ],
  ipaddr_equal: [
    ...badIpAddrs("addr1", (a, c) => ipaddr_equal(a, c.taddr, false)),
    ...badIpAddrs("addr2", (a, c) => ipaddr_equal(c.taddr, a, false)),
    ...["yes", null, undefined, {}].map((v) => ({
      what: `ignore_port = ${JSON.stringify(v) ?? String(v)}`,
      call: (c: Ctx) => ipaddr_equal(c.taddr, c.taddr, v as never),
      code: "EINVAL" as const,
      arg: "ignore_port",
    })),
  ],
  ipaddr_sockaddr: badIpAddrs("addr", (a) => ipaddr_sockaddr(a)),
  ipaddr_len: badIpAddrs("addr", (a) => ipaddr_len(a)),
  udp_open: udpOpenRows((l, r) => udp_open(l, r)),
  udp_open_mem: [
    ...udpOpenRows((l, r) => udp_open_mem(l, r, new UdpStorage())),
    ...badMems(UdpStorage, null, (m) => udp_open_mem(null, null, m)),
  ],
  udp_send: [
    ...badHandles("s", [], (h) => udp_send(h, ipaddr_local("127.0.0.1", 9, 0), "x", 1)),
    ...badIpAddrs("addr", (a) => withUdp((u) => udp_send(u, a, "x", 1))).filter(
      (r) => r.what !== "addr null" && r.what !== "addr undefined",
    ),
    ...badCounts("len", (n) => withUdp((u) => udp_send(u, ipaddr_local("127.0.0.1", 9, 0), buf4(), n))),
    ...[null, undefined, 5, new ArrayBuffer(4)].map((b) => ({
      what: `buf = ${b === null || b === undefined ? String(b) : (b as object).constructor.name}`,
      call: () => withUdp((u) => udp_send(u, ipaddr_local("127.0.0.1", 9, 0), b as never, 1)),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    {
      what: "addr null without a remote",
      call: () => withUdp((u) => udp_send(u, null, "x", 1)),
      code: "EINVAL",
      arg: "addr",
    },
    {
      what: "addr of the other family",
      call: () => withUdp((u) => udp_send(u, ipaddr_local("::1", 9, 0), "x", 1)),
      code: "EINVAL",
      arg: "addr",
    },
    {
      what: "a datagram too large",
      call: () => withUdp((u) => udp_send(u, ipaddr_local("127.0.0.1", 9, 0), new Uint8Array(65508), 65508)),
      code: "EMSGSIZE",
    },
  ],
  udp_sendl: [
    ...badHandles("s", [], (h) => {
      const e = el(buf4(), 4);
      return udp_sendl(h, ipaddr_local("127.0.0.1", 9, 0), e, e);
    }),
    ...badLists(false, (first, last) => withUdp((u) => udp_sendl(u, ipaddr_local("127.0.0.1", 9, 0), first, last))),
  ],
  udp_recv: [
    ...badHandles("s", [], (h) => udp_recv(h, null, buf4(), 4, 0)),
    ...badIpAddrs("addr", (a) => withUdp((u) => udp_recv(u, a, buf4(), 4, 0))).filter(
      (r) => r.what !== "addr null" && r.what !== "addr undefined",
    ),
    ...badCounts("len", (n) => withUdp((u) => udp_recv(u, null, buf4(), n, 0))),
    ...badDeadlines((d) => withUdp((u) => udp_recv(u, null, buf4(), 4, d))),
  ],
  udp_recvl: [
    ...badHandles("s", [], (h) => udp_recvl(h, null, null, null, 0)),
    ...badLists(true, (first, last) => withUdp((u) => udp_recvl(u, null, first, last, 0))),
    ...badDeadlines((d) => withUdp((u) => udp_recvl(u, null, null, null, d))),
  ],
  happyeyeballs_connect: [
    ...badNames("EADDRNOTAVAIL", (n) => happyeyeballs_connect(n, 80, now() + 5000)).filter(
      (r) => r.code !== "EADDRNOTAVAIL" && r.code !== "ETIMEDOUT",
    ),
    ...[0, -1, 65536, 1.5, NaN, "80", null].map((p) => ({
      what: `port = ${typeof p === "string" ? `"${p}"` : String(p)}`,
      call: () => happyeyeballs_connect("localhost", p as number, -1),
      code: "EINVAL" as const,
      arg: "port",
    })),
    ...badDeadlines((d) => happyeyeballs_connect("localhost", 80, d)),
  ],
  socks5_client_connect: [
    ...badHandles("s", STREAMS, (h) => socks5_client_connect(h, null, null, ipaddr_local("127.0.0.1", 80, 0), -1)),
    ...badCredentials("username", (u, c) => socks5_client_connect(c.s, u, "p", c.taddr, -1)),
    ...badCredentials("password", (p, c) => socks5_client_connect(c.s, "u", p, c.taddr, -1)),
    ...badIpAddrs("addr", (a, c) => socks5_client_connect(c.s, null, null, a, -1)),
    ...badDeadlines((d, c) => socks5_client_connect(c.s, null, null, c.taddr, d)),
  ],
  socks5_client_connectbyname: [
    ...badHandles("s", STREAMS, (h) => socks5_client_connectbyname(h, null, null, "localhost", 80, -1)),
    ...badCredentials("username", (u, c) => socks5_client_connectbyname(c.s, u, "p", "localhost", 80, -1)),
    ...badCredentials("password", (p, c) => socks5_client_connectbyname(c.s, "u", p, "localhost", 80, -1)),
    ...["", null, undefined, 5, "x".repeat(256)].map((n) => ({
      what: `hostname = ${typeof n === "string" ? `${n.length} characters` : String(n)}`,
      call: (c: Ctx) => socks5_client_connectbyname(c.s, null, null, n as string, 80, -1),
      code: "EINVAL" as const,
      arg: "hostname",
    })),
    ...[0, -1, 65536, 1.5, NaN, "80", null].map((p) => ({
      what: `port = ${typeof p === "string" ? `"${p}"` : String(p)}`,
      call: (c: Ctx) => socks5_client_connectbyname(c.s, null, null, "localhost", p as number, -1),
      code: "EINVAL" as const,
      arg: "port",
    })),
    ...badDeadlines((d, c) => socks5_client_connectbyname(c.s, null, null, "localhost", 80, d)),
  ],
  socks5_proxy_auth: [
    ...badHandles("s", STREAMS, (h) => socks5_proxy_auth(h, null, -1)),
    ...[5, "yes", {}].map((f) => ({
      what: `auth_fn = ${JSON.stringify(f)}`,
      call: (c: Ctx) => socks5_proxy_auth(c.s, f as never, -1),
      code: "EINVAL" as const,
      arg: "auth_fn",
    })),
    ...badDeadlines((d, c) => socks5_proxy_auth(c.s, null, d)),
  ],
  socks5_proxy_recvcommand: [
    ...badHandles("s", STREAMS, (h) => socks5_proxy_recvcommand(h, new IpAddr(), -1)),
    ...badIpAddrs("addr", (a, c) => socks5_proxy_recvcommand(c.s, a, -1)),
    ...badDeadlines((d, c) => socks5_proxy_recvcommand(c.s, new IpAddr(), d)),
  ],
  socks5_proxy_recvcommandbyname: [
    ...badHandles("s", STREAMS, (h) => socks5_proxy_recvcommandbyname(h, -1)),
    ...badDeadlines((d, c) => socks5_proxy_recvcommandbyname(c.s, d)),
  ],
  socks5_proxy_sendreply: [
    ...badHandles("s", STREAMS, (h) => socks5_proxy_sendreply(h, 0, ipaddr_local("0.0.0.0", 0, 0), -1)),
    ...[-1, 9, 1.5, NaN, "0", null].map((r) => ({
      what: `reply = ${typeof r === "string" ? `"${r}"` : String(r)}`,
      call: (c: Ctx) => socks5_proxy_sendreply(c.s, r as number, c.taddr, -1),
      code: "EINVAL" as const,
      arg: "reply",
    })),
    ...badIpAddrs("addr", (a, c) => socks5_proxy_sendreply(c.s, 0, a, -1)),
    ...badDeadlines((d, c) => socks5_proxy_sendreply(c.s, 0, c.taddr, d)),
  ],
  tcp_listen: [
    ...badIpAddrs("addr", (a) => tcp_listen(a, 10)),
    ...badCounts("backlog", (n) => tcp_listen(ipaddr_local("127.0.0.1", 0, 0), n), [2 ** 31]),
  ],
  tcp_listen_mem: [
    ...badIpAddrs("addr", (a) => tcp_listen_mem(a, 10, new TcpListenerStorage())),
    ...badCounts("backlog", (n) => tcp_listen_mem(ipaddr_local("127.0.0.1", 0, 0), n, new TcpListenerStorage()), [
      2 ** 31,
    ]),
    ...badMems(
      TcpListenerStorage,
      (c) => c.busyTcpListener,
      (m) => tcp_listen_mem(ipaddr_local("127.0.0.1", 0, 0), 10, m),
    ),
  ],
  tcp_accept: [
    ...badHandles("ls", ["tls"], (h) => tcp_accept(h, null, 0)),
    ...badIpAddrs("addr", (a, c) => tcp_accept(c.tls, a, 0)).filter((r) => r.what !== "addr null"),
    ...badDeadlines((d, c) => tcp_accept(c.tls, null, d)),
  ],
  tcp_accept_mem: [
    ...badHandles("ls", ["tls"], (h) => tcp_accept_mem(h, null, new TcpStorage(), 0)),
    ...badIpAddrs("addr", (a, c) => tcp_accept_mem(c.tls, a, new TcpStorage(), 0)).filter(
      (r) => r.what !== "addr null",
    ),
    ...badMems(
      TcpStorage,
      (c) => c.busyTcp,
      (m, c) => tcp_accept_mem(c.tls, null, m, 0),
    ),
    ...badDeadlines((d, c) => tcp_accept_mem(c.tls, null, new TcpStorage(), d)),
  ],
  tcp_connect: [
    ...badIpAddrs("addr", (a) => tcp_connect(a, now() + 5000)),
    ...badDeadlines((d, c) => tcp_connect(c.taddr, d)),
  ],
  tcp_connect_mem: [
    ...badIpAddrs("addr", (a) => tcp_connect_mem(a, new TcpStorage(), now() + 5000)),
    ...badMems(
      TcpStorage,
      (c) => c.busyTcp,
      (m, c) => tcp_connect_mem(c.taddr, m, now() + 5000),
    ),
    ...badDeadlines((d, c) => tcp_connect_mem(c.taddr, new TcpStorage(), d)),
  ],
  tcp_done: [...badHandles("s", ["t"], (h) => tcp_done(h, -1)), ...badDeadlines((d, c) => tcp_done(c.t, d))],
  tcp_close: [
    ...badHandles("s", ["t", "tls"], (h) => tcp_close(h, -1)),
    ...badDeadlines((d, c) => tcp_close(c.t, d)),
    ...badDeadlines((d, c) => tcp_close(c.tls, d)).map((r) => ({ ...r, what: `${r.what} on a listener` })),
  ],
  tcp_fromfd: [
    ...badFds((fd) => tcp_fromfd(fd)),
    { what: "fd of a Unix socket", call: (c) => tcp_fromfd(ipc_listener_fd(c.ls)), code: "EINVAL", arg: "fd" },
    {
      what: "fd of a listening TCP socket",
      call: (c) => tcp_fromfd(tcp_listener_fd(c.tls)),
      code: "EINVAL",
      arg: "fd",
    },
  ],
  tcp_fromfd_mem: [
    ...badFds((fd) => tcp_fromfd_mem(fd, new TcpStorage())),
    {
      what: "fd of a listening TCP socket",
      call: (c) => tcp_fromfd_mem(tcp_listener_fd(c.tls), new TcpStorage()),
      code: "EINVAL",
      arg: "fd",
    },
    ...badMems(
      TcpStorage,
      (c) => c.busyTcp,
      (m) => tcp_fromfd_mem(0, m),
    ),
  ],
  tcp_listener_fromfd: [
    ...badFds((fd) => tcp_listener_fromfd(fd)),
    { what: "fd of a Unix socket", call: (c) => tcp_listener_fromfd(ipc_listener_fd(c.ls)), code: "EINVAL", arg: "fd" },
  ],
  tcp_listener_fromfd_mem: [
    ...badFds((fd) => tcp_listener_fromfd_mem(fd, new TcpListenerStorage())),
    ...badMems(
      TcpListenerStorage,
      (c) => c.busyTcpListener,
      (m) => tcp_listener_fromfd_mem(0, m),
    ),
  ],
  tcp_listener_fd: badHandles("ls", ["tls"], (h) => tcp_listener_fd(h)),
  // Message sockets and the protocols. An attach takes its handle over and closes it when it
  // fails, so its rows attach to fresh handles of their own (`fresh`, `freshMsg`).
  msend: [
    ...badHandles("s", ["m"], (h) => msend(h, "ABCD", 4, -1)),
    ...badCounts("len", (n, c) => msend(c.m, buf4(), n, -1)),
    { what: "len beyond the buffer", call: (c) => msend(c.m, buf4(), 5, -1), code: "EINVAL", arg: "len" },
    ...[null, undefined, 5, [1, 2, 3, 4], new ArrayBuffer(4)].map((b) => ({
      what: `buf = ${b === null || b === undefined ? String(b) : (b as object).constructor.name}`,
      call: (c: Ctx) => msend(c.m, b as never, 4, -1),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    ...badDeadlines((d, c) => msend(c.m, buf4(), 4, d)),
  ],
  mrecv: [
    ...badHandles("s", ["m"], (h) => mrecv(h, buf4(), 4, 0)),
    ...badCounts("len", (n, c) => mrecv(c.m, buf4(), n, 0)),
    { what: "len beyond the buffer", call: (c) => mrecv(c.m, buf4(), 5, 0), code: "EINVAL", arg: "len" },
    ...[undefined, 5, "ABCD", [1, 2, 3, 4]].map((b) => ({
      what: `buf = ${b === undefined ? "undefined" : typeof b === "string" ? "a string" : (b as object).constructor.name}`,
      call: (c: Ctx) => mrecv(c.m, b as never, 4, 0),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    ...badDeadlines((d, c) => mrecv(c.m, buf4(), 4, d)),
  ],
  msendl: [
    ...badHandles("s", ["m"], (h) => {
      const a = el(buf4(), 4);
      return msendl(h, a, a, -1);
    }),
    ...badLists(false, (first, last, c) => msendl(c.m, first, last, -1)),
    ...badDeadlines((d, c) => {
      const a = el(buf4(), 4);
      return msendl(c.m, a, a, d);
    }),
  ],
  mrecvl: [
    ...badHandles("s", ["m"], (h) => mrecvl(h, null, null, 0)),
    ...badLists(true, (first, last, c) => mrecvl(c.m, first, last, 0)),
    ...badDeadlines((d, c) => mrecvl(c.m, null, null, d)),
  ],
  prefix_attach: attachRows("bytestream", (s) => prefix_attach(s, 4, 0), [
    ...badCounts("hdrlen", (n, c) => prefix_attach(fresh(c), n, 0), [0, 65]),
    ...badFlags((f, c) => prefix_attach(fresh(c), 4, f)),
  ]),
  prefix_attach_mem: attachRows("bytestream", (s) => prefix_attach_mem(s, 4, 0, new PrefixStorage()), [
    ...badCounts("hdrlen", (n, c) => prefix_attach_mem(fresh(c), n, 0, new PrefixStorage()), [0, 65]),
    ...badFlags((f, c) => prefix_attach_mem(fresh(c), 4, f, new PrefixStorage())),
    ...badMems(
      PrefixStorage,
      (c) => c.busyPrefix,
      (m, c) => prefix_attach_mem(fresh(c), 4, 0, m),
    ),
  ]),
  prefix_detach: [
    ...badHandles("s", ["m"], (h) => prefix_detach(h)),
    { what: "s a suffix socket", call: (c) => prefix_detach(freshSuffix(c)), code: "ENOTSUP", arg: "s" },
  ],
  suffix_attach: attachRows("bytestream", (s) => suffix_attach(s, "\n", 1), [
    ...badSuffixes((sfx, n, c) => suffix_attach(fresh(c), sfx, n)),
  ]),
  suffix_attach_mem: attachRows("bytestream", (s) => suffix_attach_mem(s, "\n", 1, new SuffixStorage()), [
    ...badSuffixes((sfx, n, c) => suffix_attach_mem(fresh(c), sfx, n, new SuffixStorage())),
    ...badMems(
      SuffixStorage,
      (c) => {
        const mem = new SuffixStorage();
        c.extra.push(suffix_attach_mem(fresh(c), "\n", 1, mem));
        return mem;
      },
      (m, c) => suffix_attach_mem(fresh(c), "\n", 1, m),
    ),
  ]),
  suffix_detach: [
    ...badHandles("s", ["m"], (h) => suffix_detach(h, -1)),
    { what: "s a prefix socket", call: (c) => suffix_detach(c.m, -1), code: "ENOTSUP", arg: "s" },
    ...badDeadlines((d, c) => suffix_detach(freshSuffix(c), d)),
  ],
  term_attach: attachRows("message", (s) => term_attach(s, "STOP", 4), [
    ...badTerms((buf, n, c) => term_attach(freshMsg(c), buf, n)),
  ]),
  term_attach_mem: attachRows("message", (s) => term_attach_mem(s, "STOP", 4, new TermStorage()), [
    ...badTerms((buf, n, c) => term_attach_mem(freshMsg(c), buf, n, new TermStorage())),
    ...badMems(
      TermStorage,
      (c) => {
        const mem = new TermStorage();
        c.extra.push(term_attach_mem(freshMsg(c), "", 0, mem));
        return mem;
      },
      (m, c) => term_attach_mem(freshMsg(c), "STOP", 4, m),
    ),
  ]),
  term_done: [
    ...badHandles("s", ["m"], (h) => term_done(h, -1)),
    { what: "s a prefix socket", call: (c) => term_done(c.m, -1), code: "ENOTSUP", arg: "s" },
    ...badDeadlines((d, c) => term_done(freshTerm(c), d)),
  ],
  term_detach: [
    ...badHandles("s", ["m"], (h) => term_detach(h, -1)),
    { what: "s a prefix socket", call: (c) => term_detach(c.m, -1), code: "ENOTSUP", arg: "s" },
    ...badDeadlines((d, c) => term_detach(freshTerm(c), d)),
  ],
  tls_attach_client: [
    ...tlsAttachHandles((h) => tls_attach_client(h, -1)),
    ...badDeadlines((d) => freshTls((s) => tls_attach_client(s, d))()),
  ],
  tls_attach_client_mem: [
    ...tlsAttachHandles((h) => tls_attach_client_mem(h, new TlsStorage(), -1)),
    ...badMems(TlsStorage, null, (m) => freshTls((s) => tls_attach_client_mem(s, m, -1))()),
    ...badDeadlines((d) => freshTls((s) => tls_attach_client_mem(s, new TlsStorage(), d))()),
  ],
  tls_attach_server: [
    ...tlsAttachHandles((h) => tls_attach_server(h, certs.cert, certs.key, -1)),
    ...badPaths("cert", (p) => freshTls((s) => tls_attach_server(s, p, certs.key, -1))()),
    ...badPaths("pkey", (p) => freshTls((s) => tls_attach_server(s, certs.cert, p, -1))()),
    ...badDeadlines((d) => freshTls((s) => tls_attach_server(s, certs.cert, certs.key, d))()),
  ],
  tls_attach_server_mem: [
    ...tlsAttachHandles((h) => tls_attach_server_mem(h, certs.cert, certs.key, new TlsStorage(), -1)),
    ...badPaths("cert", (p) => freshTls((s) => tls_attach_server_mem(s, p, certs.key, new TlsStorage(), -1))()),
    ...badPaths("pkey", (p) => freshTls((s) => tls_attach_server_mem(s, certs.cert, p, new TlsStorage(), -1))()),
    ...badMems(TlsStorage, null, (m) => freshTls((s) => tls_attach_server_mem(s, certs.cert, certs.key, m, -1))()),
    ...badDeadlines((d) => freshTls((s) => tls_attach_server_mem(s, certs.cert, certs.key, new TlsStorage(), d))()),
  ],
  http_attach: attachRows("bytestream", (s) => http_attach(s), []),
  http_attach_mem: attachRows("bytestream", (s) => http_attach_mem(s, new HttpStorage()), [
    ...badMems(
      HttpStorage,
      (c) => {
        const mem = new HttpStorage();
        c.extra.push(http_attach_mem(fresh(c), mem));
        return mem;
      },
      (m, c) => http_attach_mem(fresh(c), m),
    ),
  ]),
  http_sendrequest: [
    ...httpHandles((h) => http_sendrequest(h, "GET", "/", -1)),
    ...badDeadlines((d, c) => http_sendrequest(freshHttp(c), "GET", "/", d)),
    ...badTexts("command", [5, null, undefined, {}, "", "G T", "G\tT", "GET\r", "GET\n"], (v, c) =>
      http_sendrequest(freshHttp(c), v, "/", -1),
    ),
    ...badTexts("resource", [5, null, undefined, "", "/a b", "/\r\n"], (v, c) =>
      http_sendrequest(freshHttp(c), "GET", v, -1),
    ),
  ],
  http_recvrequest: [
    ...httpHandles((h) => http_recvrequest(h, 16, 16, -1)),
    ...badDeadlines((d, c) => http_recvrequest(freshHttp(c), 16, 16, d)),
    ...badCounts("commandlen", (n, c) => http_recvrequest(freshHttp(c), n, 16, -1)),
    ...badCounts("resourcelen", (n, c) => http_recvrequest(freshHttp(c), 16, n, -1)),
  ],
  http_sendstatus: [
    ...httpHandles((h) => http_sendstatus(h, 200, "OK", -1)),
    ...badDeadlines((d, c) => http_sendstatus(freshHttp(c), 200, "OK", d)),
    ...badTexts("status", [99, 600, 200.5, NaN, "200", null, undefined], (v, c) =>
      http_sendstatus(freshHttp(c), v as never, "OK", -1),
    ),
    ...badTexts("reason", [5, null, undefined, "a\r\nb"], (v, c) => http_sendstatus(freshHttp(c), 200, v, -1)),
  ],
  http_recvstatus: [
    ...httpHandles((h) => http_recvstatus(h, 16, -1)),
    ...badDeadlines((d, c) => http_recvstatus(freshHttp(c), 16, d)),
    ...badCounts("reasonlen", (n, c) => http_recvstatus(freshHttp(c), n, -1)),
  ],
  http_sendfield: [
    ...httpHandles((h) => http_sendfield(h, "a", "b", -1)),
    ...badDeadlines((d, c) => http_sendfield(freshHttp(c), "a", "b", d)),
    ...badTexts("name", [5, null, undefined, "", "a b", "a:b", "a\u0001", "(a)"], (v, c) =>
      http_sendfield(freshHttp(c), v, "b", -1),
    ),
    ...badTexts("value", [5, null, undefined, "a\nb"], (v, c) => http_sendfield(freshHttp(c), "a", v, -1)),
    { what: "value empty", call: (c) => http_sendfield(freshHttp(c), "a", "", -1), code: "EPROTO", arg: "value" },
    { what: "value spaces", call: (c) => http_sendfield(freshHttp(c), "a", "  ", -1), code: "EPROTO", arg: "value" },
  ],
  http_recvfield: [
    ...httpHandles((h) => http_recvfield(h, 16, 16, -1)),
    ...badDeadlines((d, c) => http_recvfield(freshHttp(c), 16, 16, d)),
    ...badCounts("namelen", (n, c) => http_recvfield(freshHttp(c), n, 16, -1)),
    ...badCounts("valuelen", (n, c) => http_recvfield(freshHttp(c), 16, n, -1)),
  ],
  http_done: [...httpHandles((h) => http_done(h, -1)), ...badDeadlines((d, c) => http_done(freshHttp(c), d))],
  http_detach: [...httpHandles((h) => http_detach(h, -1)), ...badDeadlines((d, c) => http_detach(freshHttp(c), d))],
  tls_done: [...tlsHandles((h) => tls_done(h, -1)), ...badDeadlines((d) => onTls((s) => tls_done(s, d)))],
  tls_detach: [...tlsHandles((h) => tls_detach(h, -1)), ...badDeadlines((d) => onTls((s) => tls_detach(s, d)))],
  ws_attach_client: [
    ...tlsAttachHandles((h) => ws_attach_client(h, WS_NOHTTP, null, null, -1)),
    ...badWsFlags((f) => freshTls((s) => ws_attach_client(s, f, "/", "h", -1))()),
    ...badWsText("resource", (v) => freshTls((s) => ws_attach_client(s, WS_BINARY, v, "h", -1))()),
    ...badWsText("host", (v) => freshTls((s) => ws_attach_client(s, WS_BINARY, "/", v, -1))()),
    ...badDeadlines((d) => freshTls((s) => ws_attach_client(s, WS_NOHTTP, null, null, d))()),
  ],
  ws_attach_client_mem: [
    ...tlsAttachHandles((h) => ws_attach_client_mem(h, WS_NOHTTP, null, null, new WsStorage(), -1)),
    ...badWsFlags((f) => freshTls((s) => ws_attach_client_mem(s, f, "/", "h", new WsStorage(), -1))()),
    ...badWsText("resource", (v) => freshTls((s) => ws_attach_client_mem(s, 0, v, "h", new WsStorage(), -1))()),
    ...badWsText("host", (v) => freshTls((s) => ws_attach_client_mem(s, 0, "/", v, new WsStorage(), -1))()),
    ...badMems(WsStorage, null, (m) => freshTls((s) => ws_attach_client_mem(s, WS_NOHTTP, null, null, m, -1))()),
    ...badDeadlines((d) => freshTls((s) => ws_attach_client_mem(s, WS_NOHTTP, null, null, new WsStorage(), d))()),
  ],
  ws_attach_server: [
    ...tlsAttachHandles((h) => ws_attach_server(h, WS_NOHTTP, 0, 0, -1)),
    ...badWsFlags((f) => freshTls((s) => ws_attach_server(s, f, 256, 256, -1))()),
    ...badCounts("resourcelen", (n) => freshTls((s) => ws_attach_server(s, WS_BINARY, n, 256, -1))()),
    ...badCounts("hostlen", (n) => freshTls((s) => ws_attach_server(s, WS_BINARY, 256, n, -1))()),
    ...badDeadlines((d) => freshTls((s) => ws_attach_server(s, WS_NOHTTP, 0, 0, d))()),
  ],
  ws_attach_server_mem: [
    ...tlsAttachHandles((h) => ws_attach_server_mem(h, WS_NOHTTP, 0, 0, new WsStorage(), -1)),
    ...badWsFlags((f) => freshTls((s) => ws_attach_server_mem(s, f, 256, 256, new WsStorage(), -1))()),
    ...badCounts("resourcelen", (n) =>
      freshTls((s) => ws_attach_server_mem(s, WS_BINARY, n, 256, new WsStorage(), -1))(),
    ),
    ...badCounts("hostlen", (n) => freshTls((s) => ws_attach_server_mem(s, WS_BINARY, 256, n, new WsStorage(), -1))()),
    ...badMems(WsStorage, null, (m) => freshTls((s) => ws_attach_server_mem(s, WS_NOHTTP, 0, 0, m, -1))()),
    ...badDeadlines((d) => freshTls((s) => ws_attach_server_mem(s, WS_NOHTTP, 0, 0, new WsStorage(), d))()),
  ],
  ws_send: [
    ...tlsHandles((h) => ws_send(h, WS_BINARY, buf4(), 4, -1)),
    ...badWsTypes((f) => onWs((s) => ws_send(s, f, buf4(), 4, -1))),
    ...[null, 5, [0, 0, 0, 0], new ArrayBuffer(4)].map((b) => ({
      what: `buf = ${Array.isArray(b) ? "an array" : String(b)}`,
      call: onWs((s) => ws_send(s, WS_BINARY, b as never, 4, -1)),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    ...badCounts("len", (n, c) => onWs((s) => ws_send(s, WS_BINARY, buf4(), n, -1))(c)),
    { what: "len beyond the buffer", call: onWs((s) => ws_send(s, 0, buf4(), 5, -1)), code: "EINVAL", arg: "len" },
    ...badDeadlines((d, c) => onWs((s) => ws_send(s, WS_BINARY, buf4(), 4, d))(c)),
  ],
  ws_sendl: [
    ...tlsHandles((h) => {
      const a = el(buf4(), 4);
      return ws_sendl(h, WS_BINARY, a, a, -1);
    }),
    ...badWsTypes((f) =>
      onWs((s) => {
        const a = el(buf4(), 4);
        return ws_sendl(s, f, a, a, -1);
      }),
    ),
    ...badLists(false, (first, last, c) => onWs((s) => ws_sendl(s, WS_BINARY, first, last, -1))(c)),
    ...badDeadlines((d, c) =>
      onWs((s) => {
        const a = el(buf4(), 4);
        return ws_sendl(s, WS_BINARY, a, a, d);
      })(c),
    ),
  ],
  ws_recv: [
    ...tlsHandles((h) => ws_recv(h, buf4(), 4, 0)),
    ...["abcd", 5, [0, 0, 0, 0], new ArrayBuffer(4)].map((b) => ({
      what: `buf = ${Array.isArray(b) ? "an array" : String(b)}`,
      call: onWs((s) => ws_recv(s, b as never, 4, 0)),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    ...badCounts("len", (n, c) => onWs((s) => ws_recv(s, buf4(), n, 0))(c)),
    { what: "len beyond the buffer", call: onWs((s) => ws_recv(s, buf4(), 5, 0)), code: "EINVAL", arg: "len" },
    ...badDeadlines((d, c) => onWs((s) => ws_recv(s, buf4(), 4, d))(c)),
  ],
  ws_recvl: [
    ...tlsHandles((h) => ws_recvl(h, null, null, 0)),
    ...badLists(true, (first, last, c) => onWs((s) => ws_recvl(s, first, last, 0))(c)),
    ...badDeadlines((d, c) => onWs((s) => ws_recvl(s, null, null, d))(c)),
  ],
  ws_done: [
    ...tlsHandles((h) => ws_done(h, 1000, null, 0, -1)),
    ...badClose((st, b, n) => onWs((s) => ws_done(s, st, b, n, -1))),
    ...badDeadlines((d, c) => onWs((s) => ws_done(s, 1000, null, 0, d))(c)),
  ],
  ws_detach: [
    ...tlsHandles((h) => ws_detach(h, 1000, null, 0, -1)),
    ...badClose((st, b, n) => onWs((s) => ws_detach(s, st, b, n, -1))),
    ...badDeadlines((d, c) => onWs((s) => ws_detach(s, 1000, null, 0, d))(c)),
  ],
  ws_status: [
    ...tlsHandles((h) => ws_status(h, null, 0)),
    ...["abcd", 5, [0, 0, 0, 0], new ArrayBuffer(4)].map((b) => ({
      what: `buf = ${Array.isArray(b) ? "an array" : String(b)}`,
      call: onWs((s) => ws_status(s, b as never, 4)),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    { what: "buf null with len 4", call: onWs((s) => ws_status(s, null, 4)), code: "EINVAL", arg: "buf" },
    ...badCounts("len", (n, c) => onWs((s) => ws_status(s, buf4(), n))(c)),
    { what: "len beyond the buffer", call: onWs((s) => ws_status(s, buf4(), 5)), code: "EINVAL", arg: "len" },
  ],
  ws_response_key: [
    ...[null, undefined, 5, Buffer.from("x")].map((k) => ({
      what: `request_key = ${Buffer.isBuffer(k) ? "a Buffer" : String(k)}`,
      call: () => ws_response_key(k as never),
      code: "EINVAL" as const,
      arg: "request_key",
    })),
    ...["", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZSE="].map((k) => ({
      what: `request_key ${JSON.stringify(k)} (not 16 bytes of base64)`,
      call: () => ws_response_key(k),
      code: "EPROTO" as const,
      arg: "request_key",
    })),
  ],
};

/** A row's call on a fresh WebSocket (without HTTP, over a fresh bytestream), closed after the row. */
function onWs(f: (s: number) => unknown): (c: Ctx) => Op<unknown> {
  return function* (c) {
    const [s] = yield* ws_attach_server(fresh(c), WS_NOHTTP, 0, 0, -1);
    c.extra.push(s);
    const r = f(s);
    if (r !== null && typeof r === "object" && !Array.isArray(r) && Symbol.iterator in r)
      return yield* r as Op<unknown>;
    return r;
  };
}

/** Rows for the flags of a WebSocket attach. */
function badWsFlags(f: (flags: number) => unknown): Row[] {
  return [4, -1, 1.5, "0", null, undefined].map((v) => ({
    what: `flags = ${typeof v === "string" ? `"${v}"` : String(v)}`,
    call: () => f(v as number),
    code: "EINVAL" as const,
    arg: "flags",
  }));
}

/** Rows for the message type of ws_send and ws_sendl: WS_NOHTTP and others are no type. */
function badWsTypes(f: (flags: number) => (c: Ctx) => unknown): Row[] {
  return [2, 3, -1, 0.5, "1", null].map((v) => ({
    what: `flags = ${typeof v === "string" ? `"${v}"` : String(v)}`,
    call: (c: Ctx) => f(v as number)(c),
    code: "EINVAL" as const,
    arg: "flags",
  }));
}

/** Rows for the resource and host of ws_attach_client: text fit for a request line. */
function badWsText(arg: string, f: (v: string) => unknown): Row[] {
  return [null, undefined, 5, "", "/a b", "/x\r\nEvil: 1", "a\0b"].map((v) => ({
    what: `${arg} = ${JSON.stringify(v) ?? String(v)}`,
    call: () => f(v as string),
    code: "EINVAL" as const,
    arg,
  }));
}

/** Rows for the status and reason of ws_done and ws_detach. */
function badClose(f: (status: number, buf: Uint8Array | string | null, len: number) => (c: Ctx) => unknown): Row[] {
  const rows: [string, number, unknown, number, string][] = [
    ["status 1", 1, null, 0, "status"],
    ["status 999", 999, null, 0, "status"],
    ["status 5000", 5000, null, 0, "status"],
    ["status 1000.5", 1000.5, null, 0, "status"],
    ['status "1000"', "1000" as never, null, 0, "status"],
    ["status null", null as never, null, 0, "status"],
    ["a reason without a status", 0, "why", 3, "status"],
    ["buf = 5", 1000, 5, 1, "buf"],
    ["buf = {}", 1000, {}, 1, "buf"],
    ["buf null with len 2", 1000, null, 2, "buf"],
    ["len beyond buf", 1000, "ab", 3, "len"],
    ["len 124 (over the 123 a close frame holds)", 1000, "x".repeat(124), 124, "len"],
  ];
  return [
    ...rows.map(([what, st, b, n, arg]) => ({
      what,
      call: (c: Ctx) => f(st, b as never, n)(c),
      code: "EINVAL" as const,
      arg,
    })),
    ...badCounts("len", (n, c) => f(1000, "abcd", n)(c)),
  ];
}

/** A fresh bytestream (a user's, over channels) for a row to hand to an attach; closed after the row. */
function fresh(c: Ctx): number {
  const [a, b] = userPair();
  c.extra.push(a, b);
  return a;
}

/** A fresh message socket (prefix over a fresh bytestream). */
function freshMsg(c: Ctx): number {
  const m = prefix_attach(fresh(c), 4, 0);
  c.extra.push(m);
  return m;
}

/** A fresh suffix socket. */
function freshSuffix(c: Ctx): number {
  const s = suffix_attach(fresh(c), "\n", 1);
  c.extra.push(s);
  return s;
}

/** A fresh HTTP socket. */
function freshHttp(c: Ctx): number {
  const h = http_attach(fresh(c));
  c.extra.push(h);
  return h;
}

/** Rows for the HTTP socket of the http_* calls: the context has none, so every kind is ENOTSUP. */
function httpHandles(f: (h: number) => unknown): Row[] {
  return [
    ...badHandles("s", ["s"], (h) => f(h)),
    { what: "s an IPC socket (without HTTP)", call: (c) => f(c.s), code: "ENOTSUP", arg: "s" },
  ];
}

/** Rows for a text argument: each of `values` is `EINVAL`, naming `arg`. */
function badTexts(arg: string, values: unknown[], f: (v: string, c: Ctx) => unknown): Row[] {
  return values.map((v) => ({
    what: `${arg} = ${v === undefined ? "undefined" : JSON.stringify(v)}`,
    call: (c: Ctx) => f(v as string, c),
    code: "EINVAL" as const,
    arg,
  }));
}

/** A fresh term socket. */
function freshTerm(c: Ctx): number {
  const t = term_attach(freshMsg(c), "", 0);
  c.extra.push(t);
  return t;
}

/**
 * Rows for an attach's `s`: numbers that are no handle and a closed one (`EBADF`), and fresh
 * handles of kinds that do not offer the interface it needs (`EPROTO`), then the call's own rows.
 */
function attachRows(need: "bytestream" | "message", f: (s: number) => unknown, own: Row[]): Row[] {
  const rows = badHandles("s", [...KINDS], (h) => f(h)).filter((r) => r.code === "EBADF");
  const wrong: [string, (c: Ctx) => number][] = [
    [
      "a channel",
      (c) => {
        const [a, b] = chmake();
        c.extra.push(a, b);
        return a;
      },
    ],
    [
      "a user handle without interfaces",
      (c) => {
        const h = hmake({ query: () => undefined, close() {} });
        c.extra.push(h);
        return h;
      },
    ],
    need === "bytestream" ? ["a message socket", freshMsg] : ["a bytestream", fresh],
  ];
  for (const [what, make] of wrong) rows.push({ what: `s ${what}`, call: (c) => f(make(c)), code: "EPROTO", arg: "s" });
  return [...rows, ...own];
}

/** Rows for prefix's `flags`. */
function badFlags(f: (flags: number, c: Ctx) => unknown): Row[] {
  return [2, -1, 1.5, "0", null, undefined].map((v) => ({
    what: `flags = ${typeof v === "string" ? `"${v}"` : String(v)}`,
    call: (c: Ctx) => f(v as number, c),
    code: "EINVAL" as const,
    arg: "flags",
  }));
}

/** Rows for suffix's delimiter and its length. */
function badSuffixes(f: (suffix: Uint8Array | string, n: number, c: Ctx) => unknown): Row[] {
  return [
    ...[5, null, undefined, {}, [10]].map((v) => ({
      what: `suffix = ${Array.isArray(v) ? "an array" : String(v)}`,
      call: (c: Ctx) => f(v as never, 1, c),
      code: "EINVAL" as const,
      arg: "suffix",
    })),
    ...badCounts("suffixlen", (n, c) => f("\r\n", n, c), [0]),
    { what: "suffixlen 33", call: (c) => f("x".repeat(40), 33, c), code: "EINVAL", arg: "suffixlen" },
    { what: "suffixlen beyond the suffix", call: (c) => f("\n", 2, c), code: "EINVAL", arg: "suffixlen" },
  ];
}

/** Rows for term's terminal message and its length. */
function badTerms(f: (buf: Uint8Array | string | null, n: number, c: Ctx) => unknown): Row[] {
  return [
    ...[5, undefined, {}, [1]].map((v) => ({
      what: `buf = ${Array.isArray(v) ? "an array" : String(v)}`,
      call: (c: Ctx) => f(v as never, 1, c),
      code: "EINVAL" as const,
      arg: "buf",
    })),
    { what: "buf null with len 4", call: (c) => f(null, 4, c), code: "EINVAL", arg: "buf" },
    ...badCounts("len", (n, c) => f("STOP", n, c)),
    { what: "len 33", call: (c) => f("x".repeat(40), 33, c), code: "EINVAL", arg: "len" },
    { what: "len beyond buf", call: (c) => f("STOP", 5, c), code: "EINVAL", arg: "len" },
  ];
}

/**
 * Runs `f` with a UDP socket of its own on 127.0.0.1 (the context holds none), closed after it:
 * `f`'s Op is run, a plain call's throw passes through.
 */
function* withUdp(f: (u: number) => unknown): Generator<unknown, unknown, unknown> {
  const u = yield* udp_open(ipaddr_local("127.0.0.1", 0, 0), null);
  try {
    const r = f(u);
    if (r !== null && typeof r === "object" && typeof (r as Op<unknown>)[Symbol.iterator] === "function")
      return yield* r as Op<unknown>;
    return r;
  } finally {
    hclose(u);
  }
}

/** The rows of `udp_open` and `udp_open_mem`: addresses that are not IpAddrs (null is fine), of two families. */
function udpOpenRows(f: (local: IpAddr | null, remote: IpAddr | null) => unknown): Row[] {
  const notNull = (r: Row) =>
    r.what !== "local null" &&
    r.what !== "local undefined" &&
    r.what !== "remote null" &&
    r.what !== "remote undefined";
  return [
    ...badIpAddrs("local", (a) => f(a, null)).filter(notNull),
    ...badIpAddrs("remote", (a) => f(null, a)).filter(notNull),
    {
      what: "local and remote of two families",
      call: () => f(ipaddr_local("127.0.0.1", 0, 0), ipaddr_local("::1", 9, 0)),
      code: "EINVAL",
      arg: "remote",
    },
  ];
}

/** Rows for a SOCKS5 username or password: not a string, or more than 255 bytes of UTF-8. */
function badCredentials(arg: string, f: (v: string, c: Ctx) => unknown): Row[] {
  return [5, {}, "x".repeat(256), "é".repeat(128)].map((v) => ({
    what: `${arg} = ${typeof v === "string" ? `${Buffer.byteLength(v)} bytes` : JSON.stringify(v)}`,
    call: (c: Ctx) => f(v as string, c),
    code: "EINVAL" as const,
    arg,
  }));
}

/** Exported functions without bad-input rows, and why. */
const EXEMPT: Record<string, string> = {
  now: "takes no arguments",
  dill_stats: "takes no arguments",
  dill_yield: "takes no arguments",
  bundle: "takes no arguments",
  chmake: "takes no arguments",
  ipc_pair: "takes no arguments",
  dill_tree: "takes no arguments",
  dill_trace: "takes no arguments",
  dill_trace_json: "takes no arguments",
  dill_tree_json: "takes no arguments",
  abort_signal: "takes no arguments",
  ws_request_key: "takes no arguments",
  fdclean: "never fails, as libdill's: a descriptor tsdill knows nothing of is left alone",
  isDillError: "a predicate: any value is a valid question, the answer is a boolean",
};

/** True for a class (a constructor, not a call of the API). */
function isClass(f: unknown): boolean {
  return typeof f === "function" && /^class\b/.test(Function.prototype.toString.call(f));
}

let serial = 0;

function* makeCtx(): Generator<unknown, Ctx, unknown> {
  const [ch, ch2] = chmake();
  const busyCr = new CoroutineStorage();
  const cr = go_mem(forever(), busyCr);
  const busyBundle = new BundleStorage();
  const b = bundle_mem(busyBundle);
  const addr = path.join(dir, `ctx${++serial}.ipc`);
  const ls = yield* ipc_listen(addr, 10);
  const [s, s2] = yield* ipc_pair();
  const taddr = ipaddr_local("127.0.0.1", 0, 0);
  const busyTcpListener = new TcpListenerStorage();
  const tls = yield* tcp_listen_mem(taddr, 10, busyTcpListener);
  const t = yield* tcp_connect(taddr, now() + 5000);
  const busyTcp = new TcpStorage();
  const t2 = yield* tcp_accept_mem(tls, null, busyTcp, now() + 5000);
  const user = hmake({ query: () => undefined, close() {} });
  const [m0, m2] = userPair();
  const busyPrefix = new PrefixStorage();
  const m = prefix_attach_mem(m0, 4, 0, busyPrefix);
  const [x, y] = chmake();
  hclose(x);
  hclose(y);
  const fileFd = fs.openSync(path.join(dir, "regular"), "a");
  return {
    ch,
    ch2,
    cr,
    b,
    ls,
    addr,
    s,
    s2,
    tls,
    taddr,
    t,
    t2,
    user,
    m,
    m2,
    busyPrefix,
    extra: [],
    closed: x,
    busyCr,
    busyBundle,
    busyTcp,
    busyTcpListener,
    fileFd,
  };
}

function closeCtx(c: Ctx): void {
  for (const h of c.extra) {
    try {
      hclose(h);
    } catch (e) {
      if (!(e instanceof DillError && e.code === "EBADF")) throw e; // the call took it over and closed it
    }
  }
  for (const h of [c.ch, c.ch2, c.cr, c.b, c.ls, c.s, c.s2, c.tls, c.t, c.t2, c.user, c.m, c.m2]) hclose(h);
  fs.closeSync(c.fileFd);
}

/** Run a row's call (running the Op or awaiting the Promise it returns); its DillError, or a description of what else happened. */
function* attempt(row: Row, c: Ctx): Generator<unknown, unknown, unknown> {
  let r: unknown;
  try {
    r = row.call(c);
    if (r instanceof Promise) {
      r.catch(() => {}); // run(): looked at by the caller once this run() is over
      return r;
    }
    if (
      r !== null &&
      typeof r === "object" &&
      !Array.isArray(r) &&
      typeof (r as Op<unknown>)[Symbol.iterator] === "function"
    ) {
      r = yield* r as Op<unknown>;
    }
  } catch (e) {
    return e;
  }
  // It succeeded: close what it made, and report it.
  if (typeof r === "number") hclose(r);
  if (Array.isArray(r)) for (const h of r) if (typeof h === "number") hclose(h);
  return new Error(`the call succeeded (returned ${String(r)})`);
}

/** The context still works: a byte across each pair both ways, a value across the channel. */
function* stillWorks(c: Ctx): Generator<unknown, void, unknown> {
  const one = new Uint8Array([7]);
  for (const [a, b] of [
    [c.s, c.s2],
    [c.t, c.t2],
  ]) {
    yield* bsend(a!, one, 1, now() + 5000);
    yield* brecv(b!, one, 1, now() + 5000);
    yield* bsend(b!, one, 1, now() + 5000);
    yield* brecv(a!, one, 1, now() + 5000);
  }
  expect(one[0]).toBe(7);
  expect(hquery(c.m, api.MSOCK_TYPE)).toBeTruthy();
  const cr = go(
    (function* () {
      yield* chsend(c.ch, 42, now() + 5000);
    })(),
  );
  expect(yield* chrecv(c.ch2, now() + 5000)).toBe(42);
  hclose(cr);
  const lsOk = hquery(c.ls, api.IPC_LISTENER_TYPE);
  expect(lsOk).toBeTruthy();
  expect(hquery(c.tls, TCP_LISTENER_TYPE)).toBeTruthy();
}

function expectBad(e: unknown, fn: string, row: Row): void {
  if (!(e instanceof DillError))
    throw new Error(`${fn} (${row.what}): expected a DillError ${row.code}, got ${String(e)}`);
  expect(e.code, `${fn} (${row.what}): ${e.message}`).toBe(row.code);
  expect(e.message).toContain(fn);
  if (row.arg !== undefined) expect(e.message, e.message).toContain(`'${row.arg}'`);
}

for (const [fn, rows] of Object.entries(TABLE)) {
  describe(`${fn} with bad input`, () => {
    it.each(rows.map((r) => [r.what, r] as const))(
      "%s: fails with the right errno, names the argument, and leaves the runtime usable",
      async (_what, row) => {
        let pending: Promise<unknown> | null = null;
        let err: unknown;
        await run(function* () {
          const c = yield* makeCtx();
          try {
            const e = yield* attempt(row, c);
            if (e instanceof Promise) pending = e;
            else err = e;
            yield* stillWorks(c);
          } finally {
            closeCtx(c);
          }
        });
        if (pending !== null) {
          try {
            await pending;
            err = new Error("the call succeeded");
          } catch (e) {
            err = e;
          }
        }
        expectBad(err, fn, row);
      },
    );
  });
}

describe("the bad-input table", () => {
  it("covers every function exported from src/index.ts, under its libdill name or its dill_ name", () => {
    const covered = new Set<unknown>();
    for (const name of [...Object.keys(TABLE), ...Object.keys(EXEMPT)]) {
      const f = (api as Record<string, unknown>)[name];
      expect(typeof f, `${name} is in the table but not exported`).toBe("function");
      covered.add(f);
    }
    const missing = Object.entries(api)
      .filter(([, f]) => typeof f === "function" && !isClass(f) && !covered.has(f))
      .map(([name]) => name);
    expect(missing, "exported functions without bad-input rows: add them to TABLE in test/bad-input.test.ts").toEqual(
      [],
    );
  });

  it("leaves a malformed iolist as it was", async () => {
    await run(function* () {
      const [s, s2] = yield* ipc_pair();
      const last = el(new Uint8Array(1), 1);
      const b = el(new Uint8Array(1), 1);
      const a = el(new Uint8Array(1), 1, b);
      b.iol_next = a;
      const bad = el(new Uint8Array(2), 9);
      const c1 = el(new Uint8Array(2), 2, bad);
      for (const [first, l] of [
        [a, last],
        [c1, bad],
      ] as const) {
        try {
          yield* bsendl(s, first, l, -1);
        } catch (e) {
          expect((e as DillError).code).toBe("EINVAL");
        }
      }
      expect([a.iol_rsvd, b.iol_rsvd, last.iol_rsvd, c1.iol_rsvd, bad.iol_rsvd]).toEqual([0, 0, 0, 0, 0]);
      expect(a.iol_next).toBe(b);
      expect(b.iol_next).toBe(a);
      hclose(s);
      hclose(s2);
    });
  });
});
