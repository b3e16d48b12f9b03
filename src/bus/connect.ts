// Connecting to NATS: a process waits a bounded time for the server at start, then reconnects
// forever, because a region must outlive a nats-server restart without losing calls.
import { connect, type NatsConnection } from "@nats-io/transport-node";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

export function natsUrl(explicit?: string): string {
  return explicit ?? process.env.NATS_URL ?? DEFAULT_NATS_URL;
}

export async function connectNats(url: string, name: string, waitMs = 10_000): Promise<NatsConnection> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await connect({
        servers: url,
        name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: 2_000,
      });
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(`cannot connect to NATS at ${url}: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
