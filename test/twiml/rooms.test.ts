// <Enqueue>, <Leave>, the Conference and Queue nouns read as Twilio reads them, and the wait-music
// runner they share, against a fake channel and a fake document source.
import { describe, expect, it } from "vitest";
import type { HttpMethod } from "../../src/model/http.js";
import type { TwimlElement } from "../../src/twiml/element.js";
import { parseTwiml } from "../../src/twiml/parse.js";
import type { FetchedTwiml } from "../../src/twiml/verb-context.js";
import type { ParseContext } from "../../src/twiml/verb-definition.js";
import { conferenceNoun } from "../../src/twiml/verbs/dial/conference.js";
import { queueNoun } from "../../src/twiml/verbs/dial/queue.js";
import {
  AUDIBLE_MS,
  DEFAULT_WAIT_URL,
  MAX_QUIET_DOCUMENTS,
  runWaitMusic,
  type WaitMusic,
} from "../../src/twiml/wait-loop.js";
import { readXml } from "../../src/twiml/xml.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { fakeContext } from "./fakes.js";

const DOC = "https://app.example/queue/start";

function parse(build: (r: InstanceType<typeof VoiceResponse>) => void) {
  const r = new VoiceResponse();
  build(r);
  return parseTwiml(r.toString(), DOC);
}

/** The first noun inside the document's <Dial>, with a context that records warnings. */
function noun(build: (dial: ReturnType<InstanceType<typeof VoiceResponse>["dial"]>) => void) {
  const r = new VoiceResponse();
  build(r.dial());
  const dial = readXml(r.toString(), DOC).children.find((c): c is TwimlElement => typeof c !== "string");
  const el = dial?.children.find((c): c is TwimlElement => typeof c !== "string") as TwimlElement;
  const warnings: number[] = [];
  const ctx: ParseContext = { documentUrl: DOC, warn: (code) => warnings.push(code) };
  return { el, ctx, warnings };
}

describe("<Enqueue> and <Leave>", () => {
  it("reads the queue name and Twilio's defaults", () => {
    const doc = parse((r) => r.enqueue("support"));
    expect(doc.verbs).toEqual([
      { name: "Enqueue", queue: "support", method: "POST", waitUrl: undefined, waitUrlMethod: "POST" },
    ]);
    expect(doc.warnings).toEqual([]);
  });

  it("resolves action and waitUrl against the document, keeps waitUrl='' (silence), and warns about TaskRouter", () => {
    const doc = parse((r) => {
      r.enqueue(
        { action: "done", method: "GET", waitUrl: "/music", waitUrlMethod: "GET", maxQueueSize: 5 } as never,
        "a",
      );
      r.enqueue({ waitUrl: "", workflowSid: "WW0123" }, "b");
    });
    expect(doc.verbs).toEqual([
      {
        name: "Enqueue",
        queue: "a",
        action: "https://app.example/queue/done",
        method: "GET",
        waitUrl: "https://app.example/music",
        waitUrlMethod: "GET",
        maxQueueSize: 5,
      },
      { name: "Enqueue", queue: "b", method: "POST", waitUrl: "", waitUrlMethod: "POST" },
    ]);
    expect(doc.warnings.map((w) => w.code)).toEqual([12200]);
  });

  it("skips an Enqueue with no queue name or one over 64 characters", () => {
    const doc = parse((r) => {
      r.enqueue("");
      r.enqueue("x".repeat(65));
      r.leave();
    });
    expect(doc.verbs).toEqual([{ name: "Leave" }]);
    expect(doc.warnings.map((w) => w.code)).toEqual([12200, 12200]);
  });
});

describe("the Conference and Queue nouns", () => {
  it("read a conference with Twilio's defaults", () => {
    const { el, ctx, warnings } = noun((d) => d.conference("Room 1234"));
    expect(conferenceNoun.parse(el, ctx)).toEqual({
      noun: "Conference",
      name: "Room 1234",
      muted: false,
      beep: "true",
      startConferenceOnEnter: true,
      endConferenceOnExit: false,
      waitUrl: undefined,
      waitMethod: "POST",
      maxParticipants: 250,
      record: "do-not-record",
      trim: "trim-silence",
      statusCallbackMethod: "POST",
      statusCallbackEvents: ["conference-start", "conference-end"],
      jitterBufferSize: "large",
    });
    expect(warnings).toEqual([]);
  });

  it("keeps a coach that is a CallSid, and ignores any other with 13240", () => {
    const sid = `CA${"0a".repeat(16)}`;
    const good = noun((d) => d.conference({ coach: sid }, "Room"));
    expect(conferenceNoun.parse(good.el, good.ctx)).toMatchObject({ coach: sid });
    expect(good.warnings).toEqual([]);
    const bad = noun((d) => d.conference({ coach: "CAnot-a-sid" }, "Room"));
    expect(conferenceNoun.parse(bad.el, bad.ctx)).not.toHaveProperty("coach");
    expect(bad.warnings).toEqual([13240]);
  });

  it("turns statusCallbackEvent's short names into Twilio's event names, and warns about bad values", () => {
    const { el, ctx, warnings } = noun((d) =>
      d.conference(
        {
          statusCallback: "/events",
          statusCallbackEvent: ["join", "leave", "mute", "bogus"] as never,
          maxParticipants: 900,
          beep: "onEnter",
          participantLabel: "agent",
          startConferenceOnEnter: false,
        },
        "r",
      ),
    );
    expect(conferenceNoun.parse(el, ctx)).toMatchObject({
      statusCallback: "https://app.example/events",
      statusCallbackEvents: [
        "participant-join",
        "participant-leave",
        "participant-mute",
        "participant-unmute",
      ],
      maxParticipants: 250,
      beep: "onEnter",
      participantLabel: "agent",
      startConferenceOnEnter: false,
    });
    expect(warnings).toEqual([12200, 12200]);
  });

  it("reads the recording's status callback: resolved, its method, its events (13621 for a bad one)", () => {
    const asked = noun((d) =>
      d.conference(
        {
          record: "record-from-start",
          recordingStatusCallback: "/recordings",
          recordingStatusCallbackMethod: "GET",
          recordingStatusCallbackEvent: ["in-progress", "completed", "paused"] as never,
        },
        "r",
      ),
    );
    expect(conferenceNoun.parse(asked.el, asked.ctx)).toMatchObject({
      record: "record-from-start",
      recordingStatusCallback: {
        url: "https://app.example/recordings",
        method: "GET",
        events: ["in-progress", "completed"],
      },
    });
    expect(asked.warnings).toEqual([13621]);
    // Without an event list Twilio sends "completed" only; without a URL, nothing.
    const plain = noun((d) => d.conference({ recordingStatusCallback: "https://rec.example/s" }, "r"));
    expect(conferenceNoun.parse(plain.el, plain.ctx)).toMatchObject({
      recordingStatusCallback: { url: "https://rec.example/s", method: "POST", events: ["completed"] },
    });
    const none = noun((d) => d.conference({ record: "record-from-start" }, "r"));
    expect(conferenceNoun.parse(none.el, none.ctx)).not.toHaveProperty("recordingStatusCallback");
  });

  it("reads a queue noun's url against the document", () => {
    const { el, ctx } = noun((d) => d.queue({ url: "whisper", method: "GET" }, "support"));
    expect(queueNoun.parse(el, ctx)).toEqual({
      noun: "Queue",
      name: "support",
      url: "https://app.example/queue/whisper",
      method: "GET",
    });
  });
});

describe("the wait-music runner", () => {
  /** A context whose documents come from `docs` by URL; each request is recorded. */
  function withDocuments(docs: Record<string, string>) {
    const fake = fakeContext();
    const requests: [string, HttpMethod, Record<string, string>][] = [];
    fake.ctx = {
      ...fake.ctx,
      fetchTwiml: async (url, method, params): Promise<FetchedTwiml> => {
        requests.push([url, method, { ...params }]);
        const body = docs[url];
        if (body === undefined) throw Object.assign(new Error(`404 for ${url}`), { code: 11200 });
        return { ...parseTwiml(body, url), documentUrl: url };
      },
    };
    return { ...fake, requests };
  }
  const music = (url: string | undefined, more: Partial<WaitMusic> = {}): WaitMusic => ({
    url,
    method: "POST",
    allowed: ["Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"],
    atEnd: "loop",
    what: "test waitUrl",
    params: () => ({ QueuePosition: "1" }),
    ...more,
  });
  const xml = (build: (r: InstanceType<typeof VoiceResponse>) => void) => {
    const r = new VoiceResponse();
    build(r);
    return r.toString();
  };

  it("plays the document, follows Redirect, and stops at Leave", async () => {
    const { ctx, channel, requests } = withDocuments({
      "https://a.example/wait": xml((r) => {
        r.say("hold on");
        r.redirect("/second");
      }),
      "https://a.example/second": xml((r) => {
        r.play("https://a.example/song.mp3");
        r.leave();
        r.say("never");
      }),
    });
    const end = await runWaitMusic(ctx, music("https://a.example/wait"), new AbortController().signal);
    expect(end).toEqual({ kind: "leave" });
    expect(channel.calls.map((c) => c[0])).toEqual(["say", "play"]);
    expect(requests.map(([url, method, params]) => [url, method, params.QueuePosition])).toEqual([
      ["https://a.example/wait", "POST", "1"],
      ["https://a.example/second", "POST", "1"],
    ]);
  });

  it("skips verbs not allowed there with a warning, and ends on Hangup", async () => {
    const { ctx, channel, warnings } = withDocuments({
      "https://a.example/wait": xml((r) => {
        r.enqueue("nested");
        r.say("hi");
        r.hangup();
      }),
    });
    const end = await runWaitMusic(
      ctx,
      music("https://a.example/wait", { allowed: ["Say", "Hangup"] }),
      new AbortController().signal,
    );
    expect(end).toEqual({ kind: "hangup" });
    expect(channel.calls.map((c) => c[0])).toEqual(["say"]);
    expect(warnings).toEqual([expect.objectContaining({ code: 12200 })]);
  });

  it("loops the document while its audio takes time, until the signal aborts", async () => {
    const { ctx, clock, requests } = withDocuments({
      "https://a.example/wait": xml((r) => r.pause({ length: 10 })),
    });
    const stop = new AbortController();
    const running = runWaitMusic(ctx, music("https://a.example/wait"), stop.signal);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(10_000);
    }
    await new Promise((r) => setImmediate(r));
    stop.abort(new Error("dequeued"));
    await expect(running).rejects.toThrow("dequeued");
    expect(requests.length).toBe(4);
  });

  it("falls silent instead of looping a document that takes no time, or one that cannot be fetched", async () => {
    const { ctx, requests, warnings } = withDocuments({ "https://a.example/empty": "<Response/>" });
    for (const url of ["https://a.example/empty", "https://a.example/missing"]) {
      const stop = new AbortController();
      const running = runWaitMusic(ctx, music(url), stop.signal);
      await new Promise((r) => setImmediate(r));
      stop.abort(new Error("over"));
      await expect(running).rejects.toThrow("over");
    }
    expect(requests.map(([url]) => url)).toEqual(["https://a.example/empty", "https://a.example/missing"]);
    expect(warnings).toEqual([expect.objectContaining({ code: 11200 })]);
  });

  /**
   * As a waiting call's documents come: its clock runs at the wall clock's pace, so every read of it
   * here is a millisecond on, and each request takes a turn of the event loop and ends on abort, as a
   * real one does. `play` is how long a <Play> takes (0: an empty file).
   */
  function paced(docs: Record<string, string>, play = 0) {
    const fake = withDocuments(docs);
    let ticks = 0;
    fake.clock.now = () => ++ticks;
    fake.channel.play = async (url, options) => {
      fake.channel.calls.push(["play", url, options]);
      ticks += play;
    };
    const fetchTwiml = fake.ctx.fetchTwiml as NonNullable<typeof fake.ctx.fetchTwiml>;
    const ctx = {
      ...fake.ctx,
      fetchTwiml: async (...args: Parameters<typeof fetchTwiml>) => {
        await new Promise((r) => setImmediate(r));
        args[3]?.throwIfAborted();
        return fetchTwiml(...args);
      },
    };
    /**
     * Runs the music for `turns` turns of the event loop (or until `until` holds), then aborts it.
     * `silent`: the music has fallen silent by then, so a few turns more request nothing.
     */
    const run = async (url: string, turns: number, { until = (): boolean => false, silent = true } = {}) => {
      const stop = new AbortController();
      const running = runWaitMusic(ctx, music(url), stop.signal);
      for (let i = 0; i < turns && !until(); i++) await new Promise((r) => setImmediate(r));
      const requested = fake.requests.length;
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      if (silent) expect(fake.requests.length).toBe(requested);
      stop.abort(new Error("over"));
      await expect(running).rejects.toThrow("over");
    };
    return { ...fake, run };
  }

  it("falls silent on a document with no verb to run, even when the clock moved while it was read", async () => {
    const { requests, run } = paced({
      "https://a.example/unknown": "<Response>\n  <say>hold on</say>\n</Response>",
    });
    await run("https://a.example/unknown", 5);
    expect(requests.map(([url]) => url)).toEqual(["https://a.example/unknown"]);
  });

  it("falls silent instead of looping a <Play> too short to hear (an empty file)", async () => {
    const { requests, channel, run } = paced({
      "https://a.example/beep": xml((r) => r.play("https://a.example/empty.wav")),
    });
    await run("https://a.example/beep", 20);
    expect(requests.map(([url]) => url)).toEqual(["https://a.example/beep"]);
    expect(channel.calls.map((c) => c[0])).toEqual(["play"]);
  });

  it(`stops following ${MAX_QUIET_DOCUMENTS} redirects in a row that play nothing, with a 90006 warning`, async () => {
    const { requests, warnings, run } = paced({
      "https://a.example/self": xml((r) => r.redirect("https://a.example/self")),
    });
    await run("https://a.example/self", 200, { until: () => warnings.length > 0 });
    expect(requests.length).toBe(MAX_QUIET_DOCUMENTS);
    expect(warnings).toEqual([
      expect.objectContaining({ code: 90006, message: expect.stringContaining("https://a.example/self") }),
    ]);
  });

  it("keeps following a redirect loop whose documents play audio", async () => {
    const { requests, warnings, channel, run } = paced(
      {
        "https://a.example/song": xml((r) => {
          r.play("https://a.example/song.mp3");
          r.redirect("/song");
        }),
      },
      AUDIBLE_MS,
    );
    await run("https://a.example/song", 4 * MAX_QUIET_DOCUMENTS, { silent: false });
    expect(requests.length).toBeGreaterThan(2 * MAX_QUIET_DOCUMENTS);
    expect(channel.calls.length).toBe(requests.length);
    expect(warnings).toEqual([]);
  });

  it("requests Twilio's default hold music with GET when there is no waitUrl, and nothing for waitUrl=''", async () => {
    const { ctx, requests } = withDocuments({ [DEFAULT_WAIT_URL]: xml((r) => r.hangup()) });
    await expect(runWaitMusic(ctx, music(undefined), new AbortController().signal)).resolves.toEqual({
      kind: "hangup",
    });
    expect(requests.map(([url, method]) => [url, method])).toEqual([[DEFAULT_WAIT_URL, "GET"]]);
    await expect(
      runWaitMusic(ctx, music("", { atEnd: "return" }), new AbortController().signal),
    ).resolves.toEqual({
      kind: "done",
    });
    expect(requests.length).toBe(1);
  });
});
