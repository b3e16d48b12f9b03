// What a call does on its channel and what the channel reports, as published on
// `sb.region.<r>.call.<sid>.out` and read from `.in` (DESIGN.md §3).
import { z } from "zod";
import { CALL_STATUSES, type CallStatus } from "../model/records.js";

export const CallStatusSchema = z.enum(CALL_STATUSES);
// The model's status list and this one must stay the same list.
type SameStatuses = [z.infer<typeof CallStatusSchema>, CallStatus] extends [
  CallStatus,
  z.infer<typeof CallStatusSchema>,
]
  ? true
  : never;
const sameStatuses: SameStatuses = true;
void sameStatuses;

/** A command the call sends its channel on `.out`. */
export const ChannelOutSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ringing") }),
  z.object({ kind: z.literal("answer") }),
  z.object({ kind: z.literal("say"), text: z.string(), voice: z.string(), language: z.string() }),
  z.object({ kind: z.literal("play"), url: z.string() }),
  z.object({ kind: z.literal("pause"), length: z.number() }),
  /** A Gather started listening. */
  z.object({ kind: z.literal("gather"), input: z.array(z.string()), finishOnKey: z.string() }),
  /** A Record started: what ends it (seconds; timeout 0 = silence never does). */
  z.object({
    kind: z.literal("record"),
    finishOnKey: z.string(),
    timeout: z.number(),
    maxLength: z.number(),
    beep: z.boolean(),
  }),
  /** `<Play digits>` sent DTMF to the caller. */
  z.object({ kind: z.literal("digits"), digits: z.string() }),
  /** The caller is bridged to a <Dial> leg (its CallSid and To). */
  z.object({ kind: z.literal("dial"), callSid: z.string(), to: z.string() }),
  z.object({ kind: z.literal("hangup") }),
  z.object({ kind: z.literal("reject"), reason: z.enum(["rejected", "busy"]) }),
  /** Published after the Call resource is stored: the call is over. */
  z.object({ kind: z.literal("ended"), status: CallStatusSchema, region: z.string() }),
]);
export type ChannelOut = z.infer<typeof ChannelOutSchema>;

/** Live input from the channel: the caller's keys and speech, or the caller hanging up. */
export const ChannelInSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("hangup") }),
  z.object({ kind: z.literal("digits"), digits: z.string().regex(/^[0-9A-D#*]{1,64}$/) }),
  /**
   * What the caller said. From a SIP gateway's recogniser: its confidence (0–1) when the engine gives
   * one, and `partial` for an unstable result while the caller still speaks (partialResultCallback).
   */
  z.object({
    kind: z.literal("speech"),
    text: z.string().min(1).max(4096),
    confidence: z.number().min(0).max(1).optional(),
    partial: z.boolean().optional(),
  }),
  /** A gateway heard the caller start speaking during a speech Gather (barge-in stops the prompts). */
  z.object({ kind: z.literal("speechStarted") }),
  /** The caller's speech ended and nothing was recognised (the Gather goes on as if none came). */
  z.object({ kind: z.literal("speechEnded") }),
]);
export type ChannelIn = z.infer<typeof ChannelInSchema>;
/** Live input other than the hang-up: keys, speech, and a recogniser's speech events. */
export type CallerEvent = Exclude<ChannelIn, { kind: "hangup" }>;

/** A decoded `.out` message as a command, or undefined when it is not one (it is then ignored). */
export function readChannelOut(value: unknown): ChannelOut | undefined {
  const parsed = ChannelOutSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
