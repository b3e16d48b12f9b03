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
