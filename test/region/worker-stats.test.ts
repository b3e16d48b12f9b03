// The workers' figures behind /metrics: published by each worker, summed per region by the api.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { WorkerMetrics } from "../../src/api/rest/worker-metrics.js";
import { decode, encode } from "../../src/protocol/codec.js";
import type { WorkerStats } from "../../src/protocol/worker-stats.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

describe("worker stats", () => {
  it("a worker publishes its ended calls and webhook latencies soon after a call ends", async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => ({ body: new VoiceResponse().say("Hi").toString() }),
    });
    await engine.addNumber({ number: "+15551231000", voiceUrl: `${app.url}/voice` });
    const seen = new Promise<WorkerStats>((resolve) => {
      engine.nc.subscribe("sb.region.us1.stats.*", {
        callback: (_err, msg) => {
          const stats = decode(msg.data) as WorkerStats;
          if ((stats.counters.ended ?? 0) >= 1) resolve(stats);
        },
      });
    });
    await engine.call({ to: "+15551231000" });
    const stats = await seen;
    expect(stats).toMatchObject({
      region: "us1",
      liveCalls: 0,
      counters: { received: 1, started: 1, ended: 1 },
    });
    expect(stats.webhook.count).toBe(1);
    expect(stats.webhook.buckets.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it("the api sums the latest stats of each live worker per region, as Prometheus text", async () => {
    await using engine = await startTestEngine();
    const metrics = new WorkerMetrics(engine.nc);
    const stats = (worker: string, liveCalls: number, at = Date.now()): WorkerStats => ({
      worker,
      region: "ie1",
      at,
      liveCalls,
      byState: { "executing-twiml": liveCalls },
      counters: { ended: 10 },
      webhook: { buckets: [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0], sum: 0.02, count: 3 },
    });
    engine.nc.publish("sb.region.ie1.stats.a", encode(stats("a", 2)));
    engine.nc.publish("sb.region.ie1.stats.b", encode(stats("b", 3)));
    engine.nc.publish("sb.region.ie1.stats.old", encode(stats("old", 100, Date.now() - 60_000)));
    engine.nc.publish("sb.region.ie1.stats.junk", new Uint8Array([0xc1]));
    // The server delivers our publishes to this connection's own subscription before it answers
    // the flush's PING, so after the flush the api side has read them.
    await engine.nc.flush();
    const registry = new Registry();
    metrics.register(registry);
    const text = await registry.metrics();
    metrics.close();
    expect(text).toMatch(/^switchboard_active_actors\{region="ie1"\} 5$/m);
    expect(text).toMatch(/^switchboard_live_calls\{region="ie1",state="executing-twiml"\} 5$/m);
    expect(text).toMatch(/^switchboard_worker_calls_total\{region="ie1",event="ended"\} 20$/m);
    expect(text).toMatch(/^switchboard_webhook_duration_seconds_bucket\{region="ie1",le="0.01"\} 6$/m);
    expect(text).toMatch(/^switchboard_webhook_duration_seconds_count\{region="ie1"\} 6$/m);
  });
});
