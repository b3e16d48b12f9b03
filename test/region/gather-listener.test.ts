// A Gather's listening fed by a gateway's recogniser (issue #18): speech start barges in and holds the
// Gather's timeout off until the result, which ends the Gather at once; nothing recognised ends it
// without speech; with "dtmf speech" the first input heard wins (Twilio's <Gather> page).
import { describe, expect, it } from "vitest";
import { CallClock } from "../../src/clock/call-clock.js";
import { listenForGather } from "../../src/region/channel/gather-listener.js";
import type { ListenOptions } from "../../src/twiml/ports/channel.js";

function gather(options: Partial<ListenOptions> = {}) {
  const { listener, live } = listenForGather(
    new CallClock(1),
    { input: ["speech"], finishOnKey: "#", timeoutMs: 200, speechTimeoutMs: 200, ...options },
    new AbortController().signal,
    { ended: () => {} },
  );
  return { listener, live };
}

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a Gather listening to a recogniser", () => {
  it("waits past its timeout once speech has started, and ends with the result as it comes", async () => {
    const { listener, live } = gather();
    let barged = false;
    void listener.started.then(() => {
      barged = true;
    });
    live.speechStarted?.();
    const result = listener.result();
    await later(400);
    expect(barged).toBe(true);
    live.recognised?.("two three four", 0.5);
    expect(await result).toEqual({ digits: "", speech: { text: "two three four", confidence: 0.5 } });
  });

  it("ends without speech when nothing was recognised, and times out when nothing was said", async () => {
    const a = gather();
    a.live.speechStarted?.();
    const ra = a.listener.result();
    a.live.speechEnded?.();
    expect(await ra).toEqual({ digits: "" });
    const b = gather();
    const started = performance.now();
    expect(await b.listener.result()).toEqual({ digits: "" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("with dtmf speech, speech heard first wins: keys and finishOnKey are ignored (Twilio)", async () => {
    const { listener, live } = gather({ input: ["dtmf", "speech"] });
    live.speechStarted?.();
    const result = listener.result();
    live.key("4");
    live.key("#");
    live.recognised?.("four please", undefined);
    expect(await result).toEqual({ digits: "", speech: { text: "four please", confidence: 0.92 } });
  });

  it("with dtmf speech, a key pressed first wins: speech after it is ignored", async () => {
    const { listener, live } = gather({ input: ["dtmf", "speech"] });
    const result = listener.result();
    live.key("4");
    live.speechStarted?.();
    live.recognised?.("too late", undefined);
    live.key("#");
    expect(await result).toEqual({ digits: "4" });
  });

  it("takes a finishOnKey with no digit before it as nothing: it keeps listening for keys", async () => {
    const { listener, live } = gather({ input: ["dtmf"] });
    const result = listener.result();
    live.key("#");
    live.key("7");
    live.key("#");
    expect(await result).toEqual({ digits: "7" });
  });

  it("passes partial results to partialResultCallback's sender", () => {
    const partials: string[] = [];
    const { live } = gather({ onPartialSpeech: (t) => partials.push(t) });
    live.partial?.("two");
    live.partial?.("two three");
    expect(partials).toEqual(["two", "two three"]);
  });
});
