// <Say>: speaks its text `loop` times. SSML children are read for their words only; the channel gets
// plain text.
import { ErrorCodes } from "../../errors/codes.js";
import type { TwimlElement } from "../element.js";
import type { SayVerb } from "../verb-data.js";
import type { ParseContext, VerbDefinition } from "../verb-definition.js";
import { checkAttributes, parseLoop } from "../verb-parsing.js";

const SSML = new Set(["break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w"]);

export const say: VerbDefinition<SayVerb> = {
  name: "Say",
  parse(el, ctx) {
    checkAttributes(el, ["voice", "language", "loop"], ctx);
    const loop = parseLoop(el, ctx, ErrorCodes.sayInvalidLoop.code);
    const text = spokenText(el, ctx);
    if (text.trim() === "") {
      ctx.warn(ErrorCodes.sayInvalidText.code, "<Say> has no text to speak; skipped");
      return undefined;
    }
    // An empty attribute is treated as absent rather than as a voice or language named "".
    const voice = sayVoice(el.attributes.voice, ctx);
    const language = el.attributes.language || "en-US";
    const limit = sayLimit(voice);
    if (text.length > limit) {
      // Twilio warns (13521) and speaks what fits rather than failing the call.
      ctx.warn(
        ErrorCodes.sayTooLong.code,
        `<Say> text is ${text.length} characters; ${voice} speaks at most ${limit}`,
      );
      return { name: "Say", text: fitEncoded(text.slice(0, limit)), voice, language, loop };
    }
    const fitting = fitEncoded(text);
    if (fitting.length < text.length) {
      // Twilio's other bound (spec §8): the text URL-encoded, where a non-ASCII letter counts 6 to 12.
      ctx.warn(
        ErrorCodes.sayTooLong.code,
        `<Say> text is over ${MAX_ENCODED} characters URL-encoded; spoken up to "…${fitting.slice(-20)}"`,
      );
    }
    return { name: "Say", text: fitting, voice, language, loop };
  },
  async execute(ctx, verb, signal) {
    for (let i = 0; i < verb.loop; i++) {
      // The channel rejects on abort too; checking here also stops a channel that resolved anyway.
      signal.throwIfAborted();
      await ctx.channel.say(verb.text, { voice: verb.voice, language: verb.language }, signal);
    }
    return { kind: "next" };
  },
};

/** Twilio's basic voices, and its Amazon Polly and Google voices by name (`Polly.Joanna-Neural`). */
const VOICE = /^(?:man|woman|alice|(?:Polly|Google)\.[A-Za-z0-9-]+)$/;

/** The voice, or Twilio's default after a 13511 warning when Twilio has no voice of that name. */
function sayVoice(raw: string | undefined, ctx: ParseContext): string {
  if (!raw) return "man";
  if (VOICE.test(raw)) return raw;
  ctx.warn(ErrorCodes.sayInvalidVoice.code, `<Say> voice="${raw}" is not a Twilio voice; using man`);
  return "man";
}

/** The most characters a Say's text may take URL-encoded (13521 past it). */
export const MAX_ENCODED = 4500;

/** Characters a form-encoder leaves as they are (a space becomes `+`, also one character). */
const UNENCODED = /[A-Za-z0-9.\-*_ ]/;

/**
 * The longest start of `text` whose URL encoding fits MAX_ENCODED (the text itself, if it fits),
 * encoded as a form is (Java's URLEncoder): every other UTF-8 byte takes three characters (%XX).
 */
function fitEncoded(text: string): string {
  // No character takes more than 12 encoded (4 UTF-8 bytes): a short text fits without counting.
  if (text.length * 12 <= MAX_ENCODED) return text;
  let encoded = 0;
  let end = 0;
  for (const ch of text) {
    encoded += UNENCODED.test(ch) ? 1 : 3 * Buffer.byteLength(ch);
    if (encoded > MAX_ENCODED) return text.slice(0, end);
    end += ch.length;
  }
  return text;
}

/** Twilio's text limits (spec §8): Polly 3000, Google 5000, the basic voices 4096 characters. */
function sayLimit(voice: string): number {
  if (voice.startsWith("Polly.")) return 3000;
  if (voice.startsWith("Google.")) return 5000;
  return 4096;
}

/** The text exactly as written, SSML elements replaced by their own text; anything else is ignored. */
function spokenText(el: TwimlElement, ctx: ParseContext): string {
  let text = "";
  let afterSeparator = false;
  for (const child of el.children) {
    if (typeof child === "string") {
      text = join(text, child, afterSeparator);
      afterSeparator = false;
    } else if (!SSML.has(child.name)) {
      ctx.warn(
        ErrorCodes.schemaValidation.code,
        `<${child.name}> is not allowed inside <Say>; ignored`,
        child,
      );
    } else {
      // Every SSML element Twilio allows marks whole words or more, and twilio's VoiceResponse
      // writes them back to back (`<prosody>slowly</prosody><say-as>ABC</say-as>`): each one's
      // edges are word breaks. <sub> is heard as its alias.
      const words =
        child.name === "sub" && child.attributes.alias ? child.attributes.alias : spokenText(child, ctx);
      text = join(text, words, true);
      afterSeparator = true;
    }
  }
  return text;
}

/** Appends `piece`, with a space between when asked for and neither side already has whitespace. */
function join(text: string, piece: string, spaced: boolean): string {
  if (!spaced || text === "" || piece === "" || /\s$/.test(text) || /^\s/.test(piece)) return text + piece;
  return `${text} ${piece}`;
}
