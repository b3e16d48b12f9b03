// SnapshotWriter: one write in flight, the snapshot taken when a write starts (so the newest wins),
// bursts coalesce, a new call's first write waits out the window, and nothing that someone waits
// for is held back.
import { describe, expect, it, vi } from "vitest";
import {
  COALESCE_MS,
  FIRST_SNAPSHOT_MS,
  SnapshotWriter,
  type SnapshotWriterOptions,
} from "../../src/region/host/snapshot-writer.js";
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

/** A writer over `kv` whose actor is in `actor.state`; `captures` counts the snapshots taken. */
function writerOf(
  kv: JsonKv<unknown>,
  opts?: SnapshotWriterOptions,
  onError: (e: unknown) => void = () => {},
) {
  const actor: { state: Record<string, unknown>; captures: number } = { state: {}, captures: 0 };
  const capture = () => {
    actor.captures++;
    return { ...actor.state };
  };
  return { w: new SnapshotWriter(kv, "CA1", capture, onError, opts), actor };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("SnapshotWriter", () => {
  it("writes a resumed call's first snapshot at once and resolves settled() when it is stored", async () => {
    const { kv, puts } = slowKv();
    const { w, actor } = writerOf(kv, { stored: true });
    actor.state = { value: "arriving" };
    void w.changed();
    let settled = false;
    void w.settled().then(() => {
      settled = true;
    });
    expect(puts.map((p) => p.value)).toEqual([{ value: "arriving" }]);
    expect(w.inBucket).toBe(true);
    await tick();
    expect(settled).toBe(false);
    puts[0]?.finish();
    await tick();
    expect(settled).toBe(true);
  });

  it("takes the snapshot when the write starts: changes while a write is in flight cost one write", async () => {
    const { kv, puts } = slowKv();
    const { w, actor } = writerOf(kv);
    actor.state = { value: "a" };
    void w.changed();
    actor.state = { value: "b" };
    void w.changed();
    actor.state = { value: "c" };
    const last = w.changed();
    // settled() writes what waits without the coalescing delay
    const settled = w.settled();
    puts[0]?.finish();
    await tick();
    expect(puts.map((p) => p.value)).toEqual([{ value: "a" }, { value: "c" }]);
    expect(actor.captures).toBe(2);
    puts[1]?.finish();
    await Promise.all([last, settled]);
  });

  it("coalesces a burst after a write into one write, once the window has passed", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const { kv, puts } = slowKv();
      const { w, actor } = writerOf(kv);
      actor.state = { value: "a" };
      void w.changed();
      puts[0]?.finish();
      await tick();
      actor.state = { value: "b" };
      void w.changed();
      actor.state = { value: "c" };
      const stored = w.changed();
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

  it("holds a new call's first snapshot for FIRST_SNAPSHOT_MS, and writes none if the call ends before", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const { kv, puts } = slowKv();
      const short = writerOf(kv, { holdFirst: true });
      short.actor.state = { status: "active", value: "routed" };
      void short.w.changed();
      vi.advanceTimersByTime(FIRST_SNAPSHOT_MS / 2);
      short.actor.state = { status: "done", value: "completed" };
      const ended = short.w.changed();
      vi.advanceTimersByTime(FIRST_SNAPSHOT_MS);
      await ended;
      expect(puts).toHaveLength(0);
      expect(short.actor.captures).toBe(1); // taken once, found done, not written
      expect(short.w.inBucket).toBe(false);

      const long = writerOf(kv, { holdFirst: true });
      long.actor.state = { status: "active", value: "Pause" };
      void long.w.changed();
      vi.advanceTimersByTime(FIRST_SNAPSHOT_MS - 1);
      expect(puts).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(puts.map((p) => p.value)).toEqual([{ status: "active", value: "Pause" }]);
      expect(long.w.inBucket).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("never writes a finished actor's snapshot", async () => {
    const { kv, puts } = slowKv();
    const { w, actor } = writerOf(kv);
    actor.state = { status: "active", value: "a" };
    void w.changed();
    actor.state = { status: "active", value: "storing" };
    void w.changed();
    actor.state = { status: "done", value: "completed" };
    void w.changed();
    const settled = w.settled();
    puts[0]?.finish();
    await settled;
    await tick();
    expect(puts.map((p) => p.value)).toEqual([{ status: "active", value: "a" }]);
  });

  it("seal() stores the snapshot taken then, even after the actor has moved on (stopped)", async () => {
    const { kv, puts } = slowKv();
    const { w, actor } = writerOf(kv, { holdFirst: true });
    actor.state = { status: "active", value: "Pause" };
    void w.changed();
    const sealed = w.seal();
    actor.state = { status: "stopped", value: "Pause" };
    void w.changed();
    puts[0]?.finish();
    await sealed;
    await tick();
    expect(puts.map((p) => p.value)).toEqual([{ status: "active", value: "Pause" }]);
  });

  it("discard() stores nothing more and releases waiters", async () => {
    const { kv, puts } = slowKv();
    const { w, actor } = writerOf(kv, { holdFirst: true });
    actor.state = { status: "active", value: "Pause" };
    const waiting = w.changed();
    w.discard();
    await waiting;
    await w.settled();
    expect(puts).toHaveLength(0);
  });

  it("close() drops a change still waiting out its window: no timer keeps a finished call alive", async () => {
    const { kv, puts } = slowKv();
    const { w, actor } = writerOf(kv, { holdFirst: true });
    // The call's end is settled first; its last state change arrives after (as XState reports it).
    actor.state = { status: "active", value: "storing" };
    await w.settled();
    actor.state = { status: "done", value: "completed" };
    const late = w.changed();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    w.close();
    expect(timers()).toBe(before - 1); // the window's timer, which held the capture (the call), is gone
    await late;
    void w.changed(); // nothing after close is taken
    expect(timers()).toBe(before - 1);
    expect(puts).toHaveLength(0);
    expect(actor.captures).toBe(0);
  });

  it("close() during a hand-over still stores the sealed snapshot queued behind a write", async () => {
    const { kv, puts } = slowKv();
    const { w, actor } = writerOf(kv, { stored: true });
    actor.state = { status: "active", value: "Say" };
    void w.changed(); // written at once (a resumed call): in flight
    actor.state = { status: "active", value: "Pause" };
    const sealed = w.seal(); // queued behind the write in flight
    w.close(); // the actor stops and the call leaves the worker at once
    puts[0]?.finish();
    await tick();
    puts[1]?.finish();
    await sealed;
    expect(puts.map((p) => p.value)).toEqual([
      { status: "active", value: "Say" },
      { status: "active", value: "Pause" },
    ]);
  });

  it("reports a failed write and still settles", async () => {
    const errors: unknown[] = [];
    const kv = { put: () => Promise.reject(new Error("no JetStream")) } as unknown as JsonKv<unknown>;
    const { w, actor } = writerOf(kv, {}, (err) => errors.push(err));
    actor.state = { value: "a" };
    await w.changed();
    await w.settled();
    expect(errors).toHaveLength(1);
    expect(w.failed).toBe(true);
  });
});
