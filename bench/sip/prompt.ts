// The media bench's prompt: μ-law frames that each name their own place (frame k carries k in its
// first two bytes, then a 400 Hz tone), so a receiver can tell from one packet's payload whether the
// audio arrived intact and in order. Served as an 8 kHz 16-bit WAV that encodes back to these bytes.
import { linearToUlaw, ulawToLinear } from "../../src/sip/rtp/g711.js";

export const FRAME_BYTES = 160;
/** Each id byte is one of this many values, so two of them count 120² frames (288 s). */
const BASE = 120;
/** First id byte value: loud positive μ-law codes, none of them the ±0 codes 0x7f and 0xff. */
const ID0 = 0x81;

/** μ-law silence, as the gateway sends it when nothing plays. */
export const SILENCE = 0xff;

/** Frame `k` of the prompt: its id, then the tone (never a ±0 code, which would not survive a round trip). */
export function promptFrame(k: number): Uint8Array {
  const frame = new Uint8Array(FRAME_BYTES);
  frame[0] = ID0 + (Math.floor(k / BASE) % BASE);
  frame[1] = ID0 + (k % BASE);
  for (let i = 2; i < FRAME_BYTES; i++) {
    const t = k * FRAME_BYTES + i;
    let b = linearToUlaw(6000 * Math.sin((2 * Math.PI * 400 * t) / 8000));
    if (b === 0xff || b === 0x7f) b--;
    frame[i] = b;
  }
  return frame;
}

/** `frames` frames of the prompt as an 8 kHz mono 16-bit WAV file. */
export function promptWav(frames: number): Buffer {
  const samples = frames * FRAME_BYTES;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write("RIFF", 0, "latin1");
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write("WAVEfmt ", 8, "latin1");
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(8000, 24);
  wav.writeUInt32LE(16000, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36, "latin1");
  wav.writeUInt32LE(samples * 2, 40);
  for (let k = 0; k < frames; k++) {
    const frame = promptFrame(k);
    for (let i = 0; i < FRAME_BYTES; i++)
      wav.writeInt16LE(ulawToLinear(frame[i] as number), 44 + (k * FRAME_BYTES + i) * 2);
  }
  return wav;
}

const cache: Uint8Array[] = [];

/** What one received payload is: a prompt frame's index, "silence", or "corrupt". */
export function classify(payload: Uint8Array): number | "silence" | "corrupt" {
  if (payload.length !== FRAME_BYTES) return "corrupt";
  if (payload[0] === SILENCE && payload.every((b) => b === SILENCE)) return "silence";
  const hi = (payload[0] ?? 0) - ID0;
  const lo = (payload[1] ?? 0) - ID0;
  if (hi < 0 || hi >= BASE || lo < 0 || lo >= BASE) return "corrupt";
  const k = hi * BASE + lo;
  const expected = cache[k] ?? promptFrame(k);
  cache[k] = expected;
  for (let i = 2; i < FRAME_BYTES; i++) if (payload[i] !== expected[i]) return "corrupt";
  return k;
}
