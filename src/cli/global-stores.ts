// A one-shot admin command's connection: NATS, the global buckets and the trunks, closed when done.
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { type AdminStores, openAdminStores } from "../store/global.js";

export async function withGlobal<T>(
  nats: string | undefined,
  fn: (g: AdminStores, nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const nc = await connectNats(natsUrl(nats), "switchboard-cli", 5_000);
  try {
    return await fn(await openAdminStores(nc), nc);
  } finally {
    await nc.close();
  }
}
