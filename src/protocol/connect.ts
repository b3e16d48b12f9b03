// Connecting to NATS: a process waits a bounded time for the server at start, then reconnects
// forever, because a region must outlive a nats-server restart without losing calls.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { coalesceWrites } from "./coalesced-writes.js";
import { quietRequestEnd } from "./quiet-request-end.js";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

export function natsUrl(explicit?: string): string {
  return explicit ?? process.env.NATS_URL ?? DEFAULT_NATS_URL;
}

/** The seeds and credentials `--nats` names, for the client's `connect`. */
export interface NatsTarget {
  servers: string | string[];
  user?: string;
  pass?: string;
}

/**
 * Splits `nats://user:pass@host:port` into the server and its credentials: the nats.js client
 * ignores user info in a server URL, so `--nats` with credentials would otherwise not log in.
 * Several seeds are separated by commas (`nats://a:4222,nats://b:4222`): the client connects to one
 * that answers (in random order), at start and on every reconnect, so a process starts while one
 * seed server is down. One login for all of them: written on each URL or on one, never two.
 */
export function natsServerAndCredentials(url: string): NatsTarget {
  const seeds = url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (seeds.length <= 1) return oneSeed(seeds[0] ?? url.trim());
  const parts = seeds.map(oneSeed);
  const logins = new Set(parts.flatMap((p) => (p.user === undefined ? [] : [`${p.user}\n${p.pass ?? ""}`])));
  if (logins.size > 1) {
    throw new Error(
      "the --nats seeds name different users; give one user:password (on one URL or on every one)",
    );
  }
  const login = parts.find((p) => p.user !== undefined);
  return {
    servers: parts.map((p) => p.servers),
    ...(login?.user !== undefined && { user: login.user }),
    ...(login?.pass !== undefined && { pass: login.pass }),
  };
}

function oneSeed(url: string): NatsTarget & { servers: string } {
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
        const servers = [target.servers].flat().join(", ");
        throw new Error(`cannot connect to NATS at ${servers}: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
