// Counts the messages a test sees on a subject (a wildcard is fine) that match, so it can wait for
// the n-th: "the resumed worker sent its command again" is an event to wait on, not a sleep.
import type { NatsConnection } from "@nats-io/transport-node";
import { decode } from "../../src/protocol/codec.js";

export interface MessagesSeen {
  count(): number;
  /** The matching messages, in the order they came. */
  seen(): readonly Record<string, unknown>[];
  /** Resolves once `n` matching messages were seen (at once if they were). */
  reached(n: number): Promise<void>;
  stop(): void;
}

export function messagesSeen(
  nc: NatsConnection,
  subject: string,
  match: (m: Record<string, unknown>) => boolean,
): MessagesSeen {
  const seen: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const sub = nc.subscribe(subject, {
    callback: (_, msg) => {
      const m = decode(msg.data) as Record<string, unknown>;
      if (!match(m)) return;
      seen.push(m);
      for (const w of waiters) w();
    },
  });
  return {
    count: () => seen.length,
    seen: () => seen,
    reached: (n) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (seen.length < n) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    stop: () => sub.unsubscribe(),
  };
}
