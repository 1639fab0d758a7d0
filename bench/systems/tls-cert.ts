/** A self-signed certificate for the TLS workloads, made with openssl once per measuring process. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

let made: { cert: string; key: string } | null = null;

/** The paths of a certificate and its key (EC P-256, CN localhost), removed at exit. */
export function certificate(): { cert: string; key: string } {
  if (made !== null) return made;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsdill-bench-tls-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=localhost",
      "-days",
      "1",
    ]),
    { stdio: "ignore" },
  );
  made = { cert, key };
  return made;
}
