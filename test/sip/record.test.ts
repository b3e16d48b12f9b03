// <Record> on RTP, through the region's side of the port: the test plays the region, driving the
// call with the real RemoteChannel, while sipp sends 2 s of audio and a # as RFC 4733 events.
import { describe, expect, it } from "vitest";
import { encode } from "../../src/bus/codec.js";
import { subjects } from "../../src/bus/subjects.js";
import { CallClock } from "../../src/clock/call-clock.js";
import { RemoteChannel } from "../../src/region/remote-channel.js";
import { startTestEngine } from "../helpers/engine.js";
import { phoneRtp, sipp, startGateway, toneDir } from "./harness.js";

describe("recording a SIP caller", () => {
  it("returns what the caller sent, in order, as a WAV of its duration, ended by #", {
    timeout: 60_000,
  }, async () => {
    // No worker: the test is the region, so nothing else sends the gateway commands.
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine);
    await using phone = await phoneRtp();
    const offered = new Promise<string>((resolve) => {
      gw.onCall = resolve;
    });
    const caller = sipp(gw.sipPort, "record.xml", {
      to: "+15551230002",
      keys: { rtpport: phone.port },
      cwd: await toneDir(2),
    });
    const callSid = await offered;
    let hungUp = false;
    const channel = new RemoteChannel(
      engine.nc,
      subjects().sipCallCommand("gw1", callSid),
      new CallClock(1),
      (event) => engine.nc.publish(`test.${callSid}.out`, encode(event)),
      () => {
        hungUp = true;
      },
    );
    await channel.ring();
    await channel.answer();
    const recorded = await channel.record(
      { timeoutMs: 10_000, maxLengthMs: 60_000, finishOnKey: "#", playBeep: true, trimSilence: true },
      new AbortController().signal,
    );
    await channel.hangup();
    const result = await caller;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(recorded.digits).toBe("#");
    expect(Math.abs(recorded.durationMs - 2000)).toBeLessThanOrEqual(100);
    const wav = Buffer.from(recorded.wav);
    expect(wav.toString("latin1", 0, 4)).toBe("RIFF");
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(40)).toBe((recorded.durationMs / 1000) * 16000);
    // The beep went out before the recording (1 kHz, not silence).
    expect(phone.packets.some((p) => p.payload.some((b) => b !== 0xff))).toBe(true);
    expect(hungUp).toBe(false);
  });
});
