// The text-to-speech port: what turns a <Say>'s text into audio. The engines behind it are in
// engines.ts (espeak-ng by default, a command or an HTTP endpoint; docs/sip.md "Text to speech").

/** One prompt, with Twilio's voice name (`man`, `Polly.Joanna`, …) and language (`en-US`) as given. */
export interface Prompt {
  readonly text: string;
  readonly voice: string;
  readonly language: string;
}

export interface Synthesiser {
  /** The prompt spoken, as 8 kHz mono 16-bit PCM; rejects (90011) when the engine fails. */
  synthesise(prompt: Prompt): Promise<Int16Array>;
}
