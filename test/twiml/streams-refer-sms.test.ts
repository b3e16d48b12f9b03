// Parsing and running <Connect>/<Start>/<Stop> with <Stream>, <Refer> and <Sms> against the verb port's
// fakes; TwiML written by the real twilio package where it can write it.
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { parseTwiml } from "../../src/twiml/parse.js";
import { executeVerb } from "../../src/twiml/registry.js";
import type { TwimlDocument, Verb } from "../../src/twiml/verb-data.js";
import { fakeContext } from "./fakes.js";

const DOC = "https://example.com/voice/start.xml";
const VoiceResponse = twilio.twiml.VoiceResponse;

function parse(body: string): TwimlDocument {
  return parseTwiml(`<Response>${body}</Response>`, DOC);
}
const codes = (doc: TwimlDocument) => doc.warnings.map((w) => w.code);

describe("<Connect><Stream>", () => {
  it("reads the stream, its <Parameter>s, status callback and the action", () => {
    const r = new VoiceResponse();
    const stream = r
      .connect({ action: "/after", method: "GET" })
      .stream({ url: "wss://media.example.com/s", name: "agent", statusCallback: "/stream-status" });
    stream.parameter({ name: "FirstName", value: "Jane" });
    stream.parameter({ name: "Plan", value: "gold" });
    const doc = parseTwiml(r.toString(), DOC);
    expect(doc.warnings).toEqual([]);
    expect(doc.verbs).toEqual([
      {
        name: "Connect",
        action: "https://example.com/after",
        method: "GET",
        stream: {
          url: "wss://media.example.com/s",
          name: "agent",
          track: "inbound_track",
          statusCallback: "https://example.com/stream-status",
          statusCallbackMethod: "POST",
          parameters: { FirstName: "Jane", Plan: "gold" },
        },
      },
    ]);
  });

  it.each([
    ['<Stream url="https://media.example.com/s"/>', 31922],
    ['<Stream url="wss://media.example.com/s" track="both_tracks"/>', 31941],
    ["<Stream/>", 12200],
    ['<Room participantIdentity="x">r</Room>', 12200],
  ])("skips <Connect>%s with %i", (noun, code) => {
    const doc = parse(`<Connect>${noun}</Connect><Hangup/>`);
    expect(codes(doc)[0]).toBe(code);
    expect(doc.verbs.map((v) => v.name)).toEqual(["Hangup"]);
  });

  it("opens the url without its query string, as Twilio does, with a warning", () => {
    const doc = parse('<Connect><Stream url="wss://m.example.com/s?token=abc&amp;x=1#frag"/></Connect>');
    expect(codes(doc)).toEqual([12200]);
    expect(doc.warnings[0]?.message).toMatch(/query string is not sent/);
    expect((doc.verbs[0] as Extract<Verb, { name: "Connect" }>).stream.url).toBe("wss://m.example.com/s");
  });

  it("drops a <Parameter> of 500 characters or more, keeping the stream", () => {
    const doc = parse(
      `<Connect><Stream url="wss://m.example.com/"><Parameter name="a" value="${"x".repeat(499)}"/><Parameter name="b" value="1"/></Stream></Connect>`,
    );
    expect(codes(doc)).toEqual([12200]);
    expect((doc.verbs[0] as Extract<Verb, { name: "Connect" }>).stream.parameters).toEqual({ b: "1" });
  });

  it("waits for the server to close, then requests the action", async () => {
    const { ctx, streams } = fakeContext();
    const [verb] = parse('<Connect action="/after"><Stream url="wss://m.example.com/"/></Connect>').verbs;
    let outcome: unknown;
    const running = executeVerb(ctx, verb as Verb, new AbortController().signal).then((o) => {
      outcome = o;
    });
    await Promise.resolve();
    expect(streams.calls.map((c) => c[0])).toEqual(["connect"]);
    expect(outcome).toBeUndefined();
    streams.serverCloses();
    await running;
    expect(outcome).toEqual({ kind: "fetch", url: "https://example.com/after", method: "POST" });
  });

  it("goes on to the next verb without an action, and rejects when the caller hangs up", async () => {
    const { ctx, streams } = fakeContext();
    const [verb] = parse('<Connect><Stream url="wss://m.example.com/"/></Connect>').verbs;
    const done = executeVerb(ctx, verb as Verb, new AbortController().signal);
    streams.serverCloses();
    await expect(done).resolves.toEqual({ kind: "next" });

    const hangup = new AbortController();
    const cut = executeVerb(ctx, verb as Verb, hangup.signal);
    hangup.abort(new Error("caller hung up"));
    await expect(cut).rejects.toThrow("caller hung up");
  });
});

describe("<Start><Stream> and <Stop><Stream>", () => {
  it("starts each stream and moves straight on; Stop names the stream", async () => {
    const r = new VoiceResponse();
    r.start().stream({ url: "wss://m.example.com/a", name: "a", track: "both_tracks" });
    r.stop().stream({ name: "a" });
    const { verbs, warnings } = parseTwiml(r.toString(), DOC);
    expect(warnings).toEqual([]);
    const { ctx, streams } = fakeContext();
    const signal = new AbortController().signal;
    for (const verb of verbs) await expect(executeVerb(ctx, verb, signal)).resolves.toEqual({ kind: "next" });
    expect(streams.calls).toEqual([
      [
        "start",
        {
          url: "wss://m.example.com/a",
          name: "a",
          track: "both_tracks",
          statusCallbackMethod: "POST",
          parameters: {},
        },
      ],
      ["stop", "a"],
    ]);
  });

  it("warns about an unknown track (31941) and other nouns (12200)", () => {
    const doc = parse(
      '<Start><Stream url="wss://m.example.com/" track="sideways"/><Siprec connectorName="x"/></Start>',
    );
    expect(codes(doc)).toEqual([31941, 12200]);
    expect(doc.verbs).toEqual([]);
  });
});

describe("<Refer>", () => {
  const referTwiml = () => {
    const r = new VoiceResponse();
    r.refer({ action: "/refer-done" }).sip("sip:alice@example.com?X-Ticket=42");
    return parseTwiml(r.toString(), DOC);
  };

  it("reads the <Sip> target and the action", () => {
    expect(referTwiml()).toEqual({
      warnings: [],
      verbs: [
        {
          name: "Refer",
          target: "sip:alice@example.com?X-Ticket=42",
          action: "https://example.com/refer-done",
          method: "POST",
        },
      ],
    });
  });

  it("fails with 13801 on a call that is not a SIP leg", async () => {
    const { ctx } = fakeContext();
    const [verb] = referTwiml().verbs;
    await expect(executeVerb(ctx, verb as Verb, new AbortController().signal)).rejects.toMatchObject({
      code: 13801,
    });
  });

  it("reports the REFER's outcome to the action on a SIP leg", async () => {
    const { ctx } = fakeContext();
    const sip = { ...ctx, call: { ...ctx.call, transport: "sip" as const } };
    const [verb] = referTwiml().verbs;
    await expect(executeVerb(sip, verb as Verb, new AbortController().signal)).resolves.toEqual({
      kind: "fetch",
      url: "https://example.com/refer-done",
      method: "POST",
      params: { ReferCallStatus: "in-progress", ReferSipResponseCode: "202", NotifySipResponseCode: "200" },
    });
  });

  it("skips a Refer without a SIP URI", () => {
    expect(codes(parse("<Refer><Sip>alice</Sip></Refer>"))).toEqual([12200, 12200]);
  });
});

describe("<Sms>", () => {
  it("records the message, sends its status callback and requests the action with SmsSid", async () => {
    const r = new VoiceResponse();
    r.sms({ action: "/sms-done", statusCallback: "/sms-status" }, "Your code is 1234");
    const { verbs, warnings } = parseTwiml(r.toString(), DOC);
    expect(warnings).toEqual([]);
    const { ctx, callbacks, warnings: notes } = fakeContext();
    const outcome = await executeVerb(ctx, verbs[0] as Verb, new AbortController().signal);
    expect(outcome).toEqual({
      kind: "fetch",
      url: "https://example.com/sms-done",
      method: "POST",
      params: { SmsSid: expect.stringMatching(/^SM[0-9a-f]{32}$/), SmsStatus: "sending" },
    });
    const smsSid = outcome.kind === "fetch" ? (outcome.params?.SmsSid ?? "") : "";
    expect(notes).toEqual([
      { code: 90008, message: `<Sms> ${smsSid} from +15551234567 to +15557654321: Your code is 1234` },
    ]);
    expect(callbacks).toEqual([
      {
        url: "https://example.com/sms-status",
        method: "POST",
        params: {
          SmsSid: smsSid,
          SmsStatus: "sent",
          AccountSid: ctx.call.accountSid,
          From: "+15551234567",
          To: "+15557654321",
          Body: "Your code is 1234",
        },
        key: `sms.${smsSid}`,
      },
    ]);
  });

  it("sends to the called party, from the call's own From, on an outbound call (and the reverse inbound)", async () => {
    const [sms] = parse("<Sms>hi</Sms>").verbs;
    const signal = new AbortController().signal;
    const inbound = fakeContext();
    await executeVerb(inbound.ctx, sms as Verb, signal);
    const outbound = fakeContext();
    const call = { ...outbound.ctx.call, direction: "outbound-api" };
    await executeVerb({ ...outbound.ctx, call }, sms as Verb, signal);
    const routeOf = (notes: unknown[]) => (notes[0] as { message: string }).message.replace(/SM\w+ /, "");
    expect(routeOf(inbound.warnings)).toBe("<Sms> from +15551234567 to +15557654321: hi");
    expect(routeOf(outbound.warnings)).toBe("<Sms> from +15557654321 to +15551234567: hi");
  });

  it("goes on without an action, and reports SmsStatus=invalid for a bad To (14101)", async () => {
    const { ctx, warnings } = fakeContext();
    const signal = new AbortController().signal;
    const [plain, bad] = parse('<Sms>hi</Sms><Sms to="not-a-number" action="/a">hi</Sms>').verbs;
    await expect(executeVerb(ctx, plain as Verb, signal)).resolves.toEqual({ kind: "next" });
    await expect(executeVerb(ctx, bad as Verb, signal)).resolves.toMatchObject({
      params: { SmsStatus: "invalid" },
    });
    expect(warnings.map((w) => (w as { code: number }).code)).toEqual([90008, 14101]);
  });

  it.each([
    ["<Sms>  </Sms>", [14103]],
    ['<Sms method="PUT">hi</Sms>', [14104]],
    ['<Sms statusCallback="ftp://x">hi</Sms>', [14105]],
  ])("warns about %s", (body, expected) => {
    expect(codes(parse(body))).toEqual(expected);
  });
});
