// One room member's audio frame, published every 20 ms on `sb.room.<roomSid>.audio.<callSid>` by the
// gateway that holds its call (msgpack); every gateway with members in the room mixes them (docs/rooms.md).
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";

/** A room's name in subjects: a ConferenceSid, or a queue bridge's (`QB` + the member's CallSid). */
export const RoomSidSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export const RoomFrameSchema = z.object({
  /** Counts the source's frames from 0: the receivers' jitter buffers order them by it. */
  seq: z.number().int().min(0),
  /** 20 ms of 8 kHz μ-law. */
  audio: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === 160, {
    message: "audio must be 160 bytes of μ-law",
  }),
  /** A coach's frames: only this member hears them. */
  coachOf: z.string().max(64).optional(),
  /** A beep (a member entered or left): everyone hears it, the member too. */
  beep: z.boolean().optional(),
});
export type RoomFrame = z.infer<typeof RoomFrameSchema>;

/** Validates a decoded frame (90002 when it is not one). */
export function parseRoomFrame(value: unknown): RoomFrame {
  const parsed = RoomFrameSchema.safeParse(value);
  if (!parsed.success) throw fail("invalidPayload", `invalid room frame: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
