// Conferences and queues of real SIP callers: each sipp caller sends its own tone (440, 660, 880 Hz)
// and its phone records what the gateway sends it. By spectrum (Goertzel per 20 ms packet), each
// must hear exactly the others it should: never itself, not a muted caller, a coach only if coached.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "../../src/api/server.js";
import { wavFromPcm } from "../../src/sip/rtp/wav.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { type Route, startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { amplitudeAt, packetsWith, untilHeard } from "./audio.js";
import { type PhoneRtp, phoneRtp, sipp, startGateway, startSipProcess, toneDir } from "./harness.js";

let engine: TestEngine;
let app: TwilioApp;
let gw: Awaited<ReturnType<typeof startGateway>>;
let gw2: Awaited<ReturnType<typeof startGateway>>;
let media: Server;
let api: Api;
let musicUrl = "";
const voice: Record<string, Route> = {};
let numbers = 0;

/** The wait music: 550 Hz, a tone no caller sends. */
const MUSIC_HZ = 550;
const BEEP_HZ = 1000;

beforeAll(async () => {
  engine = await startTestEngine();
  app = await startTwilioApp(engine.authToken, {
    "/voice": (req) => (voice[req.params.To ?? ""] as Route)(req),
    "/wait": () => ({ body: new VoiceResponse().play(musicUrl).toString() }),
    // Conferences' status callbacks: the tests wait on their participant-join events.
    "/events": () => ({ body: "" }),
    "/recording-status": () => ({ body: "" }),
  });
  gw = await startGateway(engine, "gw1");
  gw2 = await startGateway(engine, "gw2");
  api = await startApi({ nc: engine.nc, port: 0, log: pino({ level: "silent" }) });
  const wav = wavFromPcm(
    Int16Array.from({ length: 8000 }, (_, i) =>
      Math.round(8000 * Math.sin((2 * Math.PI * MUSIC_HZ * i) / 8000)),
    ),
    8000,
  );
  media = createServer((_req, res) =>
    res.writeHead(200, { "Content-Type": "audio/wav" }).end(Buffer.from(wav)),
  );
  await new Promise<void>((resolve) => media.listen(0, "127.0.0.1", resolve));
  musicUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}/music.wav`;
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await gw2?.stop();
  await api?.close();
  await app?.close();
  await new Promise((resolve) => media?.close(resolve));
  await engine?.[Symbol.asyncDispose]();
}, 60_000);

/** A number answering with `build`'s TwiML (given the request, e.g. for its CallSid). */
async function numberAnswering(
  build: (r: InstanceType<typeof VoiceResponse>, params: Record<string, string>) => void,
): Promise<string> {
  numbers += 1;
  const number = `+1555125${String(7000 + numbers)}`;
  voice[number] = (req) => {
    const r = new VoiceResponse();
    build(r, req.params as Record<string, string>);
    return { body: r.toString() };
  };
  await engine.addNumber({ number, voiceUrl: `${app.url}/voice` });
  return number;
}

interface Caller {
  phone: PhoneRtp;
  done: ReturnType<typeof sipp>;
}

/** sipp calls `to` on `gateway`, sending `hz` for `seconds`; its phone records what it hears. */
async function callIn(
  to: string,
  hz: number,
  gateway: { sipPort: number } = gw,
  seconds = 12,
): Promise<Caller> {
  const phone = await phoneRtp();
  const done = sipp(gateway.sipPort, "room.xml", {
    to,
    keys: { rtpport: phone.port },
    cwd: await toneDir(seconds, hz),
    timeoutS: 30,
  });
  return { phone, done };
}

const conference = (name: string, attrs: Record<string, string> = {}, timeLimit = 6) =>
  numberAnswering((r) => {
    r.dial({ timeLimit }).conference({ beep: "false", ...attrs } as never, name);
  });

/** A REST request to the engine's API, as the account. */
async function rest(method: "GET" | "POST", path: string, form?: Record<string, string>) {
  const res = await request(`${api.url}/2010-04-01/Accounts/${engine.accountSid}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${engine.accountSid}:${engine.authToken}`).toString("base64")}`,
      ...(form && { "content-type": "application/x-www-form-urlencoded" }),
    },
    ...(form && { body: new URLSearchParams(form).toString() }),
  });
  const body = (await res.body.json()) as Record<string, unknown>;
  expect(res.statusCode, JSON.stringify(body)).toBe(200);
  return body;
}

type Rec = { sid: string; source: string; conference_sid: string; duration: string };

/** The 20 ms frames of the conference's Recording, once it is stored (a bounded wait). */
async function conferenceRecording(conferenceSid: string): Promise<Int16Array[]> {
  // Stored as the recording participant's verb ends: wait for it, bounded.
  let found: Rec | undefined;
  for (const deadline = performance.now() + 10_000; !found && performance.now() < deadline; ) {
    const list = (await rest("GET", "/Recordings.json")).recordings as Rec[];
    found = list.find((r) => r.conference_sid === conferenceSid);
    if (!found) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(found, `a Recording of ${conferenceSid}`).toMatchObject({
    source: "Conference",
    conference_sid: conferenceSid,
  });
  // The conference's own list (`client.conferences(sid).recordings`) and fetch name it too.
  const path = `/Conferences/${conferenceSid}/Recordings`;
  const own = (await rest("GET", `${path}.json`)).recordings as (Rec & { uri: string })[];
  expect(own.map((r) => r.sid)).toContain(found?.sid);
  expect(own.every((r) => r.conference_sid === conferenceSid && r.uri.includes(path))).toBe(true);
  expect(await rest("GET", `${path}/${found?.sid}.json`)).toMatchObject({ sid: found?.sid });
  const res = await request(
    `${api.url}/2010-04-01/Accounts/${engine.accountSid}/Recordings/${found?.sid}.wav`,
    {
      headers: {
        authorization: `Basic ${Buffer.from(`${engine.accountSid}:${engine.authToken}`).toString("base64")}`,
      },
    },
  );
  const wav = new Uint8Array(await res.body.arrayBuffer());
  const pcm = new Int16Array(
    wav.buffer.slice(44 + wav.byteOffset, wav.byteOffset + wav.length - ((wav.length - 44) % 2)),
  );
  return Array.from({ length: Math.floor(pcm.length / 160) }, (_, i) => pcm.subarray(i * 160, (i + 1) * 160));
}

/** How many of the recording's frames carry `hz`. */
const framesWith = (frames: Int16Array[], hz: number) =>
  frames.filter((f) => amplitudeAt(f, hz) > 1500).length;

/** The CallSid of the call to `to`, once its conference's participant-join callback came. */
async function joined(to: string): Promise<{ callSid: string; conferenceSid: string }> {
  const callSid = (await app.waitFor((r) => r.params.To === to, 15_000)).params.CallSid ?? "";
  const join = await app.waitFor(
    (r) =>
      r.path === "/events" &&
      r.params.StatusCallbackEvent === "participant-join" &&
      r.params.CallSid === callSid,
    15_000,
  );
  return { callSid, conferenceSid: join.params.ConferenceSid ?? "" };
}

describe("a conference of SIP callers", () => {
  it("each of three callers hears the other two and never itself", { timeout: 40_000 }, async () => {
    const to = await conference("three");
    const callers = [await callIn(to, 440), await callIn(to, 660), await callIn(to, 880)];
    await using _a = callers[0]?.phone as PhoneRtp;
    await using _b = callers[1]?.phone as PhoneRtp;
    await using _c = callers[2]?.phone as PhoneRtp;
    const results = await Promise.all(callers.map((c) => c.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const tones = [440, 660, 880];
    for (const [i, caller] of callers.entries()) {
      for (const [j, hz] of tones.entries()) {
        const n = packetsWith(caller.phone, hz);
        // Each hears the others for seconds (hundreds of packets), itself in none.
        if (i === j) expect(n, `caller ${i} hears itself (${hz} Hz)`).toBe(0);
        else expect(n, `caller ${i} hears ${hz} Hz`).toBeGreaterThan(100);
      }
    }
  });

  it("a muted caller is not heard; a coach is heard only by the coached", { timeout: 40_000 }, async () => {
    let coached = "";
    const name = "mute-coach";
    const plain = await conference(name);
    const muted = await conference(name, { muted: "true" });
    const coach = await numberAnswering((r) => {
      r.dial({ timeLimit: 6 }).conference({ beep: "false", coach: coached } as never, name);
    });
    const a = await callIn(plain, 440);
    await using _a = a.phone;
    coached = (await app.waitFor((r) => r.params.To === plain, 10_000)).params.CallSid ?? "";
    const b = await callIn(muted, 660);
    await using _b = b.phone;
    const c = await callIn(coach, 880);
    await using _c = c.phone;
    for (const r of await Promise.all([a.done, b.done, c.done])) expect(r.code, r.stderr).toBe(0);
    // The muted caller (660) hears both, is heard by no one.
    expect(packetsWith(a.phone, 660)).toBe(0);
    expect(packetsWith(c.phone, 660)).toBe(0);
    expect(packetsWith(b.phone, 440)).toBeGreaterThan(100);
    // The coach (880) is heard by the coached caller (440) only; the coach hears the others.
    expect(packetsWith(a.phone, 880)).toBeGreaterThan(100);
    expect(packetsWith(b.phone, 880)).toBe(0);
    expect(packetsWith(c.phone, 440)).toBeGreaterThan(100);
  });

  it("a caller waiting for the moderator hears the waitUrl, then the moderator", {
    timeout: 40_000,
  }, async () => {
    const waiting = await conference("moderated", {
      startConferenceOnEnter: "false",
      waitUrl: `${app.url}/wait`,
    });
    const moderator = await conference("moderated");
    const a = await callIn(waiting, 440);
    await using _a = a.phone;
    await untilHeard(a.phone, MUSIC_HZ, 50);
    const b = await callIn(moderator, 660);
    await using _b = b.phone;
    await untilHeard(a.phone, 660, 25);
    const startedAt = a.phone.packets.length;
    for (const r of await Promise.all([a.done, b.done])) expect(r.code, r.stderr).toBe(0);
    // The music stops when the conference starts: the caller hears the moderator, not the music.
    expect(packetsWith(a.phone, MUSIC_HZ, startedAt)).toBe(0);
    expect(packetsWith(a.phone, 660)).toBeGreaterThan(100);
    expect(packetsWith(b.phone, 440)).toBeGreaterThan(100);
  });

  it("record-from-start stores the conference's mix as a Recording of it", { timeout: 40_000 }, async () => {
    // The first caller (who records the mix) may stay 15 s, the second 6: both are in the mix for
    // the second's 6 s unless it takes over 9 s to join. With 6 s for both, a second caller slow to
    // join under load (two test files at once: sipp starting, its INVITE) left the first one's limit
    // only a moment to share, and the mix held next to none of the first one's tone.
    const first = await conference(
      "recorded",
      {
        record: "record-from-start",
        recordingStatusCallback: `${app.url}/recording-status`,
        recordingStatusCallbackEvent: "in-progress completed",
      },
      15,
    );
    const second = await conference("recorded");
    const a = await callIn(first, 440, gw, 15);
    await using _a = a.phone;
    const b = await callIn(second, 660);
    await using _b = b.phone;
    for (const r of await Promise.all([a.done, b.done])) expect(r.code, r.stderr).toBe(0);
    const sid = (
      (await rest("GET", "/Conferences.json")).conferences as { sid: string; friendly_name: string }[]
    ).find((c) => c.friendly_name === "recorded")?.sid;
    const frames = await conferenceRecording(sid ?? "");
    // Both callers are in the mix, each for seconds.
    expect(framesWith(frames, 440)).toBeGreaterThan(100);
    expect(framesWith(frames, 660)).toBeGreaterThan(100);
    // Its recordingStatusCallback: in-progress as it started, completed once stored, signed, naming
    // the conference and the Recording the REST API serves.
    const [rec] = (await rest("GET", `/Conferences/${sid}/Recordings.json`)).recordings as Rec[];
    const statusOf = (s: string) =>
      app.waitFor((r) => r.path === "/recording-status" && r.params.RecordingStatus === s, 10_000);
    const [started, completed] = await Promise.all([statusOf("in-progress"), statusOf("completed")]);
    for (const r of [started, completed]) {
      expect(r.signatureValid).toBe(true);
      expect(r.params).toMatchObject({
        AccountSid: engine.accountSid,
        ConferenceSid: sid,
        RecordingSid: rec?.sid,
        RecordingSource: "Conference",
        RecordingChannels: "1",
      });
      expect(r.params.RecordingUrl).toMatch(new RegExp(`/Recordings/${rec?.sid}$`));
    }
    expect(completed.params.RecordingDuration).toBe(rec?.duration);
    expect(app.requests.indexOf(started)).toBeLessThan(app.requests.indexOf(completed));
  });

  // The conference ended by another participant's endConferenceOnExit (its call hung up over REST)
  // is still recorded, whoever joined first: the recording was made by the first participant in,
  // which was none when that one had not asked for it (the ender joining first, as under load).
  for (const enderFirst of [true, false])
    it(`record-from-start is stored when another's endConferenceOnExit ends it (${enderFirst ? "the ender" : "the recorder"} joined first)`, {
      timeout: 60_000,
    }, async () => {
      const name = enderFirst ? "ended-ender-first" : "ended-recorder-first";
      const events = { statusCallback: `${app.url}/events`, statusCallbackEvent: "join" };
      const recorderTo = await conference(name, { record: "record-from-start", ...events }, 60);
      const enderTo = await conference(name, { endConferenceOnExit: "true", ...events }, 60);
      const [firstTo, secondTo] = enderFirst ? [enderTo, recorderTo] : [recorderTo, enderTo];
      const hzOf = (to: string) => (to === recorderTo ? 440 : 660);
      // Each joins only once the one before is in the conference: the order is the test's, not luck's.
      const a = await callIn(firstTo, hzOf(firstTo), gw, 25);
      await using _a = a.phone;
      const first = await joined(firstTo);
      const b = await callIn(secondTo, hzOf(secondTo), gw, 25);
      await using _b = b.phone;
      const second = await joined(secondTo);
      const [recorder, ender] = enderFirst ? [b, a] : [a, b];
      // Both in the room, each hearing the other for 3 s: the mix holds both tones by then.
      await untilHeard(recorder.phone, 660, 150);
      await untilHeard(ender.phone, 440, 150);
      await rest("POST", `/Calls/${(enderFirst ? first : second).callSid}.json`, { Status: "completed" });
      for (const r of await Promise.all([a.done, b.done])) expect(r.code, r.stderr).toBe(0);
      const sid = first.conferenceSid;
      expect(second.conferenceSid).toBe(sid);
      expect(await rest("GET", `/Conferences/${sid}.json`)).toMatchObject({
        status: "completed",
        reason_conference_ended: "participant-with-end-conference-on-exit-left",
      });
      const frames = await conferenceRecording(sid);
      expect(framesWith(frames, 440)).toBeGreaterThan(100);
      expect(framesWith(frames, 660)).toBeGreaterThan(100);
    });

  it("beeps when a caller enters", { timeout: 40_000 }, async () => {
    const first = await conference("beeps");
    const second = await conference("beeps", { beep: "onEnter" });
    const a = await callIn(first, 440);
    await using _a = a.phone;
    await a.phone.waitForPackets(50);
    const b = await callIn(second, 660);
    await using _b = b.phone;
    for (const r of await Promise.all([a.done, b.done])) expect(r.code, r.stderr).toBe(0);
    // 300 ms of beep: about 15 packets, heard by the one there and the one entering.
    expect(packetsWith(a.phone, BEEP_HZ)).toBeGreaterThanOrEqual(10);
    expect(packetsWith(b.phone, BEEP_HZ)).toBeGreaterThanOrEqual(10);
    expect(packetsWith(a.phone, 660)).toBeGreaterThan(100);
  });

  it("spans two gateway processes: callers on each hear each other", { timeout: 40_000 }, async () => {
    const to = await conference("two-gateways");
    // The second gateway is `switchboard sip` in its own process, with its own NATS connection.
    const started = await startSipProcess(engine.nats.url, ["--allow", "127.0.0.2/32"]);
    await using other = started.process;
    const sipPort = started.sipPort;
    await other.waitForLog("ready");
    const a = await callIn(to, 440, gw);
    await using _a = a.phone;
    const b = await callIn(to, 660, { sipPort });
    await using _b = b.phone;
    for (const r of await Promise.all([a.done, b.done])) expect(r.code, r.stderr).toBe(0);
    expect(packetsWith(a.phone, 660)).toBeGreaterThan(100);
    expect(packetsWith(b.phone, 440)).toBeGreaterThan(100);
    expect(packetsWith(a.phone, 440)).toBe(0);
    expect(packetsWith(b.phone, 660)).toBe(0);
    expect(await other.stop()).toBe(0);
  });
});

describe("a SIP conference's participants changed over REST", () => {
  it("a muted participant falls silent; a held one hears the HoldUrl and is not heard", {
    timeout: 40_000,
  }, async () => {
    const toA = await conference("rest", {}, 10);
    const toB = await conference("rest", {}, 10);
    const a = await callIn(toA, 440, gw, 14);
    await using _a = a.phone;
    const b = await callIn(toB, 660, gw, 14);
    await using _b = b.phone;
    await untilHeard(a.phone, 660, 25);
    await untilHeard(b.phone, 440, 25);
    const list = await rest("GET", "/Conferences.json?Status=in-progress");
    const sid = (list.conferences as { sid: string; friendly_name: string }[]).find(
      (c) => c.friendly_name === "rest",
    )?.sid;
    const callOf = async (to: string) => (await app.waitFor((r) => r.params.To === to)).params.CallSid;
    const [first, second] = [await callOf(toA), await callOf(toB)];
    // b muted: a no longer hears it (after the packets already on their way).
    await rest("POST", `/Conferences/${sid}/Participants/${second}.json`, { Muted: "true" });
    const mutedAt = a.phone.packets.length + 10;
    await a.phone.waitForPackets(mutedAt + 75);
    expect(packetsWith(a.phone, 660, mutedAt)).toBe(0);
    // a on hold: hears the HoldUrl's audio (looped), and b no longer hears a.
    await rest("POST", `/Conferences/${sid}/Participants/${first}.json`, { Hold: "true", HoldUrl: musicUrl });
    const heldAt = b.phone.packets.length + 10;
    await untilHeard(a.phone, MUSIC_HZ, 60);
    expect(packetsWith(b.phone, 440, heldAt)).toBe(0);
    for (const r of await Promise.all([a.done, b.done])) expect(r.code, r.stderr).toBe(0);
  });
});

describe("a queue of SIP callers", () => {
  it("an audio waitUrl loops until the agent comes", { timeout: 40_000 }, async () => {
    const queued = await numberAnswering((r) => {
      r.enqueue({ waitUrl: musicUrl, waitUrlMethod: "GET" }, "audio-wait");
    });
    const agent = await numberAnswering((r) => {
      r.dial({ timeLimit: 3 }).queue("audio-wait");
    });
    const a = await callIn(queued, 440, gw, 14);
    await using _a = a.phone;
    // The music is one second long: three seconds of it is the file played again and again.
    await untilHeard(a.phone, MUSIC_HZ, 150);
    const b = await callIn(agent, 660, gw);
    await using _b = b.phone;
    for (const r of await Promise.all([a.done, b.done])) expect(r.code, r.stderr).toBe(0);
    expect(packetsWith(b.phone, 440)).toBeGreaterThan(50);
  });

  it("the queued caller hears the wait music, then talks with the agent who dequeued them", {
    timeout: 40_000,
  }, async () => {
    const queued = await numberAnswering((r) => {
      r.enqueue({ waitUrl: `${app.url}/wait` }, "support");
    });
    const agent = await numberAnswering((r) => {
      r.dial({ timeLimit: 5 }).queue("support");
    });
    const a = await callIn(queued, 440, gw, 14);
    await using _a = a.phone;
    await untilHeard(a.phone, MUSIC_HZ, 25);
    const musicUntil = a.phone.packets.length;
    const b = await callIn(agent, 660, gw2);
    await using _b = b.phone;
    // The agent's hang-up ends the bridge; the caller's Enqueue goes on (no action): it is hung up too.
    for (const r of await Promise.all([a.done, b.done])) expect(r.code, r.stderr).toBe(0);
    expect(packetsWith(a.phone, 660, musicUntil)).toBeGreaterThan(100);
    expect(packetsWith(b.phone, 440)).toBeGreaterThan(100);
    expect(packetsWith(b.phone, 660)).toBe(0);
  });
});
