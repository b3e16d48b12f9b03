// The call machine's vocabulary: every effect it names (the region worker provides the real ones),
// its guards and delays, and the helpers its transitions share. Pure: xstate and types only.
import { fromPromise, setup } from "xstate";
import type { CallStatus } from "../src/model/records.js";
import type { SayVerb, VerbOutcome } from "../src/twiml/verb-data.js";
import type {
  AnnounceOutcome,
  CallContext,
  CallError,
  CallEvent,
  CallFacts,
  CallInput,
  DocumentStep,
  EndInput,
  FetchedDocument,
  FetchInput,
  NumberSetup,
  VerbInput,
} from "./call.types.js";

export const APPLICATION_ERROR_SAY: SayVerb = {
  name: "Say",
  text: "We are sorry, an application error has occurred. Goodbye.",
  voice: "woman",
  language: "en-US",
  loop: 1,
};

/**
 * A request's extra parameters when it has none: one shared (frozen) object instead of one per call,
 * since a call keeps its last request in its context for as long as it lasts (issue #9).
 */
export const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

const notProvided = (what: string) => async (): Promise<never> => {
  throw new Error(`${what} is not provided: the region worker supplies it with machine.provide()`);
};

/** The error an effect rejected with, as a code and a message (12400 when it carries none). */
export function errorOf(error: unknown): CallError {
  const e = error as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === "number" ? e.code : 12400,
    message: typeof e?.message === "string" ? e.message : String(error),
  };
}

export const endStatus = (context: CallContext): CallStatus =>
  context.answeredAt === null ? "no-answer" : "completed";

export const callSetup = setup({
  types: {
    context: {} as CallContext,
    input: {} as CallInput,
    events: {} as CallEvent,
  },
  actors: {
    loadNumber: fromPromise<NumberSetup, { facts: CallInput["facts"]; accountSid?: string }>(
      notProvided("loadNumber"),
    ),
    /** Inbound: the channel rings. Outbound: the callee is rung, and answers or does not. */
    announceCall: fromPromise<AnnounceOutcome, { facts: CallFacts }>(notProvided("announceCall")),
    fetchTwiml: fromPromise<FetchedDocument, FetchInput>(notProvided("fetchTwiml")),
    answerCall: fromPromise<{ at: number }, { callSid: string }>(notProvided("answerCall")),
    /** Runs one verb (any kind): the region runs it by name through the TwiML registry. */
    runVerb: fromPromise<VerbOutcome, VerbInput>(notProvided("runVerb")),
    endCall: fromPromise<void, EndInput>(notProvided("endCall")),
    /** Resolves when the record may be written again, after a failed write. */
    retryDelay: fromPromise<void, { callSid: string }>(notProvided("retryDelay")),
  },
  actions: {
    /** Reports an error or warning against the call (a Notification); provided by the worker. */
    reportError: (_, _params: CallError) => {},
  },
  guards: {
    /** The document has no verb left at the step. */
    isDocumentDone: (_, at: DocumentStep) => at.index >= at.verbs.length,
    /**
     * Twilio answers before every first verb but Reject; a first Pause delays the answer. Only a
     * document's first verb is one: after `<Pause/>`, a `<Reject/>` is answered first, and hangs up.
     */
    needsAnswer: (_, at: DocumentStep) => {
      if (at.answeredAt !== null) return false;
      const next = at.verbs[at.index];
      // A first <Dial answerOnBridge> leaves the caller ringing until it bridges (it answers then).
      // Twilio honours answerOnBridge only on a document's first verb: after a first <Pause>, the
      // call is answered before the Dial rings anyone.
      const holdsAnswer =
        at.index === 0 &&
        (next?.name === "Reject" || next?.name === "Pause" || (next?.name === "Dial" && next.answerOnBridge));
      return next === undefined || !holdsAnswer;
    },
    canFallBack: ({ context }) => !context.usedFallback && !!context.number?.fallbackUrl,
    /** The number's config is loaded, so documents can be fetched for the call. */
    isRouted: ({ context }) => context.number !== null,
    isFetch: (_, outcome: VerbOutcome) => outcome.kind === "fetch",
    isCalleeAnswer: (_, outcome: AnnounceOutcome) => outcome.kind === "answered",
    /** Answered and hung up already (a resumed call learned it from the leg's gateway). */
    isCalleeGone: (_, outcome: AnnounceOutcome) =>
      outcome.kind === "answered" && outcome.endedAt !== undefined,
    isCalleeUnanswered: (_, outcome: AnnounceOutcome) => outcome.kind === "unanswered",
    isHangupOutcome: (_, outcome: VerbOutcome) => outcome.kind === "hangup",
    isRejectOutcome: (_, outcome: VerbOutcome) => outcome.kind === "reject",
  },
});
