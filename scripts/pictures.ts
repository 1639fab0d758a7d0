/**
 * `npm run pictures`: the diagrams of the tutorial and of docs/architecture.md, drawn from real
 * traces of the tutorial's own example programs. Each program runs in a child process on the
 * virtual clock with the trace recorder on (TSDILL_TRACE), so that its trace, and the picture,
 * are the same on every run; the picture is written to docs/pictures/. With `--check`, nothing is
 * written: the pictures are drawn again and compared with the committed ones (the test does that,
 * so that a picture cannot drift from its program).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drawSvg } from "../src/cli/viewer.js";

const root = join(import.meta.dirname, "..");

/**
 * Each picture: the example program it is drawn from, its file in docs/pictures/, its title, and
 * for a variant of the program that a tutorial page describes, the edits that make it.
 */
export const PICTURES: readonly Picture[] = [
  {
    program: "examples/step02-cancel.ts",
    file: "cancel.svg",
    title: "hclose step by step: cancellation runs finally blocks (examples/step02-cancel.ts)",
  },
  {
    program: "examples/step03-deadlines.ts",
    file: "deadlines.svg",
    title: "A deadline firing: chrecv fails with ETIMEDOUT (examples/step03-deadlines.ts)",
  },
  {
    program: "examples/step05-choose.ts",
    file: "choose.svg",
    title: "choose: one coroutine waiting on several channels (examples/step05-choose.ts)",
  },
  {
    program: "examples/step06-bundles.ts",
    file: "bundles.svg",
    title: "The tree of a bundle: launched, waited for, closed (examples/step06-bundles.ts)",
  },
  {
    program: "examples/step04-channels.ts",
    file: "deadlock.svg",
    title: "A deadlock explained: step 4 without its chdone, main waiting with no deadline",
    // The variant docs/tutorial/04-channels.md describes; run() rejects with EDEADLK.
    edits: [
      ["  chdone(ch);", "  // chdone(ch);"],
      ["chrecv(b, now() + 1000)", "chrecv(b, -1)"],
    ],
  },
];

interface Picture {
  program: string;
  file: string;
  title: string;
  edits?: readonly (readonly [string, string])[];
}

/**
 * Run `p`'s program (edited, for a variant) on the virtual clock with the recorder on, and draw its
 * trace; a program that fails with EDEADLK gets the explanation under the title.
 */
export function picture(p: Picture): string {
  const dir = mkdtempSync(join(tmpdir(), "tsdill-pictures-"));
  let program = join(root, p.program);
  // Only the variant written here is removed afterwards, never the example it was made from.
  const variant = p.edits ? join(root, "scripts", `.picture-${p.file}.ts`) : null;
  try {
    const out = join(dir, "trace.json");
    const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
    if (p.edits) {
      // The variant is written under scripts/, where "tsdill" resolves as in examples/ (tsconfig.json).
      let text = readFileSync(program, "utf8");
      for (const [from, to] of p.edits) {
        if (!text.includes(from)) throw new Error(`${p.program} no longer has ${JSON.stringify(from)}`);
        text = text.replace(from, to);
      }
      program = variant!;
      writeFileSync(program, text);
    }
    const r = spawnSync(process.execPath, [tsx, "--import", join(root, "scripts", "virtual-clock.ts"), program], {
      cwd: root,
      env: { ...process.env, TSDILL_TRACE: out },
      encoding: "utf8",
      timeout: 60_000,
    });
    const deadlock = /EDEADLK[^\n]*\n(?: {2}cr \d+[^\n]*\n)*/.exec(r.stderr)?.[0];
    if (r.status !== 0 && deadlock === undefined) throw new Error(`${p.program} exited with ${r.status}: ${r.stderr}`);
    const notes =
      deadlock === undefined
        ? []
        : deadlock
            .trimEnd()
            .split("\n")
            .map((l) => l.trim().replace(/\] \{$/, ""));
    return drawSvg(JSON.parse(readFileSync(out, "utf8")), p.title, notes) + "\n";
  } finally {
    if (variant !== null) rmSync(variant, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The pictures whose committed file differs from what their program draws now. */
export function stale(): string[] {
  return PICTURES.filter((p) => {
    let committed = "";
    try {
      committed = readFileSync(join(root, "docs", "pictures", p.file), "utf8");
    } catch {
      // missing: stale
    }
    return committed !== picture(p);
  }).map((p) => p.file);
}

if (process.argv[1] === import.meta.filename) {
  if (process.argv.includes("--check")) {
    const s = stale();
    if (s.length > 0) {
      console.error(`stale pictures (run npm run pictures): ${s.join(", ")}`);
      process.exit(1);
    }
  } else {
    for (const p of PICTURES) {
      writeFileSync(join(root, "docs", "pictures", p.file), picture(p));
      console.log(`docs/pictures/${p.file}`);
    }
  }
}
