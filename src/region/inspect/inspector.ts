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
