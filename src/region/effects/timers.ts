// The machine's waits that are not verbs: the pause before writing a record again, in wall-clock time
// (infrastructure, not call time: at time-scale 0 it must still wait). The maximum call duration is a
// timer on the call's clock that the host sets (call-host.ts), counted from the call's arrival.
import { fromPromise } from "xstate";

/** Twilio's maximum call duration. */
export const MAX_CALL_DURATION_MS = 4 * 60 * 60 * 1000;

export function retryDelay() {
  return fromPromise<void, { callSid: string }>(
    ({ signal }) =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
      }),
  );
}
