// A minimal XML element tree: just what the TwiML verb parsers need, with each element's position so
// warnings can point at the source.

export interface TwimlElement {
  readonly name: string;
  /** Attribute values exactly as written (entities decoded): `+15551234567` stays a string. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly TwimlNode[];
  /** One-based line of the element's `<`. */
  readonly line: number;
  /** One-based column of the element's `<`. */
  readonly column: number;
}

/** Text is kept exactly as written, entities decoded; adjacent text (split by comments, CDATA) is merged. */
export type TwimlNode = TwimlElement | string;

/** All the text inside an element, descendants included, in document order. */
export function textOf(el: TwimlElement): string {
  return el.children.map((child) => (typeof child === "string" ? child : textOf(child))).join("");
}
