// A <Dial> ringing a number switchboard hosts when the worker running both calls dies (SIGKILL) or
// hands them over (SIGTERM): the resumed Dial hears the number's call out — it answers there — rather
// than hanging it up and offering the number a second call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlacedCall } from "../../src/caller/place-call.js";
import { startCli } from "../helpers/cli.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { snapshotWhere } from "../helpers/snapshots.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const CALLER = "+15558200001";
const HOSTED = "+15558200002";
/** Dials ANSWERING once the test lets its request answer. */
const HELD_CALLER = "+15558200003";
const ANSWERING = "+15558200004";
/** Dials a party that never answers, then HOSTED, one after the other. */
const SEQUENTIAL_CALLER = "+15558200005";
const NEVER_ANSWERS = "+15558209999";

let engine: TestEngine;
let app: TwilioApp;
let releaseHeld: () => void = () => {};

// `--drain 0`: a worker stopped gracefully (SIGTERM) hands its live calls over at once.
const worker = () => regionWorker(engine.nats.url, ["--drain", "0"]);

/** A call from `to`'s caller, with its CallSid once offered and what it heard said. */
function placeCall(to: string, timeoutMs: number, edge?: string) {
  const heard = { callSid: "", said: [] as string[] };
  const ended: Promise<PlacedCall> = engine.call({
    to,
    ...(edge && { edge }),
    caller: { timeScale: 1, callees: { [NEVER_ANSWERS]: { outcome: "no-answer" } } },
    timeoutMs,
    onProgress: (p) => {
      if (p.source === "offered") heard.callSid = p.callSid;
      if (p.source === "channel" && p.event.kind === "say") heard.said.push(p.event.text);
    },
  });
  ended.catch(() => {});
  return { ended, heard };
}

/** The calls offered to HOSTED since the app's `from`th request (each once, however often it asked). */
function hostedCallsSince(from: number): string[] {
  const sids = app.requests
    .slice(from)
    .filter((r) => r.path === "/hosted")
    .map((r) => r.params.CallSid ?? "");
  return [...new Set(sids)];
}

beforeAll(async () => {
  engine = await startTestEngine({ worker: false });
  app = await startTwilioApp(engine.authToken, {
    // A short timeout: a Dial that gave up its leg and rings the number again times out quickly.
    "/dial": () => {
      const r = new VoiceResponse();
      r.dial({ action: "/dialed", timeout: 8 }).number(HOSTED);
      return { body: r.toString() };
    },
    // The hosted number's app: its first request for a call hangs (the call rings on while its
    // worker stops), the same request made again by the worker that resumed it is answered.
    "/hosted": (req) =>
      app.requests.filter((r) => r.path === "/hosted" && r.params.CallSid === req.params.CallSid).length > 1
        ? { body: new VoiceResponse().say("Hosted").toString() }
        : new Promise(() => {}),
    "/dialed": (req) => ({ body: new VoiceResponse().say(`Dial ${req.params.DialCallStatus}`).toString() }),
    "/held": () =>
      new Promise((resolve) => {
        releaseHeld = () => {
          const r = new VoiceResponse();
          // Long enough for the restarts below on a busy machine: the number answers at once.
          r.dial({ action: "/dialed", timeout: 30 }).number(ANSWERING);
          resolve({ body: r.toString() });
        };
      }),
    "/answering": () => ({ body: new VoiceResponse().say("Answering").toString() }),
    "/sequential": () => {
      const r = new VoiceResponse();
      const d = r.dial({ action: "/dialed", timeout: 5, sequential: true });
      d.number(NEVER_ANSWERS);
      d.number(HOSTED);
      return { body: r.toString() };
    },
  });
  await engine.addNumber({ number: CALLER, voiceUrl: `${app.url}/dial` });
  await engine.addNumber({ number: HOSTED, voiceUrl: `${app.url}/hosted` });
  await engine.addNumber({ number: HELD_CALLER, voiceUrl: `${app.url}/held` });
  await engine.addNumber({ number: ANSWERING, voiceUrl: `${app.url}/answering` });
  await engine.addNumber({ number: SEQUENTIAL_CALLER, voiceUrl: `${app.url}/sequential` });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

describe("a <Dial> ringing a hosted number", () => {
  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands both calls over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "when the worker of both %s, takes back the ringing call: no second call offered",
    async (_, signal) => {
      await using a = worker();
      await a.waitForLog("ready");
      const requestsBefore = app.requests.length;
      const { ended, heard } = placeCall(CALLER, 30_000);
      // The number's call rings (its app has not answered), and the caller's snapshot names it.
      const earlier = new Set(app.requests.map((r) => r.params.CallSid));
      const first = await app.waitFor((r) => r.path === "/hosted" && !earlier.has(r.params.CallSid));
      const stored = await snapshotWhere(
        engine.nc,
        heard.callSid,
        (s) => s.sb.dialLegs?.[0]?.hosted !== undefined,
      );
      const leg = stored.sb.dialLegs?.[0];
      expect(leg?.hosted?.callSid).toBe(first.params.CallSid);
      expect(leg?.bridged).toBeFalsy();

      const b = worker();
      await b.waitForLog("ready");
      await using _b = b;
      a.child.kill(signal);
      await a.exited;

      const placed = await ended;
      expect(placed.call.status).toBe("completed");
      expect(heard.said).toEqual(["Dial completed"]);
      // One call offered to the number, its request made again by its own resumed worker.
      expect(hostedCallsSince(requestsBefore)).toEqual([first.params.CallSid]);
      const dialed = app.requests.filter((r) => r.path === "/dialed" && r.params.CallSid === placed.callSid);
      expect(dialed.map((r) => `${r.params.DialCallStatus} ${r.params.DialCallSid}`)).toEqual([
        `completed ${leg?.sid}`,
      ]);
    },
  );

  it("a sequential Dial resumed while its second noun rings goes on there, not from its first", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    const requestsBefore = app.requests.length;
    const { ended, heard } = placeCall(SEQUENTIAL_CALLER, 40_000);
    // The first noun rings its 5 s out; then the number's call rings (its app has not answered).
    const earlier = new Set(app.requests.map((r) => r.params.CallSid));
    const first = await app.waitFor((r) => r.path === "/hosted" && !earlier.has(r.params.CallSid));
    await snapshotWhere(engine.nc, heard.callSid, (s) =>
      (s.sb.dialLegs ?? []).some((leg) => leg.hosted?.callSid === first.params.CallSid),
    );
    const b = worker();
    await b.waitForLog("ready");
    await using _b = b;
    a.child.kill("SIGKILL");
    await a.exited;

    await ended;
    expect(heard.said).toEqual(["Dial completed"]);
    // Taken back where it was: the number was offered one call, and the first noun was not rung again.
    expect(hostedCallsSince(requestsBefore)).toEqual([first.params.CallSid]);
  }, 60_000);

  it("when the worker dies after naming the number's call but before its offer went out, offers it then", async () => {
    // The calls come in through an edge of their own, which the test can stop: the Dial's offer of
    // the number's call then waits in that edge's socket, and is lost with it.
    const edgeArgs = ["edge", "--edge", "stalling", "--nats", engine.nats.url];
    const firstEdge = startCli(edgeArgs);
    await using _firstEdge = firstEdge;
    await firstEdge.waitForLog("ready");
    await using a = worker();
    await a.waitForLog("ready");
    const { ended, heard } = placeCall(HELD_CALLER, 40_000, "stalling");
    await app.waitFor((r) => r.path === "/held" && r.params.CallSid === heard.callSid);
    firstEdge.child.kill("SIGSTOP");
    let named: string | undefined;
    try {
      releaseHeld();
      // Named in the caller's snapshot before its offer goes, which no edge reads now.
      const stored = await snapshotWhere(
        engine.nc,
        heard.callSid,
        (s) => s.sb.dialLegs?.[0]?.hosted !== undefined,
      );
      named = stored.sb.dialLegs?.[0]?.hosted?.callSid;
    } finally {
      // Killed stopped: the offer in its socket is never read (and a stopped process heeds no SIGTERM).
      firstEdge.child.kill("SIGKILL");
      await firstEdge.exited;
    }
    a.child.kill("SIGKILL");
    await a.exited;

    const edge = startCli(edgeArgs);
    await using _edge = edge;
    await edge.waitForLog("ready");
    await using b = worker();
    await b.waitForLog("ready");
    const placed = await ended;
    expect(placed.call.status).toBe("completed");
    expect(heard.said).toEqual(["Dial completed"]);
    // The number got the call the Dial named, once.
    const answering = app.requests.filter((r) => r.path === "/answering").map((r) => r.params.CallSid);
    expect(answering).toEqual([named]);
  });
});
