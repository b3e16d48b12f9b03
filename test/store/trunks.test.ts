// The trunk a call goes out through (a number's own trunk wins over its account's), the networks
// the gateway admits (every trunk's, each once), and a watched copy that follows adds, changes and
// removals on a real nats-server, as a running SIP gateway will. And the record's validation.
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { addTrunk, removeTrunk } from "../../src/admin/trunks.js";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { normalizeCidr, parseHostPort, parseTrunkRecord, type TrunkRecord } from "../../src/model/trunk.js";
import { openAdminStores, openTrunkStores } from "../../src/store/global.js";
import { inboundCidrs, outboundTrunkFor, resolveOutboundTrunk, TrunkWatch } from "../../src/store/trunks.js";
import { startTestNatsServer } from "../helpers/nats-server.js";
import { setUp } from "../helpers/teardown.js";

const trunk = (name: string, inbound: string[] = []): TrunkRecord => ({
  name,
  host: `${name}.example.com`,
  port: 5060,
  transport: "udp",
  username: null,
  password: null,
  from_domain: null,
  inbound_cidrs: inbound,
  date_created: "Sun, 06 Dec 2026 00:00:00 +0000",
  date_updated: "Sun, 06 Dec 2026 00:00:00 +0000",
});

describe("outboundTrunkFor", () => {
  it("takes the number's trunk over its account's, the account's when the number names none", () => {
    expect(outboundTrunkFor({ outbound_trunk: "num" }, { outbound_trunk: "acct" })).toBe("num");
    expect(outboundTrunkFor({ outbound_trunk: null }, { outbound_trunk: "acct" })).toBe("acct");
    expect(outboundTrunkFor({}, { outbound_trunk: "acct" })).toBe("acct");
    expect(outboundTrunkFor(undefined, { outbound_trunk: "acct" })).toBe("acct");
    expect(outboundTrunkFor({ outbound_trunk: "num" }, undefined)).toBe("num");
    expect(outboundTrunkFor({ outbound_trunk: null }, { outbound_trunk: null })).toBeUndefined();
    expect(outboundTrunkFor(undefined, undefined)).toBeUndefined();
  });

  it("resolves the named trunk, and refuses a name whose trunk is gone with 20404", async () => {
    const known = new Map([["num", trunk("num")]]);
    const lookup = (name: string) => known.get(name);
    expect(await resolveOutboundTrunk(lookup, { outbound_trunk: "num" }, { outbound_trunk: "x" })).toEqual(
      trunk("num"),
    );
    expect(await resolveOutboundTrunk(lookup, {}, {})).toBeUndefined();
    await expect(resolveOutboundTrunk(lookup, {}, { outbound_trunk: "gone" })).rejects.toMatchObject({
      code: 20404,
      message: expect.stringMatching(/trunk gone/),
    });
  });
});

describe("inboundCidrs", () => {
  it("is the union of every trunk's networks, each once, sorted", () => {
    expect(
      inboundCidrs([
        trunk("a", ["198.51.100.0/24", "192.0.2.0/24"]),
        trunk("b", ["192.0.2.0/24", "2001:db8::/32"]),
        trunk("c"),
      ]),
    ).toEqual(["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]);
    expect(inboundCidrs([])).toEqual([]);
  });
});

describe("the trunk record's validation", () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof SwitchboardError ? err.code : err;
    }
    return "no error";
  };

  it("takes host[:port] as a name, IPv4, or bracketed IPv6, with 5060 by default", () => {
    expect(parseHostPort("SIP.Carrier.example")).toEqual({ host: "sip.carrier.example", port: 5060 });
    expect(parseHostPort("203.0.113.9:5080")).toEqual({ host: "203.0.113.9", port: 5080 });
    expect(parseHostPort("[2001:db8::1]:5061")).toEqual({ host: "2001:db8::1", port: 5061 });
    expect(parseHostPort("[2001:db8::1]")).toEqual({ host: "2001:db8::1", port: 5060 });
    for (const bad of [
      "",
      "a..b",
      "-x.com",
      "x:0",
      "x:65536",
      "x:5o60",
      "x:",
      "2001:db8::1",
      "999.1.1.1",
      "[x]:1",
    ]) {
      expect(
        code(() => parseHostPort(bad)),
        bad,
      ).toBe(20422);
    }
  });

  it("normalises networks, and refuses host bits and bad prefixes", () => {
    expect(normalizeCidr("192.0.2.0/24")).toBe("192.0.2.0/24");
    expect(normalizeCidr(" 198.51.100.7 ")).toBe("198.51.100.7/32");
    expect(normalizeCidr("2001:DB8:0:0::/32")).toBe("2001:db8::/32");
    expect(normalizeCidr("::1")).toBe("::1/128");
    expect(normalizeCidr("::ffff:192.0.2.0/120")).toBe("::ffff:c000:200/120");
    expect(normalizeCidr("0.0.0.0/0")).toBe("0.0.0.0/0");
    for (const bad of [
      "10.0.0.5/24",
      "10.0.0.0/33",
      "10.0.0.0/",
      "10.0.0.0/8/1",
      "example.com/8",
      "2001:db8::1/32",
    ]) {
      expect(
        code(() => normalizeCidr(bad)),
        bad,
      ).toBe(20422);
    }
  });

  it("reads back only what is a trunk", () => {
    expect(parseTrunkRecord(trunk("a"))).toEqual(trunk("a"));
    expect(parseTrunkRecord({ ...trunk("a"), port: "5060" })).toBeUndefined();
    expect(parseTrunkRecord({ ...trunk("a"), transport: "tls" })).toBeUndefined();
    expect(parseTrunkRecord("hello")).toBeUndefined();
  });
});

describe("the watched trunks (a running gateway's copy)", () => {
  it("follows trunks added, replaced and removed, and tells the new inbound networks each time", async () => {
    await using env = await setUp(async (t) => {
      const nats = t.use(await startTestNatsServer());
      const admin = t.add(await connect({ servers: nats.url }), (c) => c.close());
      const reader = t.add(await connect({ servers: nats.url }), (c) => c.close());
      return { admin, reader, [Symbol.asyncDispose]: () => t.stop() };
    });
    const global = await openAdminStores(env.admin);
    await addTrunk(global, { name: "first", host: "a.example.com", inboundCidrs: ["192.0.2.0/24"] });

    const watch = await TrunkWatch.start((await openTrunkStores(env.reader)).trunks.kv);
    try {
      expect(watch.inboundCidrs()).toEqual(["192.0.2.0/24"]);
      expect(watch.get("first")).toMatchObject({ host: "a.example.com", port: 5060 });

      const seen: string[][] = [];
      const next = () =>
        new Promise<string[]>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no change in 5 s; saw ${JSON.stringify(seen)}`)),
            5_000,
          );
          watch.onChange = (cidrs) => {
            clearTimeout(timer);
            seen.push(cidrs);
            resolve(cidrs);
          };
        });

      let changed = next();
      await addTrunk(global, { name: "second", host: "b.example.com", inboundCidrs: ["198.51.100.0/24"] });
      expect(await changed).toEqual(["192.0.2.0/24", "198.51.100.0/24"]);

      changed = next();
      await addTrunk(global, {
        name: "first",
        host: "a.example.com",
        inboundCidrs: ["203.0.113.0/24"],
        replace: true,
      });
      expect(await changed).toEqual(["198.51.100.0/24", "203.0.113.0/24"]);

      changed = next();
      await removeTrunk(env.admin, global, "second");
      expect(await changed).toEqual(["203.0.113.0/24"]);
      expect(watch.get("second")).toBeUndefined();
      expect(watch.all().map((t) => t.name)).toEqual(["first"]);
    } finally {
      watch.stop();
    }
  });
});
