// The simulated channel during a <Dial> bridge: `*` from the caller ends it when hangupOnStar is set,
// whether it arrives live on `.in` or from the caller's script.
import { describe, expect, it } from "vitest";
import { CallClock } from "../../src/clock/call-clock.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import type { CallerScript } from "../../src/protocol/offer.js";
import { SimulatedChannel } from "../../src/region/channel/simulated-channel.js";
import { WebhookClient } from "../../src/webhook/client.js";

function channel(script?: CallerScript) {
  const clock = new CallClock(0, 0);
  const out: ChannelOut[] = [];
  const ch = new SimulatedChannel(
    clock,
    new WebhookClient(), // no Play here: it opens no connection
    (e) => out.push(e),
    script,
    () => {},
  );
  return { ch, clock, out };
}

const leg = (hangupOnStar: boolean) => ({
  callSid: "CA00000000000000000000000000000abc",
  to: "+15551230000",
  hangupOnStar,
});

describe("SimulatedChannel.bridge", () => {
  it("shows the bridge on .out and ends on a live * when hangupOnStar is set", async () => {
    const { ch, out } = channel();
    const bridged = ch.bridge(leg(true), new AbortController().signal);
    expect(out).toEqual([
      { kind: "dial", callSid: "CA00000000000000000000000000000abc", to: "+15551230000" },
    ]);
    ch.input({ kind: "digits", digits: "12*" });
    await expect(bridged).resolves.toBeUndefined();
  });

  it("ignores * without hangupOnStar, and rejects with the signal's reason when the Dial ends it", async () => {
    const { ch } = channel();
    const ac = new AbortController();
    const bridged = ch.bridge(leg(false), ac.signal);
    ch.input({ kind: "digits", digits: "*" });
    const reason = new Error("callee hung up");
    ac.abort(reason);
    await expect(bridged).rejects.toBe(reason);
  });

  it("presses * from the script's starAfter, one entry per bridge, on the call's clock", async () => {
    const { ch, clock } = channel({ starAfter: [4, 2] });
    await ch.bridge(leg(true), new AbortController().signal);
    expect(clock.now()).toBe(4000);
    await ch.bridge(leg(true), new AbortController().signal);
    expect(clock.now()).toBe(6000);
    expect(ch.state().starsUsed).toBe(2);
  });
});
