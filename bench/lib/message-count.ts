// Counts the NATS messages a pipeline exchanges per call, by kind, with one subscription to `>` on a
// connection of its own while a batch of calls runs. On 2 cores every message costs CPU in a client
// and in the server, so this is the first thing to compare between switchboard and the bare pipeline.
import { connect } from "@nats-io/transport-node";
import { runLoad } from "../../src/caller/load.js";
import type { Pipeline, Stack } from "./stack.js";

/** A subject's kind: the bucket or stream it writes to, or what it is for. */
export function kindOf(subject: string): string {
  const kv = /^\$KV\.([^.]+)\.(_[a-z]\.)?/.exec(subject);
  if (kv) return `KV ${kv[1]}${kv[2] ? ` ${kv[2]}*` : ""}`;
  if (subject.startsWith("_INBOX.")) return "replies";
  if (subject.startsWith("$JS.ACK.")) return "stream acks";
  if (subject.startsWith("$JS.API.DIRECT.GET.")) return "KV gets";
  if (subject.startsWith("$JS.API.")) return "JetStream API";
  return subject
    .replace(/CA[0-9a-f]{32}/, "<sid>")
    .replace(/^sb\.region\.[^.]+\./, "region ")
    .replace(/^sb\.edge\.[^.]+\./, "edge ");
}

export interface MessageCount {
  calls: number;
  perCall: number;
  /** Messages per call by kind, largest first. */
  byKind: Record<string, number>;
}

export async function countMessages(stack: Stack, p: Pipeline, calls: number): Promise<MessageCount> {
  const spy = await connect({ servers: stack.nats.url });
  const counts = new Map<string, number>();
  let total = 0;
  const sub = spy.subscribe(">", {
    callback: (err, msg) => {
      if (err) return;
      total++;
      const kind = kindOf(msg.subject);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    },
  });
  try {
    await spy.flush();
    await runLoad(stack.nc, {
      to: p.number,
      from: "+15557654321",
      edge: p.edge,
      rate: 1e6,
      count: calls,
      concurrency: 50,
      caller: { timeScale: 0 },
      timeoutMs: 30_000,
    });
    await spy.flush();
  } finally {
    sub.unsubscribe();
    await spy.close();
  }
  const per = (n: number) => Math.round((n / calls) * 100) / 100;
  return {
    calls,
    perCall: per(total),
    byKind: Object.fromEntries(
      [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .filter(([, n]) => n / calls >= 0.05)
        .map(([kind, n]) => [kind, per(n)]),
    ),
  };
}
