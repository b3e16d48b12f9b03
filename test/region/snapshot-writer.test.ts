// SnapshotWriter: one write in flight, the newest snapshot wins, bursts coalesce, and nothing that
// someone waits for is held back.
import { describe, expect, it, vi } from "vitest";
import { COALESCE_MS, SnapshotWriter } from "../../src/region/snapshot-writer.js";
import type { JsonKv } from "../../src/store/json-kv.js";

/** A bucket whose puts finish only when the test says so. */
function slowKv() {
  const puts: { value: unknown; finish: () => void }[] = [];
  const kv = {
    put: (_key: string, value: unknown) =>
      new Promise<number>((resolve) => puts.push({ value, finish: () => resolve(puts.length) })),
  } as unknown as JsonKv<unknown>;
  return { kv, puts };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("SnapshotWriter", () => {
  it("writes the first snapshot at once and resolves settled() when it is stored", async () => {
    const { kv, puts } = slowKv();
    const w = new SnapshotWriter(kv, "CA1", () => {});
    void w.write({ value: "arriving" });
    let settled = false;
    void w.settled().then(() => {
      settled = true;
    });
    expect(puts.map((p) => p.value)).toEqual([{ value: "arriving" }]);
    await tick();
    expect(settled).toBe(false);
    puts[0]?.finish();
    await tick();
    expect(settled).toBe(true);
  });

  it("keeps only the newest of the snapshots that arrive while a write is in flight", async () => {
    const { kv, puts } = slowKv();
    const w = new SnapshotWriter(kv, "CA1", () => {});
    void w.write({ value: "a" });
    void w.write({ value: "b" });
    const last = w.write({ value: "c" });
    // settled() writes what waits without the coalescing delay
    const settled = w.settled();
    puts[0]?.finish();
    await tick();
    expect(puts.map((p) => p.value)).toEqual([{ value: "a" }, { value: "c" }]);
    puts[1]?.finish();
    await Promise.all([last, settled]);
  });

  it("coalesces a burst after a write into one write, once the window has passed", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const { kv, puts } = slowKv();
      const w = new SnapshotWriter(kv, "CA1", () => {});
      void w.write({ value: "a" });
      puts[0]?.finish();
      await tick();
      void w.write({ value: "b" });
      const stored = w.write({ value: "c" });
      vi.advanceTimersByTime(COALESCE_MS - 1);
      expect(puts).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(puts.map((p) => p.value)).toEqual([{ value: "a" }, { value: "c" }]);
      puts[1]?.finish();
      await stored;
    } finally {
      vi.useRealTimers();
    }
  });

  it("never writes a finished actor's snapshot, and drops what waited before it", async () => {
    const { kv, puts } = slowKv();
    const w = new SnapshotWriter(kv, "CA1", () => {});
    void w.write({ status: "active", value: "a" });
    void w.write({ status: "active", value: "storing" });
    void w.write({ status: "done", value: "completed" });
    const settled = w.settled();
    puts[0]?.finish();
    await settled;
    await tick();
    expect(puts.map((p) => p.value)).toEqual([{ status: "active", value: "a" }]);
  });

  it("reports a failed write and still settles", async () => {
    const errors: unknown[] = [];
    const kv = { put: () => Promise.reject(new Error("no JetStream")) } as unknown as JsonKv<unknown>;
    const w = new SnapshotWriter(kv, "CA1", (err) => errors.push(err));
    await w.write({ value: "a" });
    await w.settled();
    expect(errors).toHaveLength(1);
  });
});
