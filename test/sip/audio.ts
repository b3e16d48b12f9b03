// Measures of audio the SIP tests read back: a WAV's samples, a tone's frequency, and how closely
// one signal follows another (normalised cross-correlation at the best lag).

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
