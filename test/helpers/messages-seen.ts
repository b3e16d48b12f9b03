// Counts the messages a test sees on a subject (a wildcard is fine) that match, so it can wait for
// the n-th: "the resumed worker sent its command again" is an event to wait on, not a sleep.
import type { NatsConnection } from "@nats-io/transport-node";
import { decode } from "../../src/protocol/codec.js";

export interface MessagesSeen {
  count(): number;
  /** Resolves once `n` matching messages were seen (at once if they were). */
  reached(n: number): Promise<void>;
  stop(): void;
}

export function messagesSeen(
  nc: NatsConnection,
  subject: string,
  match: (m: Record<string, unknown>) => boolean,
): MessagesSeen {
  let count = 0;
  const waiters = new Set<() => void>();
  const sub = nc.subscribe(subject, {
    callback: (_, msg) => {
      if (!match(decode(msg.data) as Record<string, unknown>)) return;
      count++;
      for (const w of waiters) w();
    },
  });
  return {
    count: () => count,
    reached: (n) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (count < n) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    stop: () => sub.unsubscribe(),
  };
}
