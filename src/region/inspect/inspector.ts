// Inspection events for the visualizer and `switchboard call`, on `sb.region.<r>.inspect.<sid>`, kept
// by stream SB_INSPECT_<R>. Secrets never go in here: auth tokens and signatures are never part of an
// event, and URL credentials are cut from every URL. Each event carries the worker's sequence number
// (events of a call are published in order by one worker) and, when known, the call's own clock time
// (simulated at time-scale 0).
//
// A call's events are batched: one message holds, as an array, every event the call had since its
// last message, sent when the worker's current turn of the event loop ends (setImmediate). `npm run
// bench` counted 9 inspection messages per short call, each one stored by the stream, out of 35.
// The commands the call sends on its channel (`.out`, published at once for live listeners) are
// events here too (`command`), so the stream holds a call's state changes, requests and commands
// in the one order the worker saw them: the visualizer reads that, and needs no capture of `.out`.
import type { NatsConnection } from "@nats-io/transport-node";
import type { ChannelOut } from "../../protocol/channel-events.js";
import { decode, encode } from "../../protocol/codec.js";
import type { Subjects } from "../../protocol/subjects.js";

export type InspectEvent =
  | {
      type: "state";
      /** The machine's state value, e.g. "routed" or {"executing-twiml": "Say"}. */
      value: unknown;
      /** The call's Twilio status at that moment. */
      status: string;
      /** The event that caused the change (e.g. "xstate.done.actor.0.call.fetching-webhook"). */
      event: string;
      /** The verb being run, when executing TwiML. */
      verb: { name: string; index: number } | null;
      /** The URL of the TwiML document being run. */
      documentUrl: string | null;
    }
  | { type: "webhook.request"; url: string; method: string; params: Record<string, string> }
  | {
      type: "webhook.response";
      url: string;
      status: number;
      contentType?: string;
      durationMs: number;
      body?: string;
    }
  /** A webhook request that failed: no response, an error status, or a response that could not be used. */
  | {
      type: "webhook.error";
      url: string;
      code: number;
      message: string;
      httpStatus?: number;
      durationMs: number;
    }
  /** A command the call sent on its channel (`.out`), in its place among the call's events. */
  | { type: "channel"; command: ChannelOut }
  /** The call was taken over from a worker that died, and goes on from its last snapshot. */
  | { type: "resumed"; worker: string; from: string }
  | { type: "notification"; code: number; level: "error" | "warning"; message: string; requestUrl?: string };

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

/** An event as published: the call, the worker's time and sequence number, and the call's clock. */
export type InspectEnvelope = InspectEvent & { callSid: string; at: number; seq: number; clockAt?: number };

/**
 * The events one inspection message holds, in order: an array (a batch), or, from a stream written
 * before batching, one event. Throws if the payload does not decode.
 */
export function inspectEnvelopes(data: Uint8Array): InspectEnvelope[] {
  const decoded = decode(data) as InspectEnvelope | InspectEnvelope[];
  return Array.isArray(decoded) ? decoded : [decoded];
}

export class Inspector {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly region: string,
  ) {}

  #seq = 0;
  /** Events not sent yet, by call, in the order they happened. */
  readonly #pending = new Map<string, InspectEnvelope[]>();
  #scheduled: NodeJS.Immediate | undefined;

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
    if (batch) batch.push(envelope);
    else this.#pending.set(callSid, [envelope]);
    this.#scheduled ??= setImmediate(() => this.flushAll());
  }

  /**
   * Sends a command on the call's channel (`.out`, at once, for live listeners) and records it in its
   * place among the call's events: every command goes through here, so none is missing from either.
   */
  command(callSid: string, command: ChannelOut, clockAt?: number): void {
    this.nc.publish(this.subjects.callOut(this.region, callSid), encode(command));
    this.publish(callSid, { type: "channel", command }, clockAt);
  }

  /** Sends every call's waiting events (at the end of each turn, and when the worker stops). */
  flushAll(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    for (const [callSid, batch] of this.#pending)
      this.nc.publish(this.subjects.inspect(this.region, callSid), encode(batch));
    this.#pending.clear();
  }
}
