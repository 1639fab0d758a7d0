/**
 * The handle types, checked by the compiler: `test/types/handles.ts` is compiled with its
 * `// @ts-expect-error WORD` directives taken out. Every line under a directive must then fail
 * with a message that names WORD (the wrong handle type, or the wrong value type), and no other
 * line may fail: right brands and plain numbers compile, wrong brands do not.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fixture = join(root, "test", "types", "handles.ts");
const DIRECTIVE = /^\s*\/\/ @ts-expect-error (.+)$/;

function compileWithoutDirectives(): { expected: Map<number, string>; failures: Map<number, string> } {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  )!;
  const lines = ts.sys.readFile(fixture)!.split("\n");
  const expected = new Map<number, string>(); // line (0-based) that must fail -> word its message names
  const stripped = lines.map((line, i) => {
    const m = DIRECTIVE.exec(line);
    if (m === null) return line;
    expected.set(i + 1, m[1]!.trim());
    return "";
  });
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    ts.sys.resolvePath(name) === fixture
      ? ts.createSourceFile(name, stripped.join("\n"), version)
      : getSourceFile(name, version, ...rest);
  const program = ts.createProgram([fixture], { ...config.options, noEmit: true }, host);
  const failures = new Map<number, string>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.file === undefined || ts.sys.resolvePath(d.file.fileName) !== fixture) {
      throw new Error(`unexpected error outside the fixture: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    }
    const line = d.file.getLineAndCharacterOfPosition(d.start!).line;
    failures.set(line, (failures.get(line) ?? "") + ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  }
  return { expected, failures };
}

describe("the handle types", () => {
  it("reject each wrong handle or value the fixture marks, naming it, and accept everything else", () => {
    const { expected, failures } = compileWithoutDirectives();
    expect(expected.size).toBeGreaterThan(20);
    const unexpected = [...failures].filter(([line]) => !expected.has(line));
    expect(unexpected.map(([line, msg]) => `line ${line + 1}: ${msg}`)).toEqual([]);
    for (const [line, word] of expected) {
      const msg = failures.get(line);
      expect(msg, `line ${line + 1} must fail to compile`).toBeDefined();
      expect(msg, `line ${line + 1}`).toContain(word);
    }
  }, 120_000); // one compilation of the sources: a few seconds alone, more on a loaded machine
});
