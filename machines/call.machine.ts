// The life of one call, inbound or placed over REST (outbound-api), as a pure statechart. It names every effect (config lookup, webhook
// fetch, running a verb, the final write) and the region worker provides the real ones with
// `machine.provide()`; tests provide fakes. It reads time only from what its effects report, and
// its XState timers run on the clock given to `createActor`, so it never sleeps by itself.
import { assign, type DoneActorEvent, type ErrorActorEvent, not, stateIn } from "xstate";
import { onwards, type TwimlEvent, verbState } from "./call.document.js";
import { APPLICATION_ERROR_SAY, callSetup, endStatus, errorOf, NO_PARAMS } from "./call.setup.js";
import type { CallContext, FetchedDocument } from "./call.types.js";

export type * from "./call.types.js";

export { APPLICATION_ERROR_SAY };

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
    verb: null,
    endedBy: "app",
    rejectReason: null,
    error: null,
    documents: 0,
  }),
  initial: "arriving",
  on: {
    // Twilio's maximum call duration (4 h). The host sends it from a timer on the call's clock, counted
    // from the call's arrival, and sets that timer again when it resumes the call: a per-call invoked
    // actor did the same at about 3 KB a call (DESIGN.md §9), and XState does not re-schedule `after`
    // delays on restore.
    "call.limit": {
      guard: not(stateIn("#call.storing")),
      target: ".storing",
      actions: [
        assign({
          endedBy: "app",
          status: ({ context }) => endStatus(context),
          error: { code: 32015, message: "the call exceeded the maximum call duration of 4 hours" },
        }),
        {
          type: "reportError",
          params: { code: 32015, message: "the call exceeded the maximum call duration" },
        },
      ],
    },
    // Asked for (REST TimeLimit), not a failure: the call ends completed, with no error on its record.
    "call.timeLimit": {
      guard: not(stateIn("#call.storing")),
      target: ".storing",
      actions: assign({ endedBy: "app", status: ({ context }) => endStatus(context) }),
    },
    "channel.hangup": {
      target: ".storing",
      actions: assign({ endedBy: "caller", status: ({ context }) => endStatus(context) }),
    },
    "control.redirect": {
      guard: "isRouted",
      target: ".fetching-webhook",
      reenter: true,
      actions: assign({
        request: ({ event }) => ({ url: event.url, method: event.method, extraParams: NO_PARAMS }),
      }),
    },
    "control.twiml": [
      // Not routed yet: ignored (there is no number to run it for).
      { guard: not("isRouted") },
      ...onwards(
        ({ context, event }: { context: CallContext; event: TwimlEvent }) => ({
          verbs: event.verbs,
          index: 0,
          answeredAt: context.answeredAt,
        }),
        [
          assign({
            verbs: ({ event }: { event: TwimlEvent }) => event.verbs,
            index: 0,
            documentUrl: null,
            // A document of its own: its verbs' steps are not the last document's (VerbContext.step).
            documents: ({ context }: { context: CallContext }) => context.documents + 1,
          }),
        ],
      ),
    ],
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
            request: { url: event.output.voiceUrl, method: event.output.voiceMethod, extraParams: NO_PARAMS },
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
        onDone: [
          {
            // …and hung up already: the call is over, as Twilio would have ended it then (completed).
            guard: { type: "isCalleeGone", params: ({ event }) => event.output },
            target: "storing",
            actions: assign({
              answeredAt: ({ event }) => (event.output.kind === "answered" ? event.output.at : null),
              endedAt: ({ event }) => (event.output.kind === "answered" ? event.output.endedAt : undefined),
              status: "completed",
              endedBy: "caller",
            }),
          },
          {
            // An outbound call's callee answered: the call is in progress before its first document.
            guard: { type: "isCalleeAnswer", params: ({ event }) => event.output },
            target: "fetching-webhook",
            actions: assign({
              answeredAt: ({ event }) => (event.output.kind === "answered" ? event.output.at : null),
              status: "in-progress",
            }),
          },
          {
            // Busy, no answer, a number that failed: no document is ever requested.
            guard: { type: "isCalleeUnanswered", params: ({ event }) => event.output },
            target: "storing",
            actions: assign({
              status: ({ event }) => (event.output.kind === "unanswered" ? event.output.status : "failed"),
            }),
          },
          { target: "fetching-webhook" },
        ],
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
          extraParams: context.request?.extraParams ?? NO_PARAMS,
        }),
        onDone: onwards(
          ({ context, event }: { context: CallContext; event: DoneActorEvent<FetchedDocument> }) => ({
            verbs: event.output.verbs,
            index: 0,
            answeredAt: context.answeredAt,
          }),
          [
            assign(({ event }: { event: DoneActorEvent<FetchedDocument> }) => ({
              documentUrl: event.output.documentUrl,
              verbs: event.output.verbs,
              index: 0,
            })),
          ],
        ),
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
          // No (working) fallback: the caller hears the application-error message, then the
          // call ends with the error on its record.
          ...onwards(
            ({ context }: { context: CallContext }) => ({
              verbs: [APPLICATION_ERROR_SAY],
              index: 0,
              answeredAt: context.answeredAt,
            }),
            [
              {
                type: "reportError",
                params: ({ event }: { event: ErrorActorEvent }) => errorOf(event.error),
              },
              assign(({ event }: { event: ErrorActorEvent }) => ({
                error: errorOf(event.error),
                verbs: [APPLICATION_ERROR_SAY],
                index: 0,
              })),
            ],
            ["answer", "verb"],
          ),
        ],
      },
    },
    "executing-twiml": {
      initial: "verb",
      on: {
        "verb.answered": {
          guard: ({ context }) => context.answeredAt === null,
          actions: assign({ answeredAt: ({ event }) => event.at, status: "in-progress" }),
        },
      },
      states: {
        answering: {
          invoke: {
            src: "answerCall",
            input: ({ context }) => ({ callSid: context.facts.callSid }),
            // Answered: the same verb runs (or the document ends, if it had no verb).
            onDone: onwards(
              ({ context, event }: { context: CallContext; event: DoneActorEvent<{ at: number }> }) => ({
                verbs: context.verbs,
                index: context.index,
                answeredAt: event.output.at,
              }),
              [
                assign({
                  answeredAt: ({ event }: { event: DoneActorEvent<{ at: number }> }) => event.output.at,
                  status: "in-progress",
                }),
              ],
              ["end", "verb"],
            ),
            onError: {
              target: "#call.storing",
              actions: assign({ status: "failed", error: ({ event }) => errorOf(event.error) }),
            },
          },
        },
        verb: verbState,
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
              ...(context.endedAt !== undefined && { endedAt: context.endedAt }),
            }),
            onDone: "#call.completed",
            // The record must not be lost: wait and write again (a resumed actor retries too).
            onError: "waiting",
          },
        },
        // An invoked pause, not an `after` delay, so that a call resumed here tries again too.
        waiting: {
          invoke: {
            src: "retryDelay",
            input: ({ context }) => ({ callSid: context.facts.callSid }),
            onDone: "writing",
          },
        },
      },
      // The call is over: nothing changes it any more.
      on: { "channel.hangup": {}, "control.redirect": {}, "control.twiml": {}, "control.end": {} },
    },
    completed: { type: "final" },
  },
});

export type CallMachine = typeof callMachine;
