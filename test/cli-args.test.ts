/** The command line parser of the tsdill command's subcommands (node:util's parseArgs underneath). */
import { describe, expect, it } from "vitest";
import { optionHelp, parseArgs, type Spec, UsageError } from "../src/cli/args.js";

const SPEC: Spec = {
  socket: { kind: "string", value: "PATH", help: "the socket" },
  clients: { kind: "count", help: "clients" },
  grace: { kind: "int", value: "MS", help: "grace" },
  backlog: { kind: "count", max: 2 ** 31 - 1, help: "backlog" },
  size: { kind: "range", value: "MIN-MAX", help: "sizes" },
  verify: { kind: "flag", help: "verify" },
  secret: { kind: "flag", internal: true, help: "not shown" },
};

function usage(argv: string[]): string {
  try {
    parseArgs(argv, SPEC);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  return "accepted";
}

describe("parseArgs", () => {
  it("reads --name value, --name=value, flags, ranges and -h", () => {
    expect(parseArgs(["--socket", "/s", "--clients=3", "--grace", "0", "--size", "1-9", "--verify"], SPEC)).toEqual({
      opts: { socket: "/s", clients: 3, grace: 0, size: [1, 9], verify: true },
      help: false,
    });
    expect(parseArgs(["--size=7"], SPEC).opts.size).toEqual([7, 7]);
    expect(parseArgs(["-h"], SPEC).help).toBe(true);
    expect(parseArgs(["--help", "--clients", "2"], SPEC)).toEqual({ opts: { clients: 2 }, help: true });
    expect(parseArgs(["--socket=--odd"], SPEC).opts.socket).toBe("--odd");
  });

  it("names the flag in every error", () => {
    expect(usage(["--frob"])).toBe("unknown option --frob");
    expect(usage(["-x"])).toBe("unknown option -x");
    expect(usage(["--socket"])).toBe("--socket needs a value");
    expect(usage(["--socket", "--verify"])).toBe(
      '--socket needs a value (write --socket=--verify if "--verify" is the value)',
    );
    expect(usage(["--verify=yes"])).toBe("--verify takes no value");
    expect(usage(["--help=1"])).toBe("--help takes no value");
    expect(usage(["--clients", "many"])).toBe('--clients must be a positive integer, got "many"');
    expect(usage(["--clients", "0"])).toBe('--clients must be a positive integer, got "0"');
    expect(usage(["--grace", "-5"])).toBe('--grace must be a non-negative integer, got "-5"');
    expect(usage(["--grace=-5"])).toBe('--grace must be a non-negative integer, got "-5"');
    expect(usage(["--grace", "1.5"])).toBe('--grace must be a non-negative integer, got "1.5"');
    expect(usage(["--grace", "99999999999999999999"])).toBe(
      '--grace must be a non-negative integer, got "99999999999999999999"',
    );
    expect(usage(["--backlog", "99999999999"])).toBe("--backlog must be at most 2147483647, got 99999999999");
    expect(usage(["--size", "9-3"])).toBe('--size must be N or MIN-MAX with MIN <= MAX, got "9-3"');
    expect(usage(["stray"])).toBe('unexpected argument "stray"');
    expect(usage(["--", "x"])).toBe('unexpected argument "--"');
    expect(usage(["--toString"])).toBe("unknown option --toString");
  });

  it("lists the options in the help, leaving out the internal ones", () => {
    const h = optionHelp(SPEC);
    expect(h).toMatch(/^ {2}--socket PATH +the socket$/m);
    expect(h).toMatch(/^ {2}--verify +verify$/m);
    expect(h).not.toContain("secret");
  });
});
