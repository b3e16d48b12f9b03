// G.711 μ-law (PCMU, payload type 0) and A-law (PCMA, 8): 16-bit linear PCM <-> one byte a sample,
// as ITU-T G.711 defines them. Decoding goes through 256-entry tables; encoding is a few shifts.

const BIAS = 0x84;
const CLIP = 32635;

/** One linear sample (-32768..32767) to a μ-law byte. */
export function linearToUlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function ulawToLinearSlow(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return sign ? -magnitude : magnitude;
}

/** One linear sample to an A-law byte. */
export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s >= 0 ? 0x80 : 0;
  if (!sign) s = -s - 1;
  if (s > 32767) s = 32767;
  let out: number;
  if (s < 256) out = s >> 4;
  else {
    let exponent = 1;
    for (let v = s >> 8; v > 1; v >>= 1) exponent++;
    out = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (out | sign) ^ 0x55;
}

function alawToLinearSlow(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if (!(a & 0x80)) magnitude = -magnitude;
  return magnitude;
}

const ULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => ulawToLinearSlow(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawToLinearSlow(i));

export function ulawToLinear(byte: number): number {
  return ULAW_TABLE[byte & 0xff] as number;
}

export function alawToLinear(byte: number): number {
  return ALAW_TABLE[byte & 0xff] as number;
}

export type G711Codec = "PCMU" | "PCMA";

/**
 * Every 16-bit sample's byte (indexed by sample + 32768): the gateway encodes a frame for every call
 * every 20 ms, and a lookup costs a fraction of the bit search (issue #20's media bench).
 */
const ULAW_ENCODE = Uint8Array.from({ length: 65536 }, (_, i) => linearToUlaw(i - 32768));
const ALAW_ENCODE = Uint8Array.from({ length: 65536 }, (_, i) => linearToAlaw(i - 32768));

/** Encodes linear samples into `out` (one byte each). */
export function encodeG711(codec: G711Codec, pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)) {
  const table = codec === "PCMU" ? ULAW_ENCODE : ALAW_ENCODE;
  for (let i = 0; i < pcm.length; i++) out[i] = table[(pcm[i] as number) + 32768] as number;
  return out;
}

export function decodeG711(codec: G711Codec, bytes: Uint8Array): Int16Array {
  const table = codec === "PCMU" ? ULAW_TABLE : ALAW_TABLE;
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i] as number] as number;
  return out;
}

/** The byte a codec sends for silence (linear 0). */
export function silenceByte(codec: G711Codec): number {
  return codec === "PCMU" ? 0xff : 0xd5;
}
