// Numbers that each answer with their own TwiML behind one /voice route: a test file starts its app
// once, and each test adds the number it calls.
import type { TestEngine } from "./engine.js";
import { type Route, VoiceResponse } from "./twilio-app.js";

export class AnsweringNumbers {
  readonly #prefix: string;
  readonly #voice: Record<string, Route> = {};
  #count = 0;

  /** Numbers are `prefix` then 7001, 7002…; files running side by side use their own prefix. */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The app's /voice route: each number's own TwiML. */
  readonly route: Route = (req) => (this.#voice[req.params.To ?? ""] as Route)(req);

  /** A new number on `engine` whose voice URL (`appUrl`/voice) answers with `build`'s TwiML. */
  async add(
    engine: TestEngine,
    appUrl: string,
    build: (r: InstanceType<typeof VoiceResponse>) => void,
  ): Promise<string> {
    this.#count += 1;
    const number = `${this.#prefix}${String(7000 + this.#count)}`;
    this.#voice[number] = () => {
      const r = new VoiceResponse();
      build(r);
      return { body: r.toString() };
    };
    await engine.addNumber({ number, voiceUrl: `${appUrl}/voice` });
    return number;
  }
}
