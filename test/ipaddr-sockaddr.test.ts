/**
 * ipaddr_sockaddr and ipaddr_len: the bytes tsdill gives for an address are the bytes a C
 * program's struct sockaddr_in / sockaddr_in6 holds for it, compared for a set of addresses of
 * both families, byte orders included.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { dill_ipaddr_len, IpAddr, ipaddr_len, ipaddr_local, ipaddr_sockaddr } from "../src/index.js";
import { thrown } from "./expect-dill.js";
import { tempDirPerFile } from "./ipc-helpers.js";
import { needs } from "./prerequisites.js";

let dir = "";
tempDirPerFile((d) => (dir = d));

const ADDRS: [string, number][] = [
  ["127.0.0.1", 5555],
  ["0.0.0.0", 0],
  ["255.255.255.255", 65535],
  ["10.1.2.3", 80],
  ["::1", 5555],
  ["::", 0],
  ["2001:db8::1:0:0:1", 443],
  ["fe80::1", 1],
  ["::ffff:1.2.3.4", 8080],
  ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535],
  ["1:2:3:4:5:6:7:8", 258],
];

needs("cc").it("gives the bytes of a C program's sockaddr_in and sockaddr_in6, with their lengths", () => {
  const bin = join(dir, "sockaddr");
  execFileSync("cc", ["-O0", "-o", bin, join(import.meta.dirname, "sockaddr.c")]);
  const c = execFileSync(
    bin,
    ADDRS.flatMap(([a, p]) => [a, String(p)]),
    { encoding: "utf8" },
  )
    .trim()
    .split("\n");
  const ours = ADDRS.map(([a, p]) => Buffer.from(ipaddr_sockaddr(ipaddr_local(a, p, 0))).toString("hex"));
  expect(ours).toEqual(c);
  expect(ADDRS.map(([a, p]) => ipaddr_len(ipaddr_local(a, p, 0)))).toEqual(c.map((h) => h.length / 2));
});

it("gives 16 for IPv4 and 28 for IPv6, a fresh copy each time, and EINVAL for what is not an IpAddr", () => {
  expect(ipaddr_len(ipaddr_local("127.0.0.1", 1, 0))).toBe(16);
  expect(dill_ipaddr_len(ipaddr_local("::1", 1, 0))).toBe(28);
  const a = ipaddr_local("127.0.0.1", 1, 0);
  const b = ipaddr_sockaddr(a);
  b[4] = 0;
  expect(ipaddr_sockaddr(a)[4]).toBe(127);
  expect(ipaddr_sockaddr(new IpAddr()).length).toBe(16);
  expect(thrown(() => ipaddr_sockaddr({} as IpAddr)).code).toBe("EINVAL");
  expect(thrown(() => ipaddr_len(null as unknown as IpAddr)).code).toBe("EINVAL");
});
