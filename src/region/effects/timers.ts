// The machine's two waits that are not verbs: the maximum call duration, counted on the call's clock
// from its arrival (so a resumed call keeps its deadline), and the pause before writing a record
// again, in wall-clock time (infrastructure, not call time: at time-scale 0 it must still wait).
import { fromPromise } from "xstate";
import { sleep } from "../../clock/clock.js";
import type { RegionRuntime } from "../runtime.js";

/** Twilio's maximum call duration. */
export const MAX_CALL_DURATION_MS = 4 * 60 * 60 * 1000;

export function callTimer(rt: RegionRuntime, maxMs = MAX_CALL_DURATION_MS) {
  return fromPromise<void, { callSid: string; arrivedAt: number }>(async ({ input, signal }) => {
    const { clock } = rt.call(input.callSid);
    await sleep(clock, Math.max(0, input.arrivedAt + maxMs - clock.now()), signal);
  });
}

export function retryDelay() {
  return fromPromise<void, { callSid: string }>(
    ({ signal }) =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
      }),
  );
}
