// Every CallSid ever offered, in the global bucket `sb_callsids` (placed on the `region:global`
// servers): a CallSid is one call for ever, in every region and for every account. The edge claims a
// CallSid (create-only) before it stores the call's job; JetStream's 2-minute dedupe is not the record.
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { buckets } from "../protocol/subjects.js";
import { readVersioned } from "./cas-kv.js";
import { JsonKv } from "./json-kv.js";
import { GLOBAL_SCOPE, storePlacement, withPlacementHint } from "./placement.js";
import { retrying } from "./retry.js";

/** Whose call a CallSid is, and whether its job is stored in its region's stream yet. */
export const CallSidClaimSchema = z.object({
  /** The account the offer named, or the called number's; null when neither did (the default's). */
  accountSid: z.string().nullable(),
  to: z.string(),
  region: z.string(),
  /** False between the claim and the region's ack: a retried offer then stores the job again. */
  stored: z.boolean(),
});
export type CallSidClaim = z.infer<typeof CallSidClaimSchema>;

export class CallSids {
  private constructor(private readonly json: JsonKv<CallSidClaim>) {}

  /** Opens `sb_callsids`, creating it (placed with the global buckets) if need be. */
  static async open(nc: NatsConnection): Promise<CallSids> {
    const placed = storePlacement(nc, GLOBAL_SCOPE);
    const kv = await retrying(`open bucket ${buckets.callSids}`, () =>
      withPlacementHint(placed, () => new Kvm(nc).create(buckets.callSids, { history: 1, ...placed })),
    );
    return new CallSids(new JsonKv(kv));
  }

  /**
   * Claims `callSid` for `claim`: `{ claimed: true }` when it was nobody's, else the claim that holds
   * it (with its revision, for `markStored`).
   */
  async claim(
    callSid: string,
    claim: CallSidClaim,
  ): Promise<{ claimed: true; revision: number } | { claimed: false; held: CallSidClaim; revision: number }> {
    for (;;) {
      try {
        const revision = await this.json.kv.create(callSid, JSON.stringify(claim));
        return { claimed: true, revision };
      } catch (err) {
        if (!/wrong last sequence|key exists/i.test(String((err as Error)?.message))) throw err;
      }
      const held = await readVersioned<unknown>(this.json.kv, callSid);
      // Deleted between the two reads (only an operator does that): claim it again.
      if (held.value === undefined) continue;
      const parsed = CallSidClaimSchema.safeParse(held.value);
      if (!parsed.success) throw new Error(`sb_callsids holds an invalid claim for ${callSid}`);
      return { claimed: false, held: parsed.data, revision: held.revision };
    }
  }

  /** Notes that the call's job is in its region's stream; a write that lost a race changes nothing. */
  async markStored(callSid: string, claim: CallSidClaim, revision: number): Promise<void> {
    try {
      await this.json.kv.update(callSid, JSON.stringify({ ...claim, stored: true }), revision);
    } catch (err) {
      if (!/wrong last sequence/i.test(String((err as Error)?.message))) throw err;
    }
  }

  get kv() {
    return this.json.kv;
  }
}
