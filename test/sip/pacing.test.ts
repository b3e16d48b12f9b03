// RTP pacing: the gateway sends a frame every 20 ms on a drift-corrected schedule (answer + n·20 ms),
// measured at the caller's RTP socket. The bounds hold on a loaded machine, yet a 10 ms ticker that
// moves frames by up to 10 ms (interval stdev ≈ 2.3 ms, p99 ≈ 26 ms on an idle machine) fails them.
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

function stats(intervals: number[]) {
  const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  const stdev = Math.sqrt(intervals.reduce((a, b) => a + (b - mean) ** 2, 0) / intervals.length);
  const sorted = [...intervals].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  return { mean, stdev, p99 };
}

describe("RTP pacing", () => {
  it("sends a frame every 20 ms with little jitter and no drift", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Hi");
        r.pause({ length: 4 });
        r.hangup();
        return { body: r.toString() };
      },
    });
    await engine.addNumber({ number: "+15551230040", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine);
    await using phone = await phoneRtp();
    const result = await sipp(gw.sipPort, "short.xml", { to: "+15551230040", keys: { rtpport: phone.port } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // Past the first frames (the answer's own work), a few seconds of one steady stream.
    const arrivals = phone.arrivals.slice(10);
    expect(arrivals.length).toBeGreaterThan(150);
    const intervals = arrivals.slice(1).map((t, i) => t - (arrivals[i] as number));
    const { mean, stdev, p99 } = stats(intervals);
    const packets = phone.packets.slice(10);
    const first = packets[0]?.timestamp ?? 0;
    // Each packet's place in the schedule, by its RTP timestamp (160 samples a frame).
    const rel = arrivals.map((t, i) => t - ((((packets[i]?.timestamp ?? 0) - first) >>> 0) / 160) * 20);
    const t0 = Math.min(...rel);
    const offsets = rel.map((r) => r - t0).sort((a, b) => a - b);
    const q = (p: number) => offsets[Math.floor(offsets.length * p)] ?? 0;
    const near = intervals.filter((i) => Math.abs(i - 20) <= 3).length / intervals.length;
    console.info(
      `RTP intervals n=${intervals.length} mean=${mean.toFixed(3)} stdev=${stdev.toFixed(3)} p99=${p99.toFixed(2)} off50=${q(0.5).toFixed(2)} off90=${q(0.9).toFixed(2)} near=${(near * 100).toFixed(1)}`,
    );
    // No drift: the stream keeps 20 ms on average.
    expect(mean).toBeGreaterThan(19.8);
    expect(mean).toBeLessThan(20.2);
    // How late each frame left against its place in the schedule, relative to the least late one.
    // Interval stdev and p99 measure the machine's load as much as the sender (on a loaded machine
    // both the pacer and the old ticker show several ms); lateness does not: the pacer is on time
    // but for the load's stalls, the 10 ms ticker up to 10 ms late on every frame (median ≈ 5 ms).
    // The median tells the two apart (≈ 5 ms for the ticker); the 90th percentile, the ticker's ≈ 9 ms,
    // is bounded at 8: a pacer on a loaded machine (two test files at once) was seen at 6.004.
    expect(q(0.5)).toBeLessThan(2.5);
    expect(q(0.9)).toBeLessThan(8);
  });
});
