// The edge: answers call offers on `sb.edge.<edge>.offer`, picks the number's region from its
// copy of the routing table (unrouted numbers go to us1, as on Twilio), and replies only after the
// region's stream has stored the call, so an acknowledged call is never lost. A CallSid is one call
// for ever: the edge claims it in `sb_callsids` first, and refuses it (20409) for another call.
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import { type Msg, type NatsConnection, RequestError, type Subscription } from "@nats-io/transport-node";
import { fail, SwitchboardError } from "../errors/switchboard-error.js";
import type { Logger } from "../log.js";
import { numberKey } from "../model/phone.js";
import type { RoutingEntry } from "../model/records.js";
import { newSid } from "../model/sid.js";
import { type CallJob, CallJobSchema } from "../protocol/call-job.js";
import { decode, encode, encodingOf } from "../protocol/codec.js";
import { DEFAULT_REGION, type Offer, type OfferReply, parseOffer } from "../protocol/offer.js";
import { respondError, respondValue } from "../protocol/service-error.js";
import { subjects } from "../protocol/subjects.js";
import type { AccountStatus } from "../store/account-status.js";
import { type CallSidClaim, CallSids } from "../store/call-sids.js";
import { type EdgeStores, openEdgeStores, openRoutingReplica } from "../store/global.js";
import { WatchedKv } from "../store/watched-kv.js";

/** An offer is a few hundred bytes; SIP headers and a caller script fit well within this. */
export const MAX_OFFER_BYTES = 16 * 1024;

export interface EdgeOptions {
  nc: NatsConnection;
  edge: string;
  log: Logger;
  prefix?: string;
  /**
   * The stream the routing cache reads: a region's mirror of `sb_routing` (`KV_sb_routing_us1`) for
   * an edge that should read routes locally. Default: its cluster's mirror when there is one, else
   * `sb_routing` itself (docs/regions.md).
   */
  routingStream?: string;
}

export class Edge {
  readonly counters = { offers: 0, accepted: 0, rejected: 0 };
  /** The stream its routing cache reads (`KV_sb_routing`, or a region's mirror of it). */
  routingStream = "";
  #sub: Subscription | undefined;
  /** Claims being marked stored after their offer was answered. */
  readonly #marking = new Set<Promise<void>>();

  private constructor(
    private readonly opts: EdgeOptions,
    private readonly js: JetStreamClient,
    readonly routing: WatchedKv<RoutingEntry>,
    /** Which accounts exist (`sb_account_status`): an edge never reads `sb_accounts` and its tokens. */
    private readonly accounts: WatchedKv<AccountStatus>,
    private readonly callSids: CallSids,
    private readonly global: EdgeStores,
  ) {}

  static async start(opts: EdgeOptions): Promise<Edge> {
    const global = await openEdgeStores(opts.nc);
    const replica = await openRoutingReplica(opts.nc, global, opts.routingStream);
    const [routing, accounts, callSids] = await Promise.all([
      WatchedKv.start<RoutingEntry>(replica.kv),
      WatchedKv.start<AccountStatus>(global.accountStatus.kv),
      CallSids.open(opts.nc),
    ]);
    const edge = new Edge(opts, jetstream(opts.nc), routing, accounts, callSids, global);
    edge.routingStream = replica.stream;
    // A queue group: several processes can serve one edge name and share its offers.
    edge.#sub = opts.nc.subscribe(subjects(opts.prefix).edgeOffer(opts.edge), {
      queue: `edge.${opts.edge}`,
      callback: (err, msg) => {
        if (!err) void edge.#answer(msg);
      },
    });
    return edge;
  }

  /** The region that processes calls to `to` right now. */
  regionFor(to: string): string {
    return this.routing.get(numberKey(to))?.region ?? DEFAULT_REGION;
  }

  async #answer(msg: Msg): Promise<void> {
    this.counters.offers++;
    try {
      if (msg.data.length > MAX_OFFER_BYTES) {
        throw fail("offerTooLarge", `offer is ${msg.data.length} bytes; the limit is ${MAX_OFFER_BYTES}`);
      }
      const offer = parseOffer(decode(msg.data, encodingOf(msg.headers)));
      const reply = await this.accept(offer);
      this.counters.accepted++;
      if (msg.reply) respondValue(msg, reply);
    } catch (err) {
      this.counters.rejected++;
      this.opts.log[refusalLevel(err)]({ err }, "offer refused");
      if (msg.reply) respondError(msg, err);
    }
  }

  /**
   * Stores the call in its region's stream. The same offer again (same CallSid, account and number)
   * is the same call, answered with its region and not run again; a CallSid that is another call's
   * (another account's, or to another number) is refused with 20409, whenever it was offered.
   */
  async accept(offer: Offer): Promise<OfferReply> {
    const key = numberKey(offer.to);
    // The local copy first. A route or account written a moment ago (`numbers add`, then a call at
    // once) may not have reached it, nor a region's mirror of the table: on a miss the global bucket
    // decides, before an unrouted number goes to the default region.
    const route = this.routing.get(key) ?? (await this.global.routing.get(key));
    // A SIP call to a number nobody hosts is refused here (the gateway answers 404), not run in the
    // default region only to fail there: a carrier retries elsewhere on a 404, not on a late 480.
    if (!route && offer.sip) throw fail("notFound", `${offer.to} is not a number switchboard hosts`);
    for (const sid of [offer.accountSid, route?.accountSid]) {
      if (sid && !this.accounts.has(sid) && !(await this.global.accountStatus.get(sid))) {
        throw fail("notFound", `unknown account ${sid}`);
      }
    }
    const callSid = offer.callSid ?? newSid("CA");
    const claim: CallSidClaim = {
      accountSid: offer.accountSid ?? route?.accountSid ?? null,
      to: offer.to,
      region: route?.region ?? DEFAULT_REGION,
      stored: false,
    };
    // Checked before the claim, so a malformed offer does not take its CallSid.
    const job = this.#job(offer, callSid, claim.region);
    const claimed = await this.#claim(callSid, claim);
    if (!claimed.claimed) {
      const { held } = claimed;
      if (held.accountSid !== claim.accountSid || held.to !== claim.to) {
        throw fail("conflict", `CallSid ${callSid} is already another call's; a CallSid is one call`);
      }
      if (held.stored) return { callSid, region: held.region };
      // Claimed by an offer whose job may not have been stored: store it (the stream's dedupe makes a
      // second copy within two minutes one message), in the region the claim chose.
      await this.#store({ ...job, region: held.region });
      await this.#markStored(callSid, held, claimed.revision);
      return { callSid, region: held.region };
    }
    await this.#store(job);
    // Answered without waiting for the mark: the call is stored, and the mark only spares a retry of
    // this offer storing the job again (the stream's dedupe makes that one message within 2 minutes;
    // a caller that got this answer does not retry). It was a third round trip on every offer's answer.
    this.#markLater(callSid, claim, claimed.revision);
    return { callSid, region: claim.region };
  }

  /** The call is stored whatever this write does: a claim left unmarked only makes a retry store it again. */
  async #markStored(callSid: string, claim: CallSidClaim, revision: number): Promise<void> {
    await this.callSids.markStored(callSid, claim, revision).catch((err) => {
      this.opts.log.warn({ err: String(err), callSid }, "cannot mark the CallSid's job stored");
    });
  }

  /** Marks the claim stored in the background; `stop` waits for the marks still out. */
  #markLater(callSid: string, claim: CallSidClaim, revision: number): void {
    const marking = this.#markStored(callSid, claim, revision).finally(() => this.#marking.delete(marking));
    this.#marking.add(marking);
  }

  async #claim(callSid: string, claim: CallSidClaim) {
    try {
      return await this.callSids.claim(callSid, claim);
    } catch (err) {
      throw fail("regionUnavailable", `the CallSid registry did not answer: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** The job the worker runs, checked with the schema the worker parses it with. */
  #job(offer: Offer, callSid: string, region: string): CallJob {
    const job: CallJob = {
      callSid,
      to: offer.to,
      from: offer.from,
      edge: this.opts.edge,
      region,
      offeredAt: Date.now(),
      ...(offer.accountSid && { accountSid: offer.accountSid }),
      ...(offer.sipHeaders && { sipHeaders: offer.sipHeaders }),
      ...(offer.geo && { geo: offer.geo }),
      ...(offer.caller && { caller: offer.caller }),
      ...(offer.sip && { sip: offer.sip }),
    };
    // A job the worker would refuse is refused here, with a code, rather than acknowledged and never run.
    const checked = CallJobSchema.safeParse(job);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw fail("invalidPayload", `invalid offer: ${issue?.path.join(".") || "job"}: ${issue?.message}`);
    }
    return job;
  }

  async #store(job: CallJob): Promise<void> {
    try {
      await this.js.publish(subjects(this.opts.prefix).regionCalls(job.region), encode(job), {
        msgID: job.callSid,
        timeout: 5_000,
      });
    } catch (err) {
      const { region } = job;
      // No stream listens on the region's subject (the client calls that "jetstream is not enabled").
      const why = hasNoResponders(err)
        ? `it has no call stream (no region worker has run there; start \`switchboard region --region ${region}\`)`
        : (err as Error).message;
      throw fail("regionUnavailable", `region ${region} did not store the call: ${why}`, { cause: err });
    }
  }

  async stop(): Promise<void> {
    await this.#sub?.drain();
    await Promise.all(this.#marking);
    this.routing.stop();
    this.accounts.stop();
  }
}

/**
 * How loud a refused offer is: a region that did not store the call (90003) and the account and
 * payload faults below 12400 are the operator's to fix (warn); a bad number is the caller's (info);
 * anything that is not a SwitchboardError is a bug (error).
 */
function refusalLevel(err: unknown): "error" | "warn" | "info" {
  if (!(err instanceof SwitchboardError)) return "error";
  return err.code === 90003 || err.code < 12400 ? "warn" : "info";
}

function hasNoResponders(err: unknown): boolean {
  const cause = (err as Error | undefined)?.cause;
  return (
    (err instanceof RequestError && err.isNoResponders()) ||
    (cause instanceof RequestError && cause.isNoResponders())
  );
}
