// Status callbacks for conference changes made over REST (end, kick, mute, hold): no call's verb
// made them, so the api puts them in the region's durable outbox (SB_CALLBACKS_<R>) itself, where the
// region's workers send them signed, as they send the ones the calls queue.
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallFacts } from "../../../machines/call.types.js";
import type { ConferenceEvent, ConferenceRecord } from "../../model/rooms.js";
import { encode } from "../../protocol/codec.js";
import { subjects } from "../../protocol/subjects.js";
import type { VerbCallback } from "../../region/outbox/status-callbacks.js";
import { eventParams } from "../../twiml/verbs/dial/conference-events.js";

export async function queueConferenceCallbacks(
  nc: NatsConnection,
  conference: ConferenceRecord,
  events: readonly ConferenceEvent[],
): Promise<void> {
  const callback = conference.statusCallback;
  if (!callback) return;
  const js = jetstream(nc);
  for (const e of events) {
    if (!callback.events.includes(e.event)) continue;
    // The call the event is about (the conference itself for its end): whose notifications a failure goes to.
    const facts: CallFacts = {
      callSid: e.participant?.callSid ?? conference.sid,
      accountSid: conference.accountSid,
      to: "",
      from: "",
      region: conference.region,
      edge: "",
      direction: "inbound",
      apiVersion: "2010-04-01",
      phoneNumberSid: null,
    };
    const cb: VerbCallback = {
      facts,
      url: callback.url,
      method: callback.method,
      params: eventParams(conference, e),
      key: `${conference.sid}.${e.sequence}`,
    };
    await js.publish(subjects().regionCallbacks(conference.region), encode(cb), {
      msgID: `${facts.callSid}.${cb.key}`,
      timeout: 5_000,
    });
  }
}
