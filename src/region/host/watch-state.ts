// Waiting for shared state (a conference, a queue member) to reach a condition. The state lives in
// KV; every writer publishes a bare "changed" on the room's subject after writing. A waiter
// subscribes first and reads after, and reads again on every message, so it never misses a change
// that happened between its read and its subscription.
import type { NatsConnection } from "@nats-io/transport-node";

/** Publishes that the room on `subject` changed (after its KV write). */
export function announce(nc: NatsConnection, subject: string): void {
  nc.publish(subject);
}

/**
 * Resolves with the first state read that `done` accepts; rejects with the signal's reason when it
 * aborts. A read that fails is tried again on the next message (or `retryMs` later).
 */
export async function waitForState<T>(
  nc: NatsConnection,
  subject: string,
  read: () => Promise<T>,
  done: (state: T) => boolean,
  signal: AbortSignal,
  retryMs = 1_000,
): Promise<T> {
  signal.throwIfAborted();
  const sub = nc.subscribe(subject);
  let wake: (() => void) | undefined;
  let pending = true;
  const poke = () => {
    pending = true;
    wake?.();
  };
  const onAbort = () => poke();
  signal.addEventListener("abort", onAbort, { once: true });
  void (async () => {
    for await (const _ of sub) poke();
  })();
  // Missed messages are impossible to notice on core NATS: a slow periodic re-read bounds the damage.
  const timer = setInterval(poke, retryMs * 5);
  try {
    for (;;) {
      if (!pending) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      signal.throwIfAborted();
      pending = false;
      let state: T;
      try {
        state = await read();
      } catch {
        setTimeout(poke, retryMs);
        continue;
      }
      signal.throwIfAborted();
      if (done(state)) return state;
    }
  } finally {
    clearInterval(timer);
    signal.removeEventListener("abort", onAbort);
    sub.unsubscribe();
  }
}
