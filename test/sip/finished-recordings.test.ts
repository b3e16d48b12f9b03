// A long recording goes to the region in slices under NATS's payload limit.
import { describe, expect, it } from "vitest";
import { WAV_CHUNK } from "../../src/protocol/sip-commands.js";
import { FinishedRecordings } from "../../src/sip/media/finished-recordings.js";

describe("finished recordings", () => {
  it("serves a WAV in slices until the last one, then forgets it", () => {
    const wav = Uint8Array.from({ length: WAV_CHUNK * 2 + 100 }, (_, i) => i % 251);
    const kept = new FinishedRecordings();
    kept.keep("r1", { wav, durationMs: 65_000, digits: "#" });
    const parts = [0, WAV_CHUNK, WAV_CHUNK * 2].map((offset) => kept.slice("r1", offset));
    expect(parts.map((p) => p.chunk.length)).toEqual([WAV_CHUNK, WAV_CHUNK, 100]);
    expect(parts.every((p) => p.size === wav.length && p.durationMs === 65_000 && p.digits === "#")).toBe(
      true,
    );
    expect(Buffer.concat(parts.map((p) => p.chunk)).equals(Buffer.from(wav))).toBe(true);
    expect(() => kept.slice("r1", 0)).toThrow(expect.objectContaining({ code: 90010 }));
  });
});
