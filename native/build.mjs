// The install step: builds tsdill's native part (native/tsdill.c) with node-gyp, against the
// headers of the Node that runs the install, with the machine's C compiler. Nothing is downloaded
// when npm's nodedir points at installed headers (or /usr/include/node has them). The build is
// optional: when it fails or is skipped (TSDILL_SKIP_ADDON=1), the install still succeeds, and
// fdin, fdout, fdclean, ipc_sendfd and ipc_recvfd fail with ENOTSUP saying why.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const status = join(root, "build", "tsdill-build.txt");

function record(text) {
  mkdirSync(join(root, "build"), { recursive: true });
  writeFileSync(status, text + "\n");
}

if (process.env.TSDILL_SKIP_ADDON === "1") {
  record("the build was skipped (TSDILL_SKIP_ADDON=1 at install)");
  console.warn("tsdill: native part not built (TSDILL_SKIP_ADDON=1): fd readiness and fd passing are off");
  process.exit(0);
}

const gyp = process.env.npm_config_node_gyp;
const args = gyp ? [gyp] : [createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js")];
args.push("rebuild");
const headers = join(process.execPath, "..", "..", "include", "node", "node_api.h");
if (!process.env.npm_config_nodedir && existsSync(headers)) args.push(`--nodedir=${join(headers, "..", "..", "..")}`);

let r;
try {
  r = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
} catch (e) {
  r = { status: null, error: e };
}
if (r.status === 0 && existsSync(join(root, "build", "Release", "tsdill.node"))) {
  rmSync(status, { force: true });
  process.exit(0);
}
const why = r.error ? String(r.error.message) : `node-gyp exited with status ${r.status}`;
record(`the build failed: ${why}`);
console.warn(`tsdill: native part not built (${why}): fd readiness and fd passing are off, the rest works`);
process.exit(0);
