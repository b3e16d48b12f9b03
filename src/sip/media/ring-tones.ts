// Ring-back tones by country, as Twilio's <Dial ringTone> names them: two summed frequencies (or one)
// and an on/off cadence in seconds. Played to a caller whose dialled leg rings without early media.

export interface RingTone {
  readonly hz: readonly number[];
  /** On, off, on, off… in seconds; the pattern repeats. */
  readonly cadence: readonly number[];
}

const TONES: Record<string, RingTone> = {
  us: { hz: [440, 480], cadence: [2, 4] },
  ca: { hz: [440, 480], cadence: [2, 4] },
  uk: { hz: [400, 450], cadence: [0.4, 0.2, 0.4, 2] },
  au: { hz: [400, 425, 450], cadence: [0.4, 0.2, 0.4, 2] },
  nz: { hz: [400, 450], cadence: [0.4, 0.2, 0.4, 2] },
  in: { hz: [400, 425], cadence: [0.4, 0.2, 0.4, 2] },
  de: { hz: [425], cadence: [1, 4] },
  at: { hz: [420], cadence: [1, 5] },
  ch: { hz: [425], cadence: [1, 4] },
  nl: { hz: [425], cadence: [1, 4] },
  it: { hz: [425], cadence: [1, 4] },
  fr: { hz: [440], cadence: [1.5, 3.5] },
  be: { hz: [425], cadence: [1, 3] },
  es: { hz: [425], cadence: [1.5, 3] },
  jp: { hz: [400], cadence: [1, 2] },
};

/** The tone for a ringTone value; an unknown or absent one rings as in the US (Twilio's default). */
export function ringTone(name: string | undefined): RingTone {
  return TONES[(name ?? "").toLowerCase()] ?? (TONES.us as RingTone);
}

/** A source of the tone's 8 kHz PCM, 160 samples at a time, for as long as it is asked. */
export function ringToneFrames(tone: RingTone): () => Int16Array {
  const period = tone.cadence.reduce((a, b) => a + b, 0);
  let n = 0;
  // Each frequency at -16 dBFS or so: summed, well clear of clipping.
  const amplitude = 5000 / tone.hz.length;
  return () => {
    const frame = new Int16Array(160);
    for (let i = 0; i < 160; i++, n++) {
      const t = n / 8000;
      if (!sounding(tone.cadence, t % period)) continue;
      let v = 0;
      for (const hz of tone.hz) v += Math.sin(2 * Math.PI * hz * t);
      frame[i] = Math.round(amplitude * v);
    }
    return frame;
  };
}

function sounding(cadence: readonly number[], t: number): boolean {
  let at = 0;
  for (const [i, s] of cadence.entries()) {
    if (t < at + s) return i % 2 === 0;
    at += s;
  }
  return false;
}
