// The channel commands a region's call sends its SIP gateway on `sb.sip.<gateway>.call.<sid>.cmd`
// (request/reply, msgpack). Each reply comes when the command is carried out (a prompt's reply when
// its last packet is sent); `stop` cancels a command by id. Commands and replies are validated on receipt.
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";
import { RoomSidSchema } from "./room-audio.js";

const id = z.string().min(1).max(64);

export const RecordOptionsSchema = z.object({
  timeoutMs: z.number().min(0),
  maxLengthMs: z.number().positive(),
  finishOnKey: z.string().max(16),
  playBeep: z.boolean(),
  trimSilence: z.boolean(),
  /** Recognise the recording's words too, for `transcribe` (docs/sip.md "Speech"). */
  transcribe: z.boolean().optional(),
  /**
   * Names the recording within the call (its RecordingSid): a `record` with the key of the call's last
   * one, which a worker that died or handed the call over left running or unclaimed, carries that
   * recording on (no second beep) instead of starting another (docs/resume.md).
   */
  key: z.string().max(64).optional(),
});

export const ListenOptionsSchema = z.object({
  /** Silence that ends an utterance, in ms; "auto": the gateway's own end-of-speech pause. */
  speechTimeoutMs: z.union([z.number().min(0).max(60_000), z.literal("auto")]),
  /** Words and phrases to expect (Twilio's `hints`, a comma list). */
  hints: z.array(z.string().max(100)).max(500),
  language: z.string().max(32),
  /** Send unstable results while the caller speaks, where the recogniser gives them. */
  partial: z.boolean(),
});
export type ListenOptions = z.infer<typeof ListenOptionsSchema>;

/** The reply to `listen`: a Twilio warning (e.g. 13331 for a language the recogniser lacks). */
export const ListenReplySchema = z.object({
  warning: z.object({ code: z.number().int(), message: z.string().max(1024) }).optional(),
});

/** The reply to `transcribe`: "" when no words were recognised (a failed transcription). */
export const TranscribeReplySchema = z.object({
  text: z.string().max(65_536),
  confidence: z.number().min(0).max(1).optional(),
});

export const SipCommandSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("ring") }),
  z.object({ op: z.literal("answer") }),
  z.object({ op: z.literal("say"), id, text: z.string().max(8192), voice: z.string(), language: z.string() }),
  z.object({ op: z.literal("play"), id, url: z.string().max(4096), digits: z.string().max(256).optional() }),
  z.object({ op: z.literal("pause"), id, ms: z.number().min(0).max(14_400_000) }),
  z.object({ op: z.literal("record"), id, options: RecordOptionsSchema }),
  /** The next part of a finished recording's WAV, from byte `offset`. */
  z.object({ op: z.literal("fetch"), id, offset: z.number().int().min(0) }),
  /**
   * A Media Stream (`<Start>`/`<Connect><Stream>`): the gateway opens the app's WebSocket (the egress
   * policy applies, as to <Play>) and speaks Twilio's protocol on it with the call's real audio; with
   * `bidirectional`, the app's `media` is played to the caller. Answered once the socket is open
   * (31920/31901 when it cannot open); `stop` with the id ends it.
   */
  z.object({
    op: z.literal("stream"),
    id,
    url: z.string().max(4096),
    streamSid: z.string().min(1).max(64),
    accountSid: z.string().max(64),
    callSid: z.string().max(64),
    track: z.enum(["inbound_track", "outbound_track", "both_tracks"]),
    parameters: z.record(z.string().max(256), z.string().max(4096)),
    bidirectional: z.boolean(),
  }),
  /** Answered (StreamEndedReply) when the stream `id` has ended; a stream lives as long as this waits. */
  z.object({ op: z.literal("stream-ended"), id }),
  z.object({ op: z.literal("stop"), id }),
  z.object({ op: z.literal("hangup") }),
  z.object({ op: z.literal("reject"), reason: z.enum(["rejected", "busy"]) }),
  /**
   * Connects this call's RTP to an outbound leg's on the same gateway (sip-legs.ts), transcoding
   * PCMU↔PCMA where they differ and passing RFC 4733 keys both ways. Answered when either side hangs
   * up or on `stop`; with `record`, the reply is the bridge's recording (as `record`'s: slices by
   * `fetch`), one channel for both parties or `dual`: the caller left, the leg right.
   */
  z.object({
    op: z.literal("bridge"),
    id,
    legSid: z.string().regex(/^CA[0-9a-f]{32}$/),
    record: z.enum(["none", "mono", "dual"]),
  }),
  /**
   * Joins the call's audio to a room (a conference, a queue bridge) whose members may be on other
   * gateways: it hears the mix of the others, and its own audio is published unless muted or held
   * (room-audio.ts). Answered when `stop` with the id leaves the room (or the call ends).
   */
  z.object({
    op: z.literal("room"),
    id,
    roomSid: RoomSidSchema,
    muted: z.boolean(),
    /** Held: neither heard nor hearing the room (the region plays the hold music meanwhile). */
    hold: z.boolean(),
    /** A coach: only this CallSid hears it. */
    coachOf: z.string().max(64).optional(),
    beep: z.object({ enter: z.boolean(), exit: z.boolean() }),
  }),
  /** Changes how the call is in the room `id` (mute, hold, coach), as REST or TwiML asked. */
  z.object({
    op: z.literal("room-update"),
    id,
    muted: z.boolean(),
    hold: z.boolean(),
    coachOf: z.string().max(64).optional(),
  }),
  /**
   * Records the room's mix (every member; coaches, as in Twilio's recording, left out) on this call's
   * gateway until `stop` with the id, which is answered with the recording as `record` is (`fetch` slices).
   */
  z.object({ op: z.literal("room-record"), id, roomSid: RoomSidSchema }),
  /**
   * Listens for speech during a Gather (docs/sip.md "Speech"): voice activity detection on the
   * caller's audio sends `speechStarted` on `.in`, then, after `speechTimeoutMs` of silence (or the
   * recogniser's own end with `auto`), the recognised `speech` (or `speechEnded`). Answered at once,
   * with a Twilio warning when the language is one the recogniser lacks; `stop` ends the listening.
   */
  z.object({ op: z.literal("listen"), id, options: ListenOptionsSchema }),
  /** The words of a finished recording made with `transcribe` (answered when recognised). */
  z.object({ op: z.literal("transcribe"), id }),
  /**
   * `<Refer>`: asks the call's SIP endpoint to transfer it to `target` (a REFER with Refer-To), and is
   * answered (ReferReply) with the REFER's final response and, once accepted, the status the
   * endpoint's NOTIFYs last reported. `stop` with the id stops waiting for them.
   */
  z.object({
    op: z.literal("refer"),
    id,
    target: z
      .string()
      .regex(/^sips?:\S+$/i)
      .max(1024),
  }),
  /** Is the call still there? (a long prompt's requester asks now and then) */
  z.object({ op: z.literal("ping") }),
  /**
   * How an outbound leg (sip-legs.ts) has gone so far, answered with a LegState by the gateway that
   * placed it, also after the leg ended (for a while): a region that resumes a call whose leg rang
   * learns what it missed while no worker listened on `.leg`. 90010 for a leg the gateway does not know.
   */
  z.object({ op: z.literal("leg-state") }),
]);
export type SipCommand = z.infer<typeof SipCommandSchema>;

/**
 * The reply to `record`, and to each `fetch`: a slice of the WAV from `offset`, so no message is over
 * NATS's limit. Every other command's reply is an empty map (or an error reply, service-error.ts).
 */
export const RecordReplySchema = z
  .object({
    durationMs: z.number().min(0),
    digits: z.string().max(64),
    /** The whole WAV's size, in bytes. */
    size: z
      .number()
      .int()
      .min(0)
      .max(1 << 30),
    offset: z.number().int().min(0),
    chunk: z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "chunk must be bytes" }),
  })
  .refine((r) => r.offset + r.chunk.length <= r.size, { message: "chunk runs past the recording's size" });
export type RecordReply = z.infer<typeof RecordReplySchema>;

/** Validates a decoded `record` or `fetch` reply (90002 when it is not one). */
export function parseRecordReply(value: unknown): RecordReply {
  const parsed = RecordReplySchema.safeParse(value);
  if (!parsed.success)
    throw fail("invalidPayload", `invalid record reply: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** The reply to `refer`: the REFER's final status, and the last NOTIFY's sipfrag status if any came. */
export const ReferReplySchema = z.object({
  referCode: z.number().int().min(100).max(699),
  notifyCode: z.number().int().min(100).max(699).optional(),
});
export type ReferReply = z.infer<typeof ReferReplySchema>;

/** The reply to `stream-ended`: who closed the socket, and the first message of the app's it refused (31951). */
export const StreamEndedReplySchema = z.object({
  by: z.enum(["server", "engine"]),
  invalid: z.string().max(1024).optional(),
});
export type StreamEndedReply = z.infer<typeof StreamEndedReplySchema>;

/** Validates a decoded `stream-ended` reply (90002 when it is not one). */
export function parseStreamEndedReply(value: unknown): StreamEndedReply {
  const parsed = StreamEndedReplySchema.safeParse(value);
  if (!parsed.success)
    throw fail("invalidPayload", `invalid stream-ended reply: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** WAV bytes per reply: well under NATS's default 1 MiB max_payload. */
export const WAV_CHUNK = 512 * 1024;
