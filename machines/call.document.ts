// A document's steps in the call machine: the one `verb` state every verb runs in, and the ways on
// from a document's start or a verb's end (answer first, run the verb, or end the call), chosen in
// the transitions that get there. Pure: xstate and types only.
import { assign, type ErrorActorEvent } from "xstate";
import type { Verb, VerbOutcome } from "../src/twiml/verb-data.js";
import { callSetup, endStatus, errorOf } from "./call.setup.js";
import type { CallContext, CallEvent, DocumentStep } from "./call.types.js";

/** The ways on from a document's start or a verb's end (onwards). */
type Way = "answer" | "end" | "verb";
const ALL_WAYS: readonly Way[] = ["answer", "end", "verb"];

/**
 * The ways on from a document's start or a verb's end: answer first, end the call (the document is
 * done), or run the next verb. Chosen in the transition itself rather than in a transient state
 * (`dispatching`, before issue #20): each step of a document is one microstep less, and microsteps are
 * most of what the statechart costs a call (bench/README.md, issue #20). `at` says where the transition's own
 * `actions` leave the document, since guards are evaluated before actions. `ways` leaves out a way
 * that cannot happen there, so that the chart the visualizer draws has no edge that is never taken.
 */
export function onwards<E>(
  at: (args: { context: CallContext; event: E }) => DocumentStep,
  actions: readonly unknown[],
  ways: readonly Way[] = ALL_WAYS,
): never[] {
  const transitions = {
    answer: {
      guard: { type: "needsAnswer", params: at },
      target: "#call.executing-twiml.answering",
      actions,
    },
    end: {
      guard: { type: "isDocumentDone", params: at },
      target: "#call.storing",
      actions: [...actions, callSetup.assign({ status: ({ context }) => endStatus(context) })],
    },
    // Every verb runs in the one `verb` state; one with no definition fails there and is skipped.
    // `reenter`: a verb's end goes on to the next verb in the same state, invoked afresh.
    verb: { target: "#call.executing-twiml.verb", reenter: true, actions },
  };
  // XState's config types cannot name one list of transitions that several handlers share (each types
  // its event apart): the list is checked here and where its parts are made, and typed `never[]` so
  // that every handler takes it.
  return ways.map((way) => transitions[way]) as never[];
}

export type TwimlEvent = Extract<CallEvent, { type: "control.twiml" }>;

/** The verb after this one. */
const nextVerb = ({ context }: { context: CallContext }): DocumentStep => ({
  verbs: context.verbs,
  index: context.index + 1,
  answeredAt: context.answeredAt,
});
const stepOn = callSetup.assign({ index: ({ context }) => context.index + 1 });

/**
 * The one state every verb runs in: it invokes `runVerb` with the current verb (the region runs it
 * by name through the TwiML registry), then acts on what the verb asks for. The verb's name is kept
 * in the context while it runs, since the state value no longer says which verb it is.
 */
export const verbState = callSetup.createStateConfig({
  entry: assign({ verb: ({ context }) => context.verbs[context.index]?.name ?? null }),
  exit: assign({ verb: null }),
  invoke: {
    src: "runVerb",
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
      ...onwards(nextVerb, [stepOn]),
    ],
    // A verb that fails is reported and skipped, as Twilio moves on after a failed <Play>.
    onError: onwards(nextVerb, [
      { type: "reportError", params: ({ event }: { event: ErrorActorEvent }) => errorOf(event.error) },
      stepOn,
    ]),
  },
});
