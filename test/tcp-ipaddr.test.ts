import os from "node:os";
import { describe, expect, it } from "vitest";
import {
  AF_INET,
  AF_INET6,
  dill_ipaddr_local,
  go,
  hclose,
  IpAddr,
  IPADDR_IPV4,
  IPADDR_IPV6,
  IPADDR_MAXSTRLEN,
  IPADDR_PREF_IPV4,
  IPADDR_PREF_IPV6,
  ipaddr_equal,
  ipaddr_family,
  ipaddr_local,
  ipaddr_port,
  ipaddr_remote,
  ipaddr_remotes,
  ipaddr_setport,
  ipaddr_str,
  msleep,
  now,
  run,
} from "../src/index.js";
import { failure, thrown } from "./expect-dill.js";
import { codeOf } from "./ipc-helpers.js";

describe("ipaddr_local", () => {
  it("parses IPv4 and IPv6 literals into the canonical text inet_ntop prints", () => {
    const a = ipaddr_local("127.0.0.1", 5555, 0);
    expect([ipaddr_family(a), ipaddr_str(a), ipaddr_port(a)]).toEqual([AF_INET, "127.0.0.1", 5555]);
    const b = ipaddr_local("0:0:0::1", 80, 0);
    expect([ipaddr_family(b), ipaddr_str(b), ipaddr_port(b)]).toEqual([AF_INET6, "::1", 80]);
    expect(ipaddr_str(ipaddr_local("2001:DB8:0:0:1:0:0:1", 1, 0))).toBe("2001:db8::1:0:0:1");
    expect(ipaddr_str(ipaddr_local("::ffff:1.2.3.4", 1, 0))).toBe("::ffff:1.2.3.4");
    expect(ipaddr_str(ipaddr_local("fe80:0:0:0:0:0:0:1", 1, 0))).toBe("fe80::1");
    expect(ipaddr_str(ipaddr_local("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 1, 0)).length).toBeLessThan(
      IPADDR_MAXSTRLEN,
    );
  });

  it('gives the any address for null or "*": 0.0.0.0 by default, :: in the IPv6 modes', () => {
    for (const [mode, text] of [
      [0, "0.0.0.0"],
      [IPADDR_IPV4, "0.0.0.0"],
      [IPADDR_PREF_IPV4, "0.0.0.0"],
      [IPADDR_IPV6, "::"],
      [IPADDR_PREF_IPV6, "::"],
    ] as const) {
      expect(ipaddr_str(ipaddr_local(null, 0, mode))).toBe(text);
      expect(ipaddr_str(ipaddr_local("*", 0, mode))).toBe(text);
    }
  });

  it("keeps a literal to the families its mode allows: ENODEV for the other one in IPV4 and IPV6 modes", () => {
    expect(ipaddr_family(ipaddr_local("::1", 1, IPADDR_PREF_IPV4))).toBe(AF_INET6);
    expect(ipaddr_family(ipaddr_local("127.0.0.1", 1, IPADDR_PREF_IPV6))).toBe(AF_INET);
    expect(thrown(() => ipaddr_local("::1", 1, IPADDR_IPV4)).code).toBe("ENODEV");
    expect(thrown(() => ipaddr_local("127.0.0.1", 1, IPADDR_IPV6)).code).toBe("ENODEV");
  });

  it("takes a local interface name: the loopback interface's first address of the family asked for", () => {
    const lo = Object.entries(os.networkInterfaces()).find(([, addrs]) =>
      addrs?.some((a) => a.internal && a.family === "IPv4"),
    );
    if (lo === undefined) return; // no loopback interface listed: nothing to look up
    const [name, addrs] = lo;
    const v4 = addrs!.find((a) => a.family === "IPv4")!.address;
    expect(ipaddr_str(ipaddr_local(name, 7, IPADDR_IPV4))).toBe(v4);
    expect(ipaddr_str(ipaddr_local(name, 7, 0))).toBe(v4);
    const v6 = addrs!.find((a) => a.family === "IPv6");
    if (v6 !== undefined) expect(ipaddr_str(ipaddr_local(name, 7, IPADDR_IPV6))).toBe(v6.address);
    else expect(thrown(() => ipaddr_local(name, 7, IPADDR_IPV6)).code).toBe("ENODEV");
  });

  it("fails with ENODEV for a name that is neither a literal nor an interface", () => {
    const e = thrown(() => ipaddr_local("no-such-interface0", 1, 0));
    expect(e.code).toBe("ENODEV");
    expect(e.message).toContain("'name'");
    expect(thrown(() => ipaddr_local("01.2.3.4", 1, 0)).code).toBe("ENODEV"); // no leading zeros, as inet_pton
    expect(thrown(() => ipaddr_local("::1%lo", 1, 0)).code).toBe("ENODEV"); // zone suffixes are not literals
  });

  it("fails with EINVAL naming the argument for a bad port, mode or name", () => {
    for (const [f, arg] of [
      [() => ipaddr_local("127.0.0.1", -1, 0), "port"],
      [() => ipaddr_local("127.0.0.1", 65536, 0), "port"],
      [() => ipaddr_local("127.0.0.1", 1.5, 0), "port"],
      [() => ipaddr_local("127.0.0.1", "80" as unknown as number, 0), "port"],
      [() => ipaddr_local("127.0.0.1", 1, 5), "mode"],
      [() => ipaddr_local("127.0.0.1", 1, -1), "mode"],
      [() => ipaddr_local("", 1, 0), "name"],
      [() => ipaddr_local(42 as unknown as string, 1, 0), "name"],
    ] as const) {
      const e = thrown(f);
      expect(e.code).toBe("EINVAL");
      expect(e.message).toContain(`'${arg}'`);
    }
  });

  it("is also exported as dill_ipaddr_local", () => {
    expect(dill_ipaddr_local).toBe(ipaddr_local);
  });
});

describe("IpAddr, ipaddr_setport, ipaddr_equal", () => {
  it("copies with new IpAddr(other); ipaddr_setport changes only the address it is given", () => {
    const a = ipaddr_local("127.0.0.1", 80, 0);
    const b = new IpAddr(a);
    ipaddr_setport(b, 8080);
    expect(ipaddr_port(a)).toBe(80);
    expect(ipaddr_port(b)).toBe(8080);
    expect(String(b)).toBe("127.0.0.1:8080");
    expect(String(ipaddr_local("::1", 80, 0))).toBe("[::1]:80");
    expect(String(new IpAddr())).toBe("0.0.0.0:0");
    expect(thrown(() => ipaddr_setport(b, 70000)).code).toBe("EINVAL");
  });

  it("ipaddr_equal compares family, address and, unless told to ignore it, port", () => {
    const a = ipaddr_local("::1", 80, 0);
    expect(ipaddr_equal(a, ipaddr_local("0:0::1", 80, 0), false)).toBe(true);
    expect(ipaddr_equal(a, ipaddr_local("::1", 81, 0), false)).toBe(false);
    expect(ipaddr_equal(a, ipaddr_local("::1", 81, 0), true)).toBe(true);
    expect(ipaddr_equal(a, ipaddr_local("::1", 81, 0), 1)).toBe(true);
    expect(ipaddr_equal(ipaddr_local("127.0.0.1", 80, 0), ipaddr_local("::ffff:127.0.0.1", 80, 0), true)).toBe(false);
  });

  it("the accessors fail with EINVAL naming the argument for what is not an IpAddr", () => {
    const fake = { family: AF_INET, address: "1.2.3.4", port: 1 } as unknown as IpAddr;
    expect(thrown(() => ipaddr_port(fake)).message).toContain("'addr'");
    expect(thrown(() => ipaddr_str(fake)).code).toBe("EINVAL");
    expect(thrown(() => ipaddr_family(fake)).code).toBe("EINVAL");
    expect(thrown(() => ipaddr_equal(ipaddr_local(null, 0, 0), fake, false)).message).toContain("'addr2'");
  });
});

describe("ipaddr_remote", () => {
  it("returns literals without a lookup, even with deadline 0", async () => {
    await run(function* () {
      const a = yield* ipaddr_remote("127.0.0.1", 5555, 0, 0);
      expect([ipaddr_family(a), ipaddr_str(a), ipaddr_port(a)]).toEqual([AF_INET, "127.0.0.1", 5555]);
      const b = yield* ipaddr_remote("::1", 5555, IPADDR_IPV6, 0);
      expect(ipaddr_str(b)).toBe("::1");
    });
  });

  it("resolves localhost through the system's resolver (/etc/hosts)", async () => {
    await run(function* () {
      const a = yield* ipaddr_remote("localhost", 80, IPADDR_PREF_IPV4, now() + 5000);
      expect(["127.0.0.1", "::1"]).toContain(ipaddr_str(a));
      expect(ipaddr_port(a)).toBe(80);
      const all = yield* ipaddr_remotes("localhost", 80, 0, 8, now() + 5000);
      expect(all.length).toBeGreaterThan(0);
      expect(all.map((x) => ipaddr_port(x))).toEqual(all.map(() => 80));
    });
  });

  it("fails with EADDRNOTAVAIL for a literal of a family the mode excludes; ipaddr_remotes returns none", async () => {
    await run(function* () {
      const e = yield* failure(ipaddr_remote("::1", 80, IPADDR_IPV4, -1));
      expect(e.code).toBe("EADDRNOTAVAIL");
      expect(e.message).toContain("'name'");
      expect(yield* codeOf(ipaddr_remote("127.0.0.1", 80, IPADDR_IPV6, -1))).toBe("EADDRNOTAVAIL");
      expect(yield* ipaddr_remotes("127.0.0.1", 80, IPADDR_IPV6, 4, -1)).toEqual([]);
    });
  });

  it("fails with ETIMEDOUT at once for a name with deadline 0 or a deadline already past", async () => {
    await run(function* () {
      expect(yield* codeOf(ipaddr_remote("localhost", 80, 0, 0))).toBe("ETIMEDOUT");
      const past = now() - 1;
      expect(yield* codeOf(ipaddr_remote("localhost", 80, 0, past > 0 ? past : 0))).toBe("ETIMEDOUT");
    });
  });

  it("fails with ECANCELED when its coroutine is cancelled during the lookup, and when called after", async () => {
    function* resolver(out: { code: string; late: string }) {
      try {
        out.code = yield* codeOf(ipaddr_remote("localhost", 80, 0, -1));
        if (out.code === "OK") yield* msleep(-1); // the lookup was faster: wait to be cancelled here
      } finally {
        out.late = yield* codeOf(ipaddr_remote("localhost", 80, 0, -1));
      }
    }
    await run(function* () {
      const out = { code: "", late: "" };
      const cr = go(resolver(out));
      yield* msleep(0); // lets the coroutine start its lookup
      hclose(cr);
      expect(["ECANCELED", "OK"]).toContain(out.code);
      expect(out.late).toBe("ECANCELED");
    });
    await new Promise((r) => setTimeout(r, 50)); // the abandoned lookup finishes; its answer is dropped
  });

  it("fails with EINVAL naming the argument for a bad name, port, mode, deadline or naddrs", async () => {
    await run(function* () {
      for (const [op, arg] of [
        [ipaddr_remote("", 80, 0, -1), "name"],
        [ipaddr_remote(null as unknown as string, 80, 0, -1), "name"],
        [ipaddr_remote("localhost", 99999, 0, -1), "port"],
        [ipaddr_remote("localhost", 80, 9, -1), "mode"],
        [ipaddr_remote("localhost", 80, 0, -5), "deadline"],
        [ipaddr_remotes("localhost", 80, 0, 0, -1), "naddrs"],
      ] as const) {
        const e = yield* failure(op);
        expect(e.code).toBe("EINVAL");
        expect(e.message).toContain(`'${arg}'`);
      }
    });
  });
});

describe("the public names", () => {
  it("export every TCP and ipaddr function under its libdill name and its dill_ name", async () => {
    const api = (await import("../src/index.js")) as unknown as Record<string, unknown>;
    const names = [
      "tcp_listen",
      "tcp_listen_mem",
      "tcp_accept",
      "tcp_accept_mem",
      "tcp_connect",
      "tcp_connect_mem",
      "tcp_done",
      "tcp_close",
      "tcp_fromfd",
      "tcp_fromfd_mem",
      "tcp_listener_fromfd",
      "tcp_listener_fromfd_mem",
      "tcp_listener_fd",
      "ipaddr_local",
      "ipaddr_remote",
      "ipaddr_remotes",
      "ipaddr_port",
      "ipaddr_setport",
      "ipaddr_family",
      "ipaddr_str",
      "ipaddr_equal",
    ];
    for (const n of names) {
      expect(typeof api[n], n).toBe("function");
      expect(api[`dill_${n}`], `dill_${n}`).toBe(api[n]);
    }
    for (const c of ["IPADDR_IPV4", "IPADDR_IPV6", "IPADDR_PREF_IPV4", "IPADDR_PREF_IPV6", "IPADDR_MAXSTRLEN"])
      expect(api[`DILL_${c}`], c).toBe(api[c]);
    expect([
      api.IPADDR_IPV4,
      api.IPADDR_IPV6,
      api.IPADDR_PREF_IPV4,
      api.IPADDR_PREF_IPV6,
      api.IPADDR_MAXSTRLEN,
    ]).toEqual([1, 2, 3, 4, 46]);
  });
});
