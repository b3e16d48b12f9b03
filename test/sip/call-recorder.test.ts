// The whole-call recorder: what the party heard, frame by frame, and what it said, by RTP timestamp
// on the same time line; dual keeps the party in channel 1, mono mixes both (clipped).
import { describe, expect, it } from "vitest";
import { CallRecorder } from "../../src/sip/media/call-recorder.js";
import type { RtpPacket } from "../../src/sip/rtp/packet.js";

const frame = (level: number) => new Int16Array(160).fill(level);
const packet = (timestamp: number, ssrc = 7): RtpPacket => ({
  payloadType: 0,
  marker: false,
  sequence: 0,
  timestamp,
  ssrc,
  payload: new Uint8Array(),
});
/** The WAV's samples, split into its channels. */
function channels(wav: Uint8Array, count: 1 | 2): Int16Array[] {
  const v = new DataView(wav.buffer, wav.byteOffset + 44, wav.byteLength - 44);
  const all = Int16Array.from({ length: v.byteLength / 2 }, (_, i) => v.getInt16(i * 2, true));
  return Array.from({ length: count }, (_, c) => all.filter((_, i) => i % count === c));
}
/** The level of each 20 ms frame (its first sample). */
const levels = (pcm: Int16Array) => Array.from({ length: pcm.length / 160 }, (_, i) => pcm[i * 160]);

describe("the whole-call recorder", () => {
  it("puts the party in channel 1 and what it heard in channel 2, on one time line", () => {
    const rec = new CallRecorder("dual");
    rec.sent(frame(100), 0);
    rec.sent(frame(200), 1);
    // The party's first packet arrives with the third frame sent: it starts there.
    rec.audio(packet(5000), frame(-1));
    rec.sent(frame(300), 2);
    rec.audio(packet(5320), frame(-3)); // 5160 comes late
    rec.audio(packet(5160), frame(-2));
    rec.sent(frame(400), 3);
    const r = rec.stop();
    expect(r.durationMs).toBe(100);
    const [party, heard] = channels(r.wav, 2) as [Int16Array, Int16Array];
    expect(levels(party)).toEqual([0, 0, -1, -2, -3]);
    expect(levels(heard)).toEqual([100, 200, 300, 400, 0]);
  });

  it("mixes both into one channel with mono, clipped, and continues a new source where the call is", () => {
    const rec = new CallRecorder("mono");
    rec.audio(packet(1), frame(30_000));
    rec.sent(frame(30_000), 0);
    rec.sent(frame(10), 1);
    // The phone restarted its stream: another SSRC and timestamp, placed at the call's present.
    rec.audio(packet(999_999, 8), frame(5));
    expect(levels(channels(rec.stop().wav, 1)[0] as Int16Array)).toEqual([32767, 10, 5]);
  });

  it("leaves silence where the sent stream skipped frames after a stall, as the party heard it", () => {
    const rec = new CallRecorder("dual");
    rec.sent(frame(1), 0);
    rec.sent(frame(2), 3);
    const [, heard] = channels(rec.stop().wav, 2) as [Int16Array, Int16Array];
    expect(levels(heard)).toEqual([1, 0, 0, 2]);
  });

  it("keeps nothing after it stops", () => {
    const rec = new CallRecorder("mono");
    rec.sent(frame(1), 0);
    const r = rec.stop();
    rec.sent(frame(2), 1);
    rec.audio(packet(0), frame(3));
    expect(r.durationMs).toBe(20);
  });
});
