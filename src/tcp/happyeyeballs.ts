/**
 * `happyeyeballs_connect`: a TCP connection to a host by name, racing its IPv6 and IPv4
 * addresses as RFC 8305 ("Happy Eyeballs version 2") describes, after libdill's happyeyeballs.c.
 *
 * This file is also a small lesson in structured concurrency. Every concurrent activity is a
 * coroutine with an owner, and the owner's `hclose` ends it:
 *
 * ```
 * happyeyeballs_connect            waits on one channel for the winner, or gives up at the deadline
 *   └─ coordinator (go)            owns everything below; closing it cancels all of it
 *        └─ bundle
 *             ├─ resolve IPv6      sends the AAAA answers on a channel, then null
 *             ├─ resolve IPv4      sends the A answers on a channel, then null
 *             ├─ attempt [::1]     tcp_connect to one address; reports the socket or its error
 *             └─ attempt 127.0.0.1 started 250 ms after the previous one, if no winner yet
 * ```
 *
 * Nothing here needs a callback, a Promise or a flag to "stop the others": when the first attempt
 * succeeds, the coordinator hands its socket over and returns; `happyeyeballs_connect` then closes
 * the coordinator's handle, and the bundle's `hclose` cancels the resolvers and every losing
 * attempt wherever they wait (a `tcp_connect` still in progress fails with `ECANCELED` and closes
 * its half-made socket). The same single `hclose` runs on a timeout and when the caller itself
 * is cancelled, so nothing is leaked on any path.
 */
import { checkDeadline } from "../handles/args.js";
import { dillError, DillError } from "../handles/errors.js";
import { hclose } from "../handles/handle.js";
import type { Op } from "../handles/op.js";
import type { TcpSocket } from "../handles/types.js";
import { bundle, bundle_go } from "../runtime/bundle.js";
import { chmake, chrecv, chsend } from "../runtime/chan.js";
import { CHRECV, type ChooseClause, choose } from "../runtime/choose.js";
import { now } from "../runtime/clock.js";
import { go } from "../runtime/coroutine.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { tcp_connect } from "./connect.js";
import { IPADDR_IPV4, IPADDR_IPV6, type IpAddr, ipaddr_remotes } from "../ipaddr/ipaddr.js";
import { guardOps } from "../handles/op.js";

/** RFC 8305's Resolution Delay: how long an IPv4 answer waits for the IPv6 one, in ms. */
export const RESOLUTION_DELAY = 50;
/** RFC 8305's Connection Attempt Delay: the time between two attempts, in ms (libdill uses 300). */
export const ATTEMPT_DELAY = 250;
/** The most addresses taken from each family's answer (libdill's limit too). */
const MAX_ADDRS = 10;

/** How the addresses of a name are found: `ipaddr_remotes`, or what a test puts in its place. */
export type Resolver = (name: string, port: number, mode: number, max: number, deadline: number) => Op<IpAddr[]>;

let resolver: Resolver = ipaddr_remotes;

/**
 * Replaces the name lookup of `happyeyeballs_connect` (null puts `ipaddr_remotes` back). Not
 * part of the public API: it lets a test give a name IPv6 and IPv4 addresses on a machine
 * whose resolver gives it one family only. The connections are real either way.
 */
export function setHappyEyeballsResolver(r: Resolver | null): void {
  resolver = r ?? ipaddr_remotes;
}

/** One family's lookup: its addresses, one by one, on `out`, then null for "no more". */
function* resolve(name: string, port: number, mode: number, out: number): Generator<unknown, void, unknown> {
  let addrs: IpAddr[] = [];
  try {
    addrs = yield* resolver(name, port, mode, MAX_ADDRS, -1);
  } catch (e) {
    if (e instanceof DillError && e.code === "ECANCELED") return;
    // a failed lookup is a family without addresses
  }
  for (const a of addrs) yield* chsend(out, a, -1);
  yield* chsend(out, null, -1);
}

/** One connection attempt: its socket, or the error it failed with, goes to the coordinator. */
function* attempt(addr: IpAddr, results: number): Generator<unknown, void, unknown> {
  let s: number;
  try {
    s = yield* tcp_connect(addr, -1);
  } catch (e) {
    if (e instanceof DillError && e.code === "ECANCELED") return; // a loser, cancelled: nothing to report
    yield* chsend(results, e, -1);
    return;
  }
  try {
    yield* chsend(results, s, -1);
  } catch (e) {
    hclose(s); // cancelled while handing the socket over: another attempt won
    throw e;
  }
}

/** The error reported when every attempt has failed: the last attempt's, or "no address". */
function giveUp(name: string, last: unknown): DillError {
  if (last instanceof DillError)
    return dillError(
      last.code,
      "happyeyeballs_connect",
      undefined,
      `every address of '${name}' failed: ${last.message}`,
    );
  return dillError("EADDRNOTAVAIL", "happyeyeballs_connect", "name", `'${name}' has no IPv6 or IPv4 address`);
}

/**
 * Runs the race and sends its outcome on `out`: the winning socket's handle, or a DillError when
 * every address has failed. Everything it starts lives in one bundle, closed when it returns or
 * is cancelled.
 */
function* coordinator(name: string, port: number, out: number): Generator<unknown, void, unknown> {
  const [v6, v6w] = chmake();
  const [v4, v4w] = chmake();
  const [results, resultsw] = chmake();
  const b = bundle();
  try {
    // RFC 8305 section 3: both queries at once.
    bundle_go(b, resolve(name, port, IPADDR_IPV6, v6w));
    bundle_go(b, resolve(name, port, IPADDR_IPV4, v4w));
    const queue6: IpAddr[] = [];
    const queue4: IpAddr[] = [];
    let done6 = false;
    let done4 = false;
    let pending = 0;
    let last: unknown = null;
    let preferV6 = true; // the first attempt is IPv6; then the families alternate (section 4)
    const start = now();
    let nextAt = start; // no attempt starts before this time
    const clauses: ChooseClause[] = [];
    for (;;) {
      // Start an attempt when its time has come and there is an address to try. An IPv4 address
      // waits up to the Resolution Delay while the IPv6 answer may still bring a better one.
      const t = now();
      const v4Waits = !done6 && queue6.length === 0 && t < start + RESOLUTION_DELAY;
      if (t >= nextAt && (queue6.length > 0 || (queue4.length > 0 && !v4Waits))) {
        const useV6: boolean = queue6.length > 0 && (preferV6 || queue4.length === 0 || v4Waits);
        const addr = (useV6 ? queue6 : queue4).shift()!;
        preferV6 = !useV6;
        bundle_go(b, attempt(addr, resultsw));
        pending++;
        nextAt = t + ATTEMPT_DELAY;
        continue;
      }
      if (done6 && done4 && queue6.length === 0 && queue4.length === 0 && pending === 0) {
        yield* chsend(out, giveUp(name, last), -1);
        return;
      }
      // Wait for whatever comes first: an answer, an attempt's outcome, or the time to start
      // the next attempt (only when there is an address waiting for it).
      clauses.length = 0;
      clauses.push({ op: CHRECV, ch: results });
      if (!done6) clauses.push({ op: CHRECV, ch: v6 });
      if (!done4) clauses.push({ op: CHRECV, ch: v4 });
      let wake = -1;
      if (queue6.length > 0) wake = nextAt;
      else if (queue4.length > 0) wake = done6 ? nextAt : Math.max(nextAt, start + RESOLUTION_DELAY);
      let i: number;
      try {
        i = yield* choose(clauses, wake);
      } catch (e) {
        if (e instanceof DillError && e.code === "ETIMEDOUT") continue; // time for the next attempt
        throw e;
      }
      const c = clauses[i]!;
      if (c.ch === results) {
        pending--;
        if (typeof c.val === "number") {
          // The winner. Hand it over; returning then closes the bundle, cancelling the losers.
          try {
            yield* chsend(out, c.val, -1);
          } catch (e) {
            hclose(c.val);
            throw e;
          }
          return;
        }
        last = c.val;
        nextAt = now(); // a failure starts the next attempt at once (section 5)
      } else if (c.val === null) {
        if (c.ch === v6) done6 = true;
        else done4 = true;
      } else (c.ch === v6 ? queue6 : queue4).push(c.val as IpAddr);
    }
  } finally {
    hclose(b);
    hclose(v6);
    hclose(v6w);
    hclose(v4);
    hclose(v4w);
    hclose(results);
    hclose(resultsw);
  }
}

/**
 * Connects to a host by name over TCP the Happy Eyeballs way (RFC 8305): the IPv6 and IPv4
 * lookups run at once; the first attempt goes to an IPv6 address (an IPv4 answer waits 50 ms
 * for the IPv6 one); while no attempt has succeeded, a new one starts every 250 ms, or at once
 * when one fails, alternating between the families, and the earlier attempts go on. The first
 * connection made wins; every other attempt is cancelled and its socket closed.
 *
 * @param name a host name (or an IP literal).
 * @param port 1 to 65535.
 * @param deadline absolute time in ms for the whole race; `-1` never.
 * @returns the handle of the TCP connection that won.
 * @throws `EINVAL` (bad `name`, `port` or deadline), `ENAMETOOLONG` (`name` longer than 253
 * characters), `EADDRNOTAVAIL` (the name has no address), the last attempt's error when every
 * address failed (`ECONNREFUSED`, `ENETUNREACH`, ...), `EMFILE`, `ENFILE`, `ENOMEM`,
 * `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const s = yield* happyeyeballs_connect("localhost", 8080, now() + 5000);
 * yield* bsend(s, "hello", 5, now() + 1000);
 * ```
 */
export function* happyeyeballs_connect(name: string, port: number, deadline: number): Op<TcpSocket> {
  const fn = "happyeyeballs_connect";
  if (canBlock(fn) === null) return yield* suspended();
  if (typeof name !== "string" || name.length === 0)
    throw dillError("EINVAL", fn, "name", "name must be a non-empty string");
  if (name.includes("\0")) throw dillError("EINVAL", fn, "name", "name contains a NUL byte");
  if (name.length > 253)
    throw dillError("ENAMETOOLONG", fn, "name", `name is ${name.length} characters long, a host name has at most 253`);
  if (!Number.isInteger(port) || port < 1 || port > 0xffff)
    throw dillError("EINVAL", fn, "port", `port must be an integer from 1 to 65535, got ${String(port)}`);
  checkDeadline(fn, deadline);
  const [rx, tx] = chmake();
  let coord = -1;
  try {
    coord = go(coordinator(name, port, tx));
    const got = yield* chrecv(rx, deadline);
    if (got instanceof DillError) throw got;
    return got as TcpSocket;
  } finally {
    if (coord >= 0) hclose(coord); // the race is over, whatever ended it: cancel what still runs
    hclose(rx);
    hclose(tx);
  }
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ happyeyeballs_connect });
