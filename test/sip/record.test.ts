// <Record> on RTP, through the region's side of the port: the test plays the region, driving the
// call with the real RemoteChannel, while sipp sends 2 s of audio, then # (RFC 4733) or BYE.
import { describe, expect, it } from "vitest";
import { CallClock } from "../../src/clock/call-clock.js";
import { decode, encode } from "../../src/protocol/codec.js";
import { subjects } from "../../src/protocol/subjects.js";
import { RemoteChannel } from "../../src/region/channel/remote-channel.js";
import type { RecordedAudio } from "../../src/twiml/ports/channel.js";
import { startTestEngine } from "../helpers/engine.js";
import { type PhoneRtp, phoneRtp, type SippResult, sipp, startGateway, toneDir } from "./harness.js";

const OPTIONS = {
  timeoutMs: 10_000,
  maxLengthMs: 60_000,
  finishOnKey: "#",
  playBeep: true,
  trimSilence: true,
};

/** Calls in with `scenario`, answers, records, and hangs up unless the caller did. */
async function recordCall(
  scenario: string,
  /** Cancels the recording (as a redirect or a hand-over would) when it resolves. */
  cancelWhen?: (phone: PhoneRtp) => Promise<void>,
): Promise<{
  recorded: RecordedAudio;
  caller: SippResult;
  phone: PhoneRtp;
  /** What the gateway sent the region on the call's `.in`, in order, with the record reply. */
  sequence: string[];
}> {
  // No worker: the test is the region, so nothing else sends the gateway commands.
  await using engine = await startTestEngine({ worker: false });
  // Routed, so the edge takes the SIP offer; its app is never asked (the test is the region).
  await engine.addNumber({ number: "+15551230002", voiceUrl: "http://127.0.0.1:9/unused" });
  await using gw = await startGateway(engine);
  const phone = await phoneRtp();
  const offered = new Promise<string>((resolve) => {
    gw.onCall = resolve;
  });
  const sequence: string[] = [];
  const input = engine.nc.subscribe("sb.region.us1.call.*.in", {
    callback: (_, msg) => {
      sequence.push((decode(msg.data) as { kind: string }).kind);
    },
  });
  const caller = sipp(gw.sipPort, scenario, {
    to: "+15551230002",
    keys: { rtpport: phone.port },
    cwd: await toneDir(2),
  });
  const callSid = await offered;
  const channel = new RemoteChannel(
    engine.nc,
    subjects().sipCallCommand("gw1", callSid),
    new CallClock(1),
    (event) => engine.nc.publish(`test.${callSid}.out`, encode(event)),
    () => sequence.push("gone"),
  );
  await channel.ring();
  await channel.answer();
  const cancel = new AbortController();
  void cancelWhen?.(phone).then(() => cancel.abort(new Error("redirected")));
  const recorded = await channel.record(OPTIONS, cancel.signal);
  await engine.nc.flush();
  sequence.push("recorded");
  await channel.hangup();
  const result = await caller;
  await engine.nc.flush();
  input.unsubscribe();
  return { recorded, caller: result, phone, sequence };
}

describe("recording a SIP caller", () => {
  it("returns what the caller sent, in order, as a WAV of its duration, ended by #", {
    timeout: 60_000,
  }, async () => {
    const { recorded, caller, phone } = await recordCall("record.xml");
    await using _ = phone;
    expect(caller.code, caller.stdout + caller.stderr).toBe(0);
    expect(recorded.digits).toBe("#");
    expect(Math.abs(recorded.durationMs - 2000)).toBeLessThanOrEqual(100);
    const wav = Buffer.from(recorded.wav);
    expect(wav.toString("latin1", 0, 4)).toBe("RIFF");
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(40)).toBe((recorded.durationMs / 1000) * 16000);
    // The beep went out before the recording (1 kHz, not silence).
    expect(phone.packets.some((p) => p.payload.some((b) => b !== 0xff))).toBe(true);
  });

  it("ends the recording with what was said when the caller hangs up, the hang-up not overtaking it", {
    timeout: 60_000,
  }, async () => {
    const { recorded, caller, phone, sequence } = await recordCall("record-bye.xml");
    await using _ = phone;
    expect(caller.code, caller.stdout + caller.stderr).toBe(0);
    expect(recorded.digits).toBe("hangup");
    expect(Math.abs(recorded.durationMs - 2000)).toBeLessThanOrEqual(100);
    // The hang-up did not overtake the recording: the region has the result and no hang-up yet
    // (it hears of it from its next command, or on `.in` a few seconds later).
    expect(sequence).toEqual(["recorded"]);
  });

  it("resolves a cancelled recording with what was recorded so far", { timeout: 60_000 }, async () => {
    // The gateway's RTP to the phone is paced at 50 packets a second: 100 is 2 s after the answer,
    // about a second into the caller's 2 s tone (sipp starts it a second after its ACK).
    const { recorded, phone } = await recordCall("record.xml", (p) => p.waitForPackets(100));
    await using _ = phone;
    expect(recorded.digits).toBe("");
    expect(recorded.durationMs).toBeGreaterThan(500);
    expect(recorded.durationMs).toBeLessThan(1600);
  });
});
