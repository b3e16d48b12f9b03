// A region worker dies in the middle of a SIP call: another worker resumes the actor, which sends its
// commands to the same gateway, and the caller's call goes on to its end as if nothing happened.
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { buckets } from "../../src/protocol/subjects.js";
import { startTestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";
import { watchCall } from "./worker-death.js";

describe("a region worker dies mid SIP call", () => {
  it("is resumed by another worker on the same gateway, and the call ends normally", {
    timeout: 60_000,
  }, async () => {
    // Workers are processes here, so that one can be SIGKILLed; the engine runs only the edge.
    await using engine = await startTestEngine({ worker: false });
    const worker = () => regionWorker(engine.nats.url);
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
    const watch = watchCall(engine.nc);
    await using phone = await phoneRtp();
    const caller = sipp(gw.sipPort, "short.xml", { to: "+15551230013", keys: { rtpport: phone.port } });
    await watch.inPause;
    await using b = worker();
    await b.waitForLog("ready");
    a.child.kill("SIGKILL");
    const result = await caller;
    // The Call resource is stored after the gateway's BYE; `ended` says it is.
    await watch.ended;
    watch.stop();
    expect(watch.resumed()).toBe(1);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(watch.said).toEqual(["Hold", "Back"]);
    const voice = app.requests.filter((r) => r.path === "/voice");
    expect(voice).toHaveLength(1);
    const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
    const call = (await calls.get(voice[0]?.params.CallSid ?? ""))?.json<CallResource>();
    expect(call?.status).toBe("completed");
    // The SIP side never noticed: one dialog, ended by the gateway's BYE after "Back".
    expect(gw.calls.size).toBe(0);
  });
});
