// An outbound call (REST `POST Calls.json`): what the api puts in the request's region's call
// stream on `sb.region.<R>.outbound`, beside the job, and the worker runs (docs/outbound.md).
import { z } from "zod";

const method = z.enum(["GET", "POST"]);

/** Twilio's StatusCallbackEvent values for a call placed over REST. */
export const OUTBOUND_EVENTS = ["initiated", "ringing", "answered", "completed"] as const;
export type OutboundEvent = (typeof OUTBOUND_EVENTS)[number];

/** Twilio's `Twiml` parameter: at most 4000 characters (32018). */
export const MAX_TWIML_CHARS = 4000;

/**
 * The trunk an outbound call to a number goes out through (its From number's, else its account's):
 * resolved by the api, which may read `sb_trunks` (a region may not). No secret: the gateway adds the
 * trunk's credentials itself, by `name` (sip-legs.ts).
 */
export const OutboundTrunkSchema = z.object({
  name: z.string().min(1).max(63),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65_535),
  transport: z.enum(["udp", "tcp"]),
  /** The host put in From (the trunk's from_domain; default its host). */
  fromDomain: z.string().max(253).optional(),
});
export type OutboundTrunk = z.infer<typeof OutboundTrunkSchema>;

/** A call's TimeLimit is at most Twilio's maximum call duration: 4 hours. */
export const MAX_TIME_LIMIT_S = 4 * 60 * 60;

/** The REST parameters a region needs to place and run the call; the rest of the job is a call's. */
export const OutboundSchema = z
  .object({
    /** The document to run once the callee answers; exactly one of url and twiml. */
    url: z.string().max(4096).optional(),
    method,
    twiml: z.string().max(MAX_TWIML_CHARS).optional(),
    fallbackUrl: z.string().max(4096).optional(),
    fallbackMethod: method,
    statusCallback: z
      .object({ url: z.string().max(4096), method, events: z.array(z.enum(OUTBOUND_EVENTS)).max(4) })
      .optional(),
    /** Seconds the callee may ring before the call ends no-answer (Twilio: default 60, at most 600). */
    timeoutS: z.number().int().min(1).max(600),
    /**
     * REST `TimeLimit`: seconds the call may last once answered; then it ends `completed`, as a
     * <Hangup> would end it. At most the maximum call duration (4 h), which holds without it.
     * Added after the first version of this contract: optional, so older jobs still validate.
     */
    timeLimitS: z.number().int().min(1).max(MAX_TIME_LIMIT_S).optional(),
    /** Keys sent once the callee answers, before the TwiML runs (`w` waits 0.5 s, `W` 1 s). */
    sendDigits: z
      .string()
      .regex(/^[0-9A-D#*wW]{1,32}$/)
      .optional(),
    /**
     * The From's SID (its number's, or its verified caller ID's): the call's phone_number_sid, since
     * the region the call runs in may hold no config of that number. Optional: older jobs lack it.
     */
    fromSid: z
      .string()
      .regex(/^PN[0-9a-fA-F]{32}$/)
      .optional(),
    /** Where a call to a number that switchboard does not host goes: absent, the simulated network. */
    trunk: OutboundTrunkSchema.optional(),
    /**
     * The request named a Twiml beside its Url: the Url runs and the Twiml is dropped, and the call
     * records warning 32019 once its region takes it, as Twilio does. Optional: older jobs lack it.
     */
    twimlIgnored: z.literal(true).optional(),
    /** REST `Record=true`: the answered call is kept as a Recording (source OutboundAPI). */
    record: z
      .object({
        channels: z.union([z.literal(1), z.literal(2)]),
        /** RecordingStatusCallback: told `completed` (the only event a REST recording has here). */
        statusCallback: z.object({ url: z.string().max(4096), method }).optional(),
      })
      .optional(),
  })
  .refine((o) => (o.url === undefined) !== (o.twiml === undefined), {
    message: "an outbound call has exactly one of url and twiml",
  });
export type Outbound = z.infer<typeof OutboundSchema>;
