// <Gather>: plays its nested Say/Play/Pause while listening for keys and/or speech; the caller's
// first input stops the prompts (barge-in, unless bargeIn="false"). With input, the action URL is
// requested with Digits or SpeechResult/Confidence; with none, the call falls through to the next verb
// (or requests the action anyway with actionOnEmptyResult).
import { randomUUID } from "node:crypto";
import { ErrorCodes } from "../../errors/codes.js";
import { toSwitchboardError } from "../../errors/switchboard-error.js";
import type { HttpMethod } from "../../model/http.js";
import { booleanAttribute } from "../attribute-values.js";
import type { TwimlElement } from "../element.js";
import { resolveUrl } from "../resolve-url.js";
import type { VerbContext } from "../verb-context.js";
import type { GatherInput, GatherVerb, VerbOutcome } from "../verb-data.js";
import type { ParseContext, VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkNoText } from "../verb-parsing.js";
import { pause } from "./pause.js";
import { play } from "./play.js";
import { say } from "./say.js";

const ATTRIBUTES = [
  "action",
  "method",
  "input",
  "timeout",
  "speechTimeout",
  "finishOnKey",
  "numDigits",
  "actionOnEmptyResult",
  "partialResultCallback",
  "partialResultCallbackMethod",
  "language",
  "hints",
  "profanityFilter",
  "speechModel",
  "enhanced",
  "bargeIn",
  "maxSpeechTime",
  "debug",
];
const PROMPTS = { Say: say, Play: play, Pause: pause } as const;
const BARGE_IN = new Error("barge-in");
/** Twilio's speech models (spec §1); another name is 13334 and the default is used. */
const SPEECH_MODELS: ReadonlySet<string> = new Set([
  "default",
  "numbers_and_commands",
  "phone_call",
  "experimental_conversations",
  "experimental_utterances",
  "googlev2_long",
  "googlev2_short",
  "googlev2_telephony",
  "googlev2_telephony_short",
  "deepgram_nova-2",
  "deepgram_nova-3",
]);
/** A nested Say's or Play's own code → the one Twilio reports for it inside a Gather. */
const NESTED_CODES: ReadonlyMap<number, number> = new Map([
  [ErrorCodes.sayInvalidVoice.code, ErrorCodes.gatherSayInvalidVoice.code],
  [ErrorCodes.sayInvalidLoop.code, ErrorCodes.gatherSayInvalidLoop.code],
  [ErrorCodes.playInvalidContentType.code, ErrorCodes.gatherPlayInvalidContentType.code],
]);
const nestedCode = (code: number) => NESTED_CODES.get(code) ?? code;

export const gather: VerbDefinition<GatherVerb> = {
  name: "Gather",
  parse(el, ctx) {
    checkAttributes(el, ATTRIBUTES, ctx);
    checkNoText(el, ctx);
    const a = el.attributes;
    const timeout = positiveInt(a.timeout, 5, "timeout", ctx) ?? 5;
    const speechTimeout =
      a.speechTimeout === "auto"
        ? "auto"
        : (positiveInt(
            a.speechTimeout,
            timeout,
            "speechTimeout",
            ctx,
            ErrorCodes.gatherInvalidSpeechTimeout.code,
          ) ?? timeout);
    // Read only to be checked: switchboard's recogniser has one model, no filter and no debug log.
    positiveInt(a.maxSpeechTime, undefined, "maxSpeechTime", ctx, ErrorCodes.gatherInvalidMaxSpeechTime.code);
    booleanAttribute(el, "profanityFilter", true, ctx, ErrorCodes.gatherInvalidProfanityFilter.code);
    booleanAttribute(el, "enhanced", false, ctx, ErrorCodes.gatherInvalidEnhanced.code);
    booleanAttribute(el, "debug", false, ctx, ErrorCodes.gatherInvalidDebug.code);
    if (a.speechModel !== undefined && !SPEECH_MODELS.has(a.speechModel)) {
      ctx.warn(
        ErrorCodes.gatherInvalidSpeechModel.code,
        `<Gather> speechModel="${a.speechModel}" is not a Twilio model; using default`,
      );
    }
    const bargeIn = booleanAttribute(el, "bargeIn", true, ctx, ErrorCodes.gatherInvalidBargeIn.code);
    const numDigits = positiveInt(
      a.numDigits,
      undefined,
      "numDigits",
      ctx,
      ErrorCodes.gatherInvalidNumDigits.code,
    );
    return {
      name: "Gather",
      action: actionUrl(a.action, ctx),
      method: method(a.method, ctx),
      input: inputs(a.input, ctx),
      timeout,
      speechTimeout,
      finishOnKey: finishOnKey(a.finishOnKey, ctx),
      ...(numDigits !== undefined && { numDigits }),
      actionOnEmptyResult: booleanAttribute(
        el,
        "actionOnEmptyResult",
        false,
        ctx,
        ErrorCodes.gatherInvalidActionOnEmptyResult.code,
      ),
      ...(!bargeIn && { bargeIn }),
      language: a.language || "en-US",
      ...(a.hints && { hints: checkedHints(a.hints, ctx) }),
      ...partialResults(a.partialResultCallback, a.partialResultCallbackMethod, ctx),
      prompts: prompts(el, ctx),
    };
  },

  async execute(ctx, verb, signal): Promise<VerbOutcome> {
    const speechTimeoutMs = (verb.speechTimeout === "auto" ? 2 : verb.speechTimeout) * 1000;
    const listener = ctx.channel.listen(
      {
        input: verb.input,
        finishOnKey: verb.finishOnKey,
        ...(verb.numDigits !== undefined && { numDigits: verb.numDigits }),
        timeoutMs: verb.timeout * 1000,
        speechTimeoutMs,
        ...(verb.speechTimeout === "auto" && { speechAuto: true }),
        ...(verb.hints && { hints: hintList(verb.hints) }),
        language: verb.language,
        onWarning: (code, message) => ctx.warn(code, message),
        ...(verb.partialResultCallback && { onPartialSpeech: partialResultSender(ctx, verb) }),
      },
      signal,
    );
    try {
      // The prompts play under their own signal: the call's (hang-up) or the caller's first input.
      const prompting = new AbortController();
      const stop = () => prompting.abort(signal.reason);
      signal.addEventListener("abort", stop, { once: true });
      // bargeIn="false": the prompts play to their end; what the caller keys or says meanwhile counts.
      if (verb.bargeIn !== false) void listener.started.then(() => prompting.abort(BARGE_IN));
      try {
        for (const prompt of verb.prompts) {
          if (prompting.signal.aborted) break;
          const definition = PROMPTS[prompt.name] as VerbDefinition<typeof prompt>;
          try {
            await definition.execute(ctx, prompt, prompting.signal);
          } catch (err) {
            if (prompting.signal.aborted) throw err;
            // A prompt that fails (a <Play> whose media cannot be fetched) is reported and skipped,
            // as the same verb outside a Gather is: the Gather goes on with its next prompt and listens.
            const e = toSwitchboardError(err);
            ctx.warn(nestedCode(e.code), e.message);
          }
        }
      } catch (err) {
        if (prompting.signal.reason !== BARGE_IN) throw err;
      } finally {
        signal.removeEventListener("abort", stop);
      }
      signal.throwIfAborted();
      const input = await listener.result();
      signal.throwIfAborted();
      const params: Record<string, string> = input.speech
        ? { SpeechResult: input.speech.text, Confidence: input.speech.confidence.toFixed(2) }
        : { Digits: input.digits };
      const empty = input.digits === "" && !input.speech;
      if (empty && !verb.actionOnEmptyResult) return { kind: "next" };
      // A Twiml-parameter document has no URL to fall back on (reported when it was parsed).
      if (verb.action === "") return { kind: "next" };
      return { kind: "fetch", url: verb.action, method: verb.method, params };
    } finally {
      listener.close();
    }
  },
};

/** Twilio's `hints`: a comma list of up to 500 words or phrases of up to 100 characters each. */
function hintList(hints: string): string[] {
  return hints
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "" && h.length <= 100)
    .slice(0, 500);
}

/**
 * partialResultCallback: each unstable result is requested as it arrives, numbered from 0, and the
 * answer is ignored (Twilio). Keys are unique per Gather run so two Gathers of a call never collide.
 */
function partialResultSender(ctx: VerbContext, verb: GatherVerb): (text: string) => void {
  const run = randomUUID();
  let sequence = 0;
  return (text) => {
    const SequenceNumber = String(sequence++);
    void ctx
      .callback({
        url: verb.partialResultCallback ?? "",
        method: verb.partialResultCallbackMethod ?? "POST",
        key: `gather.${run}.partial.${SequenceNumber}`,
        params: {
          AccountSid: ctx.call.accountSid,
          CallSid: ctx.call.callSid,
          From: ctx.call.from,
          To: ctx.call.to,
          Direction: ctx.call.direction,
          ApiVersion: "2010-04-01",
          CallStatus: "in-progress",
          UnstableSpeechResult: text,
          // switchboard's recogniser is the caller's script: what it hears is final.
          Stability: "0.9",
          SequenceNumber,
          LanguageCode: verb.language,
        },
      })
      .catch((err: unknown) => ctx.warn(ErrorCodes.internalFailure.code, `partialResultCallback: ${err}`));
  };
}

function partialResults(
  raw: string | undefined,
  rawMethod: string | undefined,
  ctx: ParseContext,
): Pick<GatherVerb, "partialResultCallback" | "partialResultCallbackMethod"> {
  if (raw === undefined || raw.trim() === "") return {};
  let url: URL;
  try {
    url = resolveUrl(raw.trim(), ctx.documentUrl);
  } catch {
    ctx.warn(ErrorCodes.invalidUrl.code, `<Gather> partialResultCallback "${raw}" does not resolve; ignored`);
    return {};
  }
  return { partialResultCallback: url.href, partialResultCallbackMethod: method(rawMethod, ctx) };
}

function prompts(el: TwimlElement, ctx: ParseContext): GatherVerb["prompts"] {
  const out: GatherVerb["prompts"][number][] = [];
  for (const child of el.children) {
    if (typeof child === "string") continue;
    const definition = PROMPTS[child.name as keyof typeof PROMPTS];
    // Twilio: Play may be nested in Gather, but not a `<Play digits>`.
    if (!definition || (child.name === "Play" && child.attributes.digits !== undefined)) {
      ctx.warn(
        ErrorCodes.gatherInvalidNestedVerb.code,
        `<${child.name}> cannot be nested in <Gather>; ignored`,
        child,
      );
      continue;
    }
    const nested: ParseContext = {
      documentUrl: ctx.documentUrl,
      warn: (code, message, at) => ctx.warn(nestedCode(code), message, at ?? child),
    };
    const verb = definition.parse(child, nested);
    if (verb) out.push(verb);
  }
  return out;
}

function actionUrl(raw: string | undefined, ctx: ParseContext): string {
  // Twilio's default action is the document's own URL (a loop, when the app does not expect it). A
  // document given as a Twiml parameter has none: Twilio requires an absolute action there (spec §1).
  if (raw === undefined || raw.trim() === "") {
    if (ctx.documentUrl === "") {
      ctx.warn(
        ErrorCodes.invalidUrl.code,
        "<Gather> in a Twiml document needs an absolute action URL; its input goes nowhere",
      );
    }
    return ctx.documentUrl;
  }
  try {
    return resolveUrl(raw.trim(), ctx.documentUrl).href;
  } catch {
    ctx.warn(ErrorCodes.invalidUrl.code, `<Gather> action "${raw}" does not resolve; using the document URL`);
    return ctx.documentUrl;
  }
}

function method(raw: string | undefined, ctx: ParseContext): HttpMethod {
  if (raw === undefined || raw === "POST") return "POST";
  if (raw === "GET") return "GET";
  ctx.warn(ErrorCodes.gatherInvalidMethod.code, `<Gather> method="${raw}" is not GET or POST; using POST`);
  return "POST";
}

function inputs(raw: string | undefined, ctx: ParseContext): GatherInput[] {
  const words = (raw ?? "dtmf").split(/\s+/).filter((k) => k !== "");
  const kinds = words.filter((k): k is GatherInput => k === "dtmf" || k === "speech");
  if (kinds.length === words.length && kinds.length > 0) return kinds;
  ctx.warn(
    ErrorCodes.gatherInvalidInput.code,
    `<Gather> input="${raw}" is not dtmf, speech or both; using ${kinds.length > 0 ? kinds.join(" ") : "dtmf"}`,
  );
  return kinds.length > 0 ? kinds : ["dtmf"];
}

/** Twilio's limits on `hints` (≤ 500 phrases of ≤ 100 characters): past them, 13330 (hintList drops the rest). */
function checkedHints(hints: string, ctx: ParseContext): string {
  const phrases = hints.split(",").map((h) => h.trim());
  if (phrases.length > 500 || phrases.some((h) => h.length > 100)) {
    ctx.warn(
      ErrorCodes.gatherInvalidHints.code,
      "<Gather> hints has more than 500 phrases or a phrase longer than 100 characters; those are ignored",
    );
  }
  return hints;
}

function finishOnKey(raw: string | undefined, ctx: ParseContext): string {
  if (raw === undefined) return "#";
  if (raw === "" || /^[0-9#*]$/.test(raw)) return raw;
  ctx.warn(
    ErrorCodes.gatherInvalidFinishOnKey.code,
    `<Gather> finishOnKey="${raw}" is not one key of 0-9 # *; using #`,
  );
  return "#";
}

function positiveInt<D extends number | undefined>(
  raw: string | undefined,
  fallback: D,
  name: string,
  ctx: ParseContext,
  code: number = ErrorCodes.gatherInvalidTimeout.code,
): number | D {
  if (raw === undefined) return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isSafeInteger(n) && n > 0) return n;
  ctx.warn(code, `<Gather> ${name}="${raw}" is not a positive integer; ignored`);
  return fallback;
}
