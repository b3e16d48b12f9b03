// <Connect><Stream> and <Start>/<Stop><Stream> against a real WebSocket server, with a real engine
// (nats-server, worker, edge) and an app written with the twilio package: what the server receives,
// message by message, and what the call does around it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallProgress } from "../../src/caller/place-call.js";
import { encode } from "../../src/protocol/codec.js";
import { subjects } from "../../src/protocol/subjects.js";
import { EgressPolicy } from "../../src/webhook/egress.js";
import { AnsweringNumbers } from "../helpers/answering-numbers.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { startWsServer, type WsServer } from "../helpers/ws-server.js";

const SILENT_FRAME = Buffer.alloc(160, 0xff).toString("base64");
let engine: TestEngine;
let app: TwilioApp;
let ws: WsServer;
/** Each test answers /voice itself; a number per test keeps their calls apart. */
const numbers = new AnsweringNumbers("+1555123");

beforeAll(async () => {
  engine = await startTestEngine();
  ws = await startWsServer({ paths: ["/media", "/bg", "/hangup"] });
  const xml = (build: (r: InstanceType<typeof VoiceResponse>) => void) => () => {
    const r = new VoiceResponse();
    build(r);
    return { body: r.toString() };
  };
  app = await startTwilioApp(engine.authToken, {
    "/voice": numbers.route,
    "/after": xml((r) => {
      r.say("Back from the stream.");
      r.hangup();
    }),
    "/stream-status": () => ({ status: 204, body: "" }),
  });
});

afterAll(async () => {
  await app?.close();
  await ws?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** A number answering with `build`'s TwiML. */
const numberAnswering = (build: (r: InstanceType<typeof VoiceResponse>) => void) =>
  numbers.add(engine, app.url, build);

async function call(to: string) {
  const said: string[] = [];
  const placed = await engine.call({
    to,
    onProgress: (p: CallProgress) => {
      if (p.source === "channel" && p.event.kind === "say") said.push(p.event.text);
    },
  });
  return { ...placed, said };
}

const streamStatus = (callSid: string, event: string) =>
  app.waitFor(
    (r) => r.path === "/stream-status" && r.params.CallSid === callSid && r.params.StreamEvent === event,
  );

describe("<Connect><Stream>", () => {
  it("speaks Media Streams to the server, blocks until it closes, then requests the action", async () => {
    let closedAt = 0;
    let actionBeforeClose = true;
    const to = await numberAnswering((r) => {
      r.say("Connecting you.");
      const stream = r
        .connect({ action: `${app.url}/after` })
        .stream({ url: `${ws.url}/media`, statusCallback: `${app.url}/stream-status` });
      stream.parameter({ name: "FirstName", value: "Jane" });
      stream.parameter({ name: "Ticket", value: "42" });
      r.say("Never reached: the action takes over.");
    });
    const server = ws.connections.length;
    const calling = call(to);
    // The app's server: after the first second of audio it plays something, marks it, waits for the
    // mark to come back, and hangs up the stream.
    const conn = await ws.connection(server);
    const start = await conn.waitFor((m) => m.event === "start");
    const streamSid = start.streamSid as string;
    await conn.waitFor((m) => m.event === "media" && (m.media as { chunk: string }).chunk === "50");
    conn.send({ event: "media", streamSid, media: { payload: Buffer.alloc(800, 0x7f).toString("base64") } });
    conn.send({ event: "mark", streamSid, mark: { name: "greeting-played" } });
    await conn.waitFor((m) => m.event === "mark");
    actionBeforeClose = app.requests.some((r) => r.path === "/after");
    closedAt = Date.now();
    conn.close();
    const { callSid, call: record, said } = await calling;

    expect(conn.messages[0]).toEqual({ event: "connected", protocol: "Call", version: "1.0.0" });
    expect(conn.messages[1]).toEqual({
      event: "start",
      sequenceNumber: "1",
      start: {
        accountSid: engine.accountSid,
        streamSid: expect.stringMatching(/^MZ[0-9a-f]{32}$/),
        callSid,
        tracks: ["inbound"],
        customParameters: { FirstName: "Jane", Ticket: "42" },
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
      streamSid,
    });
    // At time-scale 0 a stream sends its first second of the caller's audio: 50 frames of 20 ms.
    const media = conn.messages.slice(2, 52);
    expect(media).toEqual(
      media.map((_, i) => ({
        event: "media",
        sequenceNumber: String(i + 2),
        media: { track: "inbound", chunk: String(i + 1), timestamp: String(i * 20), payload: SILENT_FRAME },
        streamSid,
      })),
    );
    expect(conn.messages.slice(52)).toEqual([
      { event: "mark", sequenceNumber: "52", streamSid, mark: { name: "greeting-played" } },
    ]);

    // The TwiML waited for the server: the action came after the close, and replaced the document.
    expect(actionBeforeClose).toBe(false);
    const after = await app.waitFor((r) => r.path === "/after" && r.params.CallSid === callSid);
    expect(after.at).toBeGreaterThanOrEqual(closedAt);
    expect(after.params.CallStatus).toBe("in-progress");
    expect(said).toEqual(["Connecting you.", "Back from the stream."]);
    expect(record.status).toBe("completed");

    const started = await streamStatus(callSid, "stream-started");
    const stopped = await streamStatus(callSid, "stream-stopped");
    expect(started.signatureValid).toBe(true);
    expect(started.params).toEqual({
      AccountSid: engine.accountSid,
      CallSid: callSid,
      StreamSid: streamSid,
      StreamName: streamSid,
      StreamEvent: "stream-started",
      Timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(stopped.params.StreamSid).toBe(streamSid);
  });

  it("sends stop when the caller hangs up, ends the call, and warns once about bad messages (31951)", async () => {
    const to = await numberAnswering((r) => {
      r.connect().stream({ url: `${ws.url}/hangup` });
      r.say("Never reached: the caller is gone.");
    });
    const server = ws.connections.length;
    const calling = call(to);
    const conn = await ws.connection(server);
    const start = await conn.waitFor((m) => m.event === "start");
    const { callSid } = start.start as { callSid: string };
    conn.send({ event: "media", streamSid: "MZ0000", media: { payload: "" } });
    conn.send({ event: "dance" });
    // The bad messages reach the engine before the hang-up does: the mark comes back after them.
    conn.send({ event: "mark", streamSid: start.streamSid, mark: { name: "sync" } });
    await conn.waitFor((m) => m.event === "mark");
    await engine.nc.publish(subjects().callIn("us1", callSid), encode({ kind: "hangup" }));
    const stop = await conn.waitFor((m) => m.event === "stop");
    await conn.closed;
    const { call: record, said } = await calling;

    expect(stop).toEqual({
      event: "stop",
      sequenceNumber: String(conn.messages.length - 1),
      streamSid: start.streamSid,
      stop: { accountSid: engine.accountSid, callSid },
    });
    expect(conn.messages.at(-1)).toBe(stop);
    expect(said).toEqual([]);
    expect(record.status).toBe("completed");
    const notes = await engine.notifications(callSid);
    expect(notes.filter((n) => n.error_code === "31951").map((n) => n.log)).toEqual(["1"]);
  });

  it("reports 31920 and stream-error when the WebSocket cannot open, and goes on to the next verb", async () => {
    const to = await numberAnswering((r) => {
      r.connect().stream({ url: `${ws.url}/not-a-stream`, statusCallback: `${app.url}/stream-status` });
      r.say("The stream failed.");
    });
    const { callSid, said } = await call(to);
    expect(said).toEqual(["The stream failed."]);
    const notes = await engine.notifications(callSid);
    expect(notes.map((n) => [n.error_code, n.log])).toContainEqual(["31920", "0"]);
    const error = await streamStatus(callSid, "stream-error");
    expect(error.params.StreamError).toMatch(/did not open/);
  });

  it("obeys the egress policy: a stream to an internal address is refused (31920)", async () => {
    // The app stays reachable on 127.0.0.1; the stream's server is on another loopback address.
    await using internal = await startWsServer({ host: "127.0.0.2" });
    const to = await numberAnswering((r) => {
      r.connect().stream({ url: `${internal.url}/media` });
      r.say("Refused.");
    });
    const web = engine.worker?.webhooks;
    if (!web) throw new Error("the engine runs no worker");
    web.egress = EgressPolicy.internalDenied(["127.0.0.1/32"]);
    try {
      const { callSid, said } = await call(to);
      expect(said).toEqual(["Refused."]);
      const notes = await engine.notifications(callSid);
      expect(notes.find((n) => n.error_code === "31920")?.message_text).toMatch(/egress policy/);
      expect(internal.connections).toEqual([]);
    } finally {
      web.egress = EgressPolicy.allowAll();
    }
  });
});

describe("<Start><Stream> and <Stop><Stream>", () => {
  it("streams both tracks in the background while the document runs, until <Stop> names it", async () => {
    const to = await numberAnswering((r) => {
      r.start().stream({
        url: `${ws.url}/bg`,
        name: "recorder",
        track: "both_tracks",
        statusCallback: `${app.url}/stream-status`,
      });
      r.say("This call is being streamed.");
      r.pause({ length: 3 });
      r.stop().stream({ name: "recorder" });
      r.say("Streaming stopped.");
    });
    const server = ws.connections.length;
    const { callSid, said, call: record } = await call(to);
    const conn = await ws.connection(server);
    await conn.closed;
    const messages = conn.messages as Record<string, unknown>[];

    expect(said).toEqual(["This call is being streamed.", "Streaming stopped."]);
    expect(messages[1]).toMatchObject({
      event: "start",
      start: { callSid, tracks: ["inbound", "outbound"] },
    });
    expect(messages.map((m) => m.sequenceNumber)).toEqual([
      undefined,
      ...messages.slice(1).map((_, i) => String(i + 1)),
    ]);
    const frames = messages.filter((m) => m.event === "media").map((m) => m.media as Record<string, string>);
    for (const track of ["inbound", "outbound"]) {
      const own = frames.filter((f) => f.track === track);
      expect(own.map((f) => f.chunk)).toEqual(own.map((_, i) => String(i + 1)));
      expect(own.map((f) => f.timestamp)).toEqual(own.map((_, i) => String(i * 20)));
      // The audio covers the call time the stream ran: the Say and the 3 s pause, not just its first second.
      expect(own.length).toBeGreaterThanOrEqual(150);
    }
    expect(messages.at(-1)).toEqual({
      event: "stop",
      sequenceNumber: String(messages.length - 1),
      streamSid: messages[1]?.streamSid,
      stop: { accountSid: engine.accountSid, callSid },
    });
    expect(record.status).toBe("completed");
    const stopped = await streamStatus(callSid, "stream-stopped");
    expect(stopped.params.StreamName).toBe("recorder");
    expect((await streamStatus(callSid, "stream-started")).params.StreamName).toBe("recorder");
  });

  it("stops a stream nobody stopped when the call ends", async () => {
    const to = await numberAnswering((r) => {
      r.start().stream({ url: `${ws.url}/bg`, statusCallback: `${app.url}/stream-status` });
      r.say("Goodbye.");
    });
    const server = ws.connections.length;
    const { callSid } = await call(to);
    const conn = await ws.connection(server);
    const stop = await conn.waitFor((m) => m.event === "stop");
    await conn.closed;
    expect(stop.stop).toEqual({ accountSid: engine.accountSid, callSid });
    expect((await streamStatus(callSid, "stream-stopped")).params.StreamSid).toBe(stop.streamSid);
  });
});
