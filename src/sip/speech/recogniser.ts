// The recogniser port: what turns one utterance of a caller's audio into text. The engines behind it
// are in engines.ts (pocketsphinx by default, a command or an HTTP endpoint; docs/sip.md "Speech").

/** One utterance: the caller's audio from speech start to end, 8 kHz mono. */
export interface Utterance {
  readonly pcm: Int16Array;
  readonly hints: readonly string[];
  readonly language: string;
}

export interface Recognition {
  /** What was said; "" when nothing was recognised. */
  readonly text: string;
  /** 0–1, when the engine gives one. */
  readonly confidence?: number;
}

export interface Recogniser {
  /** The languages it knows (BCP-47, lower case); undefined: it takes whatever it is given. */
  readonly languages?: readonly string[];
  recognise(utterance: Utterance): Promise<Recognition>;
}

/**
 * The language to recognise a Gather's speech in: its own when the recogniser has it; otherwise the
 * recogniser's first, with Twilio's warning 13331 (Gather: Invalid language value).
 */
export function languageFor(
  r: Recogniser,
  language: string,
): { language: string; warning?: { code: number; message: string } } {
  const known = r.languages;
  if (!known || known.includes(language.toLowerCase())) return { language };
  const fallback = known[0] ?? "en-us";
  return {
    language: fallback,
    warning: {
      code: 13331,
      message: `<Gather> language "${language}" is not one this gateway's speech recogniser has (${known.join(", ")}): recognised as ${fallback}`,
    },
  };
}
