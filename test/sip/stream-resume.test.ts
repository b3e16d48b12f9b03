// A region worker dies (SIGKILL) or hands its calls over (SIGTERM) while a SIP call has a
// <Start><Stream> or a <Connect><Stream> open. The stream's WebSocket is the gateway's, so it can outlive the worker: the
// call's snapshot names it, and the worker that resumes the call takes it back. The app keeps
// getting the caller's audio on the one socket, the resumed call's <Stop><Stream> ends it (not the
// hand-over, not the call's end), and its stream-started and stream-stopped callbacks come once each.
// A <Connect> stream is taken back by its verb, run again: no second socket to the app's bot.
import { describe, expect, it } from "vitest";
import { bounded } from "../helpers/bounded.js";
import { startTestEngine } from "../helpers/engine.js";
import { messagesSeen } from "../helpers/messages-seen.js";
import { regionWorker } from "../helpers/region-worker.js";
import { setUp } from "../helpers/teardown.js";
import { type Route, startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { startWsServer, type WsConnection, type WsServer } from "../helpers/ws-server.js";
import { type PhoneRtp, phoneRtp, sipp, startGateway, toneDir } from "./harness.js";

const NUMBER = "+15551230051";
const BOUND_MS = 20_000;
/** The Pause the stream runs through (played again in full by the resumed call), and the one after <Stop>. */
const PAUSE_S = 4;
const AFTER_STOP_S = 3;

describe("a <Start><Stream> of a SIP call resumed on another worker", () => {
  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands its calls over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "when the worker %s, stays open on its socket and ends at the resumed call's <Stop>",
    { timeout: 90_000 },
    async (_, signal) => {
      await using stage = await streamStage((ws) => ({
        "/voice": () => {
          const r = new VoiceResponse();
          r.start().stream({ name: "fork", url: `${ws.url}/fork`, statusCallback: "/stream-status" });
          r.pause({ length: PAUSE_S });
          r.stop().stream({ name: "fork" });
          r.pause({ length: AFTER_STOP_S });
          r.hangup();
          return { body: r.toString() };
        },
      }));
      const { engine, gw, ws, app } = stage;
      // No drain: a graceful stop hands its live calls over at once.
      await using a = regionWorker(engine.nats.url, ["--drain", "0"]);
      await a.waitForLog("ready");
      await using phone = await phoneRtp();
      const { caller, conn } = await callStreaming(gw, app, ws, phone);

      await using b = regionWorker(engine.nats.url);
      await b.waitForLog("ready");
      a.child.kill(signal);
      const killedAt = performance.now();
      await a.exited;
      const heardBefore = conn.messages.length;
      await bounded(
        conn.waitFor((m) => m.event === "stop", 40_000),
        "the stream's stop",
        40_000,
      );
      const stoppedAt = performance.now();
      const result = await bounded(caller, "the caller's end", 40_000);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const endedAt = performance.now();

      // One socket all along, carrying the caller's audio through the resume.
      expect(ws.connections).toHaveLength(1);
      const mediaAfter = conn.messages
        .slice(heardBefore)
        .filter((m) => (m as { event: string }).event === "media");
      expect(mediaAfter.length).toBeGreaterThan(100);
      // Stopped by the resumed call's <Stop>: after its Pause ran again, seconds before the call ended.
      expect(stoppedAt - killedAt).toBeGreaterThan((PAUSE_S - 2) * 1000);
      expect(endedAt - stoppedAt).toBeGreaterThan((AFTER_STOP_S - 1.5) * 1000);
      await app.waitFor((r) => r.path === "/stream-status" && r.params.StreamEvent === "stream-stopped");
      const statuses = app.requests.filter((r) => r.path === "/stream-status");
      expect(statuses.map((r) => `${r.params.StreamEvent} ${r.params.StreamName}`)).toEqual([
        "stream-started fork",
        "stream-stopped fork",
      ]);
      expect(new Set(statuses.map((r) => r.params.StreamSid)).size).toBe(1);
    },
  );
});

describe("a <Connect><Stream> of a SIP call resumed on another worker", () => {
  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands its calls over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "when the worker %s, the resumed <Connect> takes its socket back: no second socket, and the app closing it moves the call on",
    { timeout: 90_000 },
    async (_, signal) => {
      await using stage = await streamStage((ws) => ({
        "/voice": () => {
          const r = new VoiceResponse();
          r.connect({ action: "/after" }).stream({ url: `${ws.url}/bot`, statusCallback: "/stream-status" });
          return { body: r.toString() };
        },
        "/after": () => ({ body: new VoiceResponse().hangup().toString() }),
      }));
      const { engine, gw, ws, app } = stage;
      // The region's waits on the stream: the first worker's, then the resumed one's.
      const waits = messagesSeen(engine.nc, "sb.sip.gw1.call.*.cmd", (m) => m.op === "stream-ended");
      await using a = regionWorker(engine.nats.url, ["--drain", "0"]);
      await a.waitForLog("ready");
      await using phone = await phoneRtp();
      const { caller, conn } = await callStreaming(gw, app, ws, phone);

      await using b = regionWorker(engine.nats.url);
      await b.waitForLog("ready");
      a.child.kill(signal);
      await a.exited;
      await bounded(waits.reached(2), "the resumed call waiting on its stream again", BOUND_MS);
      waits.stop();
      const heardBefore = conn.messages.length;
      await conn.waitFor((m) => m.event === "media" && Number(m.sequenceNumber) > heardBefore + 50, BOUND_MS);
      // The app ends the conversation: the resumed <Connect> ends, its action hangs up.
      conn.close();
      const result = await bounded(caller, "the caller's end", 40_000);
      expect(result.code, result.stdout + result.stderr).toBe(0);

      expect(ws.connections).toHaveLength(1);
      expect(app.requests.filter((r) => r.path === "/after")).toHaveLength(1);
      // The app closed it: no `stop` from the engine, on the one socket, before or after the resume.
      expect(conn.messages.some((m) => (m as { event: string }).event === "stop")).toBe(false);
      await app.waitFor((r) => r.path === "/stream-status" && r.params.StreamEvent === "stream-stopped");
      const statuses = app.requests.filter((r) => r.path === "/stream-status");
      expect(statuses.map((r) => r.params.StreamEvent)).toEqual(["stream-started", "stream-stopped"]);
      expect(new Set(statuses.map((r) => r.params.StreamSid)).size).toBe(1);
    },
  );
});

/**
 * An engine with no worker (the tests start them as processes), gateway gw1, the app's WebSocket
 * server, and the app answering NUMBER with `routes` (given the WebSocket server's URL) and the
 * stream's statusCallback. Stopped in reverse order, also when a later start throws.
 */
function streamStage(routes: (ws: WsServer) => Record<string, Route>) {
  return setUp(async (t) => {
    const engine = t.use(await startTestEngine({ worker: false }));
    const gw = t.use(await startGateway(engine, "gw1"));
    const ws = t.add(await startWsServer(), (w) => w.close());
    const app = t.use(
      await startTwilioApp(engine.authToken, {
        ...routes(ws),
        "/stream-status": () => ({ status: 204, body: "" }),
      }),
    );
    await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
    return { engine, gw, ws, app, [Symbol.asyncDispose]: () => t.stop() };
  });
}

/**
 * sipp calls the number (a 440 Hz tone, then it waits for the BYE); resolves once the app's socket
 * has carried a second of it and the stream's stream-started came, so the stream is stored with the
 * call (its snapshot's window) before a test stops the worker.
 */
async function callStreaming(
  gw: { sipPort: number },
  app: TwilioApp,
  ws: WsServer,
  phone: PhoneRtp,
): Promise<{ caller: ReturnType<typeof sipp>; conn: WsConnection }> {
  const caller = sipp(gw.sipPort, "room.xml", {
    to: NUMBER,
    keys: { rtpport: phone.port },
    cwd: await toneDir(30, 440),
    timeoutS: 60,
  });
  const conn = await ws.connection(0, BOUND_MS);
  await conn.waitFor((m) => m.event === "start", BOUND_MS);
  await app.waitFor((r) => r.path === "/stream-status" && r.params.StreamEvent === "stream-started");
  await conn.waitFor((m) => m.event === "media" && Number(m.sequenceNumber) > 60, BOUND_MS);
  return { caller, conn };
}
