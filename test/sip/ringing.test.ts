// What a caller hears while its dialled leg rings (originate's `ringingTo`): a ring-back tone by
// country when it is answered, the callee's early media (183 with SDP) relayed to it, and 180 or 183
// sent to a caller still unanswered (answerOnBridge). The test is the region; sipp plays both parties.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { linearToUlaw, ulawToLinear } from "../../src/sip/rtp/g711.js";
import { startTestEngine } from "../helpers/engine.js";
import { bestCorrelation, cadence, chirp, pcmOf, powerAt } from "./audio.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";
import { command, placeLeg, sippUas } from "./uas.js";

const CALLEE_SAYS = chirp(2, 500, 2500);

async function setUp() {
  const engine = await startTestEngine({ worker: false });
  await engine.addNumber({ number: "+15551230004", voiceUrl: "http://127.0.0.1:9/unused" });
  const gw = await startGateway(engine);
  const dir = await mkdtemp(join(tmpdir(), "sb-ringing-"));
  await writeFile(join(dir, "callee.ulaw"), Uint8Array.from(CALLEE_SAYS, linearToUlaw));
  const phone = await phoneRtp("127.0.0.2");
  const messageFile = join(dir, "caller.log");
  const offered = new Promise<string>((resolve) => {
    gw.onCall = resolve;
  });
  const caller = sipp(gw.sipPort, "listening-caller.xml", {
    to: "+15551230004",
    keys: { rtpport: phone.port },
    args: ["-trace_msg", "-message_file", messageFile],
    cwd: dir,
  });
  const callSid = await Promise.race([
    offered,
    caller.then((r) => Promise.reject(new Error(`the caller ended before its call: ${r.stdout}${r.stderr}`))),
  ]);
  return {
    engine,
    gw,
    dir,
    phone,
    caller,
    callSid,
    /** The responses the caller got, by status line. */
    heard: async () => (await readFile(messageFile, "latin1")).match(/^SIP\/2\.0 \d{3}/gm) ?? [],
    [Symbol.asyncDispose]: async () => {
      await phone[Symbol.asyncDispose]();
      await gw[Symbol.asyncDispose]();
      await engine[Symbol.asyncDispose]();
    },
  };
}

describe("a caller while its leg rings", () => {
  it("hears the UK ring-back tone (400+450 Hz, .4 on .2 off .4 on 2 off) once answered, until the leg fails", {
    timeout: 60_000,
  }, async () => {
    await using t = await setUp();
    await command(t.engine.nc, "gw1", t.callSid, { op: "answer" });
    const uas = await sippUas("uas-noanswer.xml");
    const from = t.phone.packets.length;
    const { watch } = await placeLeg(
      t.engine.nc,
      {
        uri: `sip:bob@${uas.address}:${uas.port}`,
        from: { user: "+15551230004" },
        timeoutMs: 2_800,
        ringingTo: { callSid: t.callSid, ringTone: "uk" },
      },
      "gw1",
    );
    await watch.next((e) => e.subject === "leg" && e.body.kind === "failed");
    const tone = pcmOf(t.phone.packets.slice(from), ulawToLinear, 0);
    const runs = cadence(tone);
    // on .4, off .2, on .4, off 2 (cut by the 487 at 2.8 s): in 20 ms frames.
    expect(runs[0]).toBeGreaterThanOrEqual(19);
    expect(runs[0]).toBeLessThanOrEqual(21);
    expect(Math.abs((runs[1] ?? 0) - 10)).toBeLessThanOrEqual(1);
    expect(Math.abs((runs[2] ?? 0) - 20)).toBeLessThanOrEqual(1);
    expect(runs[3]).toBeGreaterThanOrEqual(80);
    const on = tone.subarray(tone.findIndex((s) => s !== 0)).subarray(0, 3200);
    expect(powerAt(on, 400)).toBeGreaterThan(100 * powerAt(on, 480));
    expect(powerAt(on, 450)).toBeGreaterThan(100 * powerAt(on, 480));
    // Silence after the leg failed: at most a frame or two past the 487.
    expect(runs.length).toBeLessThanOrEqual(4);
    await command(t.engine.nc, "gw1", t.callSid, { op: "hangup" });
    expect((await t.caller).code).toBe(0);
    expect((await uas.result).code).toBe(0);
  });

  it("an unanswered caller gets 183 and the callee's early media, then the answer", {
    timeout: 60_000,
  }, async () => {
    await using t = await setUp();
    const uas = await sippUas("uas-early.xml", { cwd: t.dir });
    const { watch } = await placeLeg(
      t.engine.nc,
      {
        uri: `sip:bob@${uas.address}:${uas.port}`,
        from: { user: "+15551230004" },
        timeoutMs: 10_000,
        ringingTo: { callSid: t.callSid },
      },
      "gw1",
    );
    expect(await watch.next((e) => e.subject === "leg")).toEqual({ kind: "ringing", earlyMedia: true });
    await watch.next((e) => e.subject === "leg" && e.body.kind === "answered");
    const early = pcmOf(t.phone.packets, ulawToLinear, 0);
    expect(bestCorrelation(CALLEE_SAYS, early).correlation).toBeGreaterThanOrEqual(0.99);
    await command(t.engine.nc, "gw1", t.callSid, { op: "answer" });
    await command(t.engine.nc, "gw1", t.callSid, { op: "hangup" });
    await command(t.engine.nc, "gw1", watch.legSid, { op: "hangup" });
    expect((await t.caller).code).toBe(0);
    expect((await uas.result).code).toBe(0);
    expect(await t.heard()).toEqual(["SIP/2.0 100", "SIP/2.0 183", "SIP/2.0 200", "SIP/2.0 200"]);
  });

  it("an unanswered caller gets 180 while the leg rings without early media", {
    timeout: 60_000,
  }, async () => {
    await using t = await setUp();
    const uas = await sippUas("uas-noanswer.xml");
    const { watch } = await placeLeg(
      t.engine.nc,
      {
        uri: `sip:bob@${uas.address}:${uas.port}`,
        from: { user: "+15551230004" },
        timeoutMs: 1_000,
        ringingTo: { callSid: t.callSid, ringTone: "de" },
      },
      "gw1",
    );
    await watch.next((e) => e.subject === "leg" && e.body.kind === "failed");
    await command(t.engine.nc, "gw1", t.callSid, { op: "answer" });
    await command(t.engine.nc, "gw1", t.callSid, { op: "hangup" });
    expect((await t.caller).code).toBe(0);
    expect((await uas.result).code).toBe(0);
    expect(await t.heard()).toEqual(["SIP/2.0 100", "SIP/2.0 180", "SIP/2.0 200", "SIP/2.0 200"]);
    // No tone to a caller that is not answered: its phone rings on its own.
    expect(t.phone.packets.length).toBeLessThan(5);
  });
});
