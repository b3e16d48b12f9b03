// A region worker dies in the middle of a SIP call: another worker resumes the actor, which sends its
// commands to the same gateway, and the caller's call goes on to its end as if nothing happened.
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode } from "../../src/protocol/codec.js";
import { inspectEnvelopes } from "../../src/protocol/inspect.js";
import { buckets } from "../../src/protocol/subjects.js";
import { startCli } from "../helpers/cli.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

describe("a region worker dies mid SIP call", () => {
  it("is resumed by another worker on the same gateway, and the call ends normally", {
    timeout: 60_000,
  }, async () => {
    // Workers are processes here, so that one can be SIGKILLed; the engine runs only the edge.
    await using engine = await startTestEngine({ worker: false });
    const worker = () =>
      startCli(["region", "--region", "us1", "--allow-egress", "127.0.0.0/8", "--nats", engine.nats.url]);
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Hold");
        r.pause({ length: 3 });
        r.say("Back");
        r.hangup();
        return { body: r.toString() };
      },
    });
    await engine.addNumber({ number: "+15551230013", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine);
    await using a = worker();
    await a.waitForLog("ready");
    // The call's channel events: the Pause is where the worker dies.
    const said: string[] = [];
    let paused!: () => void;
    let stored!: () => void;
    const ended = new Promise<void>((resolve) => {
      stored = resolve;
    });
    const inPause = new Promise<void>((resolve) => {
      paused = resolve;
    });
    const sub = engine.nc.subscribe("sb.region.us1.call.*.out", {
      callback: (_, msg) => {
        const e = decode(msg.data) as ChannelOut;
        if (e.kind === "say") said.push(e.text);
        if (e.kind === "pause") paused();
        if (e.kind === "ended") stored();
      },
    });
    let resumed = 0;
    const inspect = engine.nc.subscribe("sb.region.us1.inspect.*", {
      callback: (_, msg) => {
        for (const e of inspectEnvelopes(msg.data)) if (e.type === "resumed") resumed++;
      },
    });
    await using phone = await phoneRtp();
    const caller = sipp(gw.sipPort, "short.xml", { to: "+15551230013", keys: { rtpport: phone.port } });
    await inPause;
    await using b = worker();
    await b.waitForLog("ready");
    a.child.kill("SIGKILL");
    const result = await caller;
    // The Call resource is stored after the gateway's BYE; `ended` says it is.
    await ended;
    sub.unsubscribe();
    inspect.unsubscribe();
    expect(resumed).toBe(1);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(said).toEqual(["Hold", "Back"]);
    const voice = app.requests.filter((r) => r.path === "/voice");
    expect(voice).toHaveLength(1);
    const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
    const call = (await calls.get(voice[0]?.params.CallSid ?? ""))?.json<CallResource>();
    expect(call?.status).toBe("completed");
    // The SIP side never noticed: one dialog, ended by the gateway's BYE after "Back".
    expect(gw.calls.size).toBe(0);
  });
});
