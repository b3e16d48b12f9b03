// Outbound SIP legs: a region asks a SIP gateway to place a call (a <Dial> child leg from a SIP call,
// or an outbound REST call through a trunk), hears how its INVITE goes, and bridges it to another call
// on the same gateway (docs/sip.md, "Outbound legs"). Validated on receipt, as every wire message.
//
//   region ──originate──▶ sb.sip.<gw>.originate   (a Dial: the caller's own gateway, so media stays in one process)
//   region ──originate──▶ sb.sip.originate        (queue group "gateways": any gateway, for a REST outbound call)
//   gateway ──LegEvent──▶ sb.region.<r>.call.<legSid>.leg   (ringing, early media, answered, failed)
//   gateway ──ChannelIn─▶ sb.region.<r>.call.<legSid>.in    (after the answer, as any call: keys, hang-up)
//   region ──SipCommand─▶ sb.sip.<gw>.call.<legSid>.cmd     (as any call: say/play/record…; hangup = CANCEL before the answer)
//   region ──leg-state──▶ sb.sip.<gw>.call.<legSid>.cmd     (a resumed call: LegState, what the events said so far)
//   region ──bridge─────▶ sb.sip.<gw>.call.<parentSid>.cmd  (sip-commands.ts: RTP between the two legs)
import { z } from "zod";
import { CallSidSchema } from "./offer.js";

/** Where an outbound INVITE is sent when not to the Request-URI's own host: a trunk's signalling address. */
export const SipNextHopSchema = z.object({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65_535),
  transport: z.enum(["udp", "tcp"]),
});
export type SipNextHop = z.infer<typeof SipNextHopSchema>;

export const OriginateSchema = z.object({
  /** The leg's CallSid: its commands then go to `sb.sip.<gw>.call.<legSid>.cmd` as any call's. */
  legSid: CallSidSchema,
  /** The region its events (`.leg`) and input (`.in`) are published to. */
  region: z.string().min(1).max(32),
  /** The Request-URI: `sip:+15551234567@trunk.example.com` for a number, or the <Sip> noun's URI. */
  uri: z.string().min(5).max(2048),
  /** The From: its user part (the caller ID, E.164 or a name) and host (a trunk's from_domain). */
  from: z.object({ user: z.string().min(1).max(256), host: z.string().min(1).max(253).optional() }),
  /**
   * The outbound trunk by name (a number's or account's `outbound_trunk`). Region workers may not
   * read `sb_trunks` (docs/security.md), so a <Dial><Number> names the trunk and puts its name where
   * the URI's host goes (`sip:+15551234567@carrier`); the gateway, which reads the trunks, fills the
   * host, `nextHop`, `auth` and `from.host` from it (`throughTrunk`, src/store/trunks.ts). Added
   * after the first version of this contract: optional, so older senders still validate.
   */
  trunk: z.string().min(1).max(63).optional(),
  /** A trunk's address; absent for a <Sip> URI, which is sent where its host resolves (RFC 3263). */
  nextHop: SipNextHopSchema.optional(),
  /** Digest credentials for a 401/407 challenge (a trunk's, or the <Sip> noun's username/password). */
  auth: z.object({ username: z.string().min(1).max(256), password: z.string().max(256) }).optional(),
  /** Extra headers for the INVITE (`X-…` from a <Sip> URI's headers), names ≤ 128, values ≤ 1024. */
  headers: z.record(z.string().max(128), z.string().max(1024)).optional(),
  /** Unanswered after this long, the INVITE is cancelled (CANCEL) and the leg fails with 487/no-answer. */
  timeoutMs: z.number().int().min(1).max(600_000),
  /**
   * A call on this gateway that hears the leg while it rings: its early media (183 with SDP) when it
   * sends some, else `ringTone` (a country code as Twilio's `ringTone`, e.g. "us") played by the
   * gateway. Absent for a REST outbound call, which has no one to hear it.
   */
  ringingTo: z.object({ callSid: CallSidSchema, ringTone: z.string().max(8).optional() }).optional(),
  /**
   * A REST call's `Record=true`: the gateway records the leg from its answer to its end — what the
   * callee said and what it heard — `mono` (mixed) or `dual` (callee left, what it heard right), and
   * keeps the WAV under `id` once the leg is over, for the region's `fetch` (sip-commands.ts). Added
   * after the first version of this contract: optional, so older senders still validate.
   */
  record: z.object({ id: z.string().min(1).max(64), channels: z.enum(["mono", "dual"]) }).optional(),
  /**
   * The account whose call places the leg, for a `sip:` URI: a registered user of a realm that
   * belongs to an account (`switchboard sip --realm-account`) is rung by that account's calls only,
   * as Twilio dials a SIP domain's users from its own account only (32214). Added after the first
   * version of this contract: optional, so older senders still validate.
   */
  accountSid: z
    .string()
    .regex(/^AC[0-9a-f]{32}$/)
    .optional(),
});
export type Originate = z.infer<typeof OriginateSchema>;

/** The reply to `originate`, sent at once: the INVITE is on its way from this gateway. */
export const OriginateReplySchema = z.object({ gateway: z.string().min(1).max(64) });
export type OriginateReply = z.infer<typeof OriginateReplySchema>;

/** An X- header name a leg event may carry: `X-` and an RFC 3261 token, 128 characters at most. */
export const LEG_HEADER_NAME = /^X-[A-Za-z0-9._!%*+`'~-]{1,126}$/i;
/** At most this many X- headers of a final response travel on a leg event (the gateway keeps the first). */
export const MAX_LEG_HEADERS = 32;
/** …and at most this many characters of their names and values in all. */
export const MAX_LEG_HEADER_BYTES = 4096;

/**
 * What a <Sip>'s action gets of the INVITE's final response (DialSipCallId, DialSipHeader_X-*):
 * the leg's Call-ID, and the X- headers of the callee's 2xx or failure (names in canonical case,
 * `X-Foo`). Added after the first version of this contract: optional, so older senders validate.
 */
const FinalResponseFields = {
  callId: z.string().min(1).max(256).optional(),
  headers: z
    .record(z.string().regex(LEG_HEADER_NAME), z.string().max(1024))
    .refine((h) => Object.keys(h).length <= MAX_LEG_HEADERS, {
      message: `at most ${MAX_LEG_HEADERS} headers`,
    })
    .refine(
      (h) => Object.entries(h).reduce((n, [k, v]) => n + k.length + v.length, 0) <= MAX_LEG_HEADER_BYTES,
      {
        message: `at most ${MAX_LEG_HEADER_BYTES} characters of headers`,
      },
    )
    .optional(),
};

/** How an outbound leg's INVITE goes, on `sb.region.<r>.call.<legSid>.leg`. */
export const LegEventSchema = z.discriminatedUnion("kind", [
  /** 180, or 183 (earlyMedia: the callee's audio is relayed to `ringingTo`). */
  z.object({ kind: z.literal("ringing"), earlyMedia: z.boolean() }),
  /** 2xx received and acknowledged; RTP flows. The leg is now a call like any other on the gateway. */
  z.object({ kind: z.literal("answered"), ...FinalResponseFields }),
  /**
   * A final non-2xx (486 busy, 487 after our CANCEL or `timeoutMs`, 408 when nothing answered at
   * all, 503 when the next hop cannot be reached…), or the gateway could not place it (`sipCode` 500).
   * `headers` only when the callee sent the response (not our own 408 or 503).
   */
  z.object({
    kind: z.literal("failed"),
    sipCode: z.number().int().min(300).max(699),
    reason: z.string().max(256),
    ...FinalResponseFields,
  }),
]);
export type LegEvent = z.infer<typeof LegEventSchema>;

/**
 * The reply to `leg-state` (sip-commands.ts): what the leg's `.leg` events said so far, and when, so a
 * region that resumes the call learns it whatever it missed. Times are ms before the reply was sent
 * (no clocks compared across hosts). Added after the first version of this contract.
 */
export const LegStateSchema = z.object({
  /** A 180/183 came (a `ringing` event was published). */
  rang: z.boolean(),
  /** The final event (`answered` or `failed`) once there is one; none while the INVITE is pending. */
  final: LegEventSchema.refine((e) => e.kind !== "ringing", {
    message: "a final event is answered or failed",
  }).optional(),
  /** After an answer: how long ago it came… */
  answeredMsAgo: z.number().int().min(0).optional(),
  /** …and how long ago the leg ended (the callee's BYE, or ours), once it has. */
  endedMsAgo: z.number().int().min(0).optional(),
});
export type LegState = z.infer<typeof LegStateSchema>;

/** A decoded `.leg` message, or undefined when it is not one (ignored, as `.out` commands are). */
export function readLegEvent(value: unknown): LegEvent | undefined {
  const parsed = LegEventSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Twilio's DialCallStatus for a SIP final response (issue #17): busy, no-answer or failed. */
export function dialStatusOf(sipCode: number): "busy" | "no-answer" | "failed" {
  if (sipCode === 486 || sipCode === 600) return "busy";
  if (sipCode === 408 || sipCode === 480 || sipCode === 487) return "no-answer";
  return "failed";
}
