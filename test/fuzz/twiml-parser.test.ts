// The TwiML parser reads whatever a tenant's webhook answers: any string must give a document or a
// SwitchboardError 12100/12101/12102, never another exception.
import fc from "fast-check";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { parseTwiml } from "../../src/twiml/parse.js";
import { refusedClearly, runs } from "./expect-refusal.js";

const URL = "https://app.example.com/voice";
const DOCUMENT_CODES = [12100, 12101, 12102];
const RUNS = runs(300);

/** A valid document built with Twilio's own helper library, from a few random choices. */
const validTwiml = fc
  .array(
    fc.oneof(
      fc.record({ verb: fc.constant("say"), text: fc.string({ maxLength: 40 }), loop: fc.integer() }),
      fc.record({ verb: fc.constant("play"), text: fc.webUrl(), loop: fc.integer({ min: -2, max: 5 }) }),
      fc.record({
        verb: fc.constant("pause"),
        text: fc.constant(""),
        loop: fc.integer({ min: -5, max: 700 }),
      }),
      fc.record({ verb: fc.constant("gather"), text: fc.string({ maxLength: 20 }), loop: fc.integer() }),
      fc.record({ verb: fc.constant("redirect"), text: fc.string({ maxLength: 30 }), loop: fc.nat() }),
      fc.record({ verb: fc.constant("hangup"), text: fc.constant(""), loop: fc.nat() }),
      fc.record({ verb: fc.constant("reject"), text: fc.string({ maxLength: 8 }), loop: fc.nat() }),
    ),
    { maxLength: 6 },
  )
  .map((verbs) => {
    const r = new twilio.twiml.VoiceResponse();
    for (const v of verbs) {
      if (v.verb === "say") r.say({ loop: v.loop }, v.text);
      else if (v.verb === "play") r.play({ loop: v.loop }, v.text);
      else if (v.verb === "pause") r.pause({ length: v.loop });
      else if (v.verb === "gather") r.gather({ numDigits: v.loop, timeout: v.loop }).say(v.text);
      else if (v.verb === "redirect") r.redirect(v.text);
      else if (v.verb === "hangup") r.hangup();
      else r.reject({ reason: v.text as "busy" });
    }
    return r.toString();
  });

/** Mutations a broken or hostile webhook might produce. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.string({ maxLength: 8 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.constantFrom(
      "<",
      ">",
      "&",
      "]]>",
      "<!--",
      "<?xml version='2.0'?>",
      "<Say>",
      "</Response>",
      '"',
      "\u0000",
      "\uFFFE",
      "&#0;",
      "&amp",
    ),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("rename" as const),
    name: fc.constantFrom("response", "Foo", "Say", "x:Response", ""),
  }),
);

function mutate(xml: string, m: Mutation): string {
  const at = xml.length === 0 ? 0 : ("at" in m ? m.at : 0) % (xml.length + 1);
  if (m.kind === "delete") return xml.slice(0, at) + xml.slice(at + m.n);
  if (m.kind === "insert") return xml.slice(0, at) + m.text + xml.slice(at);
  if (m.kind === "truncate") return xml.slice(0, at);
  return xml.replaceAll("Response>", `${m.name}>`);
}
type Mutation =
  | { kind: "delete"; at: number; n: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "truncate"; at: number }
  | { kind: "rename"; name: string };

describe("parseTwiml on bad input", () => {
  it("parses every document Twilio's helper library builds", () => {
    fc.assert(
      fc.property(validTwiml, (xml) => {
        expect(parseTwiml(xml, URL).verbs).toBeInstanceOf(Array);
      }),
      RUNS,
    );
  });

  it("gives a document or a 12100/12101/12102 for any string", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" })),
        (xml) => {
          refusedClearly(() => parseTwiml(xml, URL), DOCUMENT_CODES);
        },
      ),
      RUNS,
    );
  });

  it("gives a document or a 12100/12101/12102 for mutated valid TwiML", () => {
    fc.assert(
      fc.property(validTwiml, fc.array(mutation, { minLength: 1, maxLength: 4 }), (xml, mutations) => {
        const bad = mutations.reduce((doc, m) => mutate(doc, m), xml);
        const doc = refusedClearly(() => parseTwiml(bad, URL), DOCUMENT_CODES);
        if (doc) for (const w of doc.warnings) expect(typeof w.code).toBe("number");
      }),
      RUNS,
    );
  });

  it("survives deep nesting and huge attribute counts", () => {
    const deep = `<Response>${"<Gather>".repeat(2000)}${"</Gather>".repeat(2000)}</Response>`;
    refusedClearly(() => parseTwiml(deep, URL), DOCUMENT_CODES);
    const attrs = Array.from({ length: 2000 }, (_, i) => `a${i}="${i}"`).join(" ");
    refusedClearly(() => parseTwiml(`<Response><Say ${attrs}>hi</Say></Response>`, URL), DOCUMENT_CODES);
  });
});
