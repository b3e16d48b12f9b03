// A recording made on a SIP gateway (a <Record>, a bridge's, a room's, a REST call's), fetched
// from it: the reply to its command holds the WAV's first slice, and `fetch` brings the rest, each
// slice under NATS's payload limit (sip-commands.ts WAV_CHUNK).
import { parseRecordReply, type RecordReply, type SipCommand } from "../../protocol/sip-commands.js";
import type { RecordedAudio } from "../../twiml/ports/channel.js";

/** The whole WAV of recording `id`, from the first reply on; `short` sends a command and reads its reply. */
export async function fetchRecording(
  short: (cmd: SipCommand) => Promise<unknown>,
  id: string,
  first: RecordReply,
): Promise<RecordedAudio> {
  const wav = new Uint8Array(first.size);
  wav.set(first.chunk, 0);
  for (let offset = first.chunk.length; offset < first.size; ) {
    const part = parseRecordReply(await short({ op: "fetch", id, offset }));
    if (part.chunk.length === 0) break;
    wav.set(part.chunk, offset);
    offset += part.chunk.length;
  }
  return { wav, durationMs: first.durationMs, digits: first.digits };
}
