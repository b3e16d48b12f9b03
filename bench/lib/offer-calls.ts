// Offers calls at a steady rate without waiting for them to end: how the concurrency bench fills a
// worker with calls that last an hour. The pacing is `switchboard load`'s.
import type { NatsConnection } from "@nats-io/transport-node";
import { pace, Waker } from "../../src/caller/load.js";
import { newSid } from "../../src/model/sid.js";
import type { CallerScript } from "../../src/protocol/offer.js";
import { offerCall } from "../../src/protocol/offer.js";

export interface OfferCallsOptions {
  to: string;
  from: string;
  edge: string;
  count: number;
  rate: number;
  /** The most calls offered and not yet `taken()`: keeps the region's backlog short. */
  concurrency: number;
  /** How many offered calls the engine has taken up so far (default: the edge has replied). */
  taken?: () => number;
  /** Wake it when `taken()` grows, so a free slot is used at once. */
  waker?: Waker;
  caller: CallerScript;
}

/** Resolves with how many offers the edge accepted once every offer has its reply. */
export async function offerCalls(nc: NatsConnection, opts: OfferCallsOptions): Promise<{ accepted: number }> {
  const replies = { pending: 0, accepted: 0 };
  const waker = opts.waker ?? new Waker();
  const counters = {
    offered: 0,
    get inFlight() {
      return opts.taken ? this.offered - opts.taken() : replies.pending;
    },
  };
  const offerOne = () => {
    counters.offered++;
    replies.pending++;
    const offer = { to: opts.to, from: opts.from, callSid: newSid("CA"), caller: opts.caller };
    offerCall(nc, opts.edge, offer, { timeoutMs: 30_000 })
      .then(
        () => replies.accepted++,
        () => {},
      )
      .finally(() => {
        replies.pending--;
        waker.wake();
      });
  };
  await pace(opts, counters, offerOne, waker);
  while (replies.pending > 0) await waker.wait(1_000);
  return { accepted: replies.accepted };
}
