// Status callbacks for conference changes made over REST (end, kick, mute, hold): no call's verb
// made them, so the api puts them in the region's durable outbox (SB_CALLBACKS_<R>) itself, where the
// region's workers send them signed, as they send the ones the calls queue.
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ConferenceEvent, ConferenceRecord } from "../../model/rooms.js";
import { conferenceCallbacks, type VerbCallback } from "../../protocol/callbacks.js";
import { encode } from "../../protocol/codec.js";
import { subjects } from "../../protocol/subjects.js";

export async function queueConferenceCallbacks(
  nc: NatsConnection,
  conference: ConferenceRecord,
  events: readonly ConferenceEvent[],
): Promise<void> {
  const js = jetstream(nc);
  for (const request of conferenceCallbacks(conference, events)) {
    // The call the event is about (the conference itself for its end): whose notifications a failure goes to.
    const callSid = request.params.CallSid ?? conference.sid;
    const facts: VerbCallback["facts"] = {
      callSid,
      accountSid: conference.accountSid,
      to: "",
      from: "",
      region: conference.region,
      edge: "",
      direction: "inbound",
      apiVersion: "2010-04-01",
      phoneNumberSid: null,
    };
    const cb: VerbCallback = { facts, ...request };
    await js.publish(subjects().regionCallbacks(conference.region), encode(cb), {
      msgID: `${callSid}.${cb.key}`,
      timeout: 5_000,
    });
  }
}
