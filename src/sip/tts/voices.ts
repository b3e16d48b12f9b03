// Twilio's <Say> voices as espeak-ng voices: the language picks the espeak language (a Polly voice's
// own language, or the one in a Google voice's name, wins), the voice a male or female variant.
// The engine always gets Twilio's name too, so a better engine can map it itself.

type Gender = "m" | "f";

/** Amazon Polly's voices that Twilio offers, by language and gender (`Polly.Joanna-Neural` is Joanna). */
const POLLY: Record<string, [string, Gender]> = {};
for (const [language, gender, names] of [
  ["en-US", "f", "Joanna Kendra Kimberly Salli Ivy Ruth Danielle"],
  ["en-US", "m", "Matthew Joey Justin Kevin Stephen Gregory"],
  ["en-GB", "f", "Amy Emma"],
  ["en-GB", "m", "Brian Arthur Geraint"],
  ["en-AU", "f", "Nicole Olivia"],
  ["en-AU", "m", "Russell"],
  ["en-IN", "f", "Aditi Raveena Kajal"],
  ["en-IE", "f", "Niamh"],
  ["en-NZ", "f", "Aria"],
  ["en-ZA", "f", "Ayanda"],
  ["fr-FR", "f", "Celine Céline Lea Léa"],
  ["fr-FR", "m", "Mathieu Remi Rémi"],
  ["fr-CA", "f", "Chantal Gabrielle"],
  ["fr-CA", "m", "Liam"],
  ["de-DE", "f", "Marlene Vicki"],
  ["de-DE", "m", "Hans Daniel"],
  ["es-ES", "f", "Conchita Lucia Lucía"],
  ["es-ES", "m", "Enrique Sergio"],
  ["es-MX", "f", "Mia"],
  ["es-MX", "m", "Andres Andrés"],
  ["es-US", "f", "Lupe Penelope Penélope"],
  ["es-US", "m", "Miguel Pedro"],
  ["it-IT", "f", "Carla Bianca"],
  ["it-IT", "m", "Giorgio Adriano"],
  ["pt-BR", "f", "Camila Vitoria Vitória"],
  ["pt-BR", "m", "Ricardo Thiago"],
  ["pt-PT", "f", "Ines Inês"],
  ["pt-PT", "m", "Cristiano"],
  ["nl-NL", "f", "Lotte Laura"],
  ["nl-NL", "m", "Ruben"],
  ["ja-JP", "f", "Mizuki Kazuha Tomoko"],
  ["ja-JP", "m", "Takumi"],
  ["ko-KR", "f", "Seoyeon"],
  ["cmn-CN", "f", "Zhiyu"],
  ["ru-RU", "f", "Tatyana"],
  ["ru-RU", "m", "Maxim"],
  ["sv-SE", "f", "Astrid Elin"],
  ["nb-NO", "f", "Liv Ida"],
  ["da-DK", "f", "Naja Sofie"],
  ["da-DK", "m", "Mads"],
  ["pl-PL", "f", "Ewa Maja Ola"],
  ["pl-PL", "m", "Jacek Jan"],
  ["tr-TR", "f", "Filiz"],
  ["ro-RO", "f", "Carmen"],
  ["is-IS", "f", "Dora Dóra"],
  ["is-IS", "m", "Karl"],
  ["cy-GB", "f", "Gwyneth"],
  ["arb", "f", "Zeina"],
] as const)
  for (const name of names.split(" ")) POLLY[name] = [language, gender];

/** Regions espeak-ng has no voice for, mapped to the nearest one it has (else the bare language). */
const NEAREST: Record<string, string> = {
  "en-au": "en-gb",
  "en-in": "en-gb",
  "en-ie": "en-gb",
  "en-nz": "en-gb",
  "en-za": "en-gb",
  "es-mx": "es-419",
  "es-us": "es-419",
  "fr-ca": "fr-fr",
  "pt-pt": "pt",
  "zh-cn": "cmn",
  "cmn-cn": "cmn",
  "zh-tw": "cmn",
  "zh-hk": "yue",
  "yue-hk": "yue",
  "nb-no": "nb",
  "no-no": "nb",
  arb: "ar",
};

/**
 * The espeak-ng voice (`en-us+f3`) for Twilio's voice and language, among the installed `known`
 * espeak languages: `man` is m3, `woman` and `alice` f3; Polly and Google voices a variant of their
 * gender picked by name, so two of them sound different.
 */
export function espeakVoice(voice: string, language: string, known: ReadonlySet<string>): string {
  const [name = "", gender] = namedVoice(voice);
  const lang = (languageOf(voice) ?? language).toLowerCase();
  const primary = lang.split("-")[0] ?? "en";
  const near = NEAREST[lang];
  const base = known.has(lang)
    ? lang
    : near && known.has(near)
      ? near
      : known.has(primary)
        ? primary
        : "en-us";
  if (name === "") return `${base}+${gender}3`;
  // espeak-ng has m1–m7 and f1–f5.
  const count = gender === "m" ? 7 : 5;
  let h = 0;
  for (const c of name) h = (h * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  return `${base}+${gender}${(h % count) + 1}`;
}

/** The voice's own name ("" for the basic voices) and gender; Google's and unknown named voices are female. */
function namedVoice(voice: string): [string, Gender] {
  const v = voice.toLowerCase();
  if (v === "woman" || v === "alice") return ["", "f"];
  // `man`, Twilio's default, and anything else that is not a named voice.
  if (!voice.includes(".")) return ["", "m"];
  const polly = POLLY[pollyName(voice) ?? ""];
  return [voice, polly?.[1] ?? "f"];
}

/** The language a voice speaks whatever the `language` attribute: a Polly voice's, a Google name's. */
function languageOf(voice: string): string | undefined {
  const polly = pollyName(voice);
  if (polly !== undefined) return POLLY[polly]?.[0];
  // Google.en-GB-Standard-A, Google.cmn-CN-Wavenet-B
  return /^Google\.([a-z]{2,3}-[A-Z]{2})-/.exec(voice)?.[1];
}

function pollyName(voice: string): string | undefined {
  return /^Polly\.([^-]+)/.exec(voice)?.[1];
}
