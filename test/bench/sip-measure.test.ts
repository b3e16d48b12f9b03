// The media bench's measuring code (bench/sip): intervals, their stdev and p99, sequence gaps, and
// whether payloads are the prompt's frames in order, on streams whose answers are known.
import { describe, expect, it } from "vitest";
import { emptyCounts, IntervalHistogram, StreamTracker } from "../../bench/sip/measure.js";
import { classify, FRAME_BYTES, promptFrame, promptWav } from "../../bench/sip/prompt.js";
import { encodeG711 } from "../../src/sip/rtp/g711.js";

function tracker() {
  const intervals = new IntervalHistogram();
  const counts = emptyCounts();
  return { intervals, counts, stream: new StreamTracker(intervals, counts) };
}

describe("media bench measuring", () => {
  it("computes the intervals' mean, stdev and p99 from arrival times", () => {
    const { intervals, stream } = tracker();
    // 101 packets: 99 intervals of exactly 20 ms, one of 30 ms (a late frame) and the next 10 ms.
    const at = [0];
    for (let i = 1; i <= 100; i++) at.push(i * 20 + (i === 50 ? 10 : 0));
    at.forEach((t, i) => {
      stream.packet(t, (65_530 + i) & 0xffff, 7, promptFrame(i), true);
    });
    const s = intervals.summary();
    expect(s.count).toBe(100);
    expect(s.mean).toBeCloseTo(20, 9);
    // Two intervals 10 ms off the mean among 100: stdev √(200/100) = √2.
    expect(s.stdev).toBeCloseTo(Math.SQRT2, 6);
    expect(s.p50).toBeCloseTo(20, 6);
    expect(s.p99).toBeCloseTo(20, 6);
    expect(s.max).toBe(30);
    expect(intervals.quantile(1)).toBe(30);
  });

  it("counts a lost packet as a sequence gap, not as a long interval", () => {
    const { intervals, counts, stream } = tracker();
    for (const i of [0, 1, 2, 4, 5]) stream.packet(i * 20, 100 + i, 7, promptFrame(i), true);
    expect(counts.seqGaps).toBe(1);
    expect(intervals.summary().count).toBe(3);
    expect(intervals.summary().max).toBe(20);
    // Frame 4 after frame 2: the audio lost a frame.
    expect(counts.outOfOrder).toBe(1);
    expect(counts.intact).toBe(4);
  });

  it("tells silence, the prompt in order, and corrupt payloads apart", () => {
    const { counts, stream } = tracker();
    const bad = promptFrame(3);
    bad[80] = (bad[80] ?? 0) ^ 1;
    const payloads = [
      new Uint8Array(FRAME_BYTES).fill(0xff),
      promptFrame(0),
      promptFrame(1),
      bad,
      promptFrame(7),
    ];
    payloads.forEach((p, i) => {
      stream.packet(i * 20, i, 9, p, true);
    });
    expect(counts).toMatchObject({
      packets: 5,
      silence: 1,
      intact: 2,
      corrupt: 1,
      outOfOrder: 1,
      seqGaps: 0,
    });
  });

  it("starts a new stream when the SSRC changes, and counts nothing outside the window", () => {
    const { intervals, counts, stream } = tracker();
    stream.packet(0, 1, 1, promptFrame(0), false);
    stream.packet(20, 2, 1, promptFrame(1), true);
    stream.packet(25, 500, 2, promptFrame(9), true);
    expect(intervals.summary().count).toBe(1);
    expect(counts.seqGaps).toBe(0);
    expect(counts.intact).toBe(2);
  });

  it("serves a prompt whose samples encode back to its frames' bytes", () => {
    const wav = promptWav(300);
    const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
    for (const k of [0, 1, 119, 120, 299]) {
      const bytes = encodeG711("PCMU", pcm.subarray(k * FRAME_BYTES, (k + 1) * FRAME_BYTES));
      expect(classify(bytes)).toBe(k);
    }
  });
});
