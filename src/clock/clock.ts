// The time source every call uses. Nothing in switchboard calls setTimeout for call time directly:
// verbs, the channel and the XState actor (its `clock` option) all go through a Clock, so a call at
// time-scale 0 runs without waiting while its own simulated time still advances.

export interface Clock {
  /** Milliseconds since the epoch, in the call's time (simulated when time-scale < 1). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real time, for what runs outside any call's clock (a SIP gateway's waits). */
export const WALL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Resolves after `ms` of the clock's time; rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
