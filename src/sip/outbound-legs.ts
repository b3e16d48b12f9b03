// Outbound legs (sip-legs.ts): a region asks this gateway to place a call; the gateway answers at
// once with its name, sends the INVITE (a trunk's next hop, or where the URI resolves; digest on a
// challenge), reports how it goes on the leg's `.leg` subject, and once answered runs it as any call.
import type { Socket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { fail } from "../errors/switchboard-error.js";
import type { Logger } from "../log.js";
import type { TrunkRecord } from "../model/trunk.js";
import type { ChannelIn } from "../protocol/channel-events.js";
import { decode, encode, encodingOf } from "../protocol/codec.js";
import { respondError, respondValue } from "../protocol/service-error.js";
import {
  LEG_HEADER_NAME,
  type LegEvent,
  MAX_LEG_HEADER_BYTES,
  MAX_LEG_HEADERS,
  type Originate,
  OriginateSchema,
} from "../protocol/sip-legs.js";
import type { subjects } from "../protocol/subjects.js";
import { throughTrunk } from "../store/trunks.js";
import { infoKey, type SipDialogs } from "./dialogs.js";
import type { LegStates } from "./leg-states.js";
import { CallRecorder } from "./media/call-recorder.js";
import type { FinishedRecordings } from "./media/finished-recordings.js";
import type { Pacer } from "./media/pacer.js";
import { RtpSession } from "./media/rtp-session.js";
import type { RegisteredTarget } from "./registered-target.js";
import { Ringing } from "./ringing.js";
import { SdpSession } from "./sdp-session.js";
import type { SipCall } from "./sip-call.js";
import { ForkedInvite } from "./ua/forked-invite.js";
import { OutboundDialog, type OutboundInvite } from "./ua/outbound-dialog.js";
import type { Hop, SipMessage } from "./ua/stack.js";
import { fitHeaders, xHeadersOf } from "./x-headers.js";

/** What placing a leg needs from its gateway. */
export interface LegContext {
  nc: NatsConnection;
  subjects: ReturnType<typeof subjects>;
  gateway: string;
  log: Logger;
  sip: SipDialogs;
  pacer: Pacer;
  /** The address in our SDP. */
  mediaAddress: string;
  /** The From host when the originate names none: our advertised address. */
  fromHost: string;
  stopping(): boolean;
  allocateRtp(): Promise<Socket>;
  /** Whether `address` is in a network allowed to call the gateway (its trunks' among them). */
  mayCall(address: string): boolean;
  nextSessionId(): number;
  /** Makes the leg a call of the gateway (in `calls`, ended by the region's `.out`). */
  newCall(opts: {
    callSid: string;
    dialog: OutboundDialog | ForkedInvite;
    rtp: RtpSession;
    answerSdp: string;
    input(event: ChannelIn): void;
  }): SipCall;
  /** A call of this gateway (the one that hears a leg ring). */
  call(callSid: string): SipCall | undefined;
  /** Where finished recordings wait for their region's `fetch` (a REST call's `Record=true`). */
  recordings: FinishedRecordings;
  /** A trunk by name, from the gateway's watched copy of `sb_trunks`; none without one. */
  trunk(name: string): TrunkRecord | undefined;
  /** What each leg reported, for `leg-state` (a resumed call asks). */
  legs: LegStates;
  /**
   * Where a leg to a registered user's address of record goes, when `accountSid`'s call may ring
   * it; undefined for any other URI.
   */
  registered(uri: string, accountSid: string | undefined): RegisteredTarget | undefined;
}

/** Handles one `originate` request: the reply at once, then the INVITE. */
export async function originate(ctx: LegContext, msg: Msg): Promise<void> {
  let o: Originate;
  try {
    const parsed = OriginateSchema.safeParse(decode(msg.data, encodingOf(msg.headers)));
    if (!parsed.success)
      throw fail("invalidPayload", `invalid originate: ${parsed.error.issues[0]?.message}`);
    o = parsed.data;
  } catch (err) {
    respondError(msg, err);
    return;
  }
  // Known before the reply goes: a region may ask `leg-state` as soon as it has the reply.
  ctx.legs.placed(o.legSid);
  respondValue(msg, { gateway: ctx.gateway });
  const publish = (event: LegEvent) => {
    ctx.legs.saw(o.legSid, event);
    ctx.nc.publish(ctx.subjects.callLeg(o.region, o.legSid), encode(event));
  };
  let call: SipCall | undefined;
  const failed = (sipCode: number, reason: string, final?: FinalResponse) => {
    ctx.log.info({ legSid: o.legSid, sipCode, reason }, "outbound leg failed");
    publish({ kind: "failed", sipCode, reason: reason.slice(0, 256), ...final });
    // Not placed at all: over now (a placed leg is over when its call is, below).
    if (!call) ctx.legs.ended(o.legSid);
  };
  if (ctx.stopping()) return failed(503, "The gateway is stopping");
  if (o.trunk !== undefined) {
    // Regions name the trunk; its host and credentials are read here, where the secret may be.
    // A REST call's job carries the trunk's address (the api read it) but never its password.
    const trunk = ctx.trunk(o.trunk);
    if (trunk) o = throughTrunk(o, trunk);
    else if (!o.nextHop) return failed(503, `Trunk ${o.trunk} is not known to this gateway`);
  }
  // A registered user's phones: each Contact, where its REGISTER came from, its address of record in To.
  const registered = o.nextHop ? undefined : ctx.registered(o.uri, o.accountSid);
  if (registered?.kind === "foreign")
    return failed(403, `${registered.aor} belongs to another account (32214)`);
  if (registered?.kind === "unregistered") return failed(480, `${registered.aor} is not registered`);
  if (registered?.kind === "unreachable") return failed(480, `No phone of ${registered.aor} answers`);
  const phones = registered?.phones;
  const hop: Hop | undefined = phones
    ? phones[0]?.hop
    : o.nextHop
      ? { protocol: o.nextHop.transport.toUpperCase(), address: o.nextHop.host, port: o.nextHop.port }
      : await ctx.sip.stack.resolve(o.uri);
  if (!hop) return failed(503, `Cannot resolve ${o.uri}`);
  // A trunk's host may be a name: its media comes from an address. Of several phones, RTP is taken
  // from any until one sends early media or answers, then from that one only.
  const forkAddresses = phones ? phones.map((p) => [p.hop.address]) : [await addressesOf(hop.address)];
  let hopAddresses = forkAddresses.flat();
  let socket: Socket;
  try {
    socket = await ctx.allocateRtp();
  } catch (err) {
    ctx.log.warn({ err }, "no RTP port free");
    return failed(503, "No RTP port free");
  }
  /** `Record=true` (a REST call's): the whole leg, what the callee says and hears, from its answer. */
  let whole: CallRecorder | undefined;
  const rtp = new RtpSession(
    socket,
    ctx.pacer,
    undefined,
    { codec: "PCMU", codecPt: 0, dtmfPt: 101 },
    {
      key: (k) => call?.key(k),
      audio: (packet, pcm) => {
        whole?.audio(packet, pcm);
        call?.audio(packet, pcm);
      },
      hears: () => whole !== undefined || (call?.hearing ?? false),
      sent: (pcm, frame) => {
        whole?.sent(pcm, frame);
        call?.sent(pcm);
      },
      stranger: (address) => ctx.log.warn({ callSid: o.legSid, address }, "RTP from a stranger dropped"),
    },
    // Beside the answer's address: the next hop's (a callee behind NAT), and who may call.
    (address) => hopAddresses.includes(address) || ctx.mayCall(address),
  );
  const session = new SdpSession(rtp, ctx.mediaAddress, ctx.nextSessionId());
  const sdp = session.offer();
  const invite: OutboundInvite = {
    uri: o.uri,
    from: `sip:${escapeUser(o.from.user)}@${o.from.host ?? ctx.fromHost}`,
    contact: ctx.sip.contact,
    hop,
    sdp,
    timeoutMs: o.timeoutMs,
    ...(o.auth && { auth: o.auth }),
    ...(o.headers && { headers: o.headers }),
  };
  const dialog = registered
    ? new ForkedInvite(
        ctx.sip.stack,
        registered.phones.map((p) => ({ ...invite, uri: p.uri, to: registered.to, hop: p.hop, flow: p.hop })),
        (sdp) => !("refused" in SdpSession.read(sdp)),
      )
    : new OutboundDialog(ctx.sip.stack, invite);
  const leg = ctx.newCall({
    callSid: o.legSid,
    dialog,
    rtp,
    answerSdp: sdp,
    input: (event) => ctx.nc.publish(ctx.subjects.callIn(o.region, o.legSid), encode(event)),
  });
  call = leg;
  const ringing = o.ringingTo
    ? new Ringing(ctx.call(o.ringingTo.callSid), leg, o.ringingTo.ringTone)
    : undefined;
  void leg.done.then(() => {
    ringing?.stop();
    ctx.legs.ended(o.legSid);
  });
  dialog.on = {
    ringing: (status, answer) => {
      // 183 with SDP: the callee's early media, which the ringing relay passes on.
      const early = status === 183 && answer !== undefined && session.answered(answer);
      if (early && dialog instanceof ForkedInvite)
        hopAddresses = forkAddresses[dialog.earlyMediaBy ?? 0] ?? [];
      publish({ kind: "ringing", earlyMedia: early });
      ringing?.ringing(early);
    },
    answered: (answer, rs) => {
      ringing?.stop();
      if (dialog instanceof ForkedInvite) hopAddresses = forkAddresses[dialog.answeredBy ?? 0] ?? [];
      const final = finalResponse(dialog.callId, rs);
      if (answer !== undefined && !session.answered(answer)) {
        failed(488, "The answer has no PCMU or PCMA audio", final);
        leg.abandon();
        dialog.bye().catch(() => {});
        return;
      }
      // Recording from the first frame the callee hears: its length is the answered call's.
      if (o.record) whole = recordWhole(ctx, leg, o.record);
      leg.rtp.start(performance.now());
      ctx.log.info({ legSid: o.legSid, callId: dialog.callId }, "outbound leg answered");
      publish({ kind: "answered", ...final });
    },
    failed: (status, reason, rs) => {
      ringing?.stop();
      failed(status, reason, finalResponse(dialog.callId, rs));
      leg.abandon();
    },
    bye: () => leg.callerEnded("bye"),
    info: (type, body) => {
      const k = infoKey(type, body);
      if (k !== undefined) leg.key(k);
    },
    offer: (offer) => session.reoffer(offer),
  };
  ctx.sip.track(dialog);
  ctx.log.info(
    { legSid: o.legSid, uri: o.uri, hop, callId: dialog.callId, ...(phones && { phones: phones.length }) },
    "placing an outbound leg",
  );
  dialog.start();
}

type FinalResponse = Pick<Extract<LegEvent, { kind: "failed" }>, "callId" | "headers">;

/**
 * The leg's Call-ID and the X- headers of the callee's final response, as a leg event carries them:
 * names the schema takes, the first MAX_LEG_HEADERS within MAX_LEG_HEADER_BYTES (a callee may send
 * any number; what a webhook gets stays small). No headers for a failure of our own (408, 503).
 */
function finalResponse(callId: string, rs: SipMessage | undefined): FinalResponse {
  const named = Object.entries(rs ? xHeadersOf(rs) : {}).filter(([name]) => LEG_HEADER_NAME.test(name));
  const headers = fitHeaders(Object.fromEntries(named), {
    maxBytes: MAX_LEG_HEADER_BYTES,
    maxCount: MAX_LEG_HEADERS,
  });
  return { callId, ...(Object.keys(headers).length > 0 && { headers }) };
}

/**
 * Records the answered leg until it ends (either side's BYE, the region's hang-up, the gateway
 * stopping), then keeps the WAV under `id` for the region's `fetch` — before the region can hear of
 * the end: `done` resolves as the leg ends, ahead of the hang-up it publishes or the reply it sends.
 */
function recordWhole(ctx: LegContext, leg: SipCall, record: NonNullable<Originate["record"]>): CallRecorder {
  const recorder = new CallRecorder(record.channels);
  void leg.done.then(() => ctx.recordings.keep(record.id, recorder.stop()));
  return recorder;
}

/** A From user part as RFC 3261 §25.1 allows it (unreserved, user-unreserved; the rest %-escaped). */
export function escapeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) =>
    [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
}

/** The IP addresses `host` stands for (itself when it is one); none when it does not resolve. */
async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}
