// SIGTERM hands a worker's live calls over instead of dropping them, and a worker never takes more
// calls than its --concurrency: the rest wait in the region's stream.
import { jetstreamManager } from "@nats-io/jetstream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallProgress } from "../../src/caller/place-call.js";
import { RegionWorker } from "../../src/region/worker.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

let engine: TestEngine;
let app: TwilioApp;
const log = pino({ level: "silent" });

beforeAll(async () => {
  // The engine runs the edge; each test brings the workers it needs.
  engine = await startTestEngine({ worker: false });
  app = await startTwilioApp(engine.authToken, {
    "/park": () => {
      const r = new VoiceResponse();
      r.say("Hold");
      r.pause({ length: 2 });
      r.say("Done");
      return { body: r.toString() };
    },
    "/status": () => ({ status: 204, body: "" }),
  });
  await engine.addNumber({
    number: "+15558100001",
    voiceUrl: `${app.url}/park`,
    statusCallback: `${app.url}/status`,
  });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

function call(onProgress?: (p: CallProgress) => void) {
  return engine.call({
    to: "+15558100001",
    caller: { timeScale: 1 },
    timeoutMs: 30_000,
    ...(onProgress && { onProgress }),
  });
}

describe("graceful drain", () => {
  it("on SIGTERM hands a live call to another worker at once, exits 0, and the call ends once", async () => {
    await using a = regionWorker(engine.nats.url, ["--drain", "0"]);
    await a.waitForLog("ready");
    let parked!: () => void;
    const isParked = new Promise<void>((r) => {
      parked = r;
    });
    const said: string[] = [];
    const resumed: number[] = [];
    const ended = call((p) => {
      if (p.source === "channel" && p.event.kind === "say") said.push(p.event.text);
      if (p.source === "channel" && p.event.kind === "pause") parked();
      if (p.source === "inspect" && p.event.type === "resumed") resumed.push(Date.now());
    });
    await isParked;
    const b = await RegionWorker.start({ nc: engine.nc, region: "us1", log });
    try {
      const stoppedAt = Date.now();
      expect(await a.stop()).toBe(0);
      const placed = await ended;
      expect(placed.call.status).toBe("completed");
      expect(said).toEqual(["Hold", "Done"]);
      // Handed over: no need to wait for a missed heartbeat.
      expect(resumed).toHaveLength(1);
      expect((resumed[0] ?? 0) - stoppedAt).toBeLessThan(1_500);
      // Exactly one status callback, whoever ended the call.
      await app.waitFor((r) => r.path === "/status" && r.params.CallSid === placed.callSid);
    } finally {
      await b.stop();
    }
    const statuses = app.requests.filter((r) => r.path === "/status");
    expect(new Set(statuses.map((r) => r.params.CallSid)).size).toBe(statuses.length);
  });
});

describe("back-pressure", () => {
  it("takes no more calls than --concurrency; the others wait in the stream and all complete", async () => {
    const worker = await RegionWorker.start({ nc: engine.nc, region: "us1", log, concurrency: 1 });
    try {
      let parked!: () => void;
      const oneParked = new Promise<void>((r) => {
        parked = r;
      });
      let stored = 0;
      let allStored!: () => void;
      const threeStored = new Promise<void>((r) => {
        allStored = r;
      });
      const watch = (p: CallProgress) => {
        if (p.source === "offered" && ++stored === 3) allStored();
        if (p.source === "channel" && p.event.kind === "pause") parked();
      };
      const calls = [call(watch), call(watch), call(watch)];
      await Promise.all([oneParked, threeStored]);
      // One call is live (parked in its Pause); the two others wait in the stream, untaken.
      const jsm = await jetstreamManager(engine.nc);
      expect((await jsm.consumers.info("SB_CALLS_US1", "workers")).num_pending).toBe(2);
      expect(worker.liveCalls).toBe(1);
      const placed = await Promise.all(calls);
      expect(placed.map((p) => p.call.status)).toEqual(["completed", "completed", "completed"]);
    } finally {
      await worker.stop();
    }
  });
});
