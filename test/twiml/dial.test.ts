// <Dial> and its Number, Client and Sip nouns, read as Twilio reads them. Running the verb:
// dial-run.test.ts; against the real network: test/compat/dial*.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTwiml } from "../../src/twiml/parse.js";
import type { DialVerb } from "../../src/twiml/verbs/dial/data.js";
import { e164 } from "../../src/twiml/verbs/dial/number.js";
import { VoiceResponse } from "../helpers/twilio-app.js";

const DOC = "https://app.example/calls/start";

function parse(build: (r: InstanceType<typeof VoiceResponse>) => void) {
  const r = new VoiceResponse();
  build(r);
  return parseTwiml(r.toString(), DOC);
}

const codes = (doc: { warnings: readonly { code: number }[] }) => doc.warnings.map((w) => w.code);

describe("<Dial> attributes", () => {
  it("takes Twilio's defaults: no action, 30 s timeout, 4 h time limit, plain text as a Number", () => {
    const doc = parse((r) => r.dial("+15551230000"));
    expect(doc.warnings).toEqual([]);
    expect(doc.verbs[0]).toEqual({
      name: "Dial",
      method: "POST",
      timeout: 30,
      timeLimit: 14_400,
      hangupOnStar: false,
      record: "do-not-record",
      answerOnBridge: false,
      trim: "do-not-trim",
      nouns: [
        {
          noun: "Number",
          number: "+15551230000",
          method: "POST",
          statusCallbackMethod: "POST",
          statusCallbackEvent: ["completed"],
        },
      ],
    });
  });

  it("reads every attribute, resolving the action against the document URL", () => {
    const doc = parse((r) =>
      r.dial(
        {
          action: "after-dial",
          method: "GET",
          timeout: 12,
          timeLimit: 60,
          callerId: "+15557770000",
          hangupOnStar: true,
          record: "record-from-answer-dual",
          answerOnBridge: true,
          ringTone: "uk",
          trim: "trim-silence",
          recordingStatusCallback: "https://app.example/rec",
          recordingStatusCallbackMethod: "GET",
          recordingStatusCallbackEvent: ["completed", "absent"],
        },
        "415-123-4567",
      ),
    );
    expect(doc.warnings).toEqual([]);
    expect(doc.verbs[0]).toMatchObject({
      action: "https://app.example/calls/after-dial",
      method: "GET",
      timeout: 12,
      timeLimit: 60,
      callerId: "+15557770000",
      hangupOnStar: true,
      record: "record-from-answer-dual",
      answerOnBridge: true,
      ringTone: "uk",
      trim: "trim-silence",
      recordingStatusCallback: "https://app.example/rec",
      recordingStatusCallbackMethod: "GET",
      recordingStatusCallbackEvent: ["completed", "absent"],
      nouns: [{ noun: "Number", number: "+14151234567" }],
    });
  });

  it("caps timeLimit at 14400 seconds (4 hours) with 13216, and skips a <Sip> that is not a sip: URI with 13243", () => {
    const doc = parseTwiml(
      `<Response><Dial timeLimit="20000"><Sip>tel:+15551230000</Sip><Number>+15551230000</Number></Dial></Response>`,
      DOC,
    );
    expect(codes(doc).sort()).toEqual([13216, 13243]);
    expect(doc.verbs[0]).toMatchObject({ timeLimit: 14_400, nouns: [{ noun: "Number" }] });
  });

  it("warns with Twilio's Dial codes and falls back to the defaults", () => {
    const doc = parseTwiml(
      `<Response><Dial method="PUT" timeout="soon" timeLimit="-1" hangupOnStar="yes" callerId="bad id!" record="always" answerOnBridge="1" ringTone="xx">+15551230000</Dial></Response>`,
      DOC,
    );
    expect(codes(doc).sort()).toEqual([13210, 13212, 13213, 13214, 13216, 13217, 13219, 13220]);
    expect(doc.verbs[0]).toMatchObject({
      method: "POST",
      timeout: 30,
      timeLimit: 14_400,
      hangupOnStar: false,
      record: "do-not-record",
      answerOnBridge: false,
    });
    expect((doc.verbs[0] as DialVerb).callerId).toBeUndefined();
    expect((doc.verbs[0] as DialVerb).ringTone).toBeUndefined();
  });

  it("treats `true`/`false` as record aliases and keeps the timeout within 5-600 s", () => {
    const a = parseTwiml(`<Response><Dial record="true" timeout="1">+15551230000</Dial></Response>`, DOC);
    const b = parseTwiml(`<Response><Dial record="false" timeout="900">+15551230000</Dial></Response>`, DOC);
    expect(a.verbs[0]).toMatchObject({ record: "record-from-answer", timeout: 5 });
    expect(b.verbs[0]).toMatchObject({ record: "do-not-record", timeout: 600 });
  });
});

describe("<Dial> nouns", () => {
  it("reads Number, Client (text or <Identity>, with <Parameter>s) and Sip with their leg attributes", () => {
    const doc = parse((r) => {
      const d = r.dial();
      d.number(
        {
          sendDigits: "ww123#",
          url: "/whisper",
          method: "GET",
          statusCallback: "https://app.example/leg",
          statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
          statusCallbackMethod: "GET",
          byoc: "BY00000000000000000000000000000000",
        },
        "+15551230000",
      );
      d.client("alice");
      const c = d.client({ url: "https://app.example/screen" });
      c.identity("bob");
      c.parameter({ name: "Team", value: "Blue" });
      d.sip({ username: "u", password: "p" }, "sip:carol@example.com;transport=tls");
    });
    expect(doc.warnings).toEqual([]);
    expect((doc.verbs[0] as DialVerb).nouns).toEqual([
      {
        noun: "Number",
        number: "+15551230000",
        sendDigits: "ww123#",
        url: "https://app.example/whisper",
        method: "GET",
        statusCallback: "https://app.example/leg",
        statusCallbackMethod: "GET",
        statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
        byoc: "BY00000000000000000000000000000000",
      },
      {
        noun: "Client",
        identity: "alice",
        parameters: {},
        method: "POST",
        statusCallbackMethod: "POST",
        statusCallbackEvent: ["completed"],
      },
      {
        noun: "Client",
        identity: "bob",
        parameters: { Team: "Blue" },
        url: "https://app.example/screen",
        method: "POST",
        statusCallbackMethod: "POST",
        statusCallbackEvent: ["completed"],
      },
      {
        noun: "Sip",
        uri: "sip:carol@example.com;transport=tls",
        username: "u",
        password: "p",
        method: "POST",
        statusCallbackMethod: "POST",
        statusCallbackEvent: ["completed"],
      },
    ]);
  });

  it("skips a Number that is not a phone number (13223) and bad sendDigits/method (13222, 13221)", () => {
    const doc = parseTwiml(
      `<Response><Dial><Number>call me maybe</Number><Number sendDigits="12x" method="PATCH">+15551230000</Number></Dial></Response>`,
      DOC,
    );
    expect(codes(doc)).toEqual([13223, 13222, 13221]);
    expect((doc.verbs[0] as DialVerb).nouns).toMatchObject([
      { noun: "Number", number: "+15551230000", method: "POST" },
    ]);
    expect((doc.verbs[0] as DialVerb).nouns[0]).not.toHaveProperty("sendDigits");
  });

  it("joins one room alone: 13215 for an element that is no noun, 13000 for a second room or a mix", () => {
    const doc = parseTwiml(
      `<Response><Dial><Conference>room</Conference><Queue>support</Queue><Say>hi</Say></Dial><Say>next</Say></Response>`,
      DOC,
    );
    expect(codes(doc)).toEqual([13215, 13000]);
    expect(doc.verbs.map((v) => v.name)).toEqual(["Dial", "Say"]);
    expect((doc.verbs[0] as DialVerb).nouns.map((n) => n.noun)).toEqual(["Conference"]);
    const mixed = parseTwiml(
      `<Response><Dial><Number>+15551230000</Number><Conference>room</Conference></Dial></Response>`,
      DOC,
    );
    expect(codes(mixed)).toEqual([13000]);
    expect((mixed.verbs[0] as DialVerb).nouns.map((n) => n.noun)).toEqual(["Number"]);
  });

  it("rings at most 10 nouns, warning about the rest", () => {
    const numbers = Array.from(
      { length: 12 },
      (_, i) => `<Number>+1555123${String(i).padStart(4, "0")}</Number>`,
    );
    const doc = parseTwiml(`<Response><Dial>${numbers.join("")}</Dial></Response>`, DOC);
    expect(codes(doc)).toEqual([13215, 13215]);
    expect((doc.verbs[0] as DialVerb).nouns).toHaveLength(10);
  });

  it("reads unformatted US numbers as E.164 and refuses the rest", () => {
    expect(e164("+442071234567")).toBe("+442071234567");
    expect(e164("(415) 123-4567")).toBe("+14151234567");
    expect(e164("1 415 123 4567")).toBe("+14151234567");
    expect(e164("12345")).toBeUndefined();
    expect(e164("sip:bob@x")).toBeUndefined();
  });
});

describe("<Dial> on any input", () => {
  const attr = fc.constantFrom(
    "action",
    "method",
    "timeout",
    "timeLimit",
    "callerId",
    "hangupOnStar",
    "record",
    "ringTone",
    "answerOnBridge",
    "url",
    "sendDigits",
    "statusCallbackEvent",
    "statusCallback",
  );
  const value = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("", "GET", "true", "0", "-1", "600", "http://x/", "::", "%zz"),
  );
  const attrs = fc.dictionary(attr, value, { maxKeys: 5 });
  const noun = fc.record({
    name: fc.constantFrom("Number", "Client", "Sip", "Conference", "Queue", "Say", "Identity", "Parameter"),
    attrs,
    text: fc.string({ maxLength: 20 }),
  });
  // ">" too: "]]>" is not allowed in XML text.
  const xmlText = (t: string) =>
    t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const xmlAttrs = (a: Record<string, string>) =>
    Object.entries(a)
      .map(([k, v]) => ` ${k}="${xmlText(v)}"`)
      .join("");

  it("never throws: every bad value is a warning, a default or a skipped noun", () => {
    fc.assert(
      fc.property(
        attrs,
        fc.array(noun, { maxLength: 12 }),
        fc.string({ maxLength: 20 }),
        (a, nouns, text) => {
          const body = nouns
            .map((n) => `<${n.name}${xmlAttrs(n.attrs)}>${xmlText(n.text)}</${n.name}>`)
            .join("");
          const doc = parseTwiml(
            `<Response><Dial${xmlAttrs(a)}>${xmlText(text)}${body}</Dial></Response>`,
            DOC,
          );
          const verb = doc.verbs[0] as DialVerb | undefined;
          if (verb) {
            expect(verb.nouns.length).toBeGreaterThan(0);
            expect(verb.nouns.length).toBeLessThanOrEqual(10);
            expect(verb.timeout).toBeGreaterThanOrEqual(5);
            expect(verb.timeout).toBeLessThanOrEqual(600);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
