// Audio as Twilio accepts it for <Play>, and <Say> text, turned into 8 kHz PCM by sox and espeak-ng.
import { describe, expect, it } from "vitest";
import { run } from "../../src/media/run.js";
import { soxTypeOf, toPcm8k } from "../../src/sip/media/convert.js";
import { wavFromPcm } from "../../src/sip/rtp/wav.js";
import { Prompts } from "../../src/sip/tts/prompts.js";

describe("media conversion", () => {
  it("tells formats by their first bytes, else by Content-Type", () => {
    expect(soxTypeOf(wavFromPcm(new Int16Array(4)), "application/octet-stream")).toBe("wav");
    expect(soxTypeOf(Uint8Array.of(0x49, 0x44, 0x33, 4), "")).toBe("mp3");
    expect(soxTypeOf(Uint8Array.of(0xff, 0xf3, 0x40, 0xc4), "")).toBe("mp3");
    expect(soxTypeOf(Uint8Array.of(1, 2, 3), "audio/basic")).toBe("ul");
    expect(soxTypeOf(Uint8Array.of(1, 2, 3), "text/html")).toBeUndefined();
  });

  it("resamples a 16 kHz WAV and decodes an MP3 to 8 kHz", async () => {
    const wav = wavFromPcm(
      new Int16Array(16000).map((_, i) => Math.round(9000 * Math.sin(i / 5))),
      16000,
    );
    expect((await toPcm8k(wav, "wav")).length).toBe(8000);
    // Half a second of MP3 (made by sox with Debian's libsox-fmt-mp3); MP3 frames pad it a little.
    const mp3 = await run(
      "sox",
      ["-n", "-r", "22050", "-c", "1", "-t", "mp3", "-", "synth", "0.5", "sine", "440"],
      "",
    );
    expect(soxTypeOf(mp3, "")).toBe("mp3");
    const pcm = await toPcm8k(mp3, "mp3");
    expect(pcm.length).toBeGreaterThanOrEqual(4000);
    expect(pcm.length).toBeLessThan(4800);
  });

  it("refuses what is not audio with 90011", async () => {
    await expect(toPcm8k(new TextEncoder().encode("<html></html>"), "wav")).rejects.toMatchObject({
      code: 90011,
    });
  });

  it("speaks text with espeak-ng by default, and caches it", async () => {
    const speech = new Prompts();
    const first = await speech.say("Hello world", "woman", "en-US");
    // About a second of speech at 8 kHz.
    expect(first.length).toBeGreaterThan(4000);
    expect(first.length).toBeLessThan(16000);
    expect(await speech.say("Hello world", "woman", "en-US")).toBe(first);
  });
});
