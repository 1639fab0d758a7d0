/**
 * TLS contexts: the certificate and private key a TLS server presents, loaded from the files
 * `tls_attach_server` names, as libdill's `SSL_CTX_use_certificate_file` and
 * `SSL_CTX_use_PrivateKey_file` load them; and the one context every client shares.
 *
 * Loading a key is costly (parsing it, checking it against the certificate), so a server that
 * attaches TLS to every accepted connection with the same two files gets one context, made once
 * and kept while neither file changes (same inode, size and modification times, to the nanosecond). A file that
 * cannot be read, is not PEM, or holds a key that does not belong to the certificate fails with
 * `EFAULT`, libdill's errno for everything OpenSSL refuses, the reason in the message.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { type BigIntStats, readFileSync, statSync } from "node:fs";
import { type SecureContext, createSecureContext } from "node:tls";
import { dillError } from "../handles/errors.js";

interface Loaded {
  cert: BigIntStats;
  pkey: BigIntStats;
  context: SecureContext;
}

/** Contexts by certificate and key path; the oldest is dropped beyond {@link KEEP}. */
const cache = new Map<string, Loaded>();
const KEEP = 16;

let client: SecureContext | null = null;

/** The context of every TLS client: no certificate of its own, and (as libdill) no verification of the server's. */
export function clientContext(): SecureContext {
  if (client === null) client = createSecureContext({});
  return client;
}

function same(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

function fileStat(fn: string, arg: string, path: string): BigIntStats {
  try {
    return statSync(path, { bigint: true });
  } catch (e) {
    throw dillError("EFAULT", fn, arg, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function fileRead(fn: string, arg: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw dillError("EFAULT", fn, arg, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/**
 * The server context for the PEM files `cert` (the certificate, possibly followed by its chain)
 * and `pkey` (its private key). `EFAULT`, naming the file at fault, when either cannot be used.
 */
export function serverContext(fn: string, cert: string, pkey: string): SecureContext {
  const key = `${cert}\0${pkey}`;
  const cs = fileStat(fn, "cert", cert);
  const ks = fileStat(fn, "pkey", pkey);
  const hit = cache.get(key);
  if (hit !== undefined && same(hit.cert, cs) && same(hit.pkey, ks)) return hit.context;
  const certPem = fileRead(fn, "cert", cert);
  const keyPem = fileRead(fn, "pkey", pkey);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (e) {
    throw dillError("EFAULT", fn, "cert", `${cert} holds no PEM certificate: ${(e as Error).message}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (e) {
    throw dillError("EFAULT", fn, "pkey", `${pkey} holds no usable PEM private key: ${(e as Error).message}`);
  }
  if (!x509.checkPrivateKey(privateKey))
    throw dillError("EFAULT", fn, "pkey", `the key in ${pkey} does not belong to the certificate in ${cert}`);
  let context: SecureContext;
  try {
    context = createSecureContext({ cert: certPem, key: keyPem });
  } catch (e) {
    throw dillError("EFAULT", fn, "cert", `OpenSSL refused ${cert} with ${pkey}: ${(e as Error).message}`);
  }
  cache.delete(key);
  cache.set(key, { cert: cs, pkey: ks, context });
  if (cache.size > KEEP) cache.delete(cache.keys().next().value!);
  return context;
}
