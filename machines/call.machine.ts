// The life of one inbound call, as a pure statechart. It names every effect (config lookup, webhook
// fetch, each verb, the final write) and the region worker provides the real ones with
// `machine.provide()`; tests provide fakes. It reads time only from what its effects report, and
// its XState timers run on the clock given to `createActor`, so it never sleeps by itself.
import { assign, fromPromise, not, setup, stateIn } from "xstate";
import type { CallStatus } from "../src/model/records.js";
import type { HttpMethod, SayVerb, Verb, VerbName, VerbOutcome } from "../src/twiml/types.js";

/** Facts about the call that every webhook request carries. Never secrets: this is persisted. */
export interface CallFacts {
  callSid: string;
  accountSid: string | null;
  to: string;
  from: string;
  region: string;
  edge: string;
  direction: "inbound";
  apiVersion: string;
  phoneNumberSid: string | null;
  sipHeaders?: Record<string, string>;
  geo?: Record<string, string>;
}

export interface CallInput {
  facts: Omit<CallFacts, "accountSid" | "apiVersion" | "phoneNumberSid">;
  /** The offer's account, if it named one. */
  accountSid?: string;
  /** When the call arrived, in the call clock's ms. */
  arrivedAt: number;
}

/** What the region knows about the called number (its IncomingPhoneNumber config). */
export interface NumberSetup {
  accountSid: string;
  phoneNumberSid: string;
  apiVersion: string;
  voiceUrl: string;
  voiceMethod: HttpMethod;
  fallbackUrl: string | null;
  fallbackMethod: HttpMethod;
  /** The number's StatusCallback, requested when the call ends. */
  statusCallback: { url: string; method: HttpMethod } | null;
}

export interface FetchInput {
  facts: CallFacts;
  /** Which document of the call this is (1, 2, …): a request made again after a resume is the same one. */
  document: number;
  url: string;
  method: HttpMethod;
  callStatus: CallStatus;
  extraParams: Record<string, string>;
}

export interface FetchedDocument {
  /** The URL the document came from (after HTTP redirects): relative URLs resolve against it. */
  documentUrl: string;
  verbs: Verb[];
}

export interface VerbInput {
  callSid: string;
  verb: Verb;
}

export interface CallError {
  code: number;
  message: string;
}

export interface EndInput {
  facts: CallFacts;
  status: CallStatus;
  arrivedAt: number;
  answeredAt: number | null;
  /** Who ended it: the app (Hangup, Reject, end of document, error) or the caller. */
  endedBy: "app" | "caller";
  rejectReason: "rejected" | "busy" | null;
  error: CallError | null;
  statusCallback: NumberSetup["statusCallback"];
}

export interface CallContext {
  facts: CallFacts;
  arrivedAt: number;
  answeredAt: number | null;
  status: CallStatus;
  number: NumberSetup | null;
  /** The next document to request. */
  request: { url: string; method: HttpMethod; extraParams: Record<string, string> } | null;
  usedFallback: boolean;
  documentUrl: string | null;
  verbs: Verb[];
  index: number;
  endedBy: "app" | "caller";
  rejectReason: "rejected" | "busy" | null;
  error: CallError | null;
  /** Documents requested so far (Redirect and action loops are bounded by it). */
  documents: number;
}

export type CallEvent =
  /** The caller hung up. */
  | { type: "channel.hangup" }
  /** REST `Url`/`Method`: fetch this document now, replacing what the call was doing. */
  | { type: "control.redirect"; url: string; method: HttpMethod }
  /** REST `Twiml`: run this document now. */
  | { type: "control.twiml"; verbs: Verb[] }
  /** REST `Status`: completed hangs the call up; canceled ends a call that is not answered yet. */
  | { type: "control.end"; status: "completed" | "canceled" };

/** What the caller hears when the app cannot be fetched or run, as on Twilio. */
export const APPLICATION_ERROR_SAY: SayVerb = {
  name: "Say",
  text: "We are sorry, an application error has occurred. Goodbye.",
  voice: "woman",
  language: "en-US",
  loop: 1,
};

const notProvided = (what: string) => async (): Promise<never> => {
  throw new Error(`${what} is not provided: the region worker supplies it with machine.provide()`);
};

const isVerb =
  (name: VerbName) =>
  ({ context }: { context: CallContext }) =>
    context.verbs[context.index]?.name === name;

/** The error an effect rejected with, as a code and a message (12400 when it carries none). */
function errorOf(error: unknown): CallError {
  const e = error as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === "number" ? e.code : 12400,
    message: typeof e?.message === "string" ? e.message : String(error),
  };
}

const endStatus = (context: CallContext): CallStatus =>
  context.answeredAt === null ? "no-answer" : "completed";

const callSetup = setup({
  types: {
    context: {} as CallContext,
    input: {} as CallInput,
    events: {} as CallEvent,
  },
  actors: {
    loadNumber: fromPromise<NumberSetup, { facts: CallInput["facts"]; accountSid?: string }>(
      notProvided("loadNumber"),
    ),
    announceCall: fromPromise<void, { facts: CallFacts }>(notProvided("announceCall")),
    fetchTwiml: fromPromise<FetchedDocument, FetchInput>(notProvided("fetchTwiml")),
    answerCall: fromPromise<{ at: number }, { callSid: string }>(notProvided("answerCall")),
    Say: fromPromise<VerbOutcome, VerbInput>(notProvided("Say")),
    Play: fromPromise<VerbOutcome, VerbInput>(notProvided("Play")),
    Pause: fromPromise<VerbOutcome, VerbInput>(notProvided("Pause")),
    Hangup: fromPromise<VerbOutcome, VerbInput>(notProvided("Hangup")),
    Reject: fromPromise<VerbOutcome, VerbInput>(notProvided("Reject")),
    Redirect: fromPromise<VerbOutcome, VerbInput>(notProvided("Redirect")),
    Gather: fromPromise<VerbOutcome, VerbInput>(notProvided("Gather")),
    endCall: fromPromise<void, EndInput>(notProvided("endCall")),
  },
  delays: {
    /** Twilio's maximum call duration (4 h); a call still going then is ended with 32015. */
    maxCallDuration: 4 * 60 * 60 * 1000,
  },
  actions: {
    /** Reports an error or warning against the call (a Notification); provided by the worker. */
    reportError: (_, _params: CallError) => {},
  },
  guards: {
    isDocumentDone: ({ context }) => context.index >= context.verbs.length,
    /** Twilio answers before every first verb but Reject; a first Pause delays the answer. */
    needsAnswer: ({ context }) => {
      if (context.answeredAt !== null) return false;
      const next = context.verbs[context.index];
      return next === undefined || (next.name !== "Reject" && next.name !== "Pause");
    },
    canFallBack: ({ context }) => !context.usedFallback && !!context.number?.fallbackUrl,
    /** The number's config is loaded, so documents can be fetched for the call. */
    isRouted: ({ context }) => context.number !== null,
    isSay: isVerb("Say"),
    isPlay: isVerb("Play"),
    isPause: isVerb("Pause"),
    isHangup: isVerb("Hangup"),
    isReject: isVerb("Reject"),
    isRedirect: isVerb("Redirect"),
    isGather: isVerb("Gather"),
    isFetch: (_, outcome: VerbOutcome) => outcome.kind === "fetch",
    isHangupOutcome: (_, outcome: VerbOutcome) => outcome.kind === "hangup",
    isRejectOutcome: (_, outcome: VerbOutcome) => outcome.kind === "reject",
  },
});

/** The child state of one verb kind: run the verb, then act on what it asks for. */
function verbState(name: VerbName) {
  return callSetup.createStateConfig({
    invoke: {
      src: name,
      input: ({ context }) => ({
        callSid: context.facts.callSid,
        verb: context.verbs[context.index] as Verb,
      }),
      onDone: [
        {
          guard: { type: "isFetch", params: ({ event }) => event.output },
          target: "#call.fetching-webhook",
          actions: assign(({ event }) => {
            const o = event.output as Extract<VerbOutcome, { kind: "fetch" }>;
            return { request: { url: o.url, method: o.method, extraParams: { ...o.params } } };
          }),
        },
        {
          guard: { type: "isHangupOutcome", params: ({ event }) => event.output },
          target: "#call.storing",
          actions: assign({ status: ({ context }) => endStatus(context) }),
        },
        {
          guard: { type: "isRejectOutcome", params: ({ event }) => event.output },
          target: "#call.storing",
          actions: assign(({ context, event }) => {
            const reason = event.output.kind === "reject" ? event.output.reason : "rejected";
            // Only a first-verb Reject leaves the call unanswered; busy -> busy, rejected -> no-answer.
            if (context.answeredAt !== null) return { status: "completed" as const };
            return {
              rejectReason: reason,
              status: reason === "busy" ? ("busy" as const) : ("no-answer" as const),
            };
          }),
        },
        { target: "dispatching", actions: assign({ index: ({ context }) => context.index + 1 }) },
      ],
      onError: {
        // A verb that fails is reported and skipped, as Twilio moves on after a failed <Play>.
        target: "dispatching",
        actions: [
          { type: "reportError", params: ({ event }) => errorOf(event.error) },
          assign({ index: ({ context }) => context.index + 1 }),
        ],
      },
    },
  });
}

export const callMachine = callSetup.createMachine({
  id: "call",
  context: ({ input }) => ({
    facts: {
      ...input.facts,
      accountSid: input.accountSid ?? null,
      apiVersion: "2010-04-01",
      phoneNumberSid: null,
    },
    arrivedAt: input.arrivedAt,
    answeredAt: null,
    status: "queued",
    number: null,
    request: null,
    usedFallback: false,
    documentUrl: null,
    verbs: [],
    index: 0,
    endedBy: "app",
    rejectReason: null,
    error: null,
    documents: 0,
  }),
  initial: "arriving",
  after: {
    maxCallDuration: {
      guard: not(stateIn("#call.storing")),
      target: ".storing",
      actions: [
        assign({
          endedBy: "app",
          status: ({ context }) => endStatus(context),
          error: { code: 32015, message: "the call exceeded the maximum call duration of 4 hours" },
        }),
        { type: "reportError", params: { code: 32015, message: "the call exceeded the maximum call duration" } },
      ],
    },
  },
  on: {
    "channel.hangup": {
      target: ".storing",
      actions: assign({ endedBy: "caller", status: ({ context }) => endStatus(context) }),
    },
    "control.redirect": {
      guard: "isRouted",
      target: ".fetching-webhook",
      reenter: true,
      actions: assign({
        request: ({ event }) => ({ url: event.url, method: event.method, extraParams: {} }),
      }),
    },
    "control.twiml": {
      guard: "isRouted",
      target: ".executing-twiml",
      reenter: true,
      actions: assign({ verbs: ({ event }) => event.verbs, index: 0, documentUrl: null }),
    },
    "control.end": [
      {
        // Canceling only ends a call that has not been answered; on a live call it changes nothing.
        guard: ({ context, event }) => event.status === "completed" || context.answeredAt === null,
        target: ".storing",
        actions: assign({
          endedBy: "app",
          status: ({ context, event }) => (event.status === "canceled" ? "canceled" : endStatus(context)),
        }),
      },
    ],
  },
  states: {
    arriving: {
      invoke: {
        src: "loadNumber",
        input: ({ context }) => ({ facts: context.facts, accountSid: context.facts.accountSid ?? undefined }),
        onDone: {
          target: "routed",
          actions: assign(({ context, event }) => ({
            number: event.output,
            facts: {
              ...context.facts,
              accountSid: event.output.accountSid,
              apiVersion: event.output.apiVersion,
              phoneNumberSid: event.output.phoneNumberSid,
            },
            request: { url: event.output.voiceUrl, method: event.output.voiceMethod, extraParams: {} },
          })),
        },
        onError: {
          target: "storing",
          actions: [
            assign({ status: "failed", error: ({ event }) => errorOf(event.error) }),
            { type: "reportError", params: ({ event }) => errorOf(event.error) },
          ],
        },
      },
    },
    routed: {
      entry: assign({ status: "ringing" }),
      invoke: {
        src: "announceCall",
        input: ({ context }) => ({ facts: context.facts }),
        onDone: "fetching-webhook",
        onError: {
          target: "storing",
          actions: [
            assign({ status: "failed", error: ({ event }) => errorOf(event.error) }),
            { type: "reportError", params: ({ event }) => errorOf(event.error) },
          ],
        },
      },
    },
    "fetching-webhook": {
      entry: assign({ documents: ({ context }) => context.documents + 1 }),
      invoke: {
        src: "fetchTwiml",
        input: ({ context }) => ({
          facts: context.facts,
          document: context.documents,
          url: context.request?.url ?? "",
          method: context.request?.method ?? "POST",
          callStatus: context.status,
          extraParams: context.request?.extraParams ?? {},
        }),
        onDone: {
          target: "executing-twiml",
          actions: assign(({ event }) => ({
            documentUrl: event.output.documentUrl,
            verbs: event.output.verbs,
            index: 0,
          })),
        },
        onError: [
          {
            // The voice URL failed to fetch or to parse: Twilio requests the fallback URL once,
            // telling it what went wrong.
            guard: "canFallBack",
            target: "fetching-webhook",
            reenter: true,
            actions: [
              { type: "reportError", params: ({ event }) => errorOf(event.error) },
              assign(({ context, event }) => ({
                usedFallback: true,
                error: errorOf(event.error),
                request: {
                  url: context.number?.fallbackUrl ?? "",
                  method: context.number?.fallbackMethod ?? "POST",
                  extraParams: {
                    ErrorCode: String(errorOf(event.error).code),
                    ErrorUrl: context.request?.url ?? "",
                  },
                },
              })),
            ],
          },
          {
            // No (working) fallback: the caller hears the application-error message, then the
            // call ends with the error on its record.
            target: "executing-twiml",
            actions: [
              { type: "reportError", params: ({ event }) => errorOf(event.error) },
              assign(({ event }) => ({
                error: errorOf(event.error),
                verbs: [APPLICATION_ERROR_SAY],
                index: 0,
              })),
            ],
          },
        ],
      },
    },
    "executing-twiml": {
      initial: "dispatching",
      states: {
        dispatching: {
          always: [
            { guard: "needsAnswer", target: "answering" },
            {
              guard: "isDocumentDone",
              target: "#call.storing",
              actions: assign({ status: ({ context }) => endStatus(context) }),
            },
            { guard: "isSay", target: "Say" },
            { guard: "isPlay", target: "Play" },
            { guard: "isPause", target: "Pause" },
            { guard: "isHangup", target: "Hangup" },
            { guard: "isReject", target: "Reject" },
            { guard: "isRedirect", target: "Redirect" },
            { guard: "isGather", target: "Gather" },
            // A verb this machine has no state for is skipped (the parser already warned).
            {
              target: "dispatching",
              reenter: true,
              actions: assign({ index: ({ context }) => context.index + 1 }),
            },
          ],
        },
        answering: {
          invoke: {
            src: "answerCall",
            input: ({ context }) => ({ callSid: context.facts.callSid }),
            onDone: {
              target: "dispatching",
              actions: assign({ answeredAt: ({ event }) => event.output.at, status: "in-progress" }),
            },
            onError: {
              target: "#call.storing",
              actions: assign({ status: "failed", error: ({ event }) => errorOf(event.error) }),
            },
          },
        },
        Say: verbState("Say"),
        Play: verbState("Play"),
        Pause: verbState("Pause"),
        Hangup: verbState("Hangup"),
        Reject: verbState("Reject"),
        Redirect: verbState("Redirect"),
        Gather: verbState("Gather"),
      },
    },
    storing: {
      initial: "writing",
      states: {
        writing: {
          invoke: {
            src: "endCall",
            input: ({ context }) => ({
              facts: context.facts,
              status: context.status,
              arrivedAt: context.arrivedAt,
              answeredAt: context.answeredAt,
              endedBy: context.endedBy,
              rejectReason: context.rejectReason,
              error: context.error,
              statusCallback: context.number?.statusCallback ?? null,
            }),
            onDone: "#call.completed",
            // The record must not be lost: wait and write again (a resumed actor retries too).
            onError: "waiting",
          },
        },
        waiting: { after: { 1000: "writing" } },
      },
      // The call is over: nothing changes it any more.
      on: { "channel.hangup": {}, "control.redirect": {}, "control.twiml": {}, "control.end": {} },
    },
    completed: { type: "final" },
  },
});

export type CallMachine = typeof callMachine;
