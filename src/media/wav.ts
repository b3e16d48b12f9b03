// A tiny WAV (RIFF) encoder and header reader for 8 kHz mono 16-bit PCM: what the simulated channel
// records and what `/Recordings/{Sid}.wav` serves. Twilio's own recordings are 8 kHz mono WAV too.

export const SAMPLE_RATE = 8000;
const HEADER_BYTES = 44;
const BYTES_PER_SAMPLE = 2;

/** One stretch of simulated audio: a quiet tone while the caller speaks, silence otherwise. */
export interface AudioSpan {
  readonly ms: number;
  readonly speech: boolean;
}

/** Encodes the spans as one WAV file (16-bit PCM, mono, 8 kHz). */
export function encodeWav(spans: readonly AudioSpan[]): Uint8Array {
  const counts = spans.map((s) => Math.round((Math.max(0, s.ms) * SAMPLE_RATE) / 1000));
  const samples = counts.reduce((a, b) => a + b, 0);
  const bytes = new Uint8Array(HEADER_BYTES + samples * BYTES_PER_SAMPLE);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, SAMPLE_RATE, true);
  view.setUint32(28, SAMPLE_RATE * BYTES_PER_SAMPLE, true); // byte rate
  view.setUint16(32, BYTES_PER_SAMPLE, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, samples * BYTES_PER_SAMPLE, true);
  let at = HEADER_BYTES;
  spans.forEach((span, i) => {
    for (let n = 0; n < (counts[i] ?? 0); n++, at += BYTES_PER_SAMPLE) {
      // A 440 Hz tone at about -30 dBFS stands in for the caller's voice; silence is zeros.
      const sample = span.speech ? Math.round(1000 * Math.sin((2 * Math.PI * 440 * n) / SAMPLE_RATE)) : 0;
      view.setInt16(at, sample, true);
    }
  });
  return bytes;
}

export interface WavInfo {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  readonly durationMs: number;
}

/** Reads a PCM WAV header (fmt then data chunk); throws on anything else. */
export function readWavHeader(wav: Uint8Array): WavInfo {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const text = (at: number) => String.fromCharCode(...wav.subarray(at, at + 4));
  if (wav.byteLength < HEADER_BYTES || text(0) !== "RIFF" || text(8) !== "WAVE") {
    throw new Error("not a RIFF/WAVE file");
  }
  let at = 12;
  let fmt: Omit<WavInfo, "durationMs"> | undefined;
  while (at + 8 <= wav.byteLength) {
    const id = text(at);
    const size = view.getUint32(at + 4, true);
    if (id === "fmt ") {
      fmt = {
        channels: view.getUint16(at + 10, true),
        sampleRate: view.getUint32(at + 12, true),
        bitsPerSample: view.getUint16(at + 22, true),
      };
    } else if (id === "data" && fmt) {
      const frameBytes = (fmt.bitsPerSample / 8) * fmt.channels;
      return { ...fmt, durationMs: (size / frameBytes / fmt.sampleRate) * 1000 };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error("WAV has no fmt and data chunks");
}
