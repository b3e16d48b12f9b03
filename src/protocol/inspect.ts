// Inspection events, as a worker publishes them on `sb.region.<r>.inspect.<sid>` (kept by stream
// SB_INSPECT_<R>) for the visualizer, `switchboard call` and the Events resource. One message holds a
// batch: every event the call had since its last message, in order (region/inspect/inspector.ts).
import { z } from "zod";
import { ChannelOutSchema } from "./channel-events.js";
import { decode } from "./codec.js";

const StateEvent = z.object({
  type: z.literal("state"),
  /** The machine's state value, e.g. "routed" or {"executing-twiml": "Say"}. */
  value: z.unknown(),
  /** The call's Twilio status at that moment. */
  status: z.string(),
  /** The event that caused the change (e.g. "xstate.done.actor.0.call.fetching-webhook"). */
  event: z.string(),
  /** The verb being run, when executing TwiML. */
  verb: z.object({ name: z.string(), index: z.number() }).nullable(),
  /** The URL of the TwiML document being run. */
  documentUrl: z.string().nullable(),
});

const WebhookRequestEvent = z.object({
  type: z.literal("webhook.request"),
  url: z.string(),
  method: z.string(),
  params: z.record(z.string(), z.string()),
});

const WebhookResponseEvent = z.object({
  type: z.literal("webhook.response"),
  url: z.string(),
  status: z.number(),
  contentType: z.string().optional(),
  durationMs: z.number(),
  body: z.string().optional(),
});

/** A webhook request that failed: no response, an error status, or a response that could not be used. */
const WebhookErrorEvent = z.object({
  type: z.literal("webhook.error"),
  url: z.string(),
  code: z.number(),
  message: z.string(),
  httpStatus: z.number().optional(),
  durationMs: z.number(),
  /** What the server answered with its error status: headers and the body's first 64 KB. */
  response: z
    .object({
      status: z.number(),
      headers: z.record(z.string(), z.string()),
      contentType: z.string().optional(),
      body: z.string(),
      truncated: z.boolean().optional(),
    })
    .optional(),
});

/** A command the call sent on its channel (`.out`), in its place among the call's events. */
const ChannelEvent = z.object({ type: z.literal("channel"), command: ChannelOutSchema });

/** The call was taken over from a worker that died, and goes on from its last snapshot. */
const ResumedEvent = z.object({ type: z.literal("resumed"), worker: z.string(), from: z.string() });

const NotificationEvent = z.object({
  type: z.literal("notification"),
  code: z.number(),
  level: z.enum(["error", "warning"]),
  message: z.string(),
  requestUrl: z.string().optional(),
});

export const InspectEventSchema = z.discriminatedUnion("type", [
  StateEvent,
  WebhookRequestEvent,
  WebhookResponseEvent,
  WebhookErrorEvent,
  ChannelEvent,
  ResumedEvent,
  NotificationEvent,
]);
export type InspectEvent = z.infer<typeof InspectEventSchema>;

/** What every published event carries: the call, the worker's time and sequence number, the call's clock. */
const EnvelopeFields = z.object({
  callSid: z.string(),
  at: z.number(),
  seq: z.number(),
  clockAt: z.number().optional(),
});

export const InspectEnvelopeSchema = z.intersection(InspectEventSchema, EnvelopeFields);
export type InspectEnvelope = z.infer<typeof InspectEnvelopeSchema>;

/**
 * The events one inspection message holds, in order: an array (a batch), or, from a stream written
 * before batching, one event. An event that fails the schema (a newer worker's kind) is left out;
 * throws if the payload does not decode.
 */
export function inspectEnvelopes(data: Uint8Array): InspectEnvelope[] {
  const decoded = decode(data);
  const events: InspectEnvelope[] = [];
  for (const value of Array.isArray(decoded) ? decoded : [decoded]) {
    const parsed = InspectEnvelopeSchema.safeParse(value);
    if (parsed.success) events.push(parsed.data);
  }
  return events;
}
