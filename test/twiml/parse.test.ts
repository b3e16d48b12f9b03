import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { parseTwiml } from "../../src/twiml/parse.js";

const DOC = "https://example.com/voice/start.xml";

function response(build: (r: InstanceType<typeof twilio.twiml.VoiceResponse>) => void): string {
  const r = new twilio.twiml.VoiceResponse();
  build(r);
  return r.toString();
}

/** The SwitchboardError that parsing `xml` throws. */
function parseError(xml: string): SwitchboardError {
  try {
    parseTwiml(xml, DOC);
  } catch (err) {
    if (err instanceof SwitchboardError) return err;
    throw err;
  }
  throw new Error("expected parseTwiml to throw");
}

describe("parseTwiml", () => {
  it("reads the six verbs written by twilio's VoiceResponse, in order, with their attributes", () => {
    const xml = response((r) => {
      r.say({ voice: "Polly.Amy", language: "en-GB", loop: 2 }, "  Hello &   goodbye \n");
      r.play({ loop: 3, digits: "0044207" }, "https://cdn.example.com/a.mp3?x=1&y=2");
      r.pause({ length: 5 });
      r.redirect({ method: "GET" }, "next.xml?To=+15551234567");
      r.reject({ reason: "busy" });
      r.hangup();
    });
    expect(parseTwiml(xml, DOC)).toEqual({
      verbs: [
        { name: "Say", text: "  Hello &   goodbye \n", voice: "Polly.Amy", language: "en-GB", loop: 2 },
        { name: "Play", url: "https://cdn.example.com/a.mp3?x=1&y=2", loop: 3, digits: "0044207" },
        { name: "Pause", length: 5 },
        { name: "Redirect", url: "https://example.com/voice/next.xml?To=+15551234567", method: "GET" },
        { name: "Reject", reason: "busy" },
        { name: "Hangup" },
      ],
      warnings: [],
    });
  });

  it("fills in Twilio's defaults", () => {
    const xml = response((r) => {
      r.say("Hi");
      r.play("a.mp3");
      r.pause();
      r.redirect("/next");
      r.reject();
    });
    expect(parseTwiml(xml, DOC).verbs).toEqual([
      { name: "Say", text: "Hi", voice: "man", language: "en-US", loop: 1 },
      { name: "Play", url: "https://example.com/voice/a.mp3", loop: 1 },
      { name: "Pause", length: 1 },
      { name: "Redirect", url: "https://example.com/next", method: "POST" },
      { name: "Reject", reason: "rejected" },
    ]);
  });

  it("keeps numbers-looking text and attributes as the exact strings written", () => {
    const xml = response((r) => {
      r.say("+15551234567");
      r.say({ loop: 1 }, "0044207");
      r.play({ digits: "0123" }, "https://example.com/0044207");
    });
    const { verbs } = parseTwiml(xml, DOC);
    expect(verbs.map((v) => (v.name === "Say" ? v.text : v.name === "Play" ? v.digits : undefined))).toEqual([
      "+15551234567",
      "0044207",
      "0123",
    ]);
  });

  it("decodes entities and character references, keeps CDATA, and ignores comments and processing instructions", () => {
    const xml = `<?xml version="1.0"?><Response><!-- greeting --><?app hint?><Say>a &amp; b &#x41;<!-- x -->&lt;c&gt; <![CDATA[<d>]]></Say></Response>`;
    expect(parseTwiml(xml, DOC)).toEqual({
      verbs: [{ name: "Say", text: "a & b A<c> <d>", voice: "man", language: "en-US", loop: 1 }],
      warnings: [],
    });
  });

  it("reads SSML inside Say for its words, spacing at breaks and sentences", () => {
    const xml = response((r) => {
      const say = r.say("Hello ");
      say.emphasis("big");
      say.addText(" world");
      say.break();
      say.addText("again");
      say.s("One");
      say.s("Two");
    });
    const { verbs, warnings } = parseTwiml(xml, DOC);
    expect(verbs).toEqual([
      { name: "Say", text: "Hello big world again One Two", voice: "man", language: "en-US", loop: 1 },
    ]);
    expect(warnings).toEqual([]);
  });

  it("breaks words at every SSML element the helper writes back to back, and reads <sub> as its alias", () => {
    const xml = response((r) => {
      const say = r.say("Say ");
      say.sayAs({ "interpret-as": "spell-out" }, "ABC");
      say.prosody({ rate: "slow" }, "slowly");
      say.sub({ alias: "World Wide Web Consortium" }, "W3C");
      say.sub("IBM");
      say.w("done");
    });
    expect(parseTwiml(xml, DOC).verbs).toEqual([
      {
        name: "Say",
        text: "Say ABC slowly World Wide Web Consortium IBM done",
        voice: "man",
        language: "en-US",
        loop: 1,
      },
    ]);
  });

  it("resolves relative URLs against the document URL", () => {
    const xml = `<Response><Redirect>../other/next</Redirect><Redirect>/root</Redirect><Play>//cdn.example.net/x.wav</Play><Redirect>https://elsewhere.example/y</Redirect></Response>`;
    expect(parseTwiml(xml, "https://example.com/voice/start.xml?a=1").verbs).toEqual([
      { name: "Redirect", url: "https://example.com/other/next", method: "POST" },
      { name: "Redirect", url: "https://example.com/root", method: "POST" },
      { name: "Play", url: "https://cdn.example.net/x.wav", loop: 1 },
      { name: "Redirect", url: "https://elsewhere.example/y", method: "POST" },
    ]);
  });

  it("accepts a document with no declaration, whitespace around the root, and an empty Response", () => {
    expect(parseTwiml("\n  <Response>\n</Response>\n", DOC)).toEqual({ verbs: [], warnings: [] });
  });

  describe("fails the document with 12100 naming line:column when the XML is malformed", () => {
    const cases: [string, string, string][] = [
      ["whitespace before the declaration", ` <?xml version="1.0"?><Response/>`, "1:7"],
      ["a line break before the declaration", `\n<?xml version="1.0"?><Response/>`, "2:6"],
      ["an empty body", "", "1:0"],
      ["a body of only whitespace", "  \n ", "2:1"],
      ["two root elements", "<Response/><Response/>", "1:21"],
      ["an unclosed tag", "<Response>\n  <Say>hi\n</Response>", "3:11"],
      ["a truncated document", "<Response><Say>hi", "1:17"],
      ["an undefined entity", "<Response><Say>&nbsp;</Say></Response>", "1:21"],
      ["a bare ampersand", "<Response><Say>you & me</Say></Response>", "1:20"],
      [
        "a bare ampersand in a URL",
        "<Response>\n  <Play>https://x.example/a?b=1&c=2</Play><Say>&amp;</Say>\n</Response>",
        "2:32",
      ],
      ["a < in text", "<Response><Say>1 < 2</Say></Response>", "1:19"],
      ["a duplicate attribute", `<Response><Say loop="1" loop="2">x</Say></Response>`, "1:33"],
      ["an unquoted attribute", "<Response><Pause length=2/></Response>", "1:25"],
      ["text outside the root", "Hello<Response/>", "1:6"],
      ["junk after the root", "<Response/>junk", "1:15"],
      ["an unsupported XML version", `<?xml version="2.0"?><Response/>`, "1:19"],
      ["a close tag that matches nothing", "<Response></Say></Response>", "1:16"],
    ];
    it.each(cases)("%s", (_kind, xml, position) => {
      const err = parseError(xml);
      expect(err.code).toBe(12100);
      expect(err.message).toContain(` ${position}`);
      expect(err.message).toContain(DOC);
    });
  });

  it("fails with 12102 when the root is not <Response>, names being case-sensitive", () => {
    expect(parseError("<Foo/>").code).toBe(12102);
    expect(parseError("<response><Say>hi</Say></response>").code).toBe(12102);
    expect(parseError(`<t:Response xmlns:t="urn:x"/>`).code).toBe(12102);
  });

  it("fails with 12101 when <Response version> is not a TwiML version, and accepts the two that are", () => {
    expect(parseError(`<Response version="2012-01-01"><Hangup/></Response>`).code).toBe(12101);
    for (const version of ["2010-04-01", "2008-08-01"]) {
      expect(parseTwiml(`<Response version="${version}"><Hangup/></Response>`, DOC)).toEqual({
        verbs: [{ name: "Hangup" }],
        warnings: [],
      });
    }
  });

  it("warns 12200 about a verb inside Say and 13320 about a Gather inside Gather, and runs the rest", () => {
    const xml = `<Response><Say>Hi<Play>a.mp3</Play></Say><Gather><Gather/><Say>Menu</Say></Gather></Response>`;
    const { verbs, warnings } = parseTwiml(xml, DOC);
    expect(verbs.map((v) => v.name)).toEqual(["Say", "Gather"]);
    expect(verbs[1]).toMatchObject({ prompts: [{ name: "Say", text: "Menu" }] });
    expect(warnings).toEqual([
      { code: 12200, message: expect.stringContaining("<Play>"), line: 1, column: 18 },
      { code: 13320, message: expect.stringContaining("<Gather>"), line: 1, column: 50 },
    ]);
  });

  it("skips an unknown or wrongly cased verb with a 12200 warning at its position", () => {
    const xml = `<Response>\n  <say>hi</say>\n  <Gatherr/>\n  <Hangup/>\n</Response>`;
    expect(parseTwiml(xml, DOC)).toEqual({
      verbs: [{ name: "Hangup" }],
      warnings: [
        { code: 12200, message: expect.stringContaining("<say>"), line: 2, column: 3 },
        { code: 12200, message: expect.stringContaining("<Gatherr>"), line: 3, column: 3 },
      ],
    });
  });

  it("warns 12200 about text directly inside Response and carries on", () => {
    const { verbs, warnings } = parseTwiml("<Response>Hello<Hangup/></Response>", DOC);
    expect(verbs).toEqual([{ name: "Hangup" }]);
    expect(warnings).toEqual([{ code: 12200, message: expect.any(String), line: 1, column: 1 }]);
  });

  it("ignores namespace declarations on Response but warns about other attributes", () => {
    const xml = `<Response xmlns="https://www.twilio.com/twiml" foo="1"><Hangup/></Response>`;
    const { verbs, warnings } = parseTwiml(xml, DOC);
    expect(verbs).toEqual([{ name: "Hangup" }]);
    expect(warnings.map((w) => [w.code, w.message])).toEqual([[12200, expect.stringContaining('"foo"')]]);
  });
});
