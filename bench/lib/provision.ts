// What every bench needs before calls flow: an account, a number whose voice URL is the bench's
// webhook server, and (for the bare pipeline) its own stream, consumer and calls bucket.
import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { addAccount, newAuthToken } from "../../src/admin/accounts.js";
import { addNumber, routeNumber } from "../../src/admin/numbers.js";
import { newSid } from "../../src/model/sid.js";
import { buckets } from "../../src/protocol/subjects.js";
import { openGlobalStores } from "../../src/store/global.js";

export interface Account {
  sid: string;
  token: string;
}

export async function provisionAccount(nc: NatsConnection): Promise<Account> {
  const account = { sid: newSid("AC"), token: newAuthToken() };
  await addAccount(await openGlobalStores(nc), account);
  return account;
}

/** Configures `number` in `region` with `voiceUrl` and routes it there. */
export async function provisionNumber(
  nc: NatsConnection,
  account: Account,
  number: string,
  region: string,
  voiceUrl: string,
): Promise<void> {
  const global = await openGlobalStores(nc);
  await addNumber(nc, global, { number, region, voiceUrl, accountSid: account.sid });
  await routeNumber(global, number, region);
}

/** The bare pipeline's names: its own edge subject, stream and consumer, and a calls bucket `load` watches. */
export const BARE = {
  edge: "bare",
  region: "bare",
  subject: "bare.calls",
  stream: "BARE_CALLS",
  consumer: "workers",
} as const;

/** The bare pipeline's stream and bucket, configured as the engine configures its own. */
export async function provisionBare(nc: NatsConnection, number: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: BARE.stream,
    subjects: [BARE.subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: 120 * 1_000_000_000,
  });
  await jsm.consumers.add(BARE.stream, {
    durable_name: BARE.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: 30 * 1_000_000_000,
    max_ack_pending: 20_000,
  });
  await new Kvm(nc).create(buckets.calls(BARE.region), { history: 1 });
  // `load` reads the routing table to know which calls bucket to watch.
  await routeNumber(await openGlobalStores(nc), number, BARE.region);
}
