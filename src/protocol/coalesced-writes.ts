// One socket write per turn of the event loop for a NATS connection, instead of one per microtask
// checkpoint (nats.js flushes its outbound buffer in a microtask, i.e. after every I/O callback).
// Issue #20: socket writes were ~10 % of a region worker's CPU; commands sent in one turn now go out
// together when the turn's I/O callbacks are done (setImmediate), which adds no timer delay.
import type { NatsConnection } from "@nats-io/transport-node";

/** The part of nats-core's (internal) protocol handler this relies on; checked before use. */
interface ProtocolHandler {
  flushPending(): void;
  outbound: { size(): number };
  pendingLimit: number;
}

/**
 * Defers `nc`'s flushes to the end of the current turn. A buffer past the client's own limit is
 * still written at once. Does nothing (the client flushes as before) if the client's internals are
 * not the expected shape, so a nats.js upgrade can only lose the saving, never a message.
 */
export function coalesceWrites(nc: NatsConnection): void {
  const proto = (nc as unknown as { protocol?: Partial<ProtocolHandler> }).protocol;
  if (
    typeof proto?.flushPending !== "function" ||
    typeof proto.outbound?.size !== "function" ||
    typeof proto.pendingLimit !== "number"
  )
    return;
  const handler = proto as ProtocolHandler;
  const flushNow = handler.flushPending.bind(handler);
  let scheduled = false;
  const flushScheduled = () => {
    scheduled = false;
    flushNow();
  };
  handler.flushPending = () => {
    if (handler.outbound.size() >= handler.pendingLimit) return flushNow();
    if (scheduled) return;
    scheduled = true;
    setImmediate(flushScheduled);
  };
}
