// Inspection events for the visualizer and `switchboard call`, on `sb.region.<r>.inspect.<sid>`, kept
// by stream SB_INSPECT_<R>. Secrets never go in here: auth tokens and signatures are never part of an
// event, and URL credentials are cut from every URL. Each event carries the worker's sequence number
// (events of a call are published in order by one worker) and, when known, the call's own clock time
// (simulated at time-scale 0).
//
// A call's events are batched: one message holds, as an array, every event the call had since its
// last message, sent at most INSPECT_WINDOW_MS after the first of them, or when the call ends.
// `npm run bench` counted 9 inspection messages per short call, each one stored by the stream, out of
// 35; one per turn of the event loop made that 4; a window per call and a flush at the end make it 1
// (issue #20: the stream's file writes were much of nats-server's CPU per call). The window is the
// call's own, from its first event: one window for every call's batch, as before the sixteenth
// session, split every call that crossed its end, so most short calls took two messages.
// The commands the call sends on its channel (`.out`, published at once for live listeners) are
// events here too (`command`), so the stream holds a call's state changes, requests and commands
// in the one order the worker saw them: the visualizer reads that, and needs no capture of `.out`.
// The events' schema is protocol/inspect.ts.
import type { NatsConnection } from "@nats-io/transport-node";
import type { ChannelOut } from "../../protocol/channel-events.js";
import { encode } from "../../protocol/codec.js";
import type { InspectEnvelope, InspectEvent } from "../../protocol/inspect.js";
import type { Subjects } from "../../protocol/subjects.js";

/** `https://user:pass@host/x` -> `https://host/x`; anything that is not a URL is kept as it is. */
export function withoutCredentials(url: string): string {
  if (!url.includes("@")) return url;
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * How long an event may wait for the rest of its call's batch: short beside what a person watching
 * notices, long enough to hold a short call's whole life at time-scale 0. A call's last batch goes
 * as soon as it ends (`flushCall`), so a short call is one message.
 */
export const INSPECT_WINDOW_MS = 100;

export class Inspector {
  /** `windowMs` 0: each batch goes when the current turn of the event loop ends. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly region: string,
    private readonly windowMs = INSPECT_WINDOW_MS,
  ) {}

  #seq = 0;
  /**
   * Events not sent yet, by call, in the order they happened; `due` is when the batch must go (its
   * first event's monotonic time + the window). A Map keeps the order calls were added in, which is
   * the order of their due times: the batches due first are at its head.
   */
  readonly #pending = new Map<string, { events: InspectEnvelope[]; due: number }>();
  #scheduled: { cancel(): void } | undefined;

  publish(callSid: string, event: InspectEvent, clockAt?: number): void {
    const scrubbed: InspectEvent =
      "url" in event
        ? { ...event, url: withoutCredentials(event.url) }
        : event.type === "channel" && "url" in event.command && typeof event.command.url === "string"
          ? { ...event, command: { ...event.command, url: withoutCredentials(event.command.url) } }
          : event.type === "state" && event.documentUrl
            ? { ...event, documentUrl: withoutCredentials(event.documentUrl) }
            : event.type === "notification" && event.requestUrl
              ? { ...event, requestUrl: withoutCredentials(event.requestUrl) }
              : event;
    const at = Date.now();
    const envelope: InspectEnvelope = {
      ...scrubbed,
      callSid,
      at,
      seq: ++this.#seq,
      ...(clockAt !== undefined && { clockAt }),
    };
    const batch = this.#pending.get(callSid);
    if (batch) batch.events.push(envelope);
    else this.#pending.set(callSid, { events: [envelope], due: performance.now() + this.windowMs });
    this.#scheduled ??= this.#schedule(this.windowMs);
  }

  #schedule(delayMs: number): { cancel(): void } {
    if (this.windowMs <= 0) {
      const immediate = setImmediate(() => this.flushAll());
      return { cancel: () => clearImmediate(immediate) };
    }
    const timer = setTimeout(() => this.#flushDue(), delayMs);
    return { cancel: () => clearTimeout(timer) };
  }

  /**
   * Sends the batches due now, and those due within a quarter of a window (early is allowed, and it
   * keeps the timer from waking once per call), then waits for the next.
   */
  #flushDue(): void {
    this.#scheduled = undefined;
    const now = performance.now();
    const until = now + this.windowMs / 4;
    for (const [callSid, batch] of this.#pending) {
      if (batch.due > until) {
        this.#scheduled = this.#schedule(batch.due - now);
        return;
      }
      this.#pending.delete(callSid);
      this.#send(callSid, batch.events);
    }
  }

  #send(callSid: string, events: InspectEnvelope[]): void {
    this.nc.publish(this.subjects.inspect(this.region, callSid), encode(events));
  }

  /**
   * Sends a command on the call's channel (`.out`, at once, for live listeners) and records it in its
   * place among the call's events: every command goes through here, so none is missing from either.
   */
  command(callSid: string, command: ChannelOut, clockAt?: number): void {
    this.nc.publish(this.subjects.callOut(this.region, callSid), encode(command));
    this.publish(callSid, { type: "channel", command }, clockAt);
  }

  /** Sends the call's waiting events now (its actor reached its end: nothing more will come). */
  flushCall(callSid: string): void {
    const batch = this.#pending.get(callSid);
    if (!batch) return;
    this.#pending.delete(callSid);
    this.#send(callSid, batch.events);
  }

  /** Sends every call's waiting events (when the worker stops, or each turn without a window). */
  flushAll(): void {
    this.#scheduled?.cancel();
    this.#scheduled = undefined;
    for (const [callSid, batch] of this.#pending) this.#send(callSid, batch.events);
    this.#pending.clear();
  }
}
