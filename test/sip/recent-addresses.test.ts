// Addresses a caller authenticated from: kept an hour, at most 10,000, the oldest going first.
import { describe, expect, it } from "vitest";
import { RecentAddresses } from "../../src/sip/recent-addresses.js";

describe("recent addresses", () => {
  it("are kept for an hour from when they were last added", () => {
    let now = 0;
    const recent = new RecentAddresses(() => now);
    recent.add("192.0.2.1");
    now = 59 * 60_000;
    recent.add("192.0.2.1");
    now = 61 * 60_000;
    expect(recent.has("192.0.2.1")).toBe(true);
    now = 120 * 60_000;
    expect(recent.has("192.0.2.1")).toBe(false);
    expect(recent.has("192.0.2.2")).toBe(false);
  });

  it("are at most ten thousand, the oldest forgotten first", () => {
    const recent = new RecentAddresses(() => 0);
    for (let i = 0; i <= 10_000; i++) recent.add(`10.0.${i >> 8}.${i & 255}`);
    expect(recent.has("10.0.0.0")).toBe(false);
    expect(recent.has("10.0.0.1")).toBe(true);
    expect(recent.has("10.0.39.16")).toBe(true);
  });
});
