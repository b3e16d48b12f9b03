// The conference port of one call (twiml/ports/rooms.ts), over the region's shared conference store:
// bound to the call's account and CallSid; each change holds the call's clock while it is written,
// a wait for others paces it (its timers fire in real time while it waits).
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallClock } from "../../clock/call-clock.js";
import type { ConferenceStore } from "../../store/conference-store.js";
import type { ConferencePort } from "../../twiml/ports/rooms.js";
import { waitForState } from "../host/watch-state.js";

export function conferencePort(
  store: ConferenceStore,
  nc: NatsConnection,
  clock: Pick<CallClock, "holding" | "pacing">,
  call: { accountSid: string; callSid: string },
): ConferencePort {
  const { accountSid, callSid } = call;
  return {
    join: (request) =>
      clock.holding(() =>
        store.join({
          accountSid,
          friendlyName: request.friendlyName,
          participant: { ...request.participant, callSid, joinedAt: Date.now() },
          maxParticipants: request.maxParticipants,
          ...(request.statusCallback && { statusCallback: request.statusCallback }),
        }),
      ),
    leave: (sid) => clock.holding(() => store.leave(accountSid, sid, callSid)),
    // A wait for others paces the clock: the caller's own timers fire in real time meanwhile.
    waitFor: (sid, done, signal) =>
      clock.pacing(() =>
        waitForState(nc, store.subject(sid), () => store.get(accountSid, sid), done, signal),
      ),
  };
}
