// A one-shot admin command's connection: NATS, the global buckets, and closing both when done.
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { type GlobalStores, openGlobalStores } from "../store/global.js";

export async function withGlobal<T>(
  nats: string | undefined,
  fn: (g: GlobalStores, nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const nc = await connectNats(natsUrl(nats), "switchboard-cli", 5_000);
  try {
    return await fn(await openGlobalStores(nc), nc);
  } finally {
    await nc.close();
  }
}
