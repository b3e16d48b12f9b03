// Waiting for the caller's `*` through a channel's one live-input slot (the listener its `.in` keys
// and the gateway's RFC 4733 keys go to): a <Dial hangupOnStar> bridge, conference or queue bridge.
// Shared by the simulated and the SIP channel, which differ only in where keys come from.
import type { LiveListener } from "./gather-listener.js";

/** A channel's live-input slot: who hears the caller's keys now. */
export interface ListenerSlot {
  take(live: LiveListener): void;
  /** Frees the slot if `live` still holds it (a later verb may have taken it). */
  release(live: LiveListener): void;
}

/**
 * Resolves when the caller presses `*` (if `heard`; other keys go nowhere), rejects with the signal's
 * reason when it aborts first. `started` runs once the slot is taken (the simulated caller's scripted
 * `*`) and returns what to undo when the wait ends.
 */
export function untilStar(
  slot: ListenerSlot,
  signal: AbortSignal,
  heard = true,
  started?: (live: LiveListener) => () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let undo: (() => void) | undefined;
    const live: LiveListener = {
      key: (k) => {
        if (k === "*" && heard) finish(resolve);
      },
      speak: () => {},
    };
    const finish = (settle: () => void) => {
      undo?.();
      signal.removeEventListener("abort", onAbort);
      slot.release(live);
      settle();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    slot.take(live);
    undo = started?.(live);
  });
}
