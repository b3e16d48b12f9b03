// Every request about a call is made the same way (region/effects/call-webhook.ts): the call's own
// documents, a verb's documents (wait music), whispers and status callbacks are each counted for
// /metrics, inspected, and report their warnings with line and column. Each test here caught a
// place that once made its requests by hand and had drifted.
import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { decode } from "../../src/protocol/codec.js";
import { type InspectEnvelope, inspectEnvelopes } from "../../src/protocol/inspect.js";
import type { WorkerStats } from "../../src/protocol/worker-stats.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const OUTSIDE = "+15559990001";
// A misspelled verb on line 3: a 12200 warning at line 3, column 3.
const WARNS = '<?xml version="1.0"?>\n<Response>\n  <say>hold on</say>\n</Response>';

/** What the region publishes: inspection events by call, and the latest worker stats. */
function watch(nc: NatsConnection) {
  const events = new Map<string, InspectEnvelope[]>();
  let stats: WorkerStats | undefined;
  const subs = [
    nc.subscribe("sb.region.us1.inspect.*", {
      callback: (_err, msg) => {
        for (const e of inspectEnvelopes(msg.data)) {
          const list = events.get(e.callSid) ?? [];
          list.push(e);
          events.set(e.callSid, list);
        }
      },
    }),
    nc.subscribe("sb.region.us1.stats.*", {
      callback: (_err, msg) => {
        stats = decode(msg.data) as WorkerStats;
      },
    }),
  ];
  /** Resolves once `check` holds, polling; rejects with `what` after 10 s. */
  const until = async (what: string, check: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`not seen within 10 s: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    events: (callSid: string) => events.get(callSid) ?? [],
    /** The call whose inspection shows a request to a URL ending in `path`. */
    callRequesting: (path: string) =>
      [...events.entries()].find(([, list]) =>
        list.some((e) => e.type === "webhook.request" && e.url.endsWith(path)),
      )?.[0],
    webhooksCounted: () => stats?.webhook.count ?? 0,
    until,
    [Symbol.dispose]: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}

describe("a call's webhook requests", () => {
  it("a whisper's requests are inspected on its leg, counted for /metrics, and warn with line and column", async () => {
    await using engine = await startTestEngine();
    using seen = watch(engine.nc);
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.dial().number({ url: "/whisper" }, OUTSIDE);
        return { body: r.toString() };
      },
      "/whisper": () => ({ body: WARNS }),
    });
    await engine.addNumber({ number: "+15551238001", voiceUrl: `${app.url}/voice` });
    const placed = await engine.call({
      to: "+15551238001",
      caller: { timeScale: 0, callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 1 } } },
    });
    expect(app.requests.map((r) => r.path)).toEqual(["/voice", "/whisper"]);

    await seen.until("the whisper's request", () => seen.callRequesting("/whisper") !== undefined);
    const leg = seen.callRequesting("/whisper") ?? "";
    expect(leg).not.toBe(placed.callSid);
    await seen.until("the whisper's response", () =>
      seen.events(leg).some((e) => e.type === "webhook.response" && e.url.endsWith("/whisper")),
    );
    await seen.until("both requests in /metrics", () => seen.webhooksCounted() === 2);

    const [note] = await engine.notifications(leg);
    expect(note).toMatchObject({ error_code: "12200", request_url: `${app.url}/whisper` });
    expect(note?.message_text).toMatch(/\(line 3, column 3\)$/);
  });

  it("a verb's document that fails is inspected as webhook.error, with its status", async () => {
    await using engine = await startTestEngine();
    using seen = watch(engine.nc);
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.enqueue({ waitUrl: "/wait" }, "support");
        return { body: r.toString() };
      },
      "/wait": () => ({ status: 500, body: "down" }),
    });
    await engine.addNumber({ number: "+15551238002", voiceUrl: `${app.url}/voice` });
    const placed = await engine.call({ to: "+15551238002", caller: { timeScale: 0, hangupAfter: 1 } });
    await seen.until("the wait document's error", () =>
      seen.events(placed.callSid).some((e) => e.type === "webhook.error"),
    );
    const exchange = seen
      .events(placed.callSid)
      .filter((e) => e.type.startsWith("webhook.") && "url" in e && e.url.endsWith("/wait"));
    expect(exchange.map((e) => e.type)).toEqual(["webhook.request", "webhook.error"]);
    expect(exchange[1]).toMatchObject({ code: 11200, httpStatus: 500 });
  });

  it("a verb's document reports its warnings with line and column, and the URL they came from", async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.enqueue({ waitUrl: "/wait" }, "support");
        return { body: r.toString() };
      },
      "/wait": () => ({ body: WARNS }),
    });
    await engine.addNumber({ number: "+15551238003", voiceUrl: `${app.url}/voice` });
    const placed = await engine.call({ to: "+15551238003", caller: { timeScale: 0, hangupAfter: 1 } });
    const notes = await engine.notifications(placed.callSid);
    const warning = notes.find((n) => n.error_code === "12200");
    expect(warning?.message_text).toMatch(/<say>.*\(line 3, column 3\)$/);
    expect(warning?.request_url).toBe(`${app.url}/wait`);
  });

  it("a status callback is counted for /metrics like the call's other requests", async () => {
    await using engine = await startTestEngine();
    using seen = watch(engine.nc);
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => ({ body: new VoiceResponse().say("Hi").toString() }),
      "/status": () => ({ status: 204, body: "" }),
    });
    await engine.addNumber({
      number: "+15551238004",
      voiceUrl: `${app.url}/voice`,
      statusCallback: `${app.url}/status`,
    });
    await engine.call({ to: "+15551238004" });
    await app.waitFor((r) => r.path === "/status");
    await seen.until("both requests in /metrics", () => seen.webhooksCounted() === 2);
  });
});
