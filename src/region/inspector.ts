// Inspection events for the visualizer and `switchboard call`: one publish each, on
// `sb.region.<r>.inspect.<sid>`, kept by stream SB_INSPECT_<R>. Secrets never go in here: auth
// tokens and signatures are never part of an event, and URL credentials are cut from every URL.
// Each event carries the worker's sequence number (events of a call are published in order by one
// worker) and, when known, the call's own clock time (simulated at time-scale 0).
import type { NatsConnection } from "@nats-io/transport-node";
import { encode } from "../bus/codec.js";
import type { Subjects } from "../bus/subjects.js";

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

export class Inspector {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly region: string,
  ) {}

  #seq = 0;

  publish(callSid: string, event: InspectEvent, clockAt?: number): void {
    const scrubbed: InspectEvent =
      "url" in event
        ? { ...event, url: withoutCredentials(event.url) }
        : event.type === "state" && event.documentUrl
          ? { ...event, documentUrl: withoutCredentials(event.documentUrl) }
          : event.type === "notification" && event.requestUrl
            ? { ...event, requestUrl: withoutCredentials(event.requestUrl) }
            : event;
    const at = Date.now();
    const envelope = {
      ...scrubbed,
      callSid,
      at,
      seq: ++this.#seq,
      ...(clockAt !== undefined && { clockAt }),
    };
    this.nc.publish(this.subjects.inspect(this.region, callSid), encode(envelope));
  }
}
