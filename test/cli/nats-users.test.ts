// `switchboard nats-users`: the NATS users of a deployment of any regions. For us1 and ie1 it prints
// the block deploy/nats ships; for a region outside them (ap1), a nats-server running its block lets
// `switchboard region --region ap1` start and work under its own user, and refuses that user
// another region's streams and subjects. Bad region lists are usage errors.
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { openGlobalStores } from "../../src/store/global.js";
import { runCli, startCli } from "../helpers/cli.js";
import { authorizationOf, shippedConf, startNatsServerWithUsers } from "../helpers/shipped-users.js";

describe("switchboard nats-users", () => {
  it("prints the shipped users for us1 and ie1", async () => {
    const { code, stdout, stderr } = await runCli(["nats-users", "--regions", "us1,ie1"]);
    expect(code, stderr).toBe(0);
    expect(authorizationOf(stdout)).toBe(authorizationOf(shippedConf("us1")));
    expect(stdout).toContain("#   SB_US1_PASSWORD      region-us1");
  });

  it("gives a region outside them a user that runs it and may not touch another's", {
    timeout: 60_000,
  }, async () => {
    const printed = await runCli(["nats-users", "--regions", "us1,ap1"]);
    expect(printed.code, printed.stderr).toBe(0);
    await using nats = await startNatsServerWithUsers(authorizationOf(printed.stdout), ["us1", "ap1"]);
    const admin = await nats.connectAs("admin");
    const ap1 = await nats.connectAs("region-ap1");
    try {
      // The global buckets exist before a region starts (the api or an admin command makes them).
      await openGlobalStores(admin);
      await using region = startCli(["region", "--region", "ap1", "--nats", nats.urlAs("region-ap1")]);
      await region.waitForLog("ready");
      expect((await (await jetstreamManager(admin)).streams.info("SB_CALLS_AP1")).config.name).toBe(
        "SB_CALLS_AP1",
      );
      // A compromised ap1 worker: us1's streams and calls are not its own.
      for (const [subject, body] of [
        ["$JS.API.STREAM.CREATE.SB_CALLS_US1", { name: "SB_CALLS_US1", subjects: ["sb.region.us1.calls"] }],
        ["$JS.API.STREAM.DELETE.SB_CALLS_AP1", {}],
        ["$KV.sb_calls_us1.CA00000000000000000000000000000000", {}],
        ["sb.region.us1.calls", {}],
      ] as const) {
        await expect(ap1.request(subject, JSON.stringify(body), { timeout: 2_000 }), subject).rejects.toThrow(
          /permissions violation/i,
        );
      }
      expect(await region.stop()).toBe(0);
    } finally {
      await ap1.close();
      await admin.close();
    }
  });

  it("refuses a region list it cannot render, as a usage error", async () => {
    for (const [regions, why] of [
      ["us1,global", /"global" is the global cluster's name/],
      ["us1,us1", /region us1 given twice/],
      ["us1,admin", /"admin" is a role's name/],
      ["US1", /lower-case letters/],
    ] as const) {
      const { code, stderr } = await runCli(["nats-users", "--regions", regions]);
      expect(code, regions).toBe(2);
      expect(stderr).toMatch(why);
    }
  });
});
