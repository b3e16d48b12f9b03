// After its main thread was stalled, a worker checks which of its calls are still its own (a peer may
// have claimed them from their leases meanwhile). A call that had just started, its lease still being
// written, was judged lost and dropped — unrun, unrecorded — under load (issue #20, two test files at
// once: the hosted outbound test's inbound call never asked for /voice). Real nats-server and worker;
// the lease's write is held back by the test, and the stall is the test blocking its own event loop.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEAD_AFTER_MS } from "../../src/region/host/leases.js";
import type { RegionWorker } from "../../src/region/worker.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { setUp } from "../helpers/teardown.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const NUMBER = "+15551780001";
let f: { engine: TestEngine; app: TwilioApp } & AsyncDisposable;

beforeAll(async () => {
  f = await setUp(async (t) => {
    const engine = t.use(await startTestEngine());
    const app = t.use(
      await startTwilioApp(engine.authToken, {
        "/voice": () => ({ body: new VoiceResponse().pause({ length: 3 }).toString() }),
      }),
    );
    await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
    return { engine, app, [Symbol.asyncDispose]: () => t.stop() };
  });
});

afterAll(async () => {
  await f?.[Symbol.asyncDispose]();
});

/** The worker's internals this test reaches into: its call host, its leases, its actors bucket. */
function internals(worker: RegionWorker) {
  const w = worker as unknown as {
    host: { has(callSid: string): boolean };
    leases: { gate(fn: () => void): void };
    rt: { stores: { actors: { kv: { put: (...args: unknown[]) => Promise<number> } } } };
  };
  return { host: w.host, leases: w.leases, kv: w.rt.stores.actors.kv };
}

describe("a worker woken from a stall", () => {
  it("keeps a call whose lease is still being written, and runs it to its end", async () => {
    const { host, leases, kv } = internals(f.engine.worker as RegionWorker);
    // Every lease written from now on waits until the test lets it through.
    let letThrough!: () => void;
    const held = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    const put = kv.put.bind(kv);
    kv.put = async (...args: unknown[]) => {
      if (String(args[0]).startsWith("_o.")) await held;
      return put(...args);
    };
    try {
      const placed = f.engine.call({ to: NUMBER, caller: { timeScale: 1 } });
      const voice = await f.app.waitFor((r) => r.path === "/voice");
      const callSid = voice.params.CallSid ?? "";
      expect(host.has(callSid)).toBe(true);
      // The main thread stalls past the death threshold, then the calls' ownership is checked.
      const until = performance.now() + DEAD_AFTER_MS + 200;
      while (performance.now() < until);
      await new Promise<void>((resolve) => leases.gate(resolve));
      expect(host.has(callSid), "the call is still run here after the check").toBe(true);
      letThrough();
      const { call } = await placed;
      expect(call).toMatchObject({ sid: callSid, status: "completed" });
      expect(Number(call.duration)).toBeGreaterThanOrEqual(3);
    } finally {
      letThrough();
      kv.put = put;
    }
  }, 30_000);
});
