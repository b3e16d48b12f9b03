// What one document may cost (issue #16 item 4): elements, attributes on one element and depth are
// bounded (12100, reading stops at the first one past the limit), and so are its warnings (12200).
import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS, MAX_WARNINGS } from "../../src/twiml/limits.js";
import { parseTwiml } from "../../src/twiml/parse.js";

const DOC = "https://example.com/voice.xml";
const unknownAttributes = (n: number) => Array.from({ length: n }, (_, i) => `x${i}="v"`).join(" ");

function parseError(xml: string): SwitchboardError {
  try {
    parseTwiml(xml, DOC);
  } catch (err) {
    if (err instanceof SwitchboardError) return err;
    throw err;
  }
  throw new Error("the document parsed");
}

describe("document limits", () => {
  it("fails a <Say> with 5,000 unknown attributes with 12100, reading no further than the limit", () => {
    // Before the limit this document took 10–40 ms to read and made 5,000 warnings; now ~0.2 ms.
    // The duplicate attribute after the limit is never reached: the failure is the limit's.
    const xml = `<Response><Say ${unknownAttributes(5_000)} x0="again">hi</Say></Response>`;
    const err = parseError(xml);
    expect(err.code).toBe(12100);
    expect(err.message).toMatch(new RegExp(`1:11 .*more than ${MAX_ATTRIBUTES} attributes`));
  });

  it("reads an element with as many attributes as the limit", () => {
    const doc = parseTwiml(`<Response><Say ${unknownAttributes(MAX_ATTRIBUTES)}>hi</Say></Response>`, DOC);
    expect(doc.verbs).toHaveLength(1);
  });

  it("fails a document with more elements than the limit, or nested deeper than it", () => {
    const many = `<Response>${"<Pause/>".repeat(MAX_ELEMENTS)}</Response>`;
    expect(parseError(many).message).toContain(`more than ${MAX_ELEMENTS} elements`);
    expect(parseTwiml(`<Response>${"<Pause/>".repeat(MAX_ELEMENTS - 1)}</Response>`, DOC).verbs).toHaveLength(
      MAX_ELEMENTS - 1,
    );
    const deep = `<Response>${"<Say>".repeat(MAX_DEPTH)}${"</Say>".repeat(MAX_DEPTH)}</Response>`;
    expect(parseError(deep)).toMatchObject({ code: 12100 });
    expect(parseError(deep).message).toContain(`nested more than ${MAX_DEPTH} deep`);
  });

  it("keeps the first 20 warnings of a document and counts the rest in one more", () => {
    const doc = parseTwiml(`<Response><Say ${unknownAttributes(60)}>hi</Say></Response>`, DOC);
    expect(doc.verbs).toHaveLength(1);
    expect(doc.warnings).toHaveLength(MAX_WARNINGS + 1);
    expect(doc.warnings.slice(0, MAX_WARNINGS).map((w) => w.message)).toContain(
      '<Say> has no attribute "x19"; ignored',
    );
    expect(doc.warnings.at(-1)).toEqual({
      code: 12200,
      message: `40 more warnings in this document not shown (at most ${MAX_WARNINGS} are kept)`,
    });
  });
});
