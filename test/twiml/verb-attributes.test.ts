import { describe, expect, it } from "vitest";
import { parseTwiml } from "../../src/twiml/parse.js";
import type { SayVerb, TwimlDocument, Verb } from "../../src/twiml/verb-data.js";

const DOC = "https://example.com/voice/start.xml";

/** Parses `<Response>…</Response>` around `body`. */
function parse(body: string, documentUrl = DOC): TwimlDocument {
  return parseTwiml(`<Response>${body}</Response>`, documentUrl);
}

/** [warning codes, verbs] for a body: what matters in the attribute tests. */
function outcome(body: string): [number[], readonly Verb[]] {
  const { verbs, warnings } = parse(body);
  return [warnings.map((w) => w.code), verbs];
}

const say = (text: string, loop = 1): SayVerb => ({
  name: "Say",
  text,
  voice: "man",
  language: "en-US",
  loop,
});

describe("verb attributes", () => {
  it.each([
    ["0", [], 1000],
    ["7", [], 7],
    ["-1", [13510], 1],
    ["1.5", [13510], 1],
    ["two", [13510], 1],
    ["", [13510], 1],
  ])("Say loop=%j gives %j and loop %i", (loop, codes, expected) => {
    expect(outcome(`<Say loop="${loop}">hi</Say>`)).toEqual([codes, [say("hi", expected)]]);
  });

  it("skips a Say with no words with 13520", () => {
    expect(outcome("<Say>  \n </Say><Say/><Say><break/></Say>")).toEqual([[13520, 13520, 13520], []]);
  });

  it("warns 12200 about a Pause inside Say and speaks the rest", () => {
    const { verbs, warnings } = parse(`<Say>Hello<Pause length="2"/>there</Say>`);
    expect(verbs).toEqual([say("Hellothere")]);
    expect(warnings).toEqual([
      { code: 12200, message: expect.stringContaining("<Pause>"), line: 1, column: 21 },
    ]);
  });

  it("keeps Twilio's voices and warns 13511 about any other, speaking with the default", () => {
    const voices = ["man", "woman", "alice", "Polly.Joanna-Neural", "Google.en-US-Chirp3-HD-Aoede"];
    for (const voice of voices) {
      expect(outcome(`<Say voice="${voice}">hi</Say>`)).toEqual([[], [{ ...say("hi"), voice }]]);
    }
    expect(outcome(`<Say voice="robot">hi</Say><Say voice="Polly.">hi</Say>`)).toEqual([
      [13511, 13511],
      [say("hi"), say("hi")],
    ]);
  });

  it("warns 12200 about an unknown attribute and ignores it", () => {
    expect(outcome(`<Say voise="woman">hi</Say>`)).toEqual([[12200], [say("hi")]]);
  });

  it("reads Play loop, with 13410 for a bad one", () => {
    expect(outcome(`<Play loop="0">a.mp3</Play><Play loop="x">b.mp3</Play>`)).toEqual([
      [13410],
      [
        { name: "Play", url: "https://example.com/voice/a.mp3", loop: 1000 },
        { name: "Play", url: "https://example.com/voice/b.mp3", loop: 1 },
      ],
    ]);
  });

  it("keeps valid DTMF digits and drops invalid ones with 13430", () => {
    expect(outcome(`<Play digits="09ABCD#*wW">a.mp3</Play><Play digits="12e">b.mp3</Play>`)).toEqual([
      [13430],
      [
        { name: "Play", url: "https://example.com/voice/a.mp3", loop: 1, digits: "09ABCD#*wW" },
        { name: "Play", url: "https://example.com/voice/b.mp3", loop: 1 },
      ],
    ]);
  });

  it("skips a Play with no URL with 12200, and warns about children of Play", () => {
    expect(outcome(`<Play/><Play>  </Play><Play>a.mp3<Say>x</Say></Play>`)).toEqual([
      [12200, 12200, 12200],
      [{ name: "Play", url: "https://example.com/voice/a.mp3", loop: 1 }],
    ]);
  });

  it("reads a digits-only Play as DTMF with no media URL, and skips one whose digits are invalid", () => {
    expect(outcome(`<Play digits="wwww3"/><Play digits="x1"/>`)).toEqual([
      [13430, 12200],
      [{ name: "Play", url: "", loop: 1, digits: "wwww3" }],
    ]);
  });

  it("trims whitespace around a URL body", () => {
    expect(parse("<Redirect>\n   next.xml\n</Redirect>").verbs).toEqual([
      { name: "Redirect", url: "https://example.com/voice/next.xml", method: "POST" },
    ]);
  });

  it("skips a verb whose URL does not resolve, with 11100", () => {
    expect(parse("<Redirect>next.xml</Redirect>", "not a url")).toEqual({
      verbs: [],
      warnings: [{ code: 11100, message: expect.any(String), line: 1, column: 11 }],
    });
    expect(outcome("<Play>mailto:a@example.com</Play><Redirect>http://[::1</Redirect>")).toEqual([
      [11100, 11100],
      [],
    ]);
  });

  it.each([
    ["3", [], 3],
    ["0", [13910], 1],
    ["-2", [13910], 1],
    ["1.5", [13910], 1],
    ["long", [13910], 1],
  ])("Pause length=%j gives %j and length %i", (length, codes, expected) => {
    expect(outcome(`<Pause length="${length}"/>`)).toEqual([codes, [{ name: "Pause", length: expected }]]);
  });

  it("warns 12200 about anything inside Pause, Hangup or Redirect, but allows Parameter in Hangup and Reject", () => {
    const body = `<Pause><Say>x</Say></Pause><Hangup>bye</Hangup><Redirect>a<Play>b</Play></Redirect><Hangup><Parameter name="a" value="1"/></Hangup><Reject><Parameter name="a" value="1"/></Reject>`;
    expect(outcome(body)).toEqual([
      [12200, 12200, 12200],
      [
        { name: "Pause", length: 1 },
        { name: "Hangup" },
        { name: "Redirect", url: "https://example.com/voice/a", method: "POST" },
        { name: "Hangup" },
        { name: "Reject", reason: "rejected" },
      ],
    ]);
  });

  it("reads Reject reason, with 13810 and rejected for anything else", () => {
    expect(outcome(`<Reject reason="busy"/><Reject reason="declined"/><Reject reason="Busy"/>`)).toEqual([
      [13810, 13810],
      [
        { name: "Reject", reason: "busy" },
        { name: "Reject", reason: "rejected" },
        { name: "Reject", reason: "rejected" },
      ],
    ]);
  });

  it("reads Redirect method, with 13710 and POST for anything else, and skips an empty Redirect with 12200", () => {
    expect(
      outcome(`<Redirect method="GET">a</Redirect><Redirect method="PUT">b</Redirect><Redirect/>`),
    ).toEqual([
      [13710, 12200],
      [
        { name: "Redirect", url: "https://example.com/voice/a", method: "GET" },
        { name: "Redirect", url: "https://example.com/voice/b", method: "POST" },
      ],
    ]);
  });
});
