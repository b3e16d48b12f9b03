// A room source's jitter buffer without the network: frames out of order come out in order, playing
// starts once two are held, a lost frame is a silent 20 ms, a burst is cut back, a pause restarts it.
import { describe, expect, it } from "vitest";
import { RoomSource } from "../../src/sip/media/room-source.js";

const frame = (seq: number) => ({ seq, audio: new Uint8Array(160) });
const pcm = (seq: number) => new Int16Array(160).fill(seq);
const push = (s: RoomSource, seq: number) => s.push(frame(seq), pcm(seq), 0);
const played = (s: RoomSource) => s.pop()?.pcm[0];

describe("RoomSource", () => {
  it("waits for two frames, then plays them in sequence order", () => {
    const s = new RoomSource();
    push(s, 1);
    expect(s.pop()).toBeUndefined();
    push(s, 0);
    expect([played(s), played(s)]).toEqual([0, 1]);
  });

  it("a lost frame is silence in its place; a frame later than its turn is dropped", () => {
    const s = new RoomSource();
    for (const seq of [0, 1, 3]) push(s, seq);
    expect([played(s), played(s), played(s), played(s)]).toEqual([0, 1, undefined, 3]);
    push(s, 2);
    push(s, 4);
    push(s, 5);
    expect(played(s)).toBe(4);
  });

  it("cuts a burst past 25 frames back to the newest two", () => {
    const s = new RoomSource();
    for (let seq = 0; seq <= 25; seq++) push(s, seq);
    expect([played(s), played(s), s.pop()]).toEqual([24, 25, undefined]);
  });

  it("after a pause it buffers afresh, from the frames that come", () => {
    const s = new RoomSource();
    push(s, 0);
    push(s, 1);
    played(s);
    played(s);
    for (let i = 0; i < 10; i++) expect(s.pop()).toBeUndefined();
    push(s, 50);
    expect(s.pop()).toBeUndefined();
    push(s, 51);
    expect([played(s), played(s)]).toEqual([50, 51]);
  });
});
