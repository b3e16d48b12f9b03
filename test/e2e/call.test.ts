// The whole spine through real processes: nats-server, `switchboard edge` and `switchboard region`
// as child processes, a webhook app that validates every signature with the official `twilio`
// package, and `switchboard call --json` as the caller.
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import { canStartAgain } from "../../src/process/service-flags.js";
import { speechDurationMs } from "../../src/region/channel/simulated-channel.js";
import { runCli, startCli } from "../helpers/cli.js";
import { startTestNatsServer } from "../helpers/nats-server.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const GREETING = "Hello from the test app";
const GOODBYE = "Goodbye";

describe("a call, end to end through the CLI", () => {
  it("runs the app's TwiML across a Redirect and stores the Call resource", async () => {
    await using nats = await startTestNatsServer();
    const natsFlag = ["--nats", nats.url];
    const accountSid = newSid("AC");
    const token = randomBytes(16).toString("hex");
    await using app = await startTwilioApp(token, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say({ voice: "woman" }, GREETING);
        r.pause({ length: 2 });
        r.redirect({ method: "POST" }, "/next");
        return { body: r.toString() };
      },
      "/next": () => {
        const r = new VoiceResponse();
        r.say(GOODBYE);
        r.hangup();
        return { body: r.toString() };
      },
    });

    // A region exists once its worker has run: numbers can be added to it from then on.
    await using edge = startCli(["edge", "--edge", "ashburn", ...natsFlag]);
    await using region = startCli([
      "region",
      "--region",
      "us1",
      "--allow-egress",
      "127.0.0.0/8",
      ...natsFlag,
    ]);
    const ready = await Promise.all([edge.waitForLog("ready"), region.waitForLog("ready")]);
    // Both are on every call's path: each turned V8's pretenuring off (process/heap-tuning.ts) and,
    // on a node that can start itself again in place, runs without the memory reducer (service-flags.ts).
    const heap = `allocation-site pretenuring off${canStartAgain() ? ", memory reducer off" : ""}`;
    for (const line of ready) expect(line.heap).toBe(heap);

    expect(
      await runCli(["accounts", "add", "--sid", accountSid, "--token", token, ...natsFlag]),
    ).toMatchObject({
      code: 0,
    });
    const added = await runCli([
      "numbers",
      "add",
      "+15551230001",
      "--region",
      "us1",
      "--voice-url",
      `${app.url}/voice`,
      "--account",
      accountSid,
      ...natsFlag,
    ]);
    expect(added.stderr).toBe("");
    expect(added.stdout).toMatch(/saved in us1, routed to us1/);

    const placed = await runCli([
      "call",
      "--to",
      "+15551230001",
      "--from",
      "+15557654321",
      "--edge",
      "ashburn",
      "--json",
      ...natsFlag,
    ]);
    expect(placed.stderr).toBe("");
    expect(placed.code).toBe(0);
    const call = JSON.parse(placed.stdout) as CallResource;

    expect(call).toMatchObject({
      account_sid: accountSid,
      status: "completed",
      direction: "inbound",
      to: "+15551230001",
      from: "+15557654321",
      to_formatted: "(555) 123-0001",
      api_version: "2010-04-01",
      error_code: null,
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.phone_number_sid).toMatch(/^PN[0-9a-f]{32}$/);
    // The call ran at time-scale 0, but its own clock counted the audio: two prompts and a 2 s pause.
    const audioMs = speechDurationMs(GREETING) + 2000 + speechDurationMs(GOODBYE);
    expect(call.duration).toBe(String(Math.round(audioMs / 1000)));
    const start = Date.parse(call.start_time ?? "");
    const end = Date.parse(call.end_time ?? "");
    expect(call.start_time).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    // start_time and end_time have whole seconds; the duration is rounded from milliseconds.
    expect(Math.abs((end - start) / 1000 - Number(call.duration))).toBeLessThanOrEqual(1);

    // The webhook app saw two signed requests: the voice URL while ringing, then the Redirect.
    const [first, second] = app.requests;
    expect(app.requests).toHaveLength(2);
    expect(first).toMatchObject({ method: "POST", path: "/voice", signatureValid: true });
    expect(first?.params).toMatchObject({
      CallSid: call.sid,
      AccountSid: accountSid,
      From: "+15557654321",
      To: "+15551230001",
      Caller: "+15557654321",
      Called: "+15551230001",
      CallStatus: "ringing",
      Direction: "inbound",
      ApiVersion: "2010-04-01",
    });
    expect(first?.headers["x-home-region"]).toBe("us1");
    expect(second).toMatchObject({
      path: "/next",
      signatureValid: true,
      params: { CallStatus: "in-progress" },
    });

    // What `call` printed is what the region stored; the finished call left no snapshot or lease.
    const nc = await connect({ servers: nats.url });
    try {
      const kvm = new Kvm(nc);
      const stored = await (await kvm.open("sb_calls_us1")).get(call.sid);
      expect(stored?.json()).toEqual(call);
      const actors = await kvm.open("sb_actors_us1");
      expect((await actors.get(call.sid))?.operation ?? "none").not.toBe("PUT");
      const leases: string[] = [];
      for await (const key of await actors.keys(`_o.*.${call.sid}`)) leases.push(key);
      expect(leases).toEqual([]);
    } finally {
      await nc.close();
    }

    // Both processes stop gracefully on SIGTERM.
    expect(await edge.stop()).toBe(0);
    expect(await region.stop()).toBe(0);
  });
});
