// <Dial>: connects the caller to other parties. Number, Client and Sip nouns (up to 10) ring at once
// as child legs and the first to answer is bridged, the others canceled; plain text is a Number.
// With `action`, the action URL gets DialCallStatus, DialCallSid, DialCallDuration and DialBridged
// and its TwiML replaces the document; without one the call goes on to the next verb.
import { ErrorCodes } from "../../errors/codes.js";
import type { HttpMethod } from "../../model/http.js";
import { CallHandedOver, CallRedirected } from "../abort-reasons.js";
import { methodAttribute } from "../attribute-values.js";
import type { TwimlElement } from "../element.js";
import { recordingStatusEvents } from "../recording-status.js";
import type { VerbOutcome } from "../verb-data.js";
import type { ParseContext, VerbDefinition } from "../verb-definition.js";
import { checkAttributes } from "../verb-parsing.js";
import { clientNoun } from "./dial/client.js";
import { conferenceNoun } from "./dial/conference.js";
import type { DialNounSpec, DialVerb } from "./dial/data.js";
import { absoluteUrl } from "./dial/leg-options.js";
import type { DialNoun, DialOptions, DialResult } from "./dial/noun.js";
import { numberNoun } from "./dial/number.js";
import { queueNoun } from "./dial/queue.js";
import { recordBridge } from "./dial/record-bridge.js";
import { ringLegs } from "./dial/ring.js";
import { sipNoun } from "./dial/sip.js";

/**
 * Every noun by its element name. Adding Conference or Queue: add its type to `DialNounSpec`
 * (verbs/dial/data.ts) and its definition here; this table's type then requires it.
 */
const NOUNS: { readonly [K in DialNounSpec["noun"]]: DialNoun<Extract<DialNounSpec, { noun: K }>> } = {
  Number: numberNoun,
  Client: clientNoun,
  Sip: sipNoun,
  Conference: conferenceNoun,
  Queue: queueNoun,
};
/** Nouns Twilio has that switchboard does not dial (yet): warned about and skipped. */
const NOT_YET = ["Application", "WhatsApp", "Sim"];
const MAX_PARALLEL = 10;

const ATTRIBUTES = [
  "action",
  "method",
  "timeout",
  "timeLimit",
  "callerId",
  "hangupOnStar",
  "record",
  "recordingStatusCallback",
  "recordingStatusCallbackMethod",
  "recordingStatusCallbackEvent",
  "recordingTrack",
  "recordingConfigurationId",
  "trim",
  "answerOnBridge",
  "ringTone",
  "sequential",
  "referUrl",
  "referMethod",
  "callReason",
  "events",
];
const RECORD = [
  "do-not-record",
  "record-from-answer",
  "record-from-ringing",
  "record-from-answer-dual",
  "record-from-ringing-dual",
];
const RING_TONES =
  "at au bg br be ch cl cn cz de dk ee es fi fr gr hu il in it lt jp mx my nl no nz ph pl pt ru se sg th uk us us-old tw ve za".split(
    " ",
  );
const DEFAULT_TIMEOUT = 30;
/** A callerId read as a phone number (E.164 with or without its +), as the network checks it. */
const PHONE_LIKE = /^\+?\d{2,15}$/;
const DEFAULT_TIME_LIMIT = 14_400;

const definitionOf = (noun: DialNounSpec) => NOUNS[noun.noun] as DialNoun<DialNounSpec>;

export const dial: VerbDefinition<DialVerb> = {
  name: "Dial",
  parse(el, ctx) {
    checkAttributes(el, ATTRIBUTES, ctx);
    const a = el.attributes;
    const nouns = parseNouns(el, ctx);
    if (nouns.length === 0) {
      ctx.warn(ErrorCodes.dialInvalidNestedElement.code, "<Dial> has nothing to dial; skipped");
      return undefined;
    }
    const action = absoluteUrl(a.action, "action", el, ctx);
    const recordingStatusCallback = absoluteUrl(
      a.recordingStatusCallback,
      "recordingStatusCallback",
      el,
      ctx,
    );
    const timeout = seconds(a.timeout, DEFAULT_TIMEOUT, "timeout", ErrorCodes.dialInvalidTimeout.code, ctx);
    const callerId = parseCallerId(a.callerId, ctx);
    return {
      name: "Dial",
      ...(action !== undefined && { action }),
      method: parseMethod(a.method, ctx),
      // Twilio keeps the ring time within 5-600 s.
      timeout: Math.min(600, Math.max(5, timeout)),
      timeLimit: timeLimit(a.timeLimit, ctx),
      ...(callerId !== undefined && { callerId }),
      hangupOnStar: bool(a.hangupOnStar, "hangupOnStar", ErrorCodes.dialInvalidHangupOnStar.code, ctx),
      record: parseRecord(a.record, ctx),
      answerOnBridge: bool(
        a.answerOnBridge,
        "answerOnBridge",
        ErrorCodes.dialInvalidAnswerOnBridge.code,
        ctx,
      ),
      ...(bool(a.sequential, "sequential", ErrorCodes.schemaValidation.code, ctx) && { sequential: true }),
      ...(a.ringTone !== undefined && parseRingTone(a.ringTone, ctx)),
      trim: a.trim === "trim-silence" ? "trim-silence" : "do-not-trim",
      ...(recordingStatusCallback && {
        recordingStatusCallback,
        recordingStatusCallbackMethod: methodAttribute(el, "recordingStatusCallbackMethod", "POST", ctx),
        recordingStatusCallbackEvent: recordingStatusEvents(a.recordingStatusCallbackEvent, ctx, "Dial"),
      }),
      nouns,
    };
  },

  async execute(ctx, verb, signal): Promise<VerbOutcome> {
    const options: DialOptions = {
      timeoutS: verb.timeout,
      timeLimitS: verb.timeLimit,
      callerId: verb.callerId ?? ctx.call.from,
      hangupOnStar: verb.hangupOnStar,
      record: verb.record,
      answerOnBridge: verb.answerOnBridge,
      ...(verb.sequential && { sequential: true }),
      ...(verb.ringTone && { ringTone: verb.ringTone }),
    };
    const ringing = verb.nouns.flatMap((noun) => {
      const target = definitionOf(noun).target?.(noun);
      return target ? [target] : [];
    });
    // Ringing nouns ring together (first answer wins), or one after another with `sequential`. A noun that joins a room (Conference, Queue)
    // is connected alone: parsing keeps a Dial to one kind (see parseNouns).
    const room = verb.nouns.find((noun) => definitionOf(noun).target === undefined);
    // Twilio shows a number as the caller ID only if the account may use it (13214): the call's own
    // From or To, one of its numbers, or a verified caller ID. Otherwise nobody is rung.
    // A name (a client or SIP identity) is a caller ID for <Client> and <Sip> legs only: a phone
    // number is shown to a <Number> (spec §1, Dial callerId).
    const nameToPhone =
      verb.callerId !== undefined &&
      !PHONE_LIKE.test(verb.callerId) &&
      verb.nouns.some((noun) => noun.noun === "Number");
    if (
      ringing.length > 0 &&
      verb.callerId !== undefined &&
      (nameToPhone || !(await ctx.legs.callerIdAllowed(verb.callerId)))
    ) {
      ctx.warn(
        ErrorCodes.dialInvalidCallerId.code,
        nameToPhone
          ? `<Dial> callerId="${verb.callerId}" is not a phone number, and a <Number> can only be shown one; not dialed`
          : `<Dial> callerId="${verb.callerId}" is not this call's From or To, a number of the account, or a verified caller ID (OutgoingCallerIds); not dialed`,
      );
      if (verb.action === undefined) return { kind: "next" };
      return {
        kind: "fetch",
        url: verb.action,
        method: verb.method,
        params: { DialCallStatus: "failed", DialBridged: "false" },
      };
    }
    const result: DialResult =
      ringing.length > 0 || room === undefined
        ? await ringLegs(ctx, ringing, options, signal)
        : await definitionOf(room).dial(ctx, room, options, signal);
    if (signal.aborted && !callerHungUp(signal.reason)) throw signal.reason;
    if (result.skip) return { kind: "next" };
    const recording = await recordBridge(ctx, verb, result, ctx.clock.now() - result.durationS * 1000);
    if (verb.action === undefined) {
      signal.throwIfAborted();
      return { kind: "next" };
    }
    const params = {
      DialCallStatus: result.status,
      // Twilio sends neither for a Conference (a room noun returns no callSid).
      ...(result.callSid !== undefined && {
        DialCallSid: result.callSid,
        DialCallDuration: String(result.durationS),
      }),
      DialBridged: String(result.bridged),
      ...recording,
      ...result.params,
    };
    if (signal.aborted) {
      // The caller hung up during the bridge. Twilio requests the action "when the <Dial> call ends"
      // whoever hung up (twilio.com/docs/voice/twiml/dial: the action is requested when the dialed
      // call ends; only without an action does it matter whether "the original caller is still on
      // the line"): sent with CallStatus=completed, its TwiML unused as the call is over.
      await ctx.callback({
        url: verb.action,
        method: verb.method,
        params: { ...ctx.callParams("completed"), ...params },
        key: `dial-action.${result.callSid ?? ""}`,
      });
      throw signal.reason;
    }
    return { kind: "fetch", url: verb.action, method: verb.method, params };
  },
};

/** A verb's signal aborted by anything but a hand-over or a REST redirect: the caller hung up. */
function callerHungUp(reason: unknown): boolean {
  return !(reason instanceof CallHandedOver || reason instanceof CallRedirected);
}

/** The nouns in document order; plain text is a Number. At most 10 ring at once. */
function parseNouns(el: TwimlElement, ctx: ParseContext): DialNounSpec[] {
  const nouns: DialNounSpec[] = [];
  const elements = el.children.filter((c): c is TwimlElement => typeof c !== "string");
  const text = el.children
    .filter((c) => typeof c === "string")
    .join("")
    .trim();
  if (text !== "") {
    if (elements.length > 0) {
      ctx.warn(
        ErrorCodes.dialInvalidNestedElement.code,
        `<Dial> mixes text "${text}" with nouns; text ignored`,
      );
    } else {
      const asNumber: TwimlElement = { ...el, name: "Number", attributes: {}, children: [text] };
      const n = numberNoun.parse(asNumber, ctx);
      if (n) nouns.push(n);
    }
  }
  for (const child of elements) {
    const definition = (NOUNS as Record<string, DialNoun<DialNounSpec> | undefined>)[child.name];
    if (!definition) {
      const why = NOT_YET.includes(child.name) ? "is not supported by switchboard yet" : "is not a Dial noun";
      ctx.warn(ErrorCodes.dialInvalidNestedElement.code, `<${child.name}> ${why}; ignored`, child);
      continue;
    }
    if (nouns.length === MAX_PARALLEL) {
      ctx.warn(
        ErrorCodes.dialInvalidNestedElement.code,
        `<Dial> rings at most ${MAX_PARALLEL} nouns; <${child.name}> ignored`,
        child,
      );
      continue;
    }
    const nested: ParseContext = {
      documentUrl: ctx.documentUrl,
      warn: (code, message, at) => ctx.warn(code, message, at ?? child),
    };
    const noun = definition.parse(child, nested);
    if (noun) nouns.push(noun);
  }
  // A room (Conference, Queue) is joined alone: Twilio does not mix it with parties to ring, nor
  // dial two rooms at once. The ringing nouns, or else the first room, are kept.
  const isRoom = (n: DialNounSpec) => definitionOf(n).target === undefined;
  const rooms = nouns.filter(isRoom);
  const kept = rooms.length === nouns.length ? rooms.slice(0, 1) : nouns.filter((n) => !isRoom(n));
  for (const dropped of nouns.filter((n) => !kept.includes(n))) {
    ctx.warn(
      ErrorCodes.dialConferenceMixed.code,
      `<${dropped.noun}> cannot be dialed together with the other nouns of this <Dial>; ignored`,
    );
  }
  return kept;
}

function parseMethod(raw: string | undefined, ctx: ParseContext): HttpMethod {
  if (raw === undefined || raw === "POST") return "POST";
  if (raw === "GET") return "GET";
  ctx.warn(ErrorCodes.dialInvalidMethod.code, `<Dial> method="${raw}" is not GET or POST; using POST`);
  return "POST";
}

function seconds(raw: string | undefined, fallback: number, name: string, code: number, ctx: ParseContext) {
  if (raw === undefined) return fallback;
  const n = /^[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (Number.isSafeInteger(n) && n > 0) return n;
  ctx.warn(code, `<Dial> ${name}="${raw}" is not a positive whole number of seconds; using ${fallback}`);
  return fallback;
}

/** Seconds the bridge may last: at most 4 hours, Twilio's maximum call duration (13216 past it). */
function timeLimit(raw: string | undefined, ctx: ParseContext): number {
  const code = ErrorCodes.dialInvalidTimeLimit.code;
  const limit = seconds(raw, DEFAULT_TIME_LIMIT, "timeLimit", code, ctx);
  if (limit <= DEFAULT_TIME_LIMIT) return limit;
  ctx.warn(
    code,
    `<Dial> timeLimit="${raw}" is over ${DEFAULT_TIME_LIMIT} seconds (4 hours); using ${DEFAULT_TIME_LIMIT}`,
  );
  return DEFAULT_TIME_LIMIT;
}

function bool(raw: string | undefined, name: string, code: number, ctx: ParseContext): boolean {
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  ctx.warn(code, `<Dial> ${name}="${raw}" is not true or false; using false`);
  return false;
}

/** A phone number, `client:<id>`, or for SIP any `[A-Za-z0-9+-_.]` string (Twilio's callerId rules). */
function parseCallerId(raw: string | undefined, ctx: ParseContext): string | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = raw.trim();
  if (/^client:[^\s]{1,256}$/.test(value) || /^[A-Za-z0-9+_.-]{1,64}$/.test(value)) return value;
  ctx.warn(
    ErrorCodes.dialInvalidCallerId.code,
    `<Dial> callerId="${raw}" is not a valid caller ID; using the caller's`,
  );
  return undefined;
}

function parseRecord(raw: string | undefined, ctx: ParseContext): string {
  if (raw === undefined || raw === "false") return "do-not-record";
  if (raw === "true") return "record-from-answer";
  if (RECORD.includes(raw)) return raw;
  ctx.warn(ErrorCodes.dialInvalidRecord.code, `<Dial> record="${raw}" is not a record value; not recording`);
  return "do-not-record";
}

function parseRingTone(raw: string, ctx: ParseContext): { ringTone?: string } {
  if (RING_TONES.includes(raw)) return { ringTone: raw };
  ctx.warn(
    ErrorCodes.dialInvalidRingTone.code,
    `<Dial> ringTone="${raw}" is not a known tone; using the default`,
  );
  return {};
}
