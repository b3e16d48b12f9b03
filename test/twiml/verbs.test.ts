import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { parseTwiml } from "../../src/twiml/parse.js";
import { executeVerb, verbDefinition, verbs } from "../../src/twiml/registry.js";
import type { SayVerb, Verb } from "../../src/twiml/verb-data.js";
import { fakeContext } from "./fakes.js";

const DOC = "https://example.com/voice/start.xml";

const say = (text: string, loop = 1): SayVerb => ({
  name: "Say",
  text,
  voice: "man",
  language: "en-US",
  loop,
});

describe("registry", () => {
  it("holds every verb under its case-sensitive name", () => {
    expect([...verbs.keys()].sort()).toEqual([
      "Connect",
      "Dial",
      "Enqueue",
      "Gather",
      "Hangup",
      "Leave",
      "Pause",
      "Play",
      "Record",
      "Redirect",
      "Refer",
      "Reject",
      "Say",
      "Sms",
      "Start",
      "Stop",
    ]);
    expect(verbDefinition("say")).toBeUndefined();
    expect(verbDefinition("Say")?.name).toBe("Say");
  });
});

describe("executing verbs", () => {
  const run = new AbortController().signal;

  it("speaks Say loop times with its voice and language", async () => {
    const { ctx, channel } = fakeContext();
    const verb: Verb = { name: "Say", text: "Hi", voice: "woman", language: "fr-FR", loop: 2 };
    await expect(executeVerb(ctx, verb, run)).resolves.toEqual({ kind: "next" });
    const options = { voice: "woman", language: "fr-FR" };
    expect(channel.calls).toEqual([
      ["say", "Hi", options],
      ["say", "Hi", options],
    ]);
  });

  it("stops a looping Say when the signal aborts, rejecting with the signal's reason", async () => {
    const { ctx, channel } = fakeContext();
    channel.holdAudio = true;
    const controller = new AbortController();
    const running = executeVerb(ctx, say("Hi", 1000), controller.signal);
    const hungUp = new Error("caller hung up");
    controller.abort(hungUp);
    await expect(running).rejects.toBe(hungUp);
    expect(channel.calls).toEqual([["say", "Hi", { voice: "man", language: "en-US" }]]);
  });

  it("stops between loops even when the channel finished the prompt", async () => {
    const { ctx, channel } = fakeContext();
    const controller = new AbortController();
    const original = channel.say.bind(channel);
    channel.say = async (...args) => {
      await original(...args);
      controller.abort(new Error("stop"));
    };
    await expect(executeVerb(ctx, say("Hi", 5), controller.signal)).rejects.toThrow("stop");
    expect(channel.calls).toHaveLength(1);
  });

  it("does not start a verb whose signal has already aborted", async () => {
    const { ctx, channel } = fakeContext();
    const signal = AbortSignal.abort(new Error("gone"));
    await expect(executeVerb(ctx, say("Hi"), signal)).rejects.toThrow("gone");
    await expect(executeVerb(ctx, { name: "Hangup" }, signal)).rejects.toThrow("gone");
    expect(channel.calls).toEqual([]);
  });

  it("plays Play loop times, passing its digits", async () => {
    const { ctx, channel } = fakeContext();
    const verb: Verb = { name: "Play", url: "https://x.example/a.mp3", loop: 3, digits: "1w2" };
    await expect(executeVerb(ctx, verb, run)).resolves.toEqual({ kind: "next" });
    expect(channel.calls).toEqual(Array(3).fill(["play", "https://x.example/a.mp3", { digits: "1w2" }]));
  });

  it("pauses for length seconds of the clock's time", async () => {
    const { ctx, channel, clock } = fakeContext();
    let done = false;
    const running = executeVerb(ctx, { name: "Pause", length: 2 }, run).then((o) => {
      done = true;
      return o;
    });
    await Promise.resolve();
    clock.advance(1999);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await expect(running).resolves.toEqual({ kind: "next" });
    expect(channel.calls).toEqual([["pause", 2]]);
  });

  it("asks for a hang-up, a rejection or a fetch without touching the channel", async () => {
    const { ctx, channel } = fakeContext();
    await expect(executeVerb(ctx, { name: "Hangup" }, run)).resolves.toEqual({ kind: "hangup" });
    await expect(executeVerb(ctx, { name: "Reject", reason: "busy" }, run)).resolves.toEqual({
      kind: "reject",
      reason: "busy",
    });
    const redirect: Verb = { name: "Redirect", url: "https://example.com/next", method: "GET" };
    await expect(executeVerb(ctx, redirect, run)).resolves.toEqual({
      kind: "fetch",
      url: "https://example.com/next",
      method: "GET",
    });
    expect(channel.calls).toEqual([]);
  });

  it("runs a document written with twilio's VoiceResponse from top to bottom", async () => {
    const r = new twilio.twiml.VoiceResponse();
    r.say({ loop: 2 }, "Welcome");
    r.play({ digits: "ww1" }, "/tones.wav");
    r.redirect({ method: "GET" }, "menu.xml");
    const { ctx, channel } = fakeContext();
    const outcomes = [];
    for (const verb of parseTwiml(r.toString(), DOC).verbs) outcomes.push(await executeVerb(ctx, verb, run));
    expect(outcomes).toEqual([
      { kind: "next" },
      { kind: "next" },
      { kind: "fetch", url: "https://example.com/voice/menu.xml", method: "GET" },
    ]);
    expect(channel.calls.map(([method, what]) => [method, what])).toEqual([
      ["say", "Welcome"],
      ["say", "Welcome"],
      ["play", "https://example.com/tones.wav"],
    ]);
  });
});

describe("<Say>'s text limits (13521: what fits is spoken)", () => {
  const parsed = (text: string, voice?: string) => {
    const r = new twilio.twiml.VoiceResponse();
    r.say(voice ? { voice: voice as "man" } : {}, text);
    const doc = parseTwiml(r.toString(), DOC);
    return { text: (doc.verbs[0] as SayVerb).text, codes: doc.warnings.map((w) => w.code) };
  };

  it("cuts a basic voice's text at 4096 characters and a Polly voice's at 3000", () => {
    expect(parsed("a".repeat(5000))).toEqual({ text: "a".repeat(4096), codes: [13521] });
    expect(parsed("a".repeat(3500), "Polly.Joanna")).toEqual({ text: "a".repeat(3000), codes: [13521] });
  });

  it("cuts a text at 4500 characters URL-encoded: 750 letters of two UTF-8 bytes each", () => {
    expect(parsed("é".repeat(2000))).toEqual({ text: "é".repeat(750), codes: [13521] });
  });

  it("counts a space and plain letters as one encoded character each: 4000 characters of words fit", () => {
    const words = "hold on please ".repeat(300).slice(0, 4000);
    expect(parsed(words)).toEqual({ text: words.trimEnd(), codes: [] });
  });
});
