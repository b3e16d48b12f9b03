// A pino destination that keeps every line, parsed as JSON, so tests assert on fields (and on the
// raw text, to prove a secret appears nowhere in it).
import { Writable } from "node:stream";

export interface CapturedLines {
  stream: Writable;
  raw: string[];
  lines(): Record<string, unknown>[];
}

export function captureLines(): CapturedLines {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { stream, raw, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
