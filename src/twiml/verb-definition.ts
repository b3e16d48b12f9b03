// What every verb file exports: how to read its element and how to run it. The registry maps names to
// these, so adding a verb is one new file and one entry in its list.
import type { TwimlElement } from "./element.js";
import type { VerbContext } from "./verb-context.js";
import type { Verb, VerbOutcome } from "./verb-data.js";

/** Where in the source a warning points: an element, or any line:column. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export interface ParseContext {
  /** The URL the document came from; relative URLs in it resolve against this. */
  readonly documentUrl: string;
  /** Records a warning; it points at `at` when given, else at the verb's element. */
  warn(code: number, message: string, at?: SourcePosition): void;
}

export interface VerbDefinition<V extends Verb> {
  readonly name: V["name"];
  /** The typed verb, with defaults for bad attribute values; undefined (after a warning) to skip it. */
  parse(el: TwimlElement, ctx: ParseContext): V | undefined;
  /** Runs the verb; rejects with the signal's reason once the signal aborts. */
  execute(ctx: VerbContext, verb: V, signal: AbortSignal): Promise<VerbOutcome>;
}
