// A region worker dies in the middle of an outbound call that went out through a trunk: the worker
// that resumes it sends its commands to the gateway that holds the leg (stored with the call), and
// the callee hears the rest of the TwiML and the gateway's BYE as if nothing had happened; its
// Record=true recording, made by that gateway, is stored once, whole.
import { pino } from "pino";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { updateAccount } from "../../src/admin/accounts.js";
import { addTrunk } from "../../src/admin/trunks.js";
import { startApi } from "../../src/api/server.js";
import { openTrunkStores } from "../../src/store/global.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { startTestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { wavSamples } from "./audio.js";
import { phoneRtp, startGateway } from "./harness.js";
import { sippUas } from "./uas.js";
import { watchCall } from "./worker-death.js";

const CALLEE_IP = "127.0.0.3";

describe("a region worker dies mid outbound call through a trunk", () => {
  it("is resumed by another worker on the leg's gateway, and the callee hears the rest", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    const worker = () => regionWorker(engine.nats.url);
    const api = await startApi({ nc: engine.nc, port: 0, log: pino({ level: "silent" }) });
    await using _api = { [Symbol.asyncDispose]: () => api.close() };
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Hold");
        r.pause({ length: 3 });
        r.say("Back");
        return { body: r.toString() };
      },
    });
    await engine.addNumber({ number: "+15551252001", voiceUrl: `${app.url}/voice` });
    await using phone = await phoneRtp(CALLEE_IP);
    const uas = await sippUas("uas-answer.xml", { keys: { rtpport: phone.port } });
    const trunks = await openTrunkStores(engine.nc);
    await addTrunk(trunks, { name: "carrier", host: `${CALLEE_IP}:${uas.port}` });
    await updateAccount({ ...engine.global, ...trunks }, engine.accountSid, { trunk: "carrier" });
    await using gw = await startGateway(engine, "gw-leg");
    await using a = worker();
    await a.waitForLog("ready");

    const watch = watchCall(engine.nc);
    const { client } = twilioClient(api.url, { sid: engine.accountSid, token: engine.authToken });
    const created = await client.calls.create({
      to: "+15559872001",
      from: "+15551252001",
      url: `${app.url}/voice`,
      record: true,
    });
    await watch.inPause;
    await using b = worker();
    await b.waitForLog("ready");
    a.child.kill("SIGKILL");
    const result = await uas.result;
    await watch.ended;
    watch.stop();
    // sipp's BYE came from the gateway after "Back": the resumed worker reached the leg's gateway.
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(watch.resumed()).toBe(1);
    expect(watch.said).toEqual(["Hold", "Back"]);
    expect(app.requests.filter((r) => r.path === "/voice")).toHaveLength(1);
    expect((await client.calls(created.sid).fetch()).status).toBe("completed");
    expect(gw.calls.size).toBe(0);
    // And the callee heard both: "Hold", the 3 s Pause (played again from its start by the resumed
    // worker), then "Back" — played by the leg's gateway, so only if the resumed call reached it.
    const voiced = phone.packets
      .filter((p) => p.payloadType === 0)
      .map((p) => p.payload.some((b) => b !== 0xff && b !== 0x7f));
    const bursts = voicedBursts(voiced);
    expect(bursts.length, JSON.stringify(bursts)).toBe(2);
    const [hold, back] = bursts as [[number, number], [number, number]];
    expect(back[0] - hold[1]).toBeGreaterThanOrEqual(140); // ≥ 2.8 s of 20 ms packets between them

    // Record=true: one Recording, made by the leg's gateway across the hand-over and stored by the
    // resumed worker, holding both prompts over the whole call.
    const recordings = await client.calls(created.sid).recordings.list();
    expect(recordings.map((r) => r.source)).toEqual(["OutboundAPI"]);
    const media = await request(
      `${api.url}/2010-04-01/Accounts/${engine.accountSid}/Recordings/${recordings[0]?.sid}.wav`,
    );
    const pcm = wavSamples(new Uint8Array(await media.body.arrayBuffer()));
    const call = await client.calls(created.sid).fetch();
    expect(Math.abs(pcm.length / 8000 - Number(call.duration))).toBeLessThanOrEqual(1);
    const frames = Array.from({ length: Math.floor(pcm.length / 160) }, (_, i) =>
      pcm.subarray(i * 160, i * 160 + 160).some((s) => Math.abs(s) > 100),
    );
    expect(voicedBursts(frames).length, JSON.stringify(voicedBursts(frames))).toBe(2);
  });
});

/** Runs of voiced packets, as [first, last] indexes; gaps under 0.5 s (a word's pauses) join a run. */
function voicedBursts(voiced: boolean[]): [number, number][] {
  const runs: [number, number][] = [];
  voiced.forEach((v, i) => {
    if (!v) return;
    const last = runs.at(-1);
    if (last && i - last[1] <= 25) last[1] = i;
    else runs.push([i, i]);
  });
  return runs;
}
