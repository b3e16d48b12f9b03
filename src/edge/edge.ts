// The edge: answers call offers on `sb.edge.<edge>.offer`, picks the number's region from its
// copy of the routing table (unrouted numbers go to us1, as on Twilio), and replies only after the
// region's stream has stored the call, so an acknowledged call is never lost.
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
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
import { openEdgeStores, openRoutingReplica } from "../store/global.js";
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

  private constructor(
    private readonly opts: EdgeOptions,
    private readonly js: JetStreamClient,
    readonly routing: WatchedKv<RoutingEntry>,
    /** Which accounts exist (`sb_account_status`): an edge never reads `sb_accounts` and its tokens. */
    private readonly accounts: WatchedKv<AccountStatus>,
  ) {}

  static async start(opts: EdgeOptions): Promise<Edge> {
    const global = await openEdgeStores(opts.nc);
    const replica = await openRoutingReplica(opts.nc, global, opts.routingStream);
    const [routing, accounts] = await Promise.all([
      WatchedKv.start<RoutingEntry>(replica.kv),
      WatchedKv.start<AccountStatus>(global.accountStatus.kv),
    ]);
    const edge = new Edge(opts, jetstream(opts.nc), routing, accounts);
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
      const level = err instanceof SwitchboardError && err.code < 12400 ? "error" : "info";
      this.opts.log[level === "error" ? "warn" : "info"]({ err: String(err) }, "offer refused");
      if (msg.reply) respondError(msg, err);
    }
  }

  /** Stores the call in its region's stream; the same CallSid offered twice is one call. */
  async accept(offer: Offer): Promise<OfferReply> {
    const route = this.routing.get(numberKey(offer.to));
    // A SIP call to a number nobody hosts is refused here (the gateway answers 404), not run in the
    // default region only to fail there: a carrier retries elsewhere on a 404, not on a late 480.
    if (!route && offer.sip) throw fail("notFound", `${offer.to} is not a number switchboard hosts`);
    for (const sid of [offer.accountSid, route?.accountSid]) {
      if (sid && !this.accounts.has(sid)) throw fail("notFound", `unknown account ${sid}`);
    }
    const region = route?.region ?? DEFAULT_REGION;
    const callSid = offer.callSid ?? newSid("CA");
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
    // The worker parses the job with this schema: a job it would refuse is refused here, with a code,
    // rather than acknowledged and never run.
    const checked = CallJobSchema.safeParse(job);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw fail("invalidPayload", `invalid offer: ${issue?.path.join(".") || "job"}: ${issue?.message}`);
    }
    try {
      await this.js.publish(subjects(this.opts.prefix).regionCalls(region), encode(job), {
        msgID: callSid,
        timeout: 5_000,
      });
    } catch (err) {
      throw fail("regionUnavailable", `region ${region} did not store the call: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { callSid, region };
  }

  async stop(): Promise<void> {
    await this.#sub?.drain();
    this.routing.stop();
    this.accounts.stop();
  }
}
