// A call offer (DESIGN.md §3, contract): what anyone publishes to `sb.edge.<edge>.offer` to place
// a call, validated on receipt with Twilio's codes for bad numbers, and the edge's reply.
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";
import { isCallerId, isE164 } from "../model/phone.js";
import { isSid } from "../model/sid.js";
import { encode } from "./codec.js";
import { readReply } from "./service-error.js";
import { NAME_PATTERN, subjects } from "./subjects.js";

/** How a party a <Dial> rings (one switchboard does not host) behaves on the simulated network. */
export const CalleeSchema = z.object({
  outcome: z.enum(["answer", "busy", "no-answer", "failed"]),
  /** Seconds of ringing before it answers (or is busy); default 5 (busy: 1). */
  answerAfter: z.number().nonnegative().max(86_400).optional(),
  /** Seconds it talks once bridged before it hangs up; default 30. */
  talk: z.number().positive().max(86_400).optional(),
  /** Keys it presses to its whisper's <Gather>s (`<Number url>`): one entry each, as the caller's. */
  digits: z.union([z.array(z.string().max(64)).max(100), z.string().max(64)]).optional(),
});
export type Callee = z.infer<typeof CalleeSchema>;

/** The simulated caller's script, carried with the call so it plays in the call's own time. */
export const CallerScriptSchema = z.object({
  /** Each entry answers the next Gather with these keys. */
  digits: z.array(z.string().max(64)).max(100).optional(),
  /** Each entry answers the next speech Gather with this text. */
  speech: z.array(z.string().max(4096)).max(100).optional(),
  /**
   * Each entry answers the next Record: the caller talks for `seconds` (else as long as `text` takes
   * to say), then presses `key` if given, else falls silent. With no entry the caller stays silent.
   */
  recordings: z
    .array(
      z.object({
        text: z.string().max(4096).optional(),
        seconds: z.number().min(0).max(14_400).optional(),
        key: z
          .string()
          .regex(/^[0-9#*]$/)
          .optional(),
      }),
    )
    .max(100)
    .optional(),
  /** The caller hangs up this many seconds after the call is answered. */
  hangupAfter: z.number().positive().max(86_400).optional(),
  /** 0 runs without waiting (simulated time), 1 is real time. */
  timeScale: z.number().min(0).max(1).optional(),
  /** Dialed targets (`+1555…`, `client:alice`, `sip:bob@example.com`) by how they answer. */
  callees: z.record(z.string().max(300), CalleeSchema).optional(),
  /** Each entry: the caller presses * this many seconds into the next <Dial> bridge (hangupOnStar). */
  starAfter: z.array(z.number().nonnegative().max(86_400)).max(100).optional(),
});
export type CallerScript = z.infer<typeof CallerScriptSchema>;

/** Where a SIP call's audio is: the gateway that holds its RTP, and the call's SIP Call-ID. */
export const SipLegSchema = z.object({
  gateway: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  callId: z.string().min(1).max(256),
  /** The address the INVITE came from (Twilio's SipSourceIp). */
  sourceIp: z.string().max(64).optional(),
});
export type SipLeg = z.infer<typeof SipLegSchema>;

// The geographic parameters Twilio sends (params.ts adds the legacy CallerCity… copies).
export const GEO_KEYS = [
  "FromCity",
  "FromState",
  "FromZip",
  "FromCountry",
  "ToCity",
  "ToState",
  "ToZip",
  "ToCountry",
];

/**
 * A CallSid as the region stores and runs it: lower-case hex only, so that the edge refuses what a
 * worker would not run (the call job uses this same schema).
 */
export const CallSidSchema = z
  .string()
  .regex(/^CA[0-9a-f]{32}$/, { message: "callSid must be CA followed by 32 lower-case hex digits" });

export const OfferSchema = z.object({
  to: z.string().max(64),
  from: z.string().max(300),
  callSid: CallSidSchema.optional(),
  accountSid: z.string().optional(),
  /** SIP headers passed to the webhook as SipHeader_<name>. */
  sipHeaders: z.record(z.string().max(128), z.string().max(1024)).optional(),
  /** Twilio's geographic parameters (FromCity, ToCountry, …) when the edge knows them. */
  geo: z
    .record(z.string(), z.string().max(128))
    .refine((g) => Object.keys(g).every((k) => GEO_KEYS.includes(k)), { message: `geo keys: ${GEO_KEYS}` })
    .optional(),
  caller: CallerScriptSchema.optional(),
  /** A call from a SIP gateway: the region sends its channel commands there (docs/sip.md). */
  sip: SipLegSchema.optional(),
});
export type Offer = z.infer<typeof OfferSchema>;

/** The region numbers with no route go to, as on Twilio. */
export const DEFAULT_REGION = "us1";

/** The edge's reply once the region's stream has stored the call. */
export const OfferReplySchema = z.object({
  callSid: CallSidSchema,
  region: z.string().regex(NAME_PATTERN),
});
export type OfferReply = z.infer<typeof OfferReplySchema>;

/** Places a call through an edge and returns its sid and region (throws the edge's error). */
export async function offerCall(
  nc: NatsConnection,
  edge: string,
  offer: Offer,
  opts: { prefix?: string; timeoutMs?: number } = {},
): Promise<OfferReply> {
  const msg = await nc.request(subjects(opts.prefix).edgeOffer(edge), encode(offer), {
    timeout: opts.timeoutMs ?? 10_000,
  });
  const reply = OfferReplySchema.safeParse(readReply(msg));
  if (!reply.success) throw fail("invalidPayload", `invalid offer reply: ${reply.error.issues[0]?.message}`);
  return reply.data;
}

/** Validates a decoded offer: 90002 for a wrong shape, 21211/21212 for bad numbers. */
export function parseOffer(value: unknown): Offer {
  const result = OfferSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw fail("invalidPayload", `invalid offer: ${issue?.path.join(".") || "payload"}: ${issue?.message}`);
  }
  const offer = result.data;
  if (!isE164(offer.to)) throw fail("invalidToNumber", `'To' is not an E.164 number: ${offer.to}`);
  if (!isCallerId(offer.from))
    throw fail("invalidFromNumber", `'From' is not a valid caller ID: ${offer.from}`);
  if (offer.accountSid !== undefined && !isSid("AC", offer.accountSid)) {
    throw fail("invalidPayload", `invalid offer: accountSid must be AC followed by 32 hex digits`);
  }
  return offer;
}
