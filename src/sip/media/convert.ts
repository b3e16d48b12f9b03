// Audio in any format sox reads (WAV, MP3, AIFF, μ-law .au, …) or espeak-ng speaks, turned into what
// the RTP sender plays: 8 kHz mono 16-bit linear PCM. External programs, run without a shell.
import { run } from "../../media/run.js";

const RAW_8K = ["-t", "raw", "-r", "8000", "-c", "1", "-e", "signed-integer", "-b", "16", "-L", "-"];

/** Decodes a media file of the given sox type (wav, mp3, au…) to 8 kHz linear PCM. */
export async function toPcm8k(bytes: Uint8Array, soxType: string): Promise<Int16Array> {
  const raw = await run("sox", ["-V1", "-t", soxType, "-", ...RAW_8K], bytes);
  return pcmFromBytes(raw);
}

export function pcmFromBytes(raw: Buffer): Int16Array {
  const pcm = new Int16Array(raw.length >> 1);
  for (let i = 0; i < pcm.length; i++) pcm[i] = raw.readInt16LE(i * 2);
  return pcm;
}

/** sox's name for a file's format, from its first bytes, else its Content-Type; undefined if unknown. */
export function soxTypeOf(bytes: Uint8Array, contentType: string): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 12)).toString("latin1");
  if (head.startsWith("RIFF") && head.slice(8, 12) === "WAVE") return "wav";
  if (head.startsWith("ID3") || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) return "mp3";
  if (head.startsWith("FORM")) return "aiff";
  if (head.startsWith(".snd")) return "au";
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const byType: Record<string, string> = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/aiff": "aiff",
    "audio/x-aiff": "aiff",
    "audio/basic": "ul",
    "audio/ulaw": "ul",
    "audio/x-gsm": "gsm",
  };
  return byType[type];
}
