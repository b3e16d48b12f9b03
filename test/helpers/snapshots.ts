// What tests of a call resumed after its worker died wait on: the call's stored snapshot in
// `sb_actors_<region>` once it says what the test needs (a first one, a leg named, an answer).
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { buckets } from "../../src/protocol/subjects.js";
import type { StoredActor } from "../../src/region/host/stored-actor.js";

/** The call's first stored snapshot that `ok` accepts (any one, by default). */
export async function snapshotWhere(
  nc: NatsConnection,
  callSid: string,
  ok: (s: StoredActor) => boolean = () => true,
  region = "us1",
): Promise<StoredActor> {
  const actors = await new Kvm(nc).open(buckets.actors(region));
  const watch = await actors.watch({ key: callSid });
  try {
    for await (const e of watch) {
      if (e.operation === "PUT" && ok(e.json<StoredActor>())) return e.json<StoredActor>();
    }
  } finally {
    watch.stop();
  }
  throw new Error(`the watch of ${callSid}'s snapshot ended`);
}
