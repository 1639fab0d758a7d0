/**
 * The opening handshake of WebSocket (RFC 6455, section 4), after libdill's ws.c: the client's
 * HTTP/1.1 `GET` with `Upgrade: websocket`, the server's `101 Switching Protocols`, and the keys
 * that prove each side speaks WebSocket (`ws_request_key`, `ws_response_key`).
 *
 * libdill builds the handshake on its HTTP protocol; here it is the few lines WebSocket needs,
 * written over a line reader the WebSocket socket provides, so that the bytes that come after the
 * handshake stay in the socket's own buffer for the first frames.
 */
import { createHash, randomBytes } from "node:crypto";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";

/** The size of a key buffer in libdill (`WS_KEY_SIZE`): a key is at most 31 characters of base64. */
export const WS_KEY_SIZE = 32;

/** The GUID RFC 6455 appends to the client's key before hashing it. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The longest handshake line, CRLF included; a longer one is `EMSGSIZE`. */
export const WS_MAX_LINE = 8192;
/** The most header fields a handshake may carry. */
const MAX_FIELDS = 100;

/**
 * What the handshake needs of the socket under it: a line of text (without its CRLF, as UTF-8)
 * and a way to send bytes.
 */
export interface HandshakeIo {
  readLine(deadline: number, fn: string): Op<string>;
  write(bytes: Uint8Array, deadline: number, fn: string): Op<void>;
}

/**
 * Makes a new key for the `Sec-WebSocket-Key` field of a client's handshake: 16 random bytes
 * in base64 (24 characters). Useful with `WS_NOHTTP`, to do the handshake by hand.
 *
 * @returns the key.
 *
 * @example
 * ```ts
 * const key = ws_request_key();
 * const accept = ws_response_key(key); // what the server must answer
 * ```
 */
export function ws_request_key(): string {
  return randomBytes(16).toString("base64");
}

/**
 * Computes the `Sec-WebSocket-Accept` value a server answers for the client's `request_key`
 * (the SHA-1 of the key and RFC 6455's GUID, in base64); a client checks the server's answer
 * against it. The key must be the base64 of 16 bytes, as the RFC requires.
 *
 * @param request_key the `Sec-WebSocket-Key` of the request.
 * @returns the response key.
 * @throws `EINVAL` (`request_key` is not a string), `EPROTO` (it is not the base64 of 16 bytes).
 *
 * @example
 * ```ts
 * ws_response_key("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export function ws_response_key(request_key: string): string {
  const fn = "ws_response_key";
  if (typeof request_key !== "string") throw dillError("EINVAL", fn, "request_key", "request_key must be a string");
  if (!isNonce(request_key))
    throw dillError("EPROTO", fn, "request_key", "the key is not the base64 of 16 bytes (RFC 6455)");
  return createHash("sha1")
    .update(request_key + GUID, "latin1")
    .digest("base64");
}

function isNonce(key: string): boolean {
  return /^[A-Za-z0-9+/]{22}==$/.test(key) && Buffer.from(key, "base64").length === 16;
}

/** True when the comma-separated token list `value` holds `token` (case-insensitive). */
function hasToken(value: string, token: string): boolean {
  for (const t of value.split(",")) if (t.trim().toLowerCase() === token) return true;
  return false;
}

/** A header field line split into its name (lower case) and value, or `EPROTO`. */
function field(line: string, fn: string): [string, string] {
  const colon = line.indexOf(":");
  if (colon <= 0 || /[\s]/.test(line.slice(0, colon)))
    throw dillError("EPROTO", fn, undefined, `malformed header field in the handshake: ${JSON.stringify(line)}`);
  return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
}

/** Reads header fields up to the empty line, calling `each` with each name and value. */
function* fields(io: HandshakeIo, deadline: number, fn: string, each: (name: string, value: string) => void): Op<void> {
  for (let n = 0; ; n++) {
    const line = yield* io.readLine(deadline, fn);
    if (line === "") return;
    if (n === MAX_FIELDS) throw dillError("EPROTO", fn, undefined, `more than ${MAX_FIELDS} header fields`);
    const [name, value] = field(line, fn);
    each(name, value);
  }
}

function protoError(fn: string, why: string): Error {
  return dillError("EPROTO", fn, undefined, why);
}

/** The client's side: send the upgrade request for `resource` on `host`, check the server's 101. */
export function* clientHandshake(
  io: HandshakeIo,
  resource: string,
  host: string,
  deadline: number,
  fn: string,
): Op<void> {
  const key = ws_request_key();
  const request =
    `GET ${resource} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  yield* io.write(Buffer.from(request, "utf8"), deadline, fn);
  const status = yield* io.readLine(deadline, fn);
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(status);
  if (m === null) throw protoError(fn, `not an HTTP status line: ${JSON.stringify(status)}`);
  if (m[1] !== "101") throw protoError(fn, `the server refused the upgrade: ${JSON.stringify(status)}`);
  const expected = ws_response_key(key);
  let upgrade = false;
  let connection = false;
  let accept = false;
  yield* fields(io, deadline, fn, (name, value) => {
    if (name === "upgrade") {
      if (upgrade || value.toLowerCase() !== "websocket") throw protoError(fn, `bad Upgrade field: ${value}`);
      upgrade = true;
    } else if (name === "connection") {
      if (connection || !hasToken(value, "upgrade")) throw protoError(fn, `bad Connection field: ${value}`);
      connection = true;
    } else if (name === "sec-websocket-accept") {
      if (accept || value !== expected)
        throw protoError(fn, "the server's Sec-WebSocket-Accept does not match the key");
      accept = true;
    } else if (name === "sec-websocket-extensions" || name === "sec-websocket-protocol") {
      // Nothing was offered, so the server may not choose anything.
      if (value !== "") throw protoError(fn, `the server chose ${name} ${value}, which was not offered`);
    }
  });
  if (!upgrade || !connection || !accept)
    throw protoError(fn, "the server's answer lacks Upgrade, Connection or Sec-WebSocket-Accept");
}

/** Text must fit a C buffer of `len` bytes with its NUL: `EMSGSIZE` otherwise. */
function fits(text: string, len: number, fn: string, arg: string): void {
  const n = Buffer.byteLength(text, "utf8");
  if (n > len - 1)
    throw dillError("EMSGSIZE", fn, undefined, `the ${arg} received (${n} bytes) does not fit ${arg}len = ${len}`);
}

/**
 * The server's side: read the client's upgrade request, check it, answer 101. Evaluates to the
 * resource and the host the client asked for (the host is "" when the request has no Host field).
 */
export function* serverHandshake(
  io: HandshakeIo,
  resourcelen: number,
  hostlen: number,
  deadline: number,
  fn: string,
): Op<[string, string]> {
  const line = yield* io.readLine(deadline, fn);
  const m = /^(\S+) (\S+) HTTP\/1\.1$/.exec(line);
  if (m === null) throw protoError(fn, `not an HTTP/1.1 request line: ${JSON.stringify(line)}`);
  if (m[1] !== "GET") throw protoError(fn, `the upgrade request must be a GET, got ${m[1]}`);
  const resource = m[2]!;
  fits(resource, resourcelen, fn, "resource");
  let host: string | null = null;
  let upgrade = false;
  let connection = false;
  let version = false;
  let accept: string | null = null;
  yield* fields(io, deadline, fn, (name, value) => {
    if (name === "host") {
      if (host !== null) throw protoError(fn, "two Host fields");
      fits(value, hostlen, fn, "host");
      host = value;
    } else if (name === "upgrade") {
      if (upgrade || !hasToken(value, "websocket")) throw protoError(fn, `bad Upgrade field: ${value}`);
      upgrade = true;
    } else if (name === "connection") {
      if (connection || !hasToken(value, "upgrade")) throw protoError(fn, `bad Connection field: ${value}`);
      connection = true;
    } else if (name === "sec-websocket-key") {
      if (accept !== null) throw protoError(fn, "two Sec-WebSocket-Key fields");
      if (!isNonce(value)) throw protoError(fn, "the Sec-WebSocket-Key is not the base64 of 16 bytes");
      accept = ws_response_key(value);
    } else if (name === "sec-websocket-version") {
      if (version || value !== "13") throw protoError(fn, `unsupported Sec-WebSocket-Version: ${value}`);
      version = true;
    }
  });
  if (!upgrade || !connection || accept === null || !version)
    throw protoError(fn, "the request lacks Upgrade, Connection, Sec-WebSocket-Key or Sec-WebSocket-Version");
  const response =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${accept as string}\r\n\r\n`;
  yield* io.write(Buffer.from(response, "latin1"), deadline, fn);
  return [resource, host ?? ""];
}
