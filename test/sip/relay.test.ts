// The bridge's jitter buffer without the network: packets placed by RTP timestamp a fixed delay
// behind, reordered ones put back in order, a lost or too-late one a gap rather than a shift.
import { describe, expect, it } from "vitest";
import { Relay } from "../../src/sip/media/relay.js";

const frame = (n: number) => Int16Array.from({ length: 160 }, (_, i) => n * 1000 + i);
const packet = (n: number) => ({ ssrc: 7, timestamp: 5000 + n * 160 });

function drain(relay: Relay, frames: number): Int16Array[] {
  return Array.from({ length: frames }, () => {
    const f = relay.next();
    return f.kind === "audio" ? f.pcm : new Int16Array(160).fill(-1);
  });
}

describe("the bridge's relay", () => {
  it("plays packets by timestamp 100 ms behind, in order even when they arrive out of it", () => {
    const relay = new Relay();
    relay.push(packet(0), frame(0));
    relay.push(packet(2), frame(2));
    relay.push(packet(1), frame(1));
    const out = drain(relay, 8);
    // 100 ms = 5 frames of silence first.
    for (const f of out.slice(0, 5)) expect(f.every((s) => s === 0)).toBe(true);
    expect(out.slice(5)).toEqual([frame(0), frame(1), frame(2)]);
  });

  it("leaves a lost or late packet's 20 ms silent and keeps what follows in its place", () => {
    const relay = new Relay();
    relay.push(packet(0), frame(0));
    const early = drain(relay, 7);
    expect(early[5]).toEqual(frame(0));
    relay.push(packet(1), frame(1)); // too late: its time (frame 6) has played
    relay.push(packet(3), frame(3));
    const out = drain(relay, 2);
    expect(out[0]?.every((s) => s === 0)).toBe(true); // frame 2: lost
    expect(out[1]).toEqual(frame(3));
  });

  it("turns a key into 100 ms of RFC 4733 event and keeps the audio's timing", () => {
    const relay = new Relay();
    relay.key("#");
    const frames = Array.from({ length: 8 }, () => relay.next());
    expect(frames.slice(0, 5).map((f) => f.kind)).toEqual(["event", "event", "event", "event", "event"]);
    expect(frames[4]).toMatchObject({ kind: "event", event: 11, end: true, duration: 800 });
    expect(frames.slice(5).map((f) => f.kind)).toEqual(["audio", "audio", "audio"]);
  });
});
