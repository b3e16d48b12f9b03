// G.711 against the ITU-T reference values and its round-trip properties.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  alawToLinear,
  decodeG711,
  encodeG711,
  linearToAlaw,
  linearToUlaw,
  silenceByte,
  ulawToLinear,
} from "../../src/sip/rtp/g711.js";

describe("G.711", () => {
  it("encodes the reference points of μ-law and A-law", () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToUlaw(-1)).toBe(0x7f);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0x00)).toBe(-32124);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
    expect(silenceByte("PCMU")).toBe(0xff);
    expect(silenceByte("PCMA")).toBe(0xd5);
  });

  it("decodes every byte to a value that encodes back to the same byte", () => {
    for (let b = 0; b < 256; b++) {
      // μ-law has two zeros (0x7f and 0xff); both decode to 0, which encodes as 0xff.
      if (b !== 0x7f) expect(linearToUlaw(ulawToLinear(b))).toBe(b);
      expect(linearToAlaw(alawToLinear(b))).toBe(b);
    }
  });

  it("keeps any sample within the law's quantisation step", () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (s) => {
        // Both laws keep at least 4 bits of mantissa: the error is under 1/16 of the magnitude, plus
        // the small-signal step.
        const tolerance = Math.abs(s) / 16 + 16;
        expect(
          Math.abs(ulawToLinear(linearToUlaw(s)) - Math.max(-32124, Math.min(32124, s))),
        ).toBeLessThanOrEqual(tolerance + 132);
        expect(
          Math.abs(alawToLinear(linearToAlaw(s)) - Math.max(-32256, Math.min(32256, s))),
        ).toBeLessThanOrEqual(tolerance);
      }),
    );
  });

  it("is monotonic: a louder sample never encodes quieter", () => {
    let last = Number.NEGATIVE_INFINITY;
    for (let s = -32768; s <= 32767; s += 7) {
      const v = ulawToLinear(linearToUlaw(s));
      expect(v).toBeGreaterThanOrEqual(last);
      last = v;
    }
  });

  it("encodes and decodes buffers", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 400 }), (bytes) => {
        for (const codec of ["PCMU", "PCMA"] as const) {
          const pcm = decodeG711(codec, Uint8Array.from(bytes));
          const again = encodeG711(codec, pcm);
          expect(decodeG711(codec, again)).toEqual(pcm);
        }
      }),
    );
  });
});

describe("G.711 encoding by table", () => {
  it("encodes every 16-bit sample as the bit search does", () => {
    const pcm = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const ulaw = encodeG711("PCMU", pcm);
    const alaw = encodeG711("PCMA", pcm);
    for (let i = 0; i < pcm.length; i++) {
      if (ulaw[i] !== linearToUlaw(pcm[i] as number)) expect.fail(`μ-law of ${pcm[i]}`);
      if (alaw[i] !== linearToAlaw(pcm[i] as number)) expect.fail(`A-law of ${pcm[i]}`);
    }
  });
});
