// A region worker dies in the middle of an outbound call that went out through a trunk: the worker
// that resumes it sends its commands to the gateway that holds the leg (stored with the call), and
// the callee hears the rest of the TwiML and the gateway's BYE as if nothing had happened.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { updateAccount } from "../../src/admin/accounts.js";
import { addTrunk } from "../../src/admin/trunks.js";
import { startApi } from "../../src/api/server.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode } from "../../src/protocol/codec.js";
import { inspectEnvelopes } from "../../src/protocol/inspect.js";
import { openTrunkStores } from "../../src/store/global.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { startCli } from "../helpers/cli.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, startGateway } from "./harness.js";
import { sippUas } from "./uas.js";

const CALLEE_IP = "127.0.0.3";

describe("a region worker dies mid outbound call through a trunk", () => {
  it("is resumed by another worker on the leg's gateway, and the callee hears the rest", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    const worker = () =>
      startCli(["region", "--region", "us1", "--allow-egress", "127.0.0.0/8", "--nats", engine.nats.url]);
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

    const said: string[] = [];
    let paused!: () => void;
    const inPause = new Promise<void>((resolve) => {
      paused = resolve;
    });
    let ended!: () => void;
    const stored = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const out = engine.nc.subscribe("sb.region.us1.call.*.out", {
      callback: (_, msg) => {
        const e = decode(msg.data) as ChannelOut;
        if (e.kind === "say") said.push(e.text);
        if (e.kind === "pause") paused();
        if (e.kind === "ended") ended();
      },
    });
    let resumed = 0;
    const inspect = engine.nc.subscribe("sb.region.us1.inspect.*", {
      callback: (_, msg) => {
        for (const e of inspectEnvelopes(msg.data)) if (e.type === "resumed") resumed++;
      },
    });
    const { client } = twilioClient(api.url, { sid: engine.accountSid, token: engine.authToken });
    const created = await client.calls.create({
      to: "+15559872001",
      from: "+15551252001",
      url: `${app.url}/voice`,
    });
    await inPause;
    await using b = worker();
    await b.waitForLog("ready");
    a.child.kill("SIGKILL");
    const result = await uas.result;
    await stored;
    out.unsubscribe();
    inspect.unsubscribe();
    // sipp's BYE came from the gateway after "Back": the resumed worker reached the leg's gateway.
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(resumed).toBe(1);
    expect(said).toEqual(["Hold", "Back"]);
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
