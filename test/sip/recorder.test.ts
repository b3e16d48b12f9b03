// The RTP recorder: audio placed by timestamp, gaps filled, ended by key, length, silence or hang-up.
import { describe, expect, it } from "vitest";
import { Recorder, trim } from "../../src/sip/media/recorder.js";
import type { RtpPacket } from "../../src/sip/rtp/packet.js";

const OPTIONS = { timeoutMs: 0, maxLengthMs: 60_000, finishOnKey: "#", playBeep: false, trimSilence: false };
const tone = (level = 8000) =>
  Int16Array.from({ length: 160 }, (_, i) => Math.round(level * Math.sin(i / 3)));
const packet = (timestamp: number, ssrc = 1): RtpPacket => ({
  payloadType: 0,
  marker: false,
  sequence: 0,
  timestamp,
  ssrc,
  payload: new Uint8Array(),
});
const samples = (wav: Uint8Array) => {
  const v = new DataView(wav.buffer, wav.byteOffset + 44, wav.byteLength - 44);
  return Int16Array.from({ length: v.byteLength / 2 }, (_, i) => v.getInt16(i * 2, true));
};

describe("the RTP recorder", () => {
  it("places packets by timestamp: reordered ones in order, lost ones as silence", async () => {
    const rec = new Recorder(OPTIONS);
    rec.audio(packet(1000), tone(1000));
    rec.audio(packet(1320), tone(3000));
    rec.audio(packet(1160), tone(2000));
    rec.audio(packet(1640), tone(4000)); // 1480 was lost
    rec.key("5"); // not a finishing key
    rec.key("#");
    const r = await rec.result;
    expect(r.digits).toBe("#");
    expect(r.durationMs).toBe(100);
    const pcm = samples(r.wav);
    const peak = (from: number) => Math.max(...pcm.subarray(from, from + 160));
    expect([0, 160, 320, 480, 640].map(peak)).toEqual(
      [1000, 2000, 3000, 0, 4000].map((l) => Math.max(...tone(l))),
    );
  });

  it("wraps the RTP timestamp around 2^32", async () => {
    const rec = new Recorder(OPTIONS);
    rec.audio(packet(0xffffff60), tone());
    rec.audio(packet(0), tone());
    rec.stop("");
    expect((await rec.result).durationMs).toBe(40);
  });

  it("stops at the maximum length", async () => {
    const rec = new Recorder({ ...OPTIONS, maxLengthMs: 50 });
    for (let ts = 0; ts < 1600; ts += 160) rec.audio(packet(ts), tone());
    const r = await rec.result;
    expect(r.durationMs).toBe(50);
    expect(r.digits).toBe("");
  });

  it("ends after the silence timeout, with the hang-up reported when the caller hangs up", async () => {
    const silent = new Recorder({ ...OPTIONS, timeoutMs: 30 });
    silent.audio(packet(0), tone());
    expect((await silent.result).digits).toBe("");
    const hung = new Recorder(OPTIONS);
    hung.audio(packet(0), tone());
    hung.stop("hangup");
    expect(await hung.result).toMatchObject({ digits: "hangup", durationMs: 20 });
  });

  it("trims leading and trailing silence when asked", () => {
    const pcm = new Int16Array(160 * 5);
    pcm.set(tone(), 160 * 2);
    expect(trim(pcm).length).toBe(160);
  });
});
