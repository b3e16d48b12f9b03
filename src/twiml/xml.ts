// Strict XML to a TwimlElement tree. saxes, not a lenient parser: TwiML that is not well-formed XML
// fails the whole document with 12100, as on Twilio, and attribute values are never coerced.
import { SaxesParser } from "saxes";
import { fail } from "../errors/switchboard-error.js";
import type { TwimlElement, TwimlNode } from "./element.js";
import { MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS } from "./limits.js";

interface OpenElement {
  name: string;
  attributes: Record<string, string>;
  children: TwimlNode[];
  line: number;
  column: number;
}

/**
 * Reads `xml` into its root element, or throws SwitchboardError 12100 (`documentParseFailure`) naming
 * the line:column where the XML went wrong. Comments, processing instructions and a DOCTYPE are dropped.
 * A document past the limits of limits.ts (elements, attributes on one element, depth) fails with 12100
 * too, as soon as the limit is passed: reading it costs no more than reading a document at the limit.
 */
export function readXml(xml: string, documentUrl: string): TwimlElement {
  const parser = new SaxesParser({ xmlns: false });
  const position = positionFinder(xml);
  const stack: OpenElement[] = [];
  let root: OpenElement | undefined;

  const appendText = (text: string) => {
    const parent = stack.at(-1);
    // Text outside the root is whitespace here (saxes rejects anything else).
    if (parent === undefined) return;
    const last = parent.children.length - 1;
    const previous = parent.children[last];
    if (typeof previous === "string") parent.children[last] = previous + text;
    else parent.children.push(text);
  };

  parser.on("error", (err) => {
    // saxes prefixes its message with its own "line:column: "; ours says which document too.
    let reason = err.message.replace(/^\d+:\d+: /, "");
    let at = `${parser.line}:${parser.column}`;
    // saxes reads a bare `&` as an entity running to the next `;`, so it fails far away (often at the
    // end). An unescaped `&` in a URL is the commonest TwiML mistake: point at it instead.
    const ampersand = bareAmpersand(xml);
    if (ampersand !== undefined && ampersand < parser.position) {
      const { line, column } = position(ampersand);
      at = `${line}:${column}`;
      reason = "a bare '&' must be written '&amp;'";
    }
    throw fail("documentParseFailure", `Document parse failure at ${at} of ${documentUrl}: ${reason}`, {
      cause: err,
    });
  });
  let start = { line: 1, column: 1 };
  let elements = 0;
  let attributes = 0;
  const tooMuch = (what: string): never => {
    throw fail(
      "documentParseFailure",
      `Document parse failure at ${start.line}:${start.column} of ${documentUrl}: ${what}`,
    );
  };
  parser.on("opentagstart", (tag) => {
    // saxes has read the name and one character past it; the `<` is the last one before the name.
    start = position(xml.lastIndexOf("<", parser.position - tag.name.length - 1));
    attributes = 0;
    if (++elements > MAX_ELEMENTS) tooMuch(`more than ${MAX_ELEMENTS} elements`);
    if (stack.length >= MAX_DEPTH) tooMuch(`elements nested more than ${MAX_DEPTH} deep`);
  });
  // Counted as saxes reads them, so the 65th attribute stops the parse before the 5,000th is read.
  parser.on("attribute", () => {
    if (++attributes > MAX_ATTRIBUTES) tooMuch(`an element with more than ${MAX_ATTRIBUTES} attributes`);
  });
  parser.on("opentag", (tag) => {
    const el: OpenElement = { name: tag.name, attributes: tag.attributes, children: [], ...start };
    stack.at(-1)?.children.push(el);
    root ??= el;
    stack.push(el);
  });
  // saxes reports a self-closing tag as an open tag then a close tag.
  parser.on("closetag", () => stack.pop());
  parser.on("text", appendText);
  parser.on("cdata", appendText);

  parser.write(xml).close();
  // close() reports a missing root through the error handler, so a document that got here has one.
  if (root === undefined)
    throw fail("documentParseFailure", `Document parse failure: ${documentUrl} is empty`);
  return root;
}

/** Offset of the first `&` that starts no entity or character reference, outside comments, CDATA and PIs. */
function bareAmpersand(xml: string): number | undefined {
  const pattern =
    /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|&(?![A-Za-z_:][\w.:-]*;|#[0-9]+;|#x[0-9a-fA-F]+;)/g;
  for (const match of xml.matchAll(pattern)) if (match[0] === "&") return match.index;
  return undefined;
}

/** Maps a string offset to a one-based line and column, counting CRLF, CR and LF as line ends like XML. */
function positionFinder(xml: string): (offset: number) => { line: number; column: number } {
  const lineStarts = [0];
  for (const match of xml.matchAll(/\r\n?|\n/g)) lineStarts.push(match.index + match[0].length);
  return (offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] ?? 0) + 1 };
  };
}
