// Inspection events are kept for a day and shown to people: URL credentials must never be in them,
// and each carries its order and the call's own time.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it, vi } from "vitest";
import { encode } from "../../src/protocol/codec.js";
import { inspectEnvelopes } from "../../src/protocol/inspect.js";
import { subjects } from "../../src/protocol/subjects.js";
import { Inspector, withoutCredentials } from "../../src/region/inspect/inspector.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

const WINDOW_MS = 300;

describe("Inspector", () => {
  it("cuts credentials from every URL it publishes, and numbers the events", async () => {
    await using nats = await startTestNatsServer({ jetstream: false });
    const nc = await connect({ servers: nats.url });
    const got: Record<string, unknown>[] = [];
    const sub = nc.subscribe("sb.region.us1.inspect.CA1", {
      callback: (_e, m) => {
        got.push(...(inspectEnvelopes(m.data) as never[]));
      },
    });
    await nc.flush();
    const inspector = new Inspector(nc, subjects(), "us1");
    const url = "https://alice:s3cret@app.example/voice?x=1";
    inspector.publish("CA1", { type: "webhook.request", url, method: "POST", params: {} }, 42);
    inspector.publish("CA1", {
      type: "state",
      value: "routed",
      status: "ringing",
      event: "e",
      verb: null,
      documentUrl: url,
    });
    inspector.publish("CA1", {
      type: "notification",
      level: "error",
      code: 11200,
      message: "m",
      requestUrl: url,
    });
    inspector.flushAll();
    await nc.flush();
    expect(JSON.stringify(got)).not.toContain("s3cret");
    expect(got.map((e) => e.url ?? e.documentUrl ?? e.requestUrl)).toEqual(
      Array(3).fill("https://app.example/voice?x=1"),
    );
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(got[0]?.clockAt).toBe(42);
    sub.unsubscribe();
    await nc.close();
  });

  it("with no window, sends a call's events of one turn as one message, its channel commands in their place", async () => {
    await using nats = await startTestNatsServer({ jetstream: false });
    const nc = await connect({ servers: nats.url });
    const messages: Array<{ sid: string; types: string[] }> = [];
    const sub = nc.subscribe("sb.region.us1.inspect.*", {
      callback: (_e, m) => {
        const types = inspectEnvelopes(m.data).map((e) => (e.type === "channel" ? e.command.kind : e.type));
        messages.push({ sid: m.subject.split(".").at(-1) ?? "", types });
      },
    });
    await nc.flush();
    const inspector = new Inspector(nc, subjects(), "us1", 0);
    const state = (value: string) =>
      ({ type: "state", value, status: "ringing", event: "e", verb: null, documentUrl: null }) as const;
    inspector.publish("CA1", state("routed"));
    inspector.publish("CA2", state("routed"));
    inspector.command("CA1", { kind: "play", url: "https://u:secret@cdn.example/a.mp3" });
    inspector.publish("CA1", state("Play"));
    // The rest go out when this turn of the event loop ends.
    await new Promise((resolve) => setImmediate(resolve));
    inspector.publish("CA1", state("storing"));
    await new Promise((resolve) => setImmediate(resolve));
    await nc.flush();
    expect(messages).toEqual([
      { sid: "CA1", types: ["state", "play", "state"] },
      { sid: "CA2", types: ["state"] },
      { sid: "CA1", types: ["state"] },
    ]);
    sub.unsubscribe();
    await nc.close();
  });

  it("sends a call's events of one window as one message, over turns of the event loop", async () => {
    await using nats = await startTestNatsServer({ jetstream: false });
    const nc = await connect({ servers: nats.url });
    const messages: Array<{ sid: string; types: string[] }> = [];
    const sub = nc.subscribe("sb.region.us1.inspect.*", {
      callback: (_e, m) => {
        const types = inspectEnvelopes(m.data).map((e) => (e.type === "channel" ? e.command.kind : e.type));
        messages.push({ sid: m.subject.split(".").at(-1) ?? "", types });
      },
    });
    await nc.flush();
    // A window long enough that this machine's load cannot split it.
    const inspector = new Inspector(nc, subjects(), "us1", WINDOW_MS);
    const state = (value: string) =>
      ({ type: "state", value, status: "ringing", event: "e", verb: null, documentUrl: null }) as const;
    inspector.publish("CA1", state("routed"));
    inspector.publish("CA2", state("routed"));
    inspector.command("CA1", { kind: "play", url: "https://u:secret@cdn.example/a.mp3" });
    inspector.publish("CA1", state("Play"));
    // A later turn, inside the window: the same message.
    await new Promise((resolve) => setImmediate(resolve));
    inspector.publish("CA1", state("storing"));
    await new Promise((resolve) => setImmediate(resolve));
    // Sent when the window ends, with no flush asked for.
    await vi.waitFor(() => expect(messages).toHaveLength(2), { timeout: WINDOW_MS + 2_000 });
    expect(messages).toEqual([
      { sid: "CA1", types: ["state", "play", "state", "state"] },
      { sid: "CA2", types: ["state"] },
    ]);
    sub.unsubscribe();
    await nc.close();
  });

  it("gives each call a window of its own, from its first event", () => {
    // Fake clocks: what this asserts is when each batch goes, which a loaded machine must not move.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"] });
    try {
      const sent: Array<{ sid: string; values: unknown[]; at: number }> = [];
      const nc = {
        publish: (subject: string, data: Uint8Array) => {
          const values = inspectEnvelopes(data).map((e) => (e.type === "state" ? e.value : e.type));
          sent.push({ sid: subject.split(".").at(-1) ?? "", values, at: performance.now() });
        },
      } as unknown as NatsConnection;
      const inspector = new Inspector(nc, subjects(), "us1", 100);
      const state = (value: string) =>
        ({ type: "state", value, status: "ringing", event: "e", verb: null, documentUrl: null }) as const;
      const t0 = performance.now();
      inspector.publish("CA1", state("routed"));
      vi.advanceTimersByTime(50);
      // CA2 starts half a window later: CA1's window ending must not cut CA2's batch in two.
      inspector.publish("CA2", state("routed"));
      vi.advanceTimersByTime(50);
      expect(sent).toEqual([{ sid: "CA1", values: ["routed"], at: t0 + 100 }]);
      // Inside CA2's own window: its next event joins its first, and the batch goes when the window ends.
      inspector.publish("CA2", state("storing"));
      vi.advanceTimersByTime(49);
      expect(sent).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(sent[1]).toEqual({ sid: "CA2", values: ["routed", "storing"], at: t0 + 150 });
      // A batch due within a quarter of a window of one being sent goes with it: one wake-up for both.
      inspector.publish("CA3", state("routed"));
      vi.advanceTimersByTime(20);
      inspector.publish("CA4", state("routed"));
      vi.advanceTimersByTime(80);
      expect(sent.slice(2).map(({ sid, at }) => ({ sid, at }))).toEqual([
        { sid: "CA3", at: t0 + 250 },
        { sid: "CA4", at: t0 + 250 },
      ]);
      inspector.flushAll();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("cuts credentials from a channel command's URL", async () => {
    await using nats = await startTestNatsServer({ jetstream: false });
    const nc = await connect({ servers: nats.url });
    const got: unknown[] = [];
    const sub = nc.subscribe("sb.region.us1.inspect.CA1", {
      callback: (_e, m) => {
        got.push(...inspectEnvelopes(m.data));
      },
    });
    await nc.flush();
    const inspector = new Inspector(nc, subjects(), "us1");
    inspector.command("CA1", { kind: "play", url: "https://u:secret@cdn.example/a.mp3" });
    inspector.flushAll();
    await nc.flush();
    expect(got).toMatchObject([
      { type: "channel", command: { kind: "play", url: "https://cdn.example/a.mp3" } },
    ]);
    sub.unsubscribe();
    await nc.close();
  });

  it("reads a message written before batching (one event) as a batch of one", () => {
    const one = { type: "resumed", worker: "w2", from: "w1", callSid: "CA1", at: 5, seq: 9 };
    expect(inspectEnvelopes(encode(one))).toEqual([one]);
  });

  it("leaves URLs without credentials, and non-URLs, as they are", () => {
    expect(withoutCredentials("http://127.0.0.1:8080/a@b")).toBe("http://127.0.0.1:8080/a@b");
    expect(withoutCredentials("not a url @ all")).toBe("not a url @ all");
  });
});
