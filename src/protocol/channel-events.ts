// What a call does on its channel and what the channel reports, as published on
// `sb.region.<r>.call.<sid>.out` and read from `.in` (DESIGN.md §3).
import { z } from "zod";
import type { CallStatus } from "../model/records.js";

export type ChannelOut =
  | { kind: "ringing" }
  | { kind: "answer" }
  | { kind: "say"; text: string; voice: string; language: string }
  | { kind: "play"; url: string }
  | { kind: "pause"; length: number }
  /** A Gather started listening. */
  | { kind: "gather"; input: string[]; finishOnKey: string }
  /** A Record started: what ends it (seconds; timeout 0 = silence never does). */
  | { kind: "record"; finishOnKey: string; timeout: number; maxLength: number; beep: boolean }
  /** `<Play digits>` sent DTMF to the caller. */
  | { kind: "digits"; digits: string }
  /** The caller is bridged to a <Dial> leg (its CallSid and To). */
  | { kind: "dial"; callSid: string; to: string }
  | { kind: "hangup" }
  | { kind: "reject"; reason: "rejected" | "busy" }
  /** Published after the Call resource is stored: the call is over. */
  | { kind: "ended"; status: CallStatus; region: string };

/** Live input from the channel: the caller's keys and speech, or the caller hanging up. */
export const ChannelInSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("hangup") }),
  z.object({ kind: z.literal("digits"), digits: z.string().regex(/^[0-9A-D#*]{1,64}$/) }),
  z.object({ kind: z.literal("speech"), text: z.string().min(1).max(4096) }),
]);
export type ChannelIn = z.infer<typeof ChannelInSchema>;
