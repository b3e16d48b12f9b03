// Media Streams of a real SIP call: sipp calls in and sends a 440 Hz tone; the engine (edge, worker,
// gateway) runs the app's <Start>/<Connect><Stream>; a real WebSocket server is the app's. The app
// must get the caller's tone in Twilio's message format (the shapes of Twilio's documented examples),
// and what it sends back (880 Hz) must reach the caller, its marks echoed when played, clear obeyed.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeG711, linearToUlaw } from "../../src/sip/rtp/g711.js";
import { EgressPolicy } from "../../src/webhook/egress.js";
import { AnsweringNumbers } from "../helpers/answering-numbers.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { startWsServer, type WsConnection, type WsServer } from "../helpers/ws-server.js";
import { amplitudeAt } from "./audio.js";
import { type PhoneRtp, phoneRtp, sipp, startGateway, toneDir } from "./harness.js";

const TWILIO = JSON.parse(
  readFileSync(new URL("../fixtures/media-streams/twilio-messages.json", import.meta.url), "utf8"),
) as { fromTwilio: Record<string, unknown> };

let engine: TestEngine;
let app: TwilioApp;
let ws: WsServer;
let gw: Awaited<ReturnType<typeof startGateway>>;
const numbers = new AnsweringNumbers("+1555124");

beforeAll(async () => {
  engine = await startTestEngine();
  ws = await startWsServer();
  app = await startTwilioApp(engine.authToken, {
    "/voice": numbers.route,
    "/after": () => ({ body: new VoiceResponse().hangup().toString() }),
    "/stream-status": () => ({ status: 204, body: "" }),
  });
  gw = await startGateway(engine);
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await app?.close();
  await ws?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** A number answering with `build`'s TwiML. */
const numberAnswering = (build: (r: InstanceType<typeof VoiceResponse>) => void) =>
  numbers.add(engine, app.url, build);

/** sipp calls `to`, sending 5 s of 440 Hz a second after the answer, then #; the phone records what it hears. */
async function callIn(to: string, codecs = "0 101") {
  const phone = await phoneRtp();
  const caller = sipp(gw.sipPort, "stream.xml", {
    to,
    keys: { rtpport: phone.port, codecs },
    cwd: await toneDir(5),
    timeoutS: 40,
  });
  return { phone, caller };
}

const ulaw = (payload: string) => decodeG711("PCMU", Buffer.from(payload, "base64"));

/** `n` ms of `hz` as μ-law base64, as an app sends it back. */
function tone(hz: number, ms: number): string {
  const pcm = Int16Array.from({ length: ms * 8 }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)),
  );
  return Buffer.from(pcm.map(linearToUlaw)).toString("base64");
}

/** The shape of a message: keys and JSON types, recursively (custom parameters are the app's own). */
function shape(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return ["array", ...new Set(value.map((v) => typeof v))];
  if (value === null || typeof value !== "object" || key === "customParameters") return typeof value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, shape(v, k)]),
  );
}

/** Every message from the engine has the shape of Twilio's example of its event. */
function expectTwilioShapes(conn: WsConnection, events: string[]): void {
  for (const event of events) {
    const ours = conn.messages.find((m) => (m as { event: string }).event === event);
    expect(ours, `a ${event} message`).toBeDefined();
    expect(shape(ours), event).toEqual(shape(TWILIO.fromTwilio[event]));
  }
  // sequenceNumber counts every message after `connected` from "1", as strings.
  const seq = conn.messages.slice(1).map((m) => (m as { sequenceNumber: string }).sequenceNumber);
  expect(seq).toEqual(seq.map((_, i) => String(i + 1)));
}

type Media = { event: "media"; media: { track: string; chunk: string; timestamp: string; payload: string } };
const media = (conn: WsConnection, track: string) =>
  conn.messages.filter(
    (m) => (m as Media).event === "media" && (m as Media).media.track === track,
  ) as Media[];

/** The packets the phone heard with `hz` in them, with when each arrived. */
function heard(phone: PhoneRtp, hz: number): number[] {
  return phone.packets.flatMap((p, i) =>
    amplitudeAt(decodeG711(p.payloadType === 8 ? "PCMA" : "PCMU", p.payload), hz) > 2000
      ? [phone.arrivals[i] as number]
      : [],
  );
}

describe("<Connect><Stream> on a SIP call", () => {
  it("streams the caller's tone to the app, plays the app's tone to the caller, echoes marks as played, obeys clear", {
    timeout: 60_000,
  }, async () => {
    const to = await numberAnswering((r) => {
      const stream = r.connect({ action: `${app.url}/after` }).stream({ url: `${ws.url}/bot` });
      stream.parameter({ name: "FirstName", value: "Jane" });
    });
    const first = ws.connections.length;
    const { phone, caller } = await callIn(to);
    await using _ = phone;
    const conn = await ws.connection(first, 20_000);
    const start = await conn.waitFor((m) => m.event === "start");
    const streamSid = start.streamSid as string;
    expect(start.start).toMatchObject({
      tracks: ["inbound"],
      customParameters: { FirstName: "Jane" },
      mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
    });
    // A second of the caller's tone has reached the app.
    await conn.waitFor((m) => m.event === "media" && (m as Media).media.chunk === "50", 15_000);

    // One second of 880 Hz back, in 200 ms messages, then a mark: echoed when it has played.
    const sentAt = performance.now();
    for (let i = 0; i < 5; i++) conn.send({ event: "media", streamSid, media: { payload: tone(880, 200) } });
    conn.send({ event: "mark", streamSid, mark: { name: "one" } });
    await conn.waitFor((m) => m.event === "mark" && (m.mark as { name: string }).name === "one");
    const oneAt = performance.now();
    expect(oneAt - sentAt).toBeGreaterThan(950);
    expect(oneAt - sentAt).toBeLessThan(1300);

    // Five seconds queued, cleared after some of it has played: the mark comes back at once.
    const secondAt = performance.now();
    conn.send({ event: "media", streamSid, media: { payload: tone(880, 5000) } });
    conn.send({ event: "mark", streamSid, mark: { name: "two" } });
    const before = phone.packets.length;
    await phone.waitForPackets(before + 25);
    const clearedAt = performance.now();
    conn.send({ event: "clear", streamSid });
    await conn.waitFor((m) => m.event === "mark" && (m.mark as { name: string }).name === "two");
    expect(performance.now() - clearedAt).toBeLessThan(300);

    // The caller's # reaches a bidirectional stream as Twilio's dtmf message.
    const dtmf = await conn.waitFor((m) => m.event === "dtmf", 15_000);
    expect(dtmf.dtmf).toEqual({ track: "inbound_track", digit: "#" });
    conn.close();
    await app.waitFor((r) => r.path === "/after" && r.params.To === to, 15_000);
    const result = await caller;
    expect(result.code, result.stdout + result.stderr).toBe(0);

    expectTwilioShapes(conn, ["connected", "start", "media", "mark", "dtmf"]);
    // The app got the caller's tone (440 Hz, not 880), in 20 ms μ-law frames counted from 1.
    const inbound = media(conn, "inbound");
    expect(inbound.every((m, i) => m.media.chunk === String(i + 1))).toBe(true);
    expect(inbound.every((m) => Buffer.from(m.media.payload, "base64").length === 160)).toBe(true);
    const pcm = Int16Array.from(inbound.slice(10, 210).flatMap((m) => [...ulaw(m.media.payload)]));
    expect(amplitudeAt(pcm, 440)).toBeGreaterThan(5000);
    expect(amplitudeAt(pcm, 880)).toBeLessThan(500);
    const stamps = inbound.map((m) => Number(m.media.timestamp));
    expect(stamps.every((t, i) => i === 0 || t >= (stamps[i - 1] as number))).toBe(true);

    // The caller heard the app's 880 Hz: one second of it, then from the second message until clear.
    const times = heard(phone, 880);
    const firstSecond = times.filter((t) => t < oneAt);
    expect(firstSecond.length).toBeGreaterThanOrEqual(48);
    expect(firstSecond.length).toBeLessThanOrEqual(52);
    expect(times.filter((t) => t >= secondAt).length).toBeGreaterThanOrEqual(20);
    // Nothing of the cleared audio after the clear (a frame in flight at most).
    expect(times.filter((t) => t > clearedAt + 60)).toEqual([]);
  });

  it.each([
    ["PCMU", "0 101"],
    ["PCMA", "8 101"],
  ])(
    "runs a voice bot built like Twilio's echo sample unchanged: a %s caller hears itself",
    {
      timeout: 60_000,
    },
    async (codec, codecs) => {
      const to = await numberAnswering((r) => {
        r.connect().stream({ url: `${ws.url}/echo` });
        r.hangup();
      });
      const first = ws.connections.length;
      const { phone, caller } = await callIn(to, codecs);
      await using _ = phone;
      const conn = await ws.connection(first, 20_000);
      // Twilio's sample ("Bidirectional Stream with Echo"): buffer 50 chunks, send them back with a mark,
      // close on #. Only the transport differs (this server's connection instead of the ws package's).
      let streamSid: string | null = null;
      let audioBuffer: string[] = [];
      let chunkCount = 0;
      const marks: string[] = [];
      conn.onMessage((data) => {
        switch (data.event) {
          case "start":
            streamSid = (data.start as { streamSid: string }).streamSid;
            break;
          case "media":
            audioBuffer.push((data.media as { payload: string }).payload);
            chunkCount++;
            if (audioBuffer.length >= 50) {
              const combinedPayload = Buffer.concat(
                audioBuffer.map((p) => Buffer.from(p, "base64")),
              ).toString("base64");
              conn.send({ event: "media", streamSid, media: { payload: combinedPayload } });
              conn.send({ event: "mark", streamSid, mark: { name: `echo-${chunkCount}` } });
              audioBuffer = [];
            }
            break;
          case "mark":
            marks.push((data.mark as { name: string }).name);
            break;
          case "dtmf":
            if ((data.dtmf as { digit: string }).digit === "#") conn.close(1000);
            break;
        }
      });
      const result = await caller;
      expect(result.code, result.stdout + result.stderr).toBe(0);
      // The caller's own tone came back to it, about five seconds of it, and the bot's marks were answered.
      expect(heard(phone, 440).length).toBeGreaterThan(150);
      expect(marks.length).toBeGreaterThanOrEqual(3);
      expect(marks[0]).toBe("echo-50");
      // The app's μ-law reaches the caller in the caller's codec (sipp's tone itself is μ-law, type 0).
      expect(phone.packets.every((p) => p.payloadType === (codec === "PCMA" ? 8 : 0))).toBe(true);
    },
  );
});

describe("<Start><Stream> on a SIP call", () => {
  it("forks both tracks — the caller's tone and exactly what the gateway sends — until <Stop>, then stop", {
    timeout: 60_000,
  }, async () => {
    const to = await numberAnswering((r) => {
      r.start().stream({
        name: "fork",
        url: `${ws.url}/fork`,
        track: "both_tracks",
        statusCallback: `${app.url}/stream-status`,
      });
      r.pause({ length: 1 });
      r.say("This is the outbound track of the stream, heard by the caller.");
      r.stop().stream({ name: "fork" });
      r.pause({ length: 5 });
      r.hangup();
    });
    const first = ws.connections.length;
    const { phone, caller } = await callIn(to);
    await using _ = phone;
    const conn = await ws.connection(first, 20_000);
    const started = await conn.waitFor((m) => m.event === "start");
    // A one-way stream takes nothing from the app: the gateway refuses it, the region warns once (31951).
    conn.send({ event: "media", streamSid: started.streamSid, media: { payload: tone(880, 200) } });
    conn.send({ event: "clear", streamSid: started.streamSid });
    await conn.closed;
    const result = await caller;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const stopped = await app.waitFor(
      (r) =>
        r.path === "/stream-status" &&
        r.params.StreamEvent === "stream-stopped" &&
        r.params.StreamName === "fork",
    );
    expect(stopped.params.StreamName).toBe("fork");
    // Warned when the stream ended, seconds before the call did (the caller's BYE came after a 5 s pause).
    const notes = await engine.notifications(stopped.params.CallSid as string);
    expect(notes.filter((n) => n.error_code === "31951").map((n) => n.log)).toEqual(["1"]);

    expectTwilioShapes(conn, ["connected", "start", "media", "stop"]);
    const start = conn.messages[1] as { start: { tracks: string[]; streamSid: string } };
    expect(start.start.tracks).toEqual(["inbound", "outbound"]);
    expect(conn.messages.at(-1)).toMatchObject({ event: "stop", streamSid: start.start.streamSid });
    // One-way: no dtmf (the caller's # comes after the stream stopped anyway), no marks.
    expect(conn.messages.some((m) => (m as { event: string }).event === "dtmf")).toBe(false);

    const inbound = media(conn, "inbound");
    const pcm = Int16Array.from(inbound.slice(10, 110).flatMap((m) => [...ulaw(m.media.payload)]));
    expect(amplitudeAt(pcm, 440)).toBeGreaterThan(5000);
    // The outbound track is what the caller got, frame for frame: the prompt's frames, in order.
    const outbound = media(conn, "outbound").map((m) => Buffer.from(m.media.payload, "base64"));
    const voiced = outbound.findIndex((f) => f.some((b) => b !== 0xff && b !== 0x7f));
    expect(voiced).toBeGreaterThan(0);
    const heardAt = phone.packets.findIndex((p) => Buffer.from(p.payload).equals(outbound[voiced] as Buffer));
    expect(heardAt).toBeGreaterThanOrEqual(0);
    const span = Math.min(100, outbound.length - voiced);
    expect(span).toBeGreaterThan(50);
    for (let j = 0; j < span; j++) {
      expect(
        Buffer.from(phone.packets[heardAt + j]?.payload ?? []).equals(outbound[voiced + j] as Buffer),
      ).toBe(true);
    }
  });
});

describe("a SIP call's stream that cannot open", () => {
  it("fails under the gateway's egress policy: stream-error with the reason, and no socket", {
    timeout: 60_000,
  }, async () => {
    // The gateway opens the socket, so its egress policy applies (internal addresses refused here).
    await using guarded = await startGateway(engine, "gw-guarded", { egress: EgressPolicy.internalDenied() });
    const to = await numberAnswering((r) => {
      r.connect({ action: `${app.url}/after` }).stream({
        url: `${ws.url}/refused`,
        statusCallback: `${app.url}/stream-status`,
      });
    });
    const phone = await phoneRtp();
    await using _ = phone;
    void sipp(guarded.sipPort, "stream.xml", { to, keys: { rtpport: phone.port }, cwd: await toneDir(5) });
    const failed = await app.waitFor(
      (r) => r.path === "/stream-status" && r.params.StreamEvent === "stream-error",
      20_000,
    );
    expect(failed.params.StreamError).toMatch(/refused|not allowed|internal/i);
    expect(ws.connections.some((c) => c.path === "/refused")).toBe(false);
  });
});

describe("a SIP caller hanging up on a stream", () => {
  it("ends the stream on the gateway: stop, the socket closed, stream-stopped", {
    timeout: 60_000,
  }, async () => {
    const to = await numberAnswering((r) => {
      r.start().stream({ name: "hup", url: `${ws.url}/hup`, statusCallback: `${app.url}/stream-status` });
      r.say("A prompt the caller hangs up on, long enough to be cut short by the hang up.");
      r.pause({ length: 30 });
    });
    const first = ws.connections.length;
    const phone = await phoneRtp();
    await using _ = phone;
    const caller = sipp(gw.sipPort, "caller-bye.xml", { to, keys: { rtpport: phone.port } });
    const conn = await ws.connection(first, 20_000);
    const result = await caller;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const stop = await conn.waitFor((m) => m.event === "stop");
    expect(stop.stop).toMatchObject({ callSid: expect.stringMatching(/^CA/) });
    await conn.closed;
    await app.waitFor(
      (r) =>
        r.path === "/stream-status" &&
        r.params.StreamName === "hup" &&
        r.params.StreamEvent === "stream-stopped",
    );
    // The default track is the caller's only (this caller sends no audio, so no frames either).
    expect((conn.messages[1] as { start: { tracks: string[] } }).start.tracks).toEqual(["inbound"]);
    expect(media(conn, "outbound")).toEqual([]);
    expect(conn.messages.at(-1)).toMatchObject({ event: "stop" });
  });
});
