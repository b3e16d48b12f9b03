// The app's audio on a <Connect> stream, without the network: queued in order, pulled 20 ms at a time,
// marks answered when the audio before them has gone out, clear answering the marks it drops.
import { describe, expect, it } from "vitest";
import { StreamPlayout } from "../../src/sip/media/stream-playout.js";
import { linearToUlaw } from "../../src/sip/rtp/g711.js";

/** A sink that plays nothing by itself: the test pulls each frame, as the RTP session does every 20 ms. */
function pulledPlayout() {
  const echoed: string[] = [];
  let next: (() => Int16Array | undefined) | undefined;
  let feeds = 0;
  let last: Promise<void> = Promise.resolve();
  const playout = new StreamPlayout(
    {
      feed: (pull, signal) => {
        feeds++;
        next = pull;
        last = new Promise<void>((resolve, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          // The session ends a feed when a pull gives nothing.
          const original = pull;
          next = () => {
            const frame = original();
            if (!frame) {
              next = undefined;
              queueMicrotask(resolve);
            }
            return frame;
          };
        });
        return last;
      },
    },
    (name) => echoed.push(name),
  );
  return { playout, echoed, pull: () => next?.(), feeds: () => feeds, fed: () => last };
}

const ulaw = (samples: number, value: number) => new Uint8Array(samples).fill(linearToUlaw(value));

describe("a stream's playout", () => {
  it("plays the app's audio in order, 160 samples a frame, a short tail padded with silence", () => {
    const { playout, pull } = pulledPlayout();
    playout.media(ulaw(200, 1000));
    playout.media(ulaw(100, -1000));
    const first = pull() as Int16Array;
    const second = pull() as Int16Array;
    expect(first.every((s) => s > 900)).toBe(true);
    expect([...second.subarray(0, 40)].every((s) => s > 900)).toBe(true);
    expect([...second.subarray(40, 140)].every((s) => s < -900)).toBe(true);
    expect([...second.subarray(140)].every((s) => s === 0)).toBe(true);
    expect(pull()).toBeUndefined();
  });

  it("answers a mark when the frames before it have been sent, at once when nothing is queued", () => {
    const { playout, pull, echoed } = pulledPlayout();
    playout.mark("idle");
    expect(echoed).toEqual(["idle"]);
    playout.media(ulaw(320, 1000));
    playout.mark("a");
    playout.media(ulaw(80, 1000));
    playout.mark("b");
    pull();
    expect(echoed).toEqual(["idle"]);
    pull();
    expect(echoed).toEqual(["idle"]);
    // The pull for the third frame comes as the second has gone out: "a" is answered, then its audio.
    const third = pull() as Int16Array;
    expect(echoed).toEqual(["idle", "a"]);
    expect([...third.subarray(80)].every((s) => s === 0)).toBe(true);
    expect(pull()).toBeUndefined();
    expect(echoed).toEqual(["idle", "a", "b"]);
  });

  it("clear drops what is queued and answers its marks in order", () => {
    const { playout, pull, echoed } = pulledPlayout();
    playout.media(ulaw(8000, 1000));
    playout.mark("one");
    playout.media(ulaw(8000, 1000));
    playout.mark("two");
    pull();
    playout.clear();
    expect(echoed).toEqual(["one", "two"]);
    expect(pull()).toBeUndefined();
  });

  it("starts a new feed for audio that comes after the queue ran dry", async () => {
    const { playout, pull, feeds, fed } = pulledPlayout();
    playout.media(ulaw(160, 1000));
    pull();
    expect(pull()).toBeUndefined();
    // The playout hears that the feed ended before this await resumes (its handler came first).
    await fed();
    playout.media(ulaw(160, 1000));
    expect(feeds()).toBe(2);
    expect((pull() as Int16Array)[0]).toBeGreaterThan(900);
  });
});
