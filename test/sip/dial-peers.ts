// The parties of the <Dial> tests: sipp as the dialed callee (a UAS on 127.0.0.3), the two test signals
// the caller and the callee send (distinct chirps, so what each hears is told apart by content), and a
// correlation of what arrived against what was sent.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alawToLinear, linearToAlaw, linearToUlaw, ulawToLinear } from "../../src/sip/rtp/g711.js";
import type { RtpPacket } from "../../src/sip/rtp/packet.js";
import { sippUas, type Uas } from "./uas.js";

export const CALLEE_IP = "127.0.0.3";
const RATE = 8000;

/** A chirp from `f0` to `f1` Hz over `seconds`, at 40% of full scale. */
export function chirp(f0: number, f1: number, seconds: number): Int16Array {
  const n = Math.round(seconds * RATE);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const phase = 2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds));
    out[i] = Math.round(13_000 * Math.sin(phase));
  }
  return out;
}

export const CALLER_SIGNAL = chirp(300, 2400, 2);
export const CALLEE_SIGNAL = chirp(2600, 500, 2);

/** A working directory holding caller.ulaw and callee.alaw (raw G.711, as sipp's rtp_stream sends it). */
export async function signalDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sb-dial-"));
  await writeFile(
    join(dir, "caller.ulaw"),
    Uint8Array.from(CALLER_SIGNAL, (s) => linearToUlaw(s)),
  );
  await writeFile(
    join(dir, "callee.alaw"),
    Uint8Array.from(CALLEE_SIGNAL, (s) => linearToAlaw(s)),
  );
  return dir;
}

/** The PCM of the packets' payloads, in sequence order (each decoded by its own payload type). */
export function pcmOf(packets: readonly RtpPacket[]): Int16Array {
  const sorted = [...packets].filter((p) => p.payloadType === 0 || p.payloadType === 8);
  const out = new Int16Array(sorted.reduce((n, p) => n + p.payload.length, 0));
  let at = 0;
  for (const p of sorted) {
    const decode = p.payloadType === 0 ? ulawToLinear : alawToLinear;
    for (const b of p.payload) out[at++] = decode(b);
  }
  return out;
}

/** The best normalised correlation of `sent` with any stretch of `heard` (1 is the same audio). */
export function correlation(heard: Int16Array, sent: Int16Array): number {
  let sentEnergy = 0;
  for (const s of sent) sentEnergy += s * s;
  // Coarse search every 4 samples, then refined around the best: a few million multiplications.
  const at = (lag: number) => {
    let dot = 0;
    let energy = 0;
    for (let i = 0; i < sent.length; i++) {
      const h = heard[lag + i] ?? 0;
      dot += h * (sent[i] as number);
      energy += h * h;
    }
    return energy === 0 ? 0 : dot / Math.sqrt(energy * sentEnergy);
  };
  let best = 0;
  let bestLag = 0;
  const last = heard.length - sent.length;
  for (let lag = 0; lag <= last; lag += 4) {
    const c = at(lag);
    if (c > best) [best, bestLag] = [c, lag];
  }
  for (let lag = Math.max(0, bestLag - 4); lag <= Math.min(last, bestLag + 4); lag++)
    best = Math.max(best, at(lag));
  return best;
}

export type Callee = Uas;

/** Starts sipp as the dialed callee (on 127.0.0.3) running `scenario` once; resolves once it listens. */
export function sippCallee(
  scenario: string,
  opts: { cwd: string; keys?: Record<string, string | number>; timeoutS?: number },
): Promise<Callee> {
  return sippUas(scenario, { ...opts, address: CALLEE_IP });
}
