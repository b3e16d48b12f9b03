// A real-time call offered at an edge, resolved once its first <Pause> has begun (so it is answered
// and live): what tests of live-call updates (REST, the official twilio client) start from.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { newSid } from "../../src/model/sid.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode } from "../../src/protocol/codec.js";
import { offerCall } from "../../src/protocol/offer.js";
import { subjects } from "../../src/protocol/subjects.js";

export interface PausedCall {
  callSid: string;
  /** Everything the call has published on `.out`, in order. */
  events: ChannelOut[];
  /** Resolves when the call publishes `ended`. */
  ended: Promise<void>;
}

/** Offers a real-time call to `to` (a number whose app pauses) at edge ashburn, region us1. */
export async function pausedCall(nc: NatsConnection, to: string): Promise<PausedCall> {
  const callSid = newSid("CA");
  const events: ChannelOut[] = [];
  let paused!: () => void;
  let done!: () => void;
  const pausing = new Promise<void>((resolve) => {
    paused = resolve;
  });
  const ended = new Promise<void>((resolve) => {
    done = resolve;
  });
  const sub: Subscription = nc.subscribe(subjects().callOut("us1", callSid), {
    callback: (err, msg) => {
      if (err) return;
      const event = decode(msg.data) as ChannelOut;
      events.push(event);
      if (event.kind === "pause") paused();
      if (event.kind === "ended") {
        sub.unsubscribe();
        done();
      }
    },
  });
  await nc.flush();
  await offerCall(nc, "ashburn", { to, from: "+15557654321", callSid, caller: { timeScale: 1 } });
  await pausing;
  return { callSid, events, ended };
}
