// Connecting to NATS: a process waits a bounded time for the server at start, then reconnects
// forever, because a region must outlive a nats-server restart without losing calls.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { coalesceWrites } from "./coalesced-writes.js";
import { quietRequestEnd } from "./quiet-request-end.js";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

export function natsUrl(explicit?: string): string {
  return explicit ?? process.env.NATS_URL ?? DEFAULT_NATS_URL;
}

/**
 * Splits `nats://user:pass@host:port` into the server and its credentials: the nats.js client
 * ignores user info in a server URL, so `--nats` with credentials would otherwise not log in.
 */
export function natsServerAndCredentials(url: string): { servers: string; user?: string; pass?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { servers: url };
  }
  if (!u.username && !u.password) return { servers: url };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return { servers: u.toString().replace(/\/$/, ""), user, ...(pass && { pass }) };
}

export async function connectNats(url: string, name: string, waitMs = 10_000): Promise<NatsConnection> {
  const deadline = Date.now() + waitMs;
  const target = natsServerAndCredentials(url);
  for (;;) {
    try {
      const nc = await connect({
        ...target,
        name,
        maxReconnectAttempts: -1,
        // The client builds an Error with a stack for every request to report where it came from;
        // at thousands of requests a second that was 10 % of a worker's CPU (bench/README.md).
        noAsyncTraces: true,
        reconnectTimeWait: 250,
        timeout: 2_000,
      });
      coalesceWrites(nc);
      quietRequestEnd(nc);
      return nc;
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(`cannot connect to NATS at ${target.servers}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
