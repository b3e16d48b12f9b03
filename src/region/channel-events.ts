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
  | { kind: "hangup" }
  | { kind: "reject"; reason: "rejected" | "busy" }
  /** Published after the Call resource is stored: the call is over. */
  | { kind: "ended"; status: CallStatus; region: string };

/** Live input from the channel: for now the caller hanging up. */
export const ChannelInSchema = z.discriminatedUnion("kind", [z.object({ kind: z.literal("hangup") })]);
export type ChannelIn = z.infer<typeof ChannelInSchema>;
