// New SIDs come from a pool of random bytes refilled 256 SIDs at a time: across refills every SID is
// new, well formed, and as random as the bytes it was cut from.
import { describe, expect, it } from "vitest";
import { isSid, newSid } from "../../src/model/sid.js";

describe("newSid", () => {
  it("gives well-formed SIDs that never repeat, across many refills of its pool", () => {
    const sids = Array.from({ length: 10_000 }, () => newSid("CA"));
    expect(new Set(sids).size).toBe(sids.length);
    for (const sid of sids) expect(isSid("CA", sid)).toBe(true);
    expect(newSid("RE").startsWith("RE")).toBe(true);
  });

  it("spreads its hex digits evenly over every position, as 128 random bits would", () => {
    // 10,000 SIDs: each of the 32 positions sees each of 16 digits ≈ 625 times. A position copied from
    // one SID to the next, or bytes reused after a refill, would pile up on a few digits.
    const counts = Array.from({ length: 32 }, () => new Array<number>(16).fill(0));
    for (let i = 0; i < 10_000; i++) {
      const hex = newSid("CA").slice(2);
      for (let p = 0; p < 32; p++) {
        const position = counts[p] as number[];
        const digit = Number.parseInt(hex[p] as string, 16);
        position[digit] = (position[digit] ?? 0) + 1;
      }
    }
    for (const position of counts) {
      for (const n of position) {
        expect(n).toBeGreaterThan(450);
        expect(n).toBeLessThan(800);
      }
    }
  });
});
