// <Say>, <Play> and <Pause> as a Twilio app sees them: TwiML from twilio's VoiceResponse, run by the
// real engine (nats-server, edge, worker) against a signature-checking app; what the channel did,
// every request the app got, the stored Call resource and the call's notifications.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "../../src/protocol/codec.js";
import { subjects } from "../../src/protocol/subjects.js";
import { speechDurationMs } from "../../src/region/channel/simulated-channel.js";
import { type Compat, keys, RFC2822, STANDARD, STATUS_CALLBACK, startCompat } from "./harness.js";

let compat: Compat;
/** A CDN for <Play>: media is not the app's (Twilio fetches it without webhook parameters). */
let cdn: { url: string; requests: IncomingMessage[]; close(): Promise<void> };

beforeAll(async () => {
  compat = await startCompat(1_240_000);
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    // 32,000 bytes of MP3 at 128 kbit/s: two seconds of audio.
    if (req.url === "/two-seconds.mp3")
      res.writeHead(200, { "Content-Type": "audio/mpeg" }).end("x".repeat(32_000));
    else if (req.url === "/page.html")
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end("<p>Not audio</p>");
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cdn = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}, 60_000);

afterAll(async () => {
  await cdn?.close();
  await compat?.[Symbol.asyncDispose]();
});

const seconds = (ms: number) => String(Math.round(ms / 1000));

describe("<Say>", () => {
  it("speaks with its voice and language loop times, then hangs up when the document runs out", async () => {
    const s = await compat.scenario("say-loop", {
      "/voice": (r) => {
        r.say({ voice: "Polly.Amy", language: "en-GB", loop: 3 }, "Hello there");
        r.say("Goodbye");
      },
    });
    const run = await s.call();
    expect(run.events.map((e) => e.kind)).toEqual([
      "ringing",
      "answer",
      "say",
      "say",
      "say",
      "say",
      "hangup",
      "ended",
    ]);
    expect(run.events.filter((e) => e.kind === "say")).toEqual([
      ...Array(3).fill({ kind: "say", text: "Hello there", voice: "Polly.Amy", language: "en-GB" }),
      // Twilio's defaults: voice man, language en-US.
      { kind: "say", text: "Goodbye", voice: "man", language: "en-US" },
    ]);
    const call = run.placed.call;
    expect(call).toMatchObject({
      status: "completed",
      direction: "inbound",
      error_code: null,
      duration: seconds(3 * speechDurationMs("Hello there") + speechDurationMs("Goodbye")),
    });
    expect(call.start_time).toMatch(RFC2822);
    expect(call.end_time).toMatch(RFC2822);

    // The app saw the voice URL (while ringing) and the status callback, nothing else.
    const status = await run.of("/status");
    expect(run.requests().map((r) => [r.method, r.path, r.params.CallStatus])).toEqual([
      ["POST", "/say-loop/voice", "ringing"],
      ["POST", "/say-loop/status", "completed"],
    ]);
    const [voice] = run.requests();
    expect(keys(voice?.params ?? {})).toEqual(STANDARD);
    expect(keys(status.params)).toEqual([...STATUS_CALLBACK].sort());
    expect(status.params).toMatchObject({ CallDuration: call.duration, Duration: "1", SequenceNumber: "0" });
    expect(run.requests().every((r) => r.signatureValid)).toBe(true);
  });

  it("repeats loop=0 until Twilio's cap of 1000", async () => {
    const s = await compat.scenario("say-forever", {
      "/voice": (r) => {
        r.say({ loop: 0 }, "Hold");
        r.say("After the loop");
      },
    });
    const run = await s.call();
    expect(run.said.filter((t) => t === "Hold")).toHaveLength(1000);
    expect(run.said.at(-1)).toBe("After the loop");
    expect(run.placed.call.duration).toBe(
      seconds(1000 * speechDurationMs("Hold") + speechDurationMs("After the loop")),
    );
  });

  it("speaks the words of SSML children as twilio's helper writes them, <sub> as its alias", async () => {
    const s = await compat.scenario("say-ssml", {
      "/voice": (r) => {
        const say = r.say({ voice: "Polly.Joanna" }, "Hi ");
        say.prosody({ rate: "slow", pitch: "low" }, "slowly");
        say.sayAs({ "interpret-as": "spell-out" }, "ABC");
        say.break({ time: "1s" });
        say.emphasis({ level: "strong" }, "now");
        say.phoneme({ alphabet: "ipa", ph: "təˈmeɪtoʊ" }, "tomato");
        say.sub({ alias: "World Wide Web Consortium" }, "W3C");
        say.w({ role: "amazon:VBD" }, "read");
        say.lang({ "xml:lang": "fr-FR" }, "Bonjour");
        say.p("A paragraph.");
        say.s("A sentence.");
        say.addText(" end");
      },
    });
    const run = await s.call();
    expect(run.said).toEqual([
      "Hi slowly ABC now tomato World Wide Web Consortium read Bonjour A paragraph. A sentence. end",
    ]);
    // Valid SSML is not a schema problem: no warning.
    expect(await compat.engine.notifications(run.callSid)).toEqual([]);
  });
});

describe("<Play>", () => {
  it("plays the media loop times, fetched with a plain GET, and counts its length", async () => {
    const before = cdn.requests.length;
    const s = await compat.scenario("play-loop", {
      "/voice": (r) => {
        r.play({ loop: 2 }, `${cdn.url}/two-seconds.mp3`);
        r.hangup();
      },
    });
    const run = await s.call();
    expect(run.events.filter((e) => e.kind === "play")).toEqual([
      { kind: "play", url: `${cdn.url}/two-seconds.mp3` },
      { kind: "play", url: `${cdn.url}/two-seconds.mp3` },
    ]);
    expect(run.placed.call).toMatchObject({ status: "completed", duration: "4" });
    // The media request carries none of the webhook's parameters (spec §1, Play).
    const fetched = cdn.requests.slice(before);
    expect(fetched.length).toBeGreaterThan(0);
    for (const req of fetched) {
      expect(req.method).toBe("GET");
      expect(req.url).toBe("/two-seconds.mp3");
    }
  });

  it("reports 11200 for media that is missing or unreachable and carries on with the next verb", async () => {
    const s = await compat.scenario("play-missing", {
      "/voice": (r) => {
        r.play(`${cdn.url}/missing.mp3`);
        // Nothing listens on port 9 (discard) on loopback: the connection is refused.
        r.play("http://127.0.0.1:9/unreachable.wav");
        r.say("Still here");
      },
    });
    const run = await s.call();
    expect(run.said).toEqual(["Still here"]);
    // A failed Play is a debugger error, not a failed call.
    expect(run.placed.call).toMatchObject({ status: "completed", error_code: null });
    const notes = await run.notifications(2);
    expect(notes.map((n) => [n.error_code, n.log])).toEqual([
      ["11200", "0"],
      ["11200", "0"],
    ]);
    expect(notes[0]?.message_text).toContain("missing.mp3");
    expect(notes[1]?.message_text).toContain("unreachable.wav");
  });

  it("reports 13420 for a URL that answers with something other than audio, and skips it", async () => {
    const s = await compat.scenario("play-not-audio", {
      "/voice": (r) => {
        r.play(`${cdn.url}/page.html`);
        r.say("After the page");
      },
    });
    const run = await s.call();
    expect(run.said).toEqual(["After the page"]);
    // The page took no time: only the Say counts.
    expect(run.placed.call).toMatchObject({
      status: "completed",
      duration: seconds(speechDurationMs("After the page")),
    });
    const [note] = await run.notifications(1);
    expect(note).toMatchObject({ error_code: "13420", log: "0" });
    expect(note?.message_text).toContain("text/html");
  });
});

describe("<Pause>", () => {
  it("as the first verb delays the answer by its length; the app is asked while ringing", async () => {
    const s = await compat.scenario("pause-first", {
      "/voice": (r) => {
        r.pause({ length: 3 });
        r.say("Answered");
        r.redirect({ method: "POST" }, "next");
      },
      "/next": (r) => r.hangup(),
    });
    const run = await s.call();
    expect(run.events.map((e) => (e.kind === "pause" ? `pause ${e.length}` : e.kind))).toEqual([
      "ringing",
      "pause 3",
      "answer",
      "say",
      "hangup",
      "ended",
    ]);
    const next = await run.of("/next");
    expect((await run.of("/voice")).params.CallStatus).toBe("ringing");
    expect(next.params.CallStatus).toBe("in-progress");
    // switchboard's duration runs from the call's arrival, so the unanswered pause counts in it.
    expect(run.placed.call.duration).toBe(seconds(3000 + speechDurationMs("Answered")));
  });

  it("leaves the call no-answer when the caller hangs up during a leading Pause", async () => {
    const s = await compat.scenario("pause-abandoned", {
      "/voice": (r) => {
        r.pause({ length: 30 });
        r.say("Not reached");
      },
    });
    const run = await s.call(
      // Real time, so the hang-up on `.in` lands while the 30 s Pause runs; it ends the Pause at once.
      { timeScale: 1 },
      {
        onEvent: (event, callSid) => {
          if (event.kind === "pause")
            compat.engine.nc.publish(subjects().callIn("us1", callSid), encode({ kind: "hangup" }));
        },
      },
    );
    expect(run.events.map((e) => e.kind)).toEqual(["ringing", "pause", "ended"]);
    expect(run.placed.call).toMatchObject({ status: "no-answer", duration: null });
    expect((await run.of("/status")).params.CallStatus).toBe("no-answer");
  });

  it("waits length seconds mid-call, 1 by default", async () => {
    const s = await compat.scenario("pause-length", {
      "/voice": (r) => {
        r.say("One");
        r.pause({ length: 7 });
        r.pause();
        r.say("Two");
      },
    });
    const run = await s.call();
    expect(run.events.flatMap((e) => (e.kind === "pause" ? [e.length] : []))).toEqual([7, 1]);
    expect(run.placed.call.duration).toBe(seconds(speechDurationMs("One") + 8000 + speechDurationMs("Two")));
  });
});
