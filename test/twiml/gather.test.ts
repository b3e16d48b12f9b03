// <Gather>: reading it as Twilio does, and running it against a fake channel.
import { describe, expect, it } from "vitest";
import { fail } from "../../src/errors/switchboard-error.js";
import { parseTwiml } from "../../src/twiml/parse.js";
import type { ListenOptions } from "../../src/twiml/ports/channel.js";
import type { GatherVerb } from "../../src/twiml/verb-data.js";
import { gather } from "../../src/twiml/verbs/gather.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { fakeContext } from "./fakes.js";

const DOC = "https://app.example/ivr/menu";

function parse(build: (r: InstanceType<typeof VoiceResponse>) => void) {
  const r = new VoiceResponse();
  build(r);
  return parseTwiml(r.toString(), DOC);
}

describe("<Gather> attributes", () => {
  it("takes Twilio's defaults, with the document's own URL as the action", () => {
    const doc = parse((r) => r.gather());
    expect(doc.verbs[0]).toEqual({
      name: "Gather",
      action: DOC,
      method: "POST",
      input: ["dtmf"],
      timeout: 5,
      speechTimeout: 5,
      finishOnKey: "#",
      actionOnEmptyResult: false,
      language: "en-US",
      prompts: [],
    });
    expect(doc.warnings).toEqual([]);
  });

  it("reads every attribute and keeps nested Say, Play and Pause as prompts", () => {
    const doc = parse((r) => {
      const g = r.gather({
        action: "choice",
        method: "GET",
        input: ["dtmf", "speech"],
        timeout: 3,
        speechTimeout: "auto",
        finishOnKey: "*",
        numDigits: 4,
        actionOnEmptyResult: true,
        language: "en-GB",
        hints: "sales, support",
      });
      g.say("Enter your PIN");
      g.pause({ length: 1 });
      g.play("/beep.wav");
    });
    const g = doc.verbs[0] as GatherVerb;
    expect(g).toMatchObject({
      action: "https://app.example/ivr/choice",
      method: "GET",
      input: ["dtmf", "speech"],
      timeout: 3,
      speechTimeout: "auto",
      finishOnKey: "*",
      numDigits: 4,
      actionOnEmptyResult: true,
      language: "en-GB",
      hints: "sales, support",
    });
    expect(g.prompts.map((p) => p.name)).toEqual(["Say", "Pause", "Play"]);
    expect(g.prompts[2]).toMatchObject({ url: "https://app.example/beep.wav" });
  });

  it("warns about verbs that cannot be nested (13320) and bad values (13313, 13314, 13310)", () => {
    const doc = parseTwiml(
      `<Response><Gather timeout="soon" numDigits="0" finishOnKey="12"><Say>Hi</Say><Redirect>/x</Redirect></Gather></Response>`,
      DOC,
    );
    expect(doc.warnings.map((w) => w.code).sort()).toEqual([13310, 13313, 13314, 13320]);
    expect(doc.verbs[0]).toMatchObject({ timeout: 5, finishOnKey: "#", prompts: [{ name: "Say" }] });
    expect(doc.verbs[0]).not.toHaveProperty("numDigits");
  });
});

describe("<Gather> values Twilio warns about, with its own codes", () => {
  const codesOf = (attrs: string, body = "") =>
    parseTwiml(`<Response><Gather ${attrs}>${body}</Gather></Response>`, DOC).warnings.map((w) => w.code);

  it.each([
    ['speechTimeout="soon"', 13327],
    ['maxSpeechTime="long"', 13328],
    ['input="keys"', 13326],
    ['input="dtmf keys"', 13326],
    ['bargeIn="no"', 13332],
    ['profanityFilter="maybe"', 13333],
    ['speechModel="my_model"', 13334],
    ['debug="on"', 13336],
    ['actionOnEmptyResult="yes"', 13338],
    ['enhanced="1"', 13339],
  ])("%s gives %i", (attrs, code) => {
    expect(codesOf(attrs)).toEqual([code]);
  });

  it("accepts every valid value without a warning", () => {
    expect(
      codesOf(
        'input="speech dtmf" speechTimeout="auto" maxSpeechTime="30" bargeIn="true" profanityFilter="false" speechModel="deepgram_nova-3" debug="false" actionOnEmptyResult="false" enhanced="true"',
      ),
    ).toEqual([]);
  });

  it("keeps the default for a bad value: no action on empty input, dtmf input", () => {
    const doc = parseTwiml(`<Response><Gather actionOnEmptyResult="yes" input="keys"/></Response>`, DOC);
    expect(doc.verbs[0]).toMatchObject({ actionOnEmptyResult: false, input: ["dtmf"] });
  });

  it("warns 13330 about hints past Twilio's limits", () => {
    expect(codesOf(`hints="${"x".repeat(101)}"`)).toEqual([13330]);
    expect(codesOf(`hints="${Array.from({ length: 501 }, (_, i) => `w${i}`).join(",")}"`)).toEqual([13330]);
    expect(codesOf(`hints="${Array.from({ length: 500 }, (_, i) => `w${i}`).join(",")}"`)).toEqual([]);
  });

  it("reports a nested Say's bad voice and loop with Gather's codes (13321, 13322)", () => {
    expect(codesOf("", `<Say voice="robot" loop="x">Hi</Say>`).sort()).toEqual([13321, 13322]);
    // Outside a Gather they keep Say's own.
    const outside = parseTwiml(`<Response><Say voice="robot" loop="x">Hi</Say></Response>`, DOC);
    expect(outside.warnings.map((w) => w.code).sort()).toEqual([13510, 13511]);
  });

  it("warns 11100 about a Gather with no action in a Twiml document, whose URL is none", () => {
    const doc = parseTwiml(`<Response><Gather numDigits="1"><Say>menu</Say></Gather></Response>`, "");
    expect(doc.warnings.map((w) => w.code)).toEqual([11100]);
    expect(doc.verbs[0]).toMatchObject({ action: "" });
  });
});

describe("<Gather partialResultCallback> and nesting", () => {
  it("reads partialResultCallback against the document, with its method", () => {
    const doc = parse((r) =>
      r.gather({ input: ["speech"], partialResultCallback: "/partial", partialResultCallbackMethod: "GET" }),
    );
    expect(doc.verbs[0]).toMatchObject({
      partialResultCallback: "https://app.example/partial",
      partialResultCallbackMethod: "GET",
    });
    expect(doc.warnings).toEqual([]);
  });

  it("does not nest a digits-only Play (13320)", () => {
    const doc = parseTwiml(`<Response><Gather><Play digits="12"/><Say>Hi</Say></Gather></Response>`, DOC);
    expect(doc.warnings.map((w) => w.code)).toEqual([13320]);
    expect(doc.verbs[0]).toMatchObject({ prompts: [{ name: "Say" }] });
  });

  it("requests each unstable result with a growing SequenceNumber, keyed apart", async () => {
    const { ctx, channel, callbacks } = fakeContext();
    const g = parse((r) => r.gather({ input: ["speech"], partialResultCallback: "/partial" }))
      .verbs[0] as GatherVerb;
    const running = gather.execute(ctx, g, new AbortController().signal);
    const options = channel.calls[0]?.[1] as ListenOptions;
    options.onPartialSpeech?.("my");
    options.onPartialSpeech?.("my modem");
    await running;
    expect(callbacks.map((c) => [c.url, c.params.UnstableSpeechResult, c.params.SequenceNumber])).toEqual([
      ["https://app.example/partial", "my", "0"],
      ["https://app.example/partial", "my modem", "1"],
    ]);
    expect(new Set(callbacks.map((c) => c.key)).size).toBe(2);
  });

  it("asks for no partial results without a partialResultCallback", async () => {
    const { ctx, channel } = fakeContext();
    const g = parse((r) => r.gather({ input: ["speech"] })).verbs[0] as GatherVerb;
    await gather.execute(ctx, g, new AbortController().signal);
    expect(channel.calls[0]?.[1]).not.toHaveProperty("onPartialSpeech");
  });
});

describe("running <Gather>", () => {
  const verb = (over: Partial<GatherVerb> = {}): GatherVerb => ({
    ...(parse((r) => r.gather().say("Press a key")).verbs[0] as GatherVerb),
    ...over,
  });

  it("requests the action with Digits when the caller pressed keys", async () => {
    const { ctx, channel } = fakeContext();
    channel.nextInput = { digits: "42" };
    const outcome = await gather.execute(ctx, verb(), new AbortController().signal);
    expect(outcome).toEqual({ kind: "fetch", url: DOC, method: "POST", params: { Digits: "42" } });
    expect(channel.calls.map((c) => c[0])).toEqual(["listen", "say", "result", "close"]);
  });

  it("falls through with no input, or requests the action anyway with actionOnEmptyResult", async () => {
    const { ctx } = fakeContext();
    expect(await gather.execute(ctx, verb(), new AbortController().signal)).toEqual({ kind: "next" });
    expect(
      await gather.execute(ctx, verb({ actionOnEmptyResult: true }), new AbortController().signal),
    ).toEqual({
      kind: "fetch",
      url: DOC,
      method: "POST",
      params: { Digits: "" },
    });
  });

  it("sends SpeechResult and Confidence for speech", async () => {
    const { ctx, channel } = fakeContext();
    channel.nextInput = { digits: "", speech: { text: "billing please", confidence: 0.875 } };
    const outcome = await gather.execute(ctx, verb({ input: ["speech"] }), new AbortController().signal);
    expect(outcome).toMatchObject({ params: { SpeechResult: "billing please", Confidence: "0.88" } });
  });

  it("stops the prompts at the caller's first key (barge-in)", async () => {
    const { ctx, channel } = fakeContext();
    channel.holdAudio = true;
    channel.bargeIn = true;
    channel.nextInput = { digits: "1" };
    const g = verb();
    const outcome = await gather.execute(
      ctx,
      { ...g, prompts: [...g.prompts, ...g.prompts] },
      new AbortController().signal,
    );
    expect(outcome).toMatchObject({ params: { Digits: "1" } });
    expect(channel.calls.filter((c) => c[0] === "say")).toHaveLength(1);
  });

  it('plays every prompt through the caller\'s input with bargeIn="false", and still takes the input', async () => {
    const { ctx, channel } = fakeContext();
    channel.bargeIn = true;
    channel.nextInput = { digits: "1" };
    const g = parse((r) => {
      const menu = r.gather({ numDigits: 1 });
      menu.say("Press a key");
      menu.say("Or wait");
    }).verbs[0] as GatherVerb;
    expect(g.bargeIn).toBeUndefined();
    const parsed = parseTwiml(
      `<Response><Gather bargeIn="false" numDigits="1"><Say>Press a key</Say><Say>Or wait</Say></Gather></Response>`,
      DOC,
    ).verbs[0] as GatherVerb;
    expect(parsed.bargeIn).toBe(false);
    const outcome = await gather.execute(ctx, parsed, new AbortController().signal);
    expect(outcome).toMatchObject({ kind: "fetch", params: { Digits: "1" } });
    expect(channel.calls.filter((c) => c[0] === "say")).toHaveLength(2);
    // The same Gather with barge-in (the default) stops at the first prompt.
    const barged = fakeContext();
    barged.channel.bargeIn = true;
    barged.channel.holdAudio = true;
    barged.channel.nextInput = { digits: "1" };
    await gather.execute(barged.ctx, g, new AbortController().signal);
    expect(barged.channel.calls.filter((c) => c[0] === "say")).toHaveLength(1);
  });

  it("drops the input of a Gather whose action is none (a Twiml document), going on to the next verb", async () => {
    const { ctx, channel } = fakeContext();
    channel.nextInput = { digits: "5" };
    const g = parseTwiml(`<Response><Gather numDigits="1"><Say>menu</Say></Gather></Response>`, "")
      .verbs[0] as GatherVerb;
    expect(await gather.execute(ctx, g, new AbortController().signal)).toEqual({ kind: "next" });
  });

  it("reports a nested Play of something that is not audio as 13325, Gather's code for it", async () => {
    const { ctx, channel, warnings } = fakeContext();
    channel.play = async (url) => {
      channel.calls.push(["play", url, {}]);
      throw fail("playInvalidContentType", `media ${url} is text/html, not audio`);
    };
    const g = parse((r) => r.gather().play("/page.html")).verbs[0] as GatherVerb;
    await gather.execute(ctx, g, new AbortController().signal);
    expect(warnings).toEqual([{ code: 13325, message: expect.stringContaining("page.html") }]);
  });

  it("reports a prompt that fails and goes on with the next prompt and the listening", async () => {
    const { ctx, channel, warnings } = fakeContext();
    channel.play = async (url) => {
      channel.calls.push(["play", url, {}]);
      throw fail("httpRetrievalFailure", `media ${url} answered HTTP 404`);
    };
    channel.nextInput = { digits: "3" };
    const g = parse((r) => {
      const menu = r.gather();
      menu.play("/missing.mp3");
      menu.say("Press a key");
    }).verbs[0] as GatherVerb;
    const outcome = await gather.execute(ctx, g, new AbortController().signal);
    expect(outcome).toMatchObject({ kind: "fetch", params: { Digits: "3" } });
    expect(channel.calls.map((c) => c[0])).toEqual(["listen", "play", "say", "result", "close"]);
    expect(warnings).toEqual([{ code: 11200, message: expect.stringContaining("missing.mp3") }]);
  });

  it("stops listening when the call ends mid-prompt", async () => {
    const { ctx, channel } = fakeContext();
    channel.holdAudio = true;
    const abort = new AbortController();
    const running = gather.execute(ctx, verb(), abort.signal);
    abort.abort(new Error("caller hung up"));
    await expect(running).rejects.toThrow("caller hung up");
    expect(channel.calls.at(-1)?.[0]).toBe("close");
  });
});
