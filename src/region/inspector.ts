// Inspection events for the visualizer and `switchboard call`: one publish each, on
// `sb.region.<r>.inspect.<sid>`, kept by stream SB_INSPECT_<R>. Secrets never go in here.
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
  | { type: "notification"; code: number; level: "error" | "warning"; message: string };

export class Inspector {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly region: string,
  ) {}

  publish(callSid: string, event: InspectEvent, at = Date.now()): void {
    this.nc.publish(this.subjects.inspect(this.region, callSid), encode({ ...event, callSid, at }));
  }
}
