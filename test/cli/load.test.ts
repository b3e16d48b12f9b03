// `switchboard load` as a user runs it: a real nats-server, `switchboard edge` and `switchboard region`
// as child processes, a webhook app, and `load --json` as the caller; its one JSON object is checked.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { LoadResult } from "../../src/caller/load.js";
import { newSid } from "../../src/model/sid.js";
import { runCli, startCli } from "../helpers/cli.js";
import { startTestNatsServer } from "../helpers/nats-server.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const COUNT = 200;

describe("switchboard load", () => {
  it("places every call, waits for each record and prints one JSON object", async () => {
    await using nats = await startTestNatsServer();
    const natsFlag = ["--nats", nats.url];
    const accountSid = newSid("AC");
    const token = randomBytes(16).toString("hex");
    await using app = await startTwilioApp(token, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Hi");
        return { body: r.toString() };
      },
    });
    // A region exists once its worker has run: numbers can be added to it from then on.
    await using edge = startCli(["edge", "--edge", "ashburn", ...natsFlag]);
    // The webhook app listens on loopback, which a worker refuses unless allowed.
    await using region = startCli(["region", "--region", "us1", ...natsFlag], {
      SWITCHBOARD_ALLOW_EGRESS: "127.0.0.0/8",
    });
    await Promise.all([edge.waitForLog("ready"), region.waitForLog("ready")]);

    expect(
      await runCli(["accounts", "add", "--sid", accountSid, "--token", token, ...natsFlag]),
    ).toMatchObject({ code: 0 });
    const add = ["numbers", "add", "+15551230001", "--region", "us1", "--voice-url", `${app.url}/voice`];
    expect(await runCli([...add, "--account", accountSid, ...natsFlag])).toMatchObject({ code: 0 });

    const load = (to: string) =>
      runCli(["load", "--to", to, "--rate", "400", "--count", String(COUNT), "--json", ...natsFlag]);
    const ran = await load("+15551230001");
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    const result = JSON.parse(ran.stdout) as LoadResult;
    expect(Object.keys(result)).toEqual([
      "offered",
      "completed",
      "failed",
      "lost",
      "callsPerSecond",
      "latencyMs",
    ]);
    expect(result).toMatchObject({ offered: COUNT, completed: COUNT, failed: 0, lost: 0 });
    expect(result.callsPerSecond).toBeGreaterThan(0);
    const { p50, p99, max } = result.latencyMs;
    expect(0 < p50 && p50 <= p99 && p99 <= max).toBe(true);
    expect(app.requests).toHaveLength(COUNT);
    expect(app.requests.every((r) => r.signatureValid)).toBe(true);

    // A number with no config in its region: the region stores every call as failed (90004). The
    // records come back before some offers' replies: a late reply must not crash the command.
    const unconfiguredRun = await load("+15559990000");
    expect(unconfiguredRun.stderr).toBe("");
    expect(unconfiguredRun.code).toBe(0);
    const unconfigured = JSON.parse(unconfiguredRun.stdout) as LoadResult;
    expect(unconfigured).toMatchObject({ offered: COUNT, completed: 0, failed: COUNT, lost: 0 });
  });

  it("counts offers the edge refuses as failed and says why on stderr", async () => {
    await using nats = await startTestNatsServer();
    await using edge = startCli(["edge", "--edge", "ashburn", "--nats", nats.url]);
    await edge.waitForLog("ready");
    const ran = await runCli([
      "load",
      "--to",
      "12345",
      "--rate",
      "100",
      "--count",
      "5",
      "--json",
      "--nats",
      nats.url,
    ]);
    expect(JSON.parse(ran.stdout)).toMatchObject({ offered: 5, completed: 0, failed: 5, lost: 0 });
    expect(ran.stderr).toMatch(/^5 offers refused: .*E\.164/);
    // Nothing was placed: a script must see the failure in the exit code.
    expect(ran.code).toBe(1);
  });
});
