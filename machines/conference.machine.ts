// A conference's lifecycle (Twilio's status: init -> in-progress -> completed), pure: xstate and
// types only. The conference store (src/store/conference-store.ts) runs it inside each
// compare-and-set, on the status it read, so every worker moves a conference the same way.
import { setup, transition } from "xstate";
import type { ConferenceStatus } from "../src/model/rooms.js";

export type ConferenceLifecycleEvent =
  /**
   * A participant joined; `starts` when someone in the room now (it included) has
   * startConferenceOnEnter, `present` is how many are in now.
   */
  | { type: "participant.joined"; starts: boolean; present: number }
  /** A participant left; `ends` when it had endConferenceOnExit, `remaining` is who is still in. */
  | { type: "participant.left"; ends: boolean; remaining: number }
  /** REST `Status=completed`. */
  | { type: "conference.end" };

export const conferenceMachine = setup({
  types: { events: {} as ConferenceLifecycleEvent },
  guards: {
    // Twilio: the first participant waits with hold music; a conference starts once a second joins,
    // and someone in it has startConferenceOnEnter (docs/voice/conference, "Lifecycle").
    startsConference: ({ event }) =>
      event.type === "participant.joined" && event.starts && event.present >= 2,
    endsConference: ({ event }) => event.type === "participant.left" && (event.ends || event.remaining === 0),
  },
}).createMachine({
  id: "conference",
  initial: "init",
  states: {
    init: {
      on: {
        "participant.joined": { guard: "startsConference", target: "in-progress" },
        "participant.left": { guard: "endsConference", target: "completed" },
        "conference.end": "completed",
      },
    },
    "in-progress": {
      on: {
        "participant.left": { guard: "endsConference", target: "completed" },
        "conference.end": "completed",
      },
    },
    completed: { type: "final" },
  },
});

/** The status a conference in `status` has after `event`. */
export function nextConferenceStatus(
  status: ConferenceStatus,
  event: ConferenceLifecycleEvent,
): ConferenceStatus {
  const [next] = transition(conferenceMachine, conferenceMachine.resolveState({ value: status }), event);
  return next.value as ConferenceStatus;
}
