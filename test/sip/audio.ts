// Measures of audio the SIP tests read back: a WAV's samples, a tone's frequency, and how closely
// one signal follows another (normalised cross-correlation at the best lag).
import { decodeG711, ulawToLinear } from "../../src/sip/rtp/g711.js";
import type { RtpPacket } from "../../src/sip/rtp/packet.js";
import type { PhoneRtp } from "./harness.js";

/** Samples of a 16-bit mono WAV (after its 44-byte header). */
export function wavSamples(wav: Uint8Array): Int16Array {
  // A copy: a Buffer's slice is a view into its pool, at an offset.
  const copy = new Uint8Array(wav.subarray(44));
  return new Int16Array(copy.buffer, 0, Math.floor(copy.length / 2));
}

/** The frequency of a pure tone, from its zero crossings. */
export function toneHz(pcm: Int16Array): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1] as number) < 0 !== (pcm[i] as number) < 0) crossings++;
  return crossings / 2 / (pcm.length / 8000);
}

/** A linear chirp: `seconds` long, from `f0` to `f1` Hz, at amplitude 8000 (distinct at every lag). */
export function chirp(seconds: number, f0: number, f1: number): Int16Array {
  const n = Math.round(seconds * 8000);
  const k = (f1 - f0) / seconds;
  return Int16Array.from({ length: n }, (_, i) => {
    const t = i / 8000;
    return Math.round(8000 * Math.sin(2 * Math.PI * (f0 * t + (k * t * t) / 2)));
  });
}

/** The PCM of the G.711 audio packets in `packets` (by sequence; telephone events left out). */
export function pcmOf(
  packets: readonly RtpPacket[],
  decode: (b: number) => number,
  payloadType: number,
): Int16Array {
  const audio = packets.filter((p) => p.payloadType === payloadType);
  const out = new Int16Array(audio.length * 160);
  let at = 0;
  for (const p of audio) for (const b of p.payload) out[at++] = decode(b);
  return out.subarray(0, at);
}

/**
 * How closely `received` contains `sent`: the normalised cross-correlation at the best lag (1 is the
 * same signal). The lag is searched near where `received` first gets loud, then sample by sample.
 */
export function bestCorrelation(
  sent: Int16Array,
  received: Int16Array,
): { correlation: number; lag: number } {
  let onset = received.findIndex((s) => Math.abs(s) > 2000);
  if (onset < 0) return { correlation: 0, lag: -1 };
  const sentOnset = sent.findIndex((s) => Math.abs(s) > 2000);
  onset -= sentOnset;
  let best = { correlation: 0, lag: -1 };
  for (
    let lag = Math.max(0, onset - 800);
    lag <= onset + 800 && lag + sent.length <= received.length;
    lag++
  ) {
    const c = correlationAt(sent, received, lag);
    if (c > best.correlation) best = { correlation: c, lag };
  }
  return best;
}

/** The normalised correlation of `sent` with `received` from sample `lag`. */
export function correlationAt(sent: Int16Array, received: Int16Array, lag: number): number {
  let sr = 0;
  let ss = 0;
  let rr = 0;
  for (let i = 0; i < sent.length; i++) {
    const s = sent[i] as number;
    const r = received[lag + i] ?? 0;
    sr += s * r;
    ss += s * s;
    rr += r * r;
  }
  return ss === 0 || rr === 0 ? 0 : sr / Math.sqrt(ss * rr);
}

/** The power of one frequency in `pcm` (Goertzel), normalised by the length. */
export function powerAt(pcm: Int16Array, hz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let s1 = 0;
  let s2 = 0;
  for (const x of pcm) {
    const s = x + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (pcm.length * pcm.length);
}

/** The amplitude of a sine at `hz` in `pcm` (from its Goertzel power): a full-scale tone's is 32767. */
export function amplitudeAt(pcm: Int16Array, hz: number): number {
  return 2 * Math.sqrt(powerAt(pcm, hz));
}

/** Lengths of the runs of loud and quiet 20 ms frames, from the first loud one: [on, off, on, off…]. */
export function cadence(pcm: Int16Array): number[] {
  const loud: boolean[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) {
    let sum = 0;
    for (let j = i; j < i + 160; j++) sum += Math.abs(pcm[j] as number);
    loud.push(sum / 160 > 300);
  }
  const runs: number[] = [];
  let state = true;
  let run = 0;
  for (const l of loud.slice(Math.max(0, loud.indexOf(true)))) {
    if (l === state) run++;
    else {
      runs.push(run);
      state = l;
      run = 1;
    }
  }
  runs.push(run);
  return runs;
}

/** The PCM of μ-law payloads, in order. */
export function decodeUlaw(payloads: Uint8Array[]): Int16Array {
  const out = new Int16Array(payloads.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of payloads) for (const b of p) out[i++] = ulawToLinear(b);
  return out;
}

/** The root mean square of `x` (0 when empty). */
export function rms(x: Int16Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return x.length === 0 ? 0 : Math.sqrt(sum / x.length);
}

/** The offset in `heard` where `ref` fits best, and the normalised correlation there. */
export function bestAlignment(heard: Int16Array, ref: Int16Array): { correlation: number; at: number } {
  const onset = (x: Int16Array) => x.findIndex((v) => Math.abs(v) > 300);
  const base = onset(heard) - onset(ref);
  let best = { correlation: -1, at: 0 };
  for (let lag = Math.max(0, base - 800); lag <= base + 800; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i < ref.length && lag + i < heard.length; i++) {
      const x = heard[lag + i] as number;
      const y = ref[i] as number;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    const c = xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
    if (c > best.correlation) best = { correlation: c, at: lag };
  }
  return best;
}

/** How many of the phone's packets carry `hz` (from packet `from` on): G.711 decoded, amplitude > 1500. */
export function packetsWith(phone: Pick<PhoneRtp, "packets">, hz: number, from = 0): number {
  return phone.packets
    .slice(from)
    .filter((p) => amplitudeAt(decodeG711(p.payloadType === 8 ? "PCMA" : "PCMU", p.payload), hz) > 1500)
    .length;
}

/**
 * The longest run of the phone's packets without `hz`, from packet `from` to the last that has it:
 * how long a party stopped hearing the other in the middle of a call.
 */
export function longestWithout(phone: Pick<PhoneRtp, "packets">, hz: number, from = 0): number {
  let longest = 0;
  let run = 0;
  for (const p of phone.packets.slice(from)) {
    if (amplitudeAt(decodeG711(p.payloadType === 8 ? "PCMA" : "PCMU", p.payload), hz) > 1500) {
      longest = Math.max(longest, run);
      run = 0;
    } else run++;
  }
  return longest;
}

/** Waits (bounded) until the phone has heard `hz` in `count` packets, checking as packets arrive. */
export async function untilHeard(
  phone: PhoneRtp,
  hz: number,
  count: number,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (packetsWith(phone, hz) < count) {
    if (performance.now() > deadline)
      throw new Error(`${hz} Hz heard in ${packetsWith(phone, hz)} of ${count} packets`);
    await phone.waitForPackets(phone.packets.length + 25, timeoutMs).catch(() => {});
  }
}

/** How many 20 ms frames of `pcm` are loud and mostly `hz` (Goertzel power against the frame's energy). */
export function framesOf(pcm: Int16Array, hz: number): number {
  let frames = 0;
  const k = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  for (let at = 0; at + 160 <= pcm.length; at += 160) {
    let s1 = 0;
    let s2 = 0;
    let energy = 0;
    for (let i = at; i < at + 160; i++) {
      const x = pcm[i] ?? 0;
      const s0 = x + k * s1 - s2;
      s2 = s1;
      s1 = s0;
      energy += x * x;
    }
    const power = s1 * s1 + s2 * s2 - k * s1 * s2;
    // A pure tone's Goertzel power is energy × N / 2; half of that is "mostly".
    if (energy / 160 > 1000 ** 2 && power > (energy * 160) / 4) frames++;
  }
  return frames;
}
